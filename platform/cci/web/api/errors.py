"""JSON errors with stable codes and Russian messages."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import lazy_gettext as _l

#: HTTP status -> (stable code, message). Codes never change; messages may be reworded.
STANDARD = {
    400: ("bad_request", _l("The request is malformed.")),
    401: ("unauthorized", _l("A valid API token is required.")),
    403: ("forbidden", _l("The token does not allow this.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    413: ("payload_too_large", _l("The request body is too large.")),
    422: ("validation_error", _l("The data did not pass validation.")),
    429: ("rate_limited", _l("Too many requests. Try again later.")),
    500: ("internal_error", _l("Internal error. It has been logged.")),
    503: ("unavailable", _l("The service is temporarily unavailable.")),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 details: Any = None):
        super().__init__(message or code)
        default_code, default_message = STANDARD.get(status, STANDARD[400])
        self.status = status
        self.code = code or default_code
        self.message = message or str(default_message)
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def api_error_response(status: int, code: str | None = None, message: str | None = None,
                       details: Any = None):
    error = ApiError(status, code, message, details)
    return jsonify(error_body(error.code, error.message, error.details)), status
