"""Responses through the API: batch ingest for integrations, and the review queue.

Batch ingest stores each item through the one intake path (:func:`cci.collection.intake.submit`):
the campaign's plugin set validates the answers, the same quality rules run, and each item is stored
whole in its own transaction or not at all. Items are independent: one bad item does not stop the
others. A repeated ``client_key`` (per region) returns the stored response.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from typing import Literal
from typing import overload

from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from cci.collection import quality
from cci.collection import recompute
from cci.collection.intake import UNAVAILABLE
from cci.collection.intake import IntakeError
from cci.collection.intake import Submission
from cci.collection.intake import submit
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import RESPONDENT_TYPES
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.roles import Role
from cci.foundation.tenancy import current_region_id
from cci.foundation.tenancy import federal_scope
from cci.methodology.contract import REASONS
from cci.methodology.contract import AnswerError
from cci.methodology.contract import read_respondent_type
from cci.web.api.blueprint import bp
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.resources import iso_datetime
from cci.web.api.schemas import SCHEMAS
from cci.web.ratelimit import from_config
from cci.web.ratelimit import limiter
from cci.web.ratelimit import per_token

BATCH_MAX = 500
#: the channel recorded for responses that arrive through the API without naming one
API_CHANNEL = "api"
CLIENT_KEY_MAX = 100
META_MAX_BYTES = 8192
ITEM_FIELDS = ("client_key", "office_id", "respondent_type", "submitted_at", "started_at",
               "answers", "profile", "comment", "meta", "channel")
#: roles whose tokens may write responses and review them
WRITE_ROLES = (Role.ADMIN, Role.REGIONAL_ADMIN)
REVIEW_STATUSES = ("pending", "confirmed", "restored", "all")


_datetime = {"type": "string", "format": "date-time"}
_nullable_datetime = {"type": ["string", "null"], "format": "date-time"}
_answer_value = {"type": ["integer", "string", "null"],
                 "description": "scale/yes-no: a number (yes = 1); choice: the option key; "
                                "null: «Затрудняюсь ответить»"}

SCHEMAS.update({
    "BatchItem": {
        "type": "object",
        "required": ["client_key", "office_id", "respondent_type", "submitted_at", "answers"],
        "additionalProperties": False,
        "properties": {
            "client_key": {"type": "string", "minLength": 1, "maxLength": CLIENT_KEY_MAX,
                           "description": "The client's own idempotency key (unique in its "
                                          "region): a repeat is answered «duplicate»"},
            "office_id": {"type": "integer"},
            "respondent_type": {"type": "string", "enum": list(RESPONDENT_TYPES)},
            "submitted_at": {**_datetime, "description": "With a time zone offset"},
            "started_at": _datetime,
            "answers": {"type": "object", "additionalProperties": _answer_value,
                        "description": "Item key -> answer, per the campaign's methodology set"},
            "profile": {"type": "object", "additionalProperties": _answer_value},
            "comment": {"type": ["string", "null"]},
            "meta": {"type": "object", "description": "Channel metadata (device_id, "
                     "operator_id, ip_hash, timings, …), at most 8 KB"},
            "channel": {"type": "string", "description": "An installed channel's key; "
                        "default: api"},
        },
    },
    "BatchRequest": {
        "type": "object",
        "required": ["responses"],
        "additionalProperties": False,
        "properties": {"responses": {"type": "array", "minItems": 1, "maxItems": BATCH_MAX,
                                     "items": {"$ref": "#/components/schemas/BatchItem"}}},
    },
    "BatchItemResult": {
        "type": "object",
        "required": ["client_key", "status"],
        "additionalProperties": False,
        "properties": {
            "client_key": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["created", "duplicate", "error"]},
            "response_id": {"type": "integer"},
            "counted": {"type": "boolean", "description": "False: flagged, awaiting review"},
            "flags": {"type": "array", "items": {"type": "string"},
                      "description": "Keys of the quality rules that flagged it"},
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "enum": ["invalid_item", "invalid_answer",
                                                        "unknown_office", "no_campaign",
                                                        "not_stored"]},
                    "message": {"type": "string", "description": "Russian"},
                    "field": {"type": ["string", "null"],
                              "description": "e.g. office_id, answers.usefulness"},
                    "reason": {"type": "string", "enum": list(REASONS),
                               "description": "Why the questionnaire refused an answer (the "
                                              "same reason as from every channel)"},
                },
            },
        },
    },
    "BatchResult": {
        "type": "object",
        "required": ["items", "summary"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array",
                      "items": {"$ref": "#/components/schemas/BatchItemResult"}},
            "summary": {
                "type": "object",
                "required": ["created", "duplicate", "error"],
                "additionalProperties": False,
                "properties": {k: {"type": "integer"} for k in ("created", "duplicate", "error")},
            },
        },
    },
    "ReviewFlag": {
        "type": "object",
        "required": ["rule", "label", "reason"],
        "additionalProperties": False,
        "properties": {"rule": {"type": "string"}, "label": {"type": "string"},
                       "reason": {"type": "string"}},
    },
    "ReviewItem": {
        "type": "object",
        "required": ["id", "uid", "office_id", "campaign_id", "channel", "respondent_type",
                     "started_at", "submitted_at", "received_at", "counted", "review_status",
                     "reviewed_at", "review_reason", "flags", "answers", "meta"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "uid": {"type": "string"},
            "office_id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "channel": {"type": "string"},
            "respondent_type": {"type": "string", "enum": list(RESPONDENT_TYPES)},
            "started_at": _nullable_datetime,
            "submitted_at": _datetime,
            "received_at": _datetime,
            "counted": {"type": "boolean"},
            "review_status": {"type": "string", "enum": ["pending", "confirmed", "restored"]},
            "reviewed_at": _nullable_datetime,
            "review_reason": {"type": ["string", "null"]},
            "flags": {"type": "array", "items": {"$ref": "#/components/schemas/ReviewFlag"}},
            "answers": {"type": "object", "additionalProperties": _answer_value},
            "meta": {"type": "object"},
        },
    },
    "ReviewList": {
        "type": "object",
        "required": ["items", "total", "limit", "offset"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/ReviewItem"}},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    },
    "ReviewDecision": {
        "type": "object",
        "required": ["decision", "reason"],
        "additionalProperties": False,
        "properties": {
            "decision": {"type": "string", "enum": list(quality.DECISIONS),
                         "description": "exclude: the flag is right, keep it out of the index; "
                                        "restore: count it again"},
            "reason": {"type": "string", "minLength": 1, "maxLength": quality.REASON_MAX},
        },
    },
})


class ItemError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None,
                 reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.reason = reason


def _require(*roles: Role) -> None:
    if not g.api_user.has_role(*roles):
        raise ApiError(403)


# --- batch ingest ------------------------------------------------------------------------


@overload
def _moment(raw: dict, field: str, required: Literal[True]) -> dt.datetime: ...
@overload
def _moment(raw: dict, field: str, required: Literal[False]) -> dt.datetime | None: ...
def _moment(raw: dict, field: str, required: bool) -> dt.datetime | None:
    value = raw.get(field)
    if value is None:
        if required:
            raise ItemError("invalid_item", "обязательное поле", field)
        return None
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ItemError("invalid_item", "нужны дата и время в формате ISO 8601", field)
    if moment.tzinfo is None:
        raise ItemError("invalid_item", "укажите часовой пояс (например, +03:00 или Z)", field)
    return moment.astimezone(dt.UTC)


def _object(raw: dict, field: str, required: bool = False) -> dict:
    value = raw.get(field)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ItemError("invalid_item", "нужен объект JSON", field)
    return value


def _parse(raw: Any) -> tuple[str, dict[str, Any]]:
    """Check an item's shape; returns (client key, fields for a Submission)."""
    if not isinstance(raw, dict):
        raise ItemError("invalid_item", "элемент должен быть объектом JSON")
    unknown = sorted(set(raw) - set(ITEM_FIELDS))
    if unknown:
        raise ItemError("invalid_item", "неизвестное поле", unknown[0])
    key = raw.get("client_key")
    if not isinstance(key, str) or not key.strip() or len(key) > CLIENT_KEY_MAX:
        raise ItemError("invalid_item", f"нужна непустая строка до {CLIENT_KEY_MAX} символов",
                        "client_key")
    office_id = raw.get("office_id")
    if not isinstance(office_id, int) or isinstance(office_id, bool):
        raise ItemError("invalid_item", "нужен числовой идентификатор офиса", "office_id")
    if not 0 < office_id <= ID_MAX:
        raise ItemError("unknown_office", "офис не найден", "office_id")
    try:
        respondent_type = read_respondent_type(raw.get("respondent_type"))
    except AnswerError as exc:
        raise ItemError("invalid_item", "допустимо: " + ", ".join(RESPONDENT_TYPES),
                        "respondent_type", exc.reason) from None
    submitted = _moment(raw, "submitted_at", required=True)
    started = _moment(raw, "started_at", required=False)
    now = dt.datetime.now(dt.UTC)
    if submitted > now + dt.timedelta(minutes=5):
        raise ItemError("invalid_item", "время ответа в будущем", "submitted_at")
    if started is not None and started > submitted:
        raise ItemError("invalid_item", "начало позже окончания анкеты", "started_at")
    answers = _object(raw, "answers", required=True)
    if not answers:
        raise ItemError("invalid_answer", "нет ни одного ответа", "answers")
    profile = _object(raw, "profile")
    meta = _object(raw, "meta")
    if len(json.dumps(meta, ensure_ascii=False).encode()) > META_MAX_BYTES:
        raise ItemError("invalid_item", f"не больше {META_MAX_BYTES} байт", "meta")
    comment = raw.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ItemError("invalid_item", "нужна строка", "comment")
    channel = raw.get("channel")
    if channel is not None and channel not in current_app.extensions["cci.registry"].channels:
        raise ItemError("invalid_item", "такой канал сбора не установлен", "channel")
    return key.strip(), {
        "office_id": office_id, "respondent_type": respondent_type, "answers": answers,
        "submitted_at": submitted, "started_at": started, "profile": profile, "meta": meta,
        "comment": comment, "channel": channel,
    }


