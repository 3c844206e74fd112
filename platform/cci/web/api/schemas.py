"""JSON Schemas of the API's resources (OpenAPI 3.1 components)."""

from __future__ import annotations

_nullable_string = {"type": ["string", "null"]}
_nullable_int = {"type": ["integer", "null"]}
_datetime = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {},
                },
            }
        },
    },
    "Office": {
        "type": "object",
        "required": ["id", "region", "code", "name", "address", "kind", "active", "is_sample"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "region": {"type": "string", "description": "ISO 3166-2:RU code of the region"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "address": {"type": "string"},
            "kind": {"type": "string", "enum": ["main", "branch"]},
            "active": {"type": "boolean"},
            "is_sample": {"type": "boolean", "description": "Illustrative sample data"},
        },
    },
    "Region": {
        "type": "object",
        "required": ["code", "name", "network_type", "timezone", "is_sample", "office_count"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "pattern": "^RU-[A-Z]{2,3}$"},
            "name": {"type": "string"},
            "network_type": {"type": "string", "enum": ["centralized", "decentralized"]},
            "timezone": {"type": "string"},
            "is_sample": {"type": "boolean"},
            "office_count": {"type": "integer"},
        },
    },
    "User": {
        "type": "object",
        "required": ["id", "email", "full_name", "role", "region", "office_id", "scope"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "full_name": {"type": "string"},
            "role": {
                "type": "string",
                "enum": [
                    "admin",
                    "federal_analyst",
                    "methodology_owner",
                    "regional_admin",
                    "auditor",
                    "operator",
                ],
            },
            "region": _nullable_string,
            "office_id": _nullable_int,
            "scope": {"type": "string", "description": "'federal' or the region code"},
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "name", "title", "status", "progress", "message", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "title": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["queued", "running", "retrying", "finished", "failed"],
            },
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "message": {"type": "string"},
            "attempts": {"type": "integer"},
            "result": {"type": "object"},
            "error": _nullable_string,
            "created_at": _datetime,
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}

# --- imports (cci.web.api.imports) ------------------------------------------------------------
SCHEMAS.update({
    "ImportUpload": {
        "type": "object",
        "required": ["file", "campaign", "kind"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": ".csv (';', ',' or tab; UTF-8 or Windows-1251) or .xlsx",
            },
            "campaign": {"type": "integer", "description": "Id of a campaign of the region"},
            "kind": {"type": "string", "enum": ["responses", "checklists"]},
        },
    },
    "ImportRowError": {
        "type": "object",
        "required": ["row", "column", "message", "text"],
        "additionalProperties": False,
        "properties": {
            "row": {
                "type": ["integer", "null"],
                "description": "Row as Excel numbers it (header = 1); null for the whole file",
            },
            "column": {"type": ["string", "null"], "description": "Column as headed in the file"},
            "message": {"type": "string", "description": "What is wrong (Russian)"},
            "text": {"type": "string", "description": "«Строка 7, столбец usefulness: …»"},
        },
    },
    "Import": {
        "type": "object",
        "required": ["id", "region", "campaign_id", "kind", "filename", "size", "status",
                     "progress", "message", "rows", "created", "updated", "existing",
                     "error_count", "errors", "job", "created_at", "finished_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "region": {"type": "string"},
            "campaign_id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["responses", "checklists"]},
            "filename": {"type": "string"},
            "size": {"type": "integer", "description": "Bytes"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "message": {"type": "string"},
            "rows": {"type": "integer", "description": "Data rows in the file"},
            "created": {"type": "integer"},
            "updated": {"type": "integer", "description": "Checklists whose values changed"},
            "existing": {"type": "integer", "description": "Rows already imported before"},
            "error_count": {"type": "integer"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ImportRowError"}},
            "job": {"oneOf": [{"$ref": "#/components/schemas/Job"}, {"type": "null"}]},
            "created_at": _datetime,
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
})
