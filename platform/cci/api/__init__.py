"""/api/v1: bearer-token JSON API. Resources register on :data:`bp` with an OpenAPI operation."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException

from cci import tenancy
from cci.access import enter_scope
from cci.api.errors import ApiError
from cci.api.errors import error_body
from cci.tokens import resolve

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401)
    row = resolve(token.strip())
    if row is None:
        raise ApiError(401, "invalid_token", None)
    g.api_user = row.user
    g.api_token = row
    # The token's scope is its owner's: a regional token never reads another region.
    enter_scope(
        tenancy.Scope(region_id=row.user.region_id, reason=f"api token {row.id}")
        if not row.user.is_federal
        else tenancy.Scope(region_id=None, reason=f"api token {row.id}")
    )
    return None


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    response = jsonify(error_body(error.code, error.message, error.details))
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cci"'
    return response, error.status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _api_error(ApiError(error.code or 500))


@bp.route("/openapi.json")
def openapi():
    from cci.api.docs import build_spec

    return jsonify(build_spec(current_app))


def init_app(app: Flask) -> None:
    from cci.api import methodology  # noqa: F401 - the index's resources
    from cci.api import imports  # noqa: F401 - CSV/XLSX imports
    from cci.api import resources  # noqa: F401 - registers the core resources on bp
    from cci.api import responses  # noqa: F401 - batch ingest and the review queue
    from cci.api.docs import schemas_of
    from cci.app import csrf

    schemas_of(app)  # a plugin's schema named as one of the core's: the app does not start
    csrf.exempt(bp)  # bearer tokens, not cookies: no cross-site request can carry one
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
    from cci.app import csrf

    for channel in app.extensions["cci.registry"].channels.values():
        for blueprint in channel.api_blueprints:
            csrf.exempt(blueprint)  # as bp: the token, not a cookie, authenticates
            prefix = bp.url_prefix
            if blueprint.url_prefix:
                prefix = prefix.rstrip("/") + "/" + blueprint.url_prefix.lstrip("/")
            app.register_blueprint(blueprint, name_prefix=bp.name, url_prefix=prefix)