def _office_region(office_id: int) -> Region:
    """The office's region, if the token may write there (else: as if it did not exist)."""
    with federal_scope("api batch: the office's region"):
        row = db.execute(select(Office.active, Region).join(Region, Region.id == Office.region_id)
                         .where(Office.id == office_id)).first()
    scope_region = current_region_id()
    if row is None or not row[0] or (scope_region is not None and row[1].id != scope_region):
        raise ItemError("unknown_office", "офис не найден", "office_id")
    return row[1]


def _intake_error(exc: IntakeError, fields: dict[str, Any]) -> ItemError:
    if exc.field == "office":
        return ItemError("unknown_office", exc.message, "office_id")
    if exc.field in ("submitted_at", "campaign"):
        return ItemError("no_campaign", exc.message, "submitted_at")
    if exc.field in ("answers", "comment"):
        return ItemError("invalid_answer", exc.message, exc.field, exc.reason)
    section = "profile" if exc.field in fields["profile"] and exc.field not in fields["answers"] \
        else "answers"
    return ItemError("invalid_answer", exc.message, f"{section}.{exc.field}", exc.reason)


def _stored_key(region: Region, client_key: str) -> str:
    """Client keys are the integration's own: kept apart per region, so two regions' systems
    cannot collide (and one region never learns of another's responses)."""
    return f"api:{region.code}:{client_key}"


