"""/api/v1: bearer-token JSON API. The blueprint is :mod:`cci.web.api.blueprint`; its
resources (the modules below, and each channel's ``api_blueprints``) are mounted here."""

from __future__ import annotations

from flask import Flask

from cci.web.api.blueprint import bp


def init_app(app: Flask) -> None:
    from cci.web.api import cases  # noqa: F401 - cases answered by the offices
    from cci.web.api import comments  # noqa: F401 - comments' themes, comments, profiles
    from cci.web.api import cx  # noqa: F401 - CX metrics, values, targets
    from cci.web.api import dashboards  # noqa: F401 - trends, coverage, distributions
    from cci.web.api import federal  # noqa: F401 - federal figures, comparisons, disagreements
    from cci.web.api import imports  # noqa: F401 - CSV/XLSX imports
    from cci.web.api import maps  # noqa: F401 - journey maps and improvement actions
    from cci.web.api import methodology  # noqa: F401 - the index's resources
    from cci.web.api import resources  # noqa: F401 - registers the core resources on bp
    from cci.web.api import responses  # noqa: F401 - batch ingest and the review queue
    from cci.web.api import versions  # noqa: F401 - derived versions, approvals, proposals
    from cci.web.api.docs import schemas_of

    schemas_of(app)  # a plugin's schema named as one of the core's: the app does not start
    # bearer tokens, not cookies: no cross-site request can carry one
    app.extensions["csrf"].exempt(bp)
    app.register_blueprint(bp)
    _mount_channel_resources(app)


def _mount_channel_resources(app: Flask) -> None:
    """The installed channels' API resources (``Channel.api_blueprints``), inside /api/v1.

    Each is registered on the app with :data:`bp`'s name as its name prefix, which is exactly
    what Flask's blueprint nesting does, but per app rather than once per process: ``bp``
    cannot take children after its first registration, and the apps of one process may have
    different channels (``CCI_PLUGINS_BLOCKED``, test plugins), so a child nested for one would
    leak into, or be missing from, another. Because the endpoints are ``api.<name>.<view>``,
    Flask runs ``bp``'s hooks for them: bearer authentication and the token's tenant scope
    (``_authenticate``), the JSON error handlers.
    """
    csrf = app.extensions["csrf"]
    for channel in app.extensions["cci.registry"].channels.values():
        for blueprint in channel.api_blueprints:
            csrf.exempt(blueprint)  # as bp: the token, not a cookie, authenticates
            prefix = bp.url_prefix or ""
            if blueprint.url_prefix:
                prefix = prefix.rstrip("/") + "/" + blueprint.url_prefix.lstrip("/")
            app.register_blueprint(blueprint, name_prefix=bp.name, url_prefix=prefix)
