"""The /api/v1 blueprint: bearer-token authentication in the token owner's tenant scope, JSON
errors and the OpenAPI document. Resources register on :data:`bp` with an OpenAPI operation."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException

from cci.collection.intake import RETRY_AFTER_SECONDS
from cci.collection.intake import UNAVAILABLE
from cci.foundation import tenancy
from cci.foundation.access import enter_scope
from cci.foundation.db import db
from cci.foundation.tokens import resolve
from cci.web.api.errors import ApiError
from cci.web.api.errors import error_body

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


def json_object() -> dict:
    """The request's body as a JSON object, or a 422 saying so (a list, a number, malformed
    JSON or no body at all are not a resource's fields)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, message="Нужен объект JSON.", details={"body": "a JSON object"})
    return body


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    response = jsonify(error_body(error.code, error.message, error.details))
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cci"'
    return response, error.status


@bp.errorhandler(UNAVAILABLE[0])
@bp.errorhandler(UNAVAILABLE[1])
def _database_unavailable(error):
    """The database is saturated or unreachable: a 503 the client retries (what was stored
    before stays, and a batch's items come back «duplicate» by their keys), not a bare 500."""
    db.rollback()
    current_app.logger.warning("api: database unavailable: %s", type(error).__name__)
    response, status = _api_error(ApiError(503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _api_error(ApiError(error.code or 500))


@bp.route("/openapi.json")
def openapi():
    from cci.web.api.docs import build_spec

    return jsonify(build_spec(current_app))
