"""The application factory: configuration, extensions, plugins, tenancy, pages, API, CLI."""

from __future__ import annotations

import functools

from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from cci.collection import cases
from cci.collection.channels import is_public_endpoint
from cci.foundation import access
from cci.foundation import config
from cci.foundation import db
from cci.foundation import logs
from cci.foundation import notifications
from cci.foundation import redis_conn
from cci.hooks.manager import build_plugin_manager
from cci.hooks.manager import build_registry
from cci.index import cx_reports
from cci.web import inputs
from cci.web import metrics
from cci.web import moments
from cci.web import numbers
from cci.web import observability
from cci.web import ratelimit
from cci.web import region_report
from cci.web import security_headers

csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()


def build(test_config: dict | None = None, extra_plugins: tuple = ()) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(config.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    if app.config["CCI_BEHIND_PROXY"]:
        # Flask's documented way to add WSGI middleware, which mypy sees as replacing a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    # Plugins first: a broken or conflicting plugin stops start-up before anything is served.
    # the web layer's own jobs (the region report's PDF) travel the plugins' path too
    pm = build_plugin_manager(blocked=app.config["PLUGINS_BLOCKED"],
                              extra=(*extra_plugins, region_report))
    app.extensions["cci.plugins"] = pm
    app.extensions["cci.registry"] = build_registry(pm)
    # whether an improvement action's metric moved is read from the CX runs' stored values
    app.extensions["cci.metric_values"] = cx_reports.value_at
    # and which metrics an action may name, titled and directed as the CX pages show them
    app.extensions["cci.action_metrics"] = cx_reports.action_metrics
    # what the workers do every maintenance round: comments and low ratings become cases;
    # staff are told of actions coming due and sent their daily digests
    app.extensions["cci.maintenance"] = [cases.schedule_collect, notifications.run_scheduled]

    observability.init_app(app)  # first: every later hook's log records carry the request id
    db.init_app(app)
    redis_conn.init_app(app)
    ratelimit.init_app(app)
    babel.init_app(app, locale_selector=lambda: "ru")
    csrf.init_app(app)
    htmx.init_app(app)
    # after htmx (its request class is extended), before any route (converters bind then)
    inputs.init_app(app)
    access.init_app(app)
    moments.init_app(app)
    numbers.init_app(app)
    security_headers.init_app(app)

    from cci.foundation import jobs
    from cci.web.api import init_app as init_api
    from cci.web.views import account
    from cci.web.views import actions as action_views  # noqa: F401 - registers its routes
    from cci.web.views import admin
    from cci.web.views import auth
    from cci.web.views import campaigns  # noqa: F401 - registers its routes
    from cci.web.views import cases as case_views  # noqa: F401 - registers its routes
    from cci.web.views import checklist_photos  # noqa: F401 - registers its routes
    from cci.web.views import checklists  # noqa: F401 - registers its routes
    from cci.web.views import comments  # noqa: F401 - registers its routes
    from cci.web.views import cx  # noqa: F401 - registers its routes
    from cci.web.views import federal  # noqa: F401 - registers its routes
    from cci.web.views import health
    from cci.web.views import imports as import_views  # noqa: F401 - registers its routes
    from cci.web.views import jobs as job_views
    from cci.web.views import maps as map_views  # noqa: F401 - registers its routes
    from cci.web.views import methodologies
    from cci.web.views import notifications as notification_views
    from cci.web.views import password_reset  # noqa: F401 - registers its routes
    from cci.web.views import profiles  # noqa: F401 - registers its routes
    from cci.web.views import region  # noqa: F401 - registers its routes
    from cci.web.views import report  # noqa: F401 - registers its routes
    from cci.web.views import results  # noqa: F401 - registers its routes
    from cci.web.views import review  # noqa: F401 - registers its routes
    from cci.web.views import versions  # noqa: F401 - registers its routes
    from cci.web.views.areas import area_url
    from cci.web.views.areas import federal_bp
    from cci.web.views.areas import region_bp

    auth.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    _nest_area_blueprints(region_bp, federal_bp, admin.bp, job_views.bp)
    app.register_blueprint(region_bp)
    app.register_blueprint(federal_bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(notification_views.bp)
    app.register_blueprint(methodologies.bp)
    init_api(app)
    jobs.init_app(app)
    _mount_channels(app)

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(area_url=area_url, registry=app.extensions["cci.registry"],
                                may_open=access.may_open)
    _register_error_pages(app)
    _serve_favicon(app)
    return app


def _serve_favicon(app: Flask) -> None:
    """``/favicon.ico``, which browsers ask for on every page that names no icon (the kiosk's,
    a JSON answer): the platform's mark, rather than a 404 in every browser console."""

    def favicon():
        return app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml",
                                                         "Cache-Control": "max-age=86400"}

    app.add_url_rule("/favicon.ico", "favicon", favicon)


@functools.cache
def _nest_area_blueprints(region_bp, federal_bp, admin_bp, jobs_bp) -> None:
    """Nest the shared pages in each area, once per process: a blueprint cannot change after
    its first registration, and the factory may run more than once (tests, tools)."""
    for area in (region_bp, federal_bp):
        # Flask allows a blueprint under two parents with distinct names.
        area.register_blueprint(admin_bp, name="admin")
        area.register_blueprint(jobs_bp, name="jobs")


def _mount_channels(app: Flask) -> None:
    for channel in app.extensions["cci.registry"].channels.values():
        for blueprint, url_prefix in channel.blueprints:
            app.register_blueprint(blueprint, url_prefix=url_prefix)
        # a channel's public endpoints (cci.collection.channels.public_endpoint) take no CSRF token
        names = {blueprint.name for blueprint, _prefix in channel.blueprints}
        for endpoint, view in app.view_functions.items():
            if endpoint.split(".", 1)[0] in names and is_public_endpoint(view):
                csrf.exempt(view)


def _register_error_pages(app: Flask) -> None:
    from cci.web.api.errors import api_error_response

    def page(status: int, template: str):
        def handler(error):
            if request.path.startswith("/api/"):
                return api_error_response(status)
            return render_template(template, error=error), status

        return handler

    for status in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(status, page(status, "errors/error.html"))

    @app.errorhandler(CSRFError)
    def _csrf(error):
        g.csrf_failed = True
        return render_template("errors/csrf.html", error=error), 400
