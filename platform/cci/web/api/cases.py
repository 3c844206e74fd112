"""Cases through the API: the list (filters by status and office) and one case, for the
roles that work on them, in the token's scope (an office's user: its office). No personal
data: never the respondent's contact, the comment masked as on the pages."""

from __future__ import annotations

from typing import Any

from flask import g
from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.collection import cases as cases_
from cci.collection.comment_themes import THEME_KEYS
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import Case
from cci.foundation.models import Region
from cci.methodology.cx import TOUCHPOINTS
from cci.web.api.blueprint import bp
from cci.web.api.docs import iso_datetime
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.schemas import SCHEMAS
from cci.web.comment_text import masked

PER_PAGE_MAX = 200
_nullable_int = {"type": ["integer", "null"]}
_nullable_moment = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS.update({
    "Case": {
        "type": "object",
        "required": ["id", "region", "office_id", "source", "source_id", "touchpoint",
                     "question", "rating", "scale_low", "scale_high", "comment", "themes",
                     "status", "assignee_id", "answer", "received_at", "answered_at",
                     "reply_sent", "closed_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "region": {"type": "string"},
            "office_id": {"type": "integer"},
            "source": {"type": "string", "enum": ["response", "touchpoint"],
                       "description": "an index survey's response, or a touchpoint answer"},
            "source_id": {"type": "integer"},
            "touchpoint": {"type": ["string", "null"], "enum": [*TOUCHPOINTS, None]},
            "question": {"type": ["string", "null"]},
            "rating": _nullable_int, "scale_low": _nullable_int, "scale_high": _nullable_int,
            "comment": {"type": ["string", "null"],
                        "description": "phone numbers, e-mail addresses and names masked"},
            "themes": {"type": "array", "items": {"type": "string", "enum": list(THEME_KEYS)}},
            "status": {"type": "string", "enum": list(cases_.STATUS_LABELS)},
            "assignee_id": _nullable_int,
            "answer": {"type": ["string", "null"],
                       "description": "the office's answer, personal data masked"},
            "received_at": {"type": "string", "format": "date-time"},
            "answered_at": _nullable_moment,
            "reply_sent": {"type": "boolean",
                           "description": "the answer was e-mailed to the respondent"},
            "closed_at": _nullable_moment,
        },
    },
    "CaseList": {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {"items": {"type": "array", "items": ref("Case")},
                       "total": {"type": "integer"}, "page": {"type": "integer"},
                       "per_page": {"type": "integer"}},
    },
})


def _require_handler() -> None:
    if not cases_.may_handle(g.api_user):
        raise ApiError(403)


def case_json(case: Case, codes: dict[int, str], themes: list[str]) -> dict[str, Any]:
    return {
        "id": case.id, "region": codes[case.region_id], "office_id": case.office_id,
        "source": case.source_kind, "source_id": case.source_id,
        "touchpoint": case.touchpoint, "question": case.question, "rating": case.rating,
        "scale_low": case.scale_low, "scale_high": case.scale_high,
        "comment": masked(case.comment) if case.comment else None, "themes": themes,
        "status": case.status, "assignee_id": case.assignee_id,
        # the office's answer may greet the respondent by name: masked as the comment
        "answer": masked(case.answer) if case.answer else None,
        "received_at": iso_datetime(case.received_at),
        "answered_at": iso_datetime(case.answered_at),
        "reply_sent": case.reply_sent_at is not None,
        "closed_at": iso_datetime(case.closed_at),
    }


def _codes() -> dict[int, str]:
    return {row.id: row.code for row in db.execute(select(Region.id, Region.code))}


def _int_arg(name: str, low: int, high: int) -> int | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
        raise ApiError(422, details={name: f"an integer from {low} to {high}"})
    return int(text)


@bp.get("/cases")
@operation(
    "Cases (comments and low ratings the offices answer) of the token's region, newest "
    "first", tags=["cases"], response=ref("CaseList"), errors=(401, 403, 422),
    query=[{"name": "status", "in": "query", "required": False,
            "schema": {"type": "string", "enum": [*cases_.STATUS_LABELS, "open"]}},
           {"name": "office_id", "in": "query", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX}},
           {"name": "page", "in": "query", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
           {"name": "per_page", "in": "query", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX}}],
    description="For administrators, regional administrators and auditors (a user bound to "
                "an office: its cases). No personal data: the respondent's contact is never "
                "served, and the comment is masked.")
def cases():
    _require_handler()
    status = request.args.get("status")
    if status not in (None, "", "open", *cases_.STATUS_LABELS):
        raise ApiError(422, details={"status": "one of " + ", ".join(
            [*cases_.STATUS_LABELS, "open"])})
    office_id = _int_arg("office_id", 1, ID_MAX)
    page = _int_arg("page", 1, 100000) or 1
    per_page = _int_arg("per_page", 1, PER_PAGE_MAX) or 50
    total, rows = cases_.page_of(g.api_user, status or "", office_id, page, per_page)
    themes = cases_.themes([row.id for row in rows])
    codes = _codes()
    return jsonify(items=[case_json(row, codes, themes.get(row.id, [])) for row in rows],
                   total=total, page=page, per_page=per_page)


@bp.get("/cases/<int:case_id>")
@operation("One case", tags=["cases"], response=ref("Case"), errors=(401, 403, 404),
           description="Another region's or another office's case is not found (404).")
def case(case_id: int):
    _require_handler()
    row = db.get(Case, case_id)
    if row is None or not cases_.may_handle(g.api_user, row):
        raise ApiError(404)
    return jsonify(case_json(row, _codes(), cases_.themes([row.id]).get(row.id, [])))