def _ingest(raw: Any) -> dict[str, Any]:
    client_key = raw.get("client_key") if isinstance(raw, dict) else None
    result: dict[str, Any] = {"client_key": client_key if isinstance(client_key, str) else None}
    try:
        client_key, fields = _parse(raw)
        result["client_key"] = client_key
        region = _office_region(fields["office_id"])
        channel_key = fields.pop("channel")
        channel = current_app.extensions["cci.registry"].channels.get(channel_key or "")
        meta = {**fields.pop("meta"), "api_token_id": g.api_token.id}
        try:
            response, created = submit(
                Submission(client_key=_stored_key(region, client_key),
                           channel=channel_key or API_CHANNEL, meta=meta, **fields),
                channel=channel,
            )
        except IntakeError as exc:
            db.rollback()
            raise _intake_error(exc, fields) from None
        except SQLAlchemyError as exc:
            if isinstance(exc, UNAVAILABLE):
                raise  # the database is gone, no later item could be stored either: a 503
            # the database refused this item alone: it is reported, and the next ones go on
            db.rollback()
            current_app.logger.exception("api batch: item %r not stored", client_key)
            raise ItemError("not_stored", "ответ не сохранён: ошибка базы данных") from exc
    except ItemError as exc:
        error = {"code": exc.code, "message": exc.message, "field": exc.field}
        if exc.reason:
            error["reason"] = exc.reason
        result.update(status="error", error=error)
        return result
    result.update(status="created" if created else "duplicate", response_id=response.id,
                  counted=response.counted,
                  flags=[flag.get("rule") for flag in response.quality_flags or []])
    return result


