"""The OpenAPI 3.1 document, built from the routes themselves so it cannot drift.

Every /api/v1 view carries its operation through :func:`operation`; :func:`build_spec`
walks the URL map and fails for a route without one (a test calls it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask

from cci.foundation.db import ID_MAX
from cci.web.api.schemas import SCHEMAS

_PATH_ARG = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")
#: what a path converter takes (cci.web.inputs): an id within the database's INTEGER
_PATH_SCHEMAS = {"int": {"type": "integer", "minimum": 0, "maximum": ID_MAX}}
_SUCCESS = {
    200: "OK", 201: "Created", 202: "Accepted",
    207: "Multi-Status: the request was read, and the body gives each item's own outcome "
         "(stored, duplicate or refused with its reason); no item is left unprocessed",
}


def operation(
    summary: str,
    *,
    tags: list[str],
    response: dict | None = None,
    status: int = 200,
    request_body: dict | None = None,
    query: list[dict] | None = None,
    errors: tuple[int, ...] = (401, 404),
    description: str = "",
    request_content_type: str = "application/json",
):
    """Attach an OpenAPI operation to a view (the decorator closest to the function)."""

    def decorator(view):
        view._openapi = {
            "summary": summary,
            "description": description,
            "tags": tags,
            "response": response,
            "status": status,
            "request_body": request_body,
            "query": query or [],
            "errors": errors,
            "request_content_type": request_content_type,
        }
        return view

    return decorator


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def list_of(name: str) -> dict:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref(name)}},
    }


def iso_datetime(value: dt.datetime | None) -> str | None:
    """A ``date-time`` value as the schemas promise it: RFC 3339 with an offset (SQLite gives
    naive UTC values back)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def schemas_of(app: Flask) -> dict[str, dict]:
    """The core's JSON schemas and those the app's plugins register (``register_api_schemas``);
    a plugin's name that the core already uses raises :class:`cci.hooks.manager.PluginError`."""
    from cci.hooks.manager import PluginError

    registered = app.extensions["cci.registry"].api_schemas
    taken = sorted(set(registered) & set(SCHEMAS))
    if taken:
        raise PluginError(f"A plugin registers the API schema {taken[0]!r}, a name the core "
                          "uses: prefix the plugin's schema names with its own")
    return {**SCHEMAS, **registered}


class UndocumentedRoute(RuntimeError):
    pass


def build_spec(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint == "api.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "_openapi", None)
        if doc is None:
            raise UndocumentedRoute(f"{rule.rule} ({rule.endpoint}) has no OpenAPI operation")
        path = _PATH_ARG.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        parameters = [
            {
                "name": m.group("name"),
                "in": "path",
                "required": True,
                "schema": _PATH_SCHEMAS.get(m.group("converter") or "", {"type": "string"}),
            }
            for m in _PATH_ARG.finditer(rule.rule)
        ] + doc["query"]
        # a rule without methods answers any; Flask always gives its routes some
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint.split('.', 1)[-1]}_{method.lower()}",
                "summary": doc["summary"],
                "tags": doc["tags"],
                "security": [{"bearer": []}],
                "responses": {},
            }
            if doc["description"]:
                op["description"] = doc["description"]
            if parameters:
                op["parameters"] = parameters
            if doc["request_body"] is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {doc["request_content_type"]: {"schema": doc["request_body"]}},
                }
            success: dict[str, Any] = {"description": _SUCCESS.get(doc["status"], "OK")}
            if doc["response"] is not None:
                success["content"] = {"application/json": {"schema": doc["response"]}}
            op["responses"][str(doc["status"])] = success
            for status in sorted(set(doc["errors"]) | {401}):
                op["responses"][str(status)] = {"$ref": "#/components/responses/Error"}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ИКЦ: платформа индекса клиентоцентричности",
            "version": "1",
            "description": (
                "Bearer-token API. A token is scoped to its owner's region, or federal. "
                "Errors are JSON: {\"error\": {\"code\", \"message\", \"details\"}}; codes are "
                "stable, messages are in Russian."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas_of(app),
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {"application/json": {"schema": ref("Error")}},
                }
            },
        },
    }
