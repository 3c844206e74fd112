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

# --- journey maps and improvement actions (cci.web.api.maps) ----------------------------------
_strings = {"type": "array", "items": {"type": "string"}}
SCHEMAS.update({
    "MapVersionSummary": {
        "type": "object",
        "required": ["number", "status", "published_at", "based_on"],
        "additionalProperties": False,
        "properties": {
            "number": {"type": "integer"},
            "status": {"type": "string", "enum": ["draft", "published"],
                       "description": "A published version never changes"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "based_on": {
                "description": "The template version this one was adopted from",
                "oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["map_id", "number"],
                    "properties": {"map_id": {"type": "integer"}, "number": {"type": "integer"}},
                }],
            },
        },
    },
    "Map": {
        "type": "object",
        "required": ["id", "title", "service", "owner", "region", "office_id", "template_id",
                     "versions"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "service": {"type": "string"},
            "owner": {"type": "string", "enum": ["federal_template", "region", "office"]},
            "region": {"type": ["string", "null"], "description": "null for a federal template"},
            "office_id": {"type": ["integer", "null"]},
            "template_id": {"type": ["integer", "null"]},
            "versions": {"type": "array",
                         "items": {"$ref": "#/components/schemas/MapVersionSummary"}},
        },
    },
    "MapTouchpoint": {
        "type": "object",
        "required": ["code", "title", "questions", "czn_goals", "metrics", "barriers",
                     "departments", "tools"],
        "properties": {
            "code": {"type": "string", "description": "Stable code, e.g. contact_centre"},
            "title": {"type": "string"},
            "questions": _strings, "czn_goals": _strings, "barriers": _strings,
            "departments": _strings, "tools": _strings,
            "metrics": {"type": "array", "items": {
                "type": "object", "required": ["code", "title"],
                "properties": {"code": {"type": "string", "description": "e.g. CES, FCR"},
                               "title": {"type": "string"}}}},
        },
    },
    "MapVersion": {
        "type": "object",
        "required": ["map_id", "number", "status", "published_at", "content", "departures"],
        "additionalProperties": False,
        "properties": {
            "map_id": {"type": "integer"},
            "number": {"type": "integer"},
            "status": {"type": "string", "enum": ["draft", "published"]},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "content": {
                "type": "object", "required": ["stages"],
                "properties": {
                    "service": {"type": "string"},
                    "stages": {"type": "array", "items": {
                        "type": "object",
                        "required": ["key", "title", "citizen_goal", "touchpoints"],
                        "properties": {
                            "key": {"type": "string"}, "title": {"type": "string"},
                            "context": {"type": "string"}, "citizen_goal": {"type": "string"},
                            "touchpoints": {"type": "array", "items": {
                                "$ref": "#/components/schemas/MapTouchpoint"}},
                        }}},
                },
            },
            "departures": {
                "description": "Where the version departs from its template; null for a template",
                "oneOf": [{"type": "null"}, {"type": "array", "items": {
                    "type": "object",
                    "required": ["kind", "what", "stage", "touchpoint", "detail"],
                    "properties": {
                        "kind": {"type": "string",
                                 "enum": ["added", "removed", "moved", "changed"]},
                        "what": {"type": "string",
                                 "enum": ["stage", "touchpoint", "metric", "barrier", "row"]},
                        "stage": {"type": "string"}, "touchpoint": {"type": "string"},
                        "detail": {"type": "string"}}}}],
            },
        },
    },
    "Action": {
        "type": "object",
        "required": ["id", "region", "map_id", "version", "stage", "touchpoint", "barrier",
                     "title", "department", "owner_id", "due_on", "status", "metric_code",
                     "target", "days_overdue", "escalated", "created_at", "closed_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "region": {"type": "string"},
            "map_id": {"type": "integer"},
            "version": {"type": "integer"},
            "stage": {"type": "string"},
            "touchpoint": {"type": "string"},
            "barrier": {"type": "string"},
            "title": {"type": "string"},
            "department": {"type": "string"},
            "owner_id": {"type": "integer"},
            "due_on": {"type": "string", "format": "date"},
            "status": {"type": "string",
                       "enum": ["planned", "in_progress", "done", "cancelled"]},
            "metric_code": {"type": ["string", "null"]},
            "target": {"type": ["number", "null"]},
            "days_overdue": {"type": "integer", "minimum": 0},
            "escalated": {"type": "boolean",
                          "description": "Overdue longer than the escalation limit (30 days)"},
            "created_at": _datetime,
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ActionNew": {
        "type": "object",
        "required": ["map_id", "version", "stage", "touchpoint", "barrier", "owner_id",
                     "due_on"],
        "properties": {
            "map_id": {"type": "integer"},
            "version": {"type": "integer"},
            "stage": {"type": "string", "description": "The stage's key"},
            "touchpoint": {"type": "string", "description": "The touchpoint's code"},
            "barrier": {"type": "integer", "minimum": 0,
                        "description": "Index of the barrier in the touchpoint's list"},
            "title": {"type": "string", "maxLength": 300},
            "department": {"type": "string"},
            "owner_id": {"type": "integer", "description": "A user of the map's region"},
            "due_on": {"type": "string", "format": "date"},
            "metric_code": {"type": ["string", "null"]},
            "target": {"type": ["number", "null"]},
        },
    },
    "ActionChange": {
        "type": "object",
        "properties": {
            "status": {"type": "string",
                       "enum": ["planned", "in_progress", "done", "cancelled"]},
            "title": {"type": "string", "maxLength": 300},
            "department": {"type": "string"},
            "owner_id": {"type": "integer"},
            "due_on": {"type": "string", "format": "date"},
            "metric_code": {"type": ["string", "null"]},
            "target": {"type": ["number", "null"]},
        },
    },
})