@bp.post("/responses/batch")
@limiter.limit(from_config("RATELIMIT_API_BATCH"), key_func=per_token)
@operation(
    "Store a batch of responses (integrations: another regional system, telephony)",
    tags=["responses"],
    response=ref("BatchResult"),
    status=207,
    request_body=ref("BatchRequest"),
    errors=(401, 403, 413, 422, 429, 503),
    description=(
        f"Up to {BATCH_MAX} responses. Each item is validated against its campaign's "
        "methodology set (the campaign is the one running at submitted_at in the office's "
        "region), checked by the same data-quality rules as the channels, and stored whole or "
        "not at all; items are independent, so the answer lists every item's outcome: "
        "created, duplicate (the client_key was stored before: idempotent retries) or error "
        "{code, message, field}. Error codes: invalid_item, invalid_answer, unknown_office, "
        "no_campaign, not_stored (the database refused the item; the others are stored). "
        "Text is stored without control characters (tab and line breaks stay) and with "
        "U+FFFD for a lone surrogate. A regional token writes only to its region's offices. "
        "Flagged responses are stored but not counted until reviewed (flags lists the "
        "rules). Rate-limited per token (429 with Retry-After); the body size is limited (413). "
        "A database that is unavailable is a 503 with Retry-After: send the batch again, the "
        "items stored before come back «duplicate»."
    ),
)
def responses_batch():
    _require(*WRITE_ROLES)
    request.max_content_length = min(
        current_app.config["API_BATCH_MAX_BYTES"],
        current_app.config.get("MAX_CONTENT_LENGTH") or current_app.config["API_BATCH_MAX_BYTES"],
    )
    body = request.get_json(silent=True)
    items = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ApiError(422, message="Нужен объект JSON с непустым списком «responses».",
                       details={"responses": "required"})
    if len(items) > BATCH_MAX:
        raise ApiError(422, message=f"Не больше {BATCH_MAX} ответов в одном запросе.",
                       details={"responses": f"at most {BATCH_MAX} items"})
    results = [_ingest(raw) for raw in items]
    counts = {status: sum(1 for r in results if r["status"] == status)
              for status in ("created", "duplicate", "error")}
    return jsonify(items=results, summary=counts), 207


# --- review queue ------------------------------------------------------------------------


def review_json(response: Response, labels: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": response.id,
        "uid": response.uid,
        "office_id": response.office_id,
        "campaign_id": response.campaign_id,
        "channel": response.channel,
        "respondent_type": response.respondent_type,
        "started_at": iso_datetime(response.started_at),
        "submitted_at": iso_datetime(response.submitted_at),
        "received_at": iso_datetime(response.received_at),
        "counted": response.counted,
        "review_status": response.review_status,
        "reviewed_at": iso_datetime(response.reviewed_at),
        "review_reason": response.review_reason,
        "flags": [{"rule": flag.rule, "label": str(labels.get(flag.rule, flag.rule)),
                   "reason": flag.reason} for flag in response.flags],
        "answers": {answer.item: answer.choice if answer.choice is not None else answer.value
                    for answer in sorted(response.answers, key=lambda a: a.item)},
        "meta": response.meta or {},
    }


@bp.get("/review")
@operation(
    "Flagged responses: the review queue of the token's region (every region: federal)",
    tags=["review"],
    response=ref("ReviewList"),
    errors=(401, 403, 422),
    query=[
        {"name": "status", "in": "query", "required": False,
         "schema": {"type": "string", "enum": list(REVIEW_STATUSES), "default": "pending"}},
        {"name": "rule", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "office_id", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
        {"name": "offset", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "default": 0}},
    ],
)
def review_list():
    _require(*WRITE_ROLES)
    status = request.args.get("status", "pending")
    if status not in REVIEW_STATUSES:
        raise ApiError(422, details={"status": "one of " + ", ".join(REVIEW_STATUSES)})
    limit = request.args.get("limit", 100, type=int)
    offset = request.args.get("offset", 0, type=int)
    if not 1 <= limit <= 500 or offset < 0:
        raise ApiError(422, details={"limit": "1..500", "offset": ">= 0"})
    query = quality.review_query(None if status == "all" else status,
                                 request.args.get("rule") or None,
                                 request.args.get("office_id", type=int))
    total, rows = quality.review_page(query, limit, offset)
    labels = quality.rule_labels()
    return jsonify(items=[review_json(r, labels) for r in rows], total=total,
                   limit=limit, offset=offset)


@bp.post("/review/<int:response_id>")
@operation(
    "Decide on a flagged response: keep it excluded, or restore it to the index",
    tags=["review"],
    response=ref("ReviewItem"),
    request_body=ref("ReviewDecision"),
    errors=(401, 403, 404, 409, 422),
    description=(
        "A reason is required; the decision is audit-logged and the campaign is recomputed. "
        "A response of another region is 404 for a regional token; one that no rule flagged "
        "is 409."
    ),
)
def review_decide(response_id: int):
    _require(*WRITE_ROLES)
    response = db.get(Response, response_id)
    if response is None:
        raise ApiError(404)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, details={"decision": "required", "reason": "required"})
    decision = body.get("decision")
    try:
        # any JSON may come as the decision: one that is not a string is refused as unknown
        quality.decide(response, decision if isinstance(decision, str) else "",
                       body.get("reason"), g.api_user)
    except quality.ReviewError as exc:
        db.rollback()
        code = "not_flagged" if exc.status == 409 else None
        raise ApiError(exc.status, code, exc.message, {exc.field: exc.message}) from None
    db.commit()
    recompute.follow([response.campaign_id])
    return jsonify(review_json(response, quality.rule_labels()))
