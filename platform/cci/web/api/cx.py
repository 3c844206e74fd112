"""API resources of the CX metrics: their definitions, the current run's values, a region's
targets, and touchpoint survey answers from integrations (an SMS or e-mail link provider)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.collection.intake import IntakeError
from cci.collection.touchpoints import TouchpointSubmission
from cci.collection.touchpoints import submit as submit_touchpoint
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import CxTarget
from cci.foundation.models import Region
from cci.foundation.roles import Role
from cci.foundation.tenancy import current_region_id
from cci.index import cx_compute
from cci.index import cx_reports
from cci.methodology.cx import KINDS
from cci.methodology.cx import TOUCHPOINTS
from cci.methodology.values import parse_number
from cci.web.api.blueprint import bp
from cci.web.api.blueprint import json_object
from cci.web.api.docs import list_of
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.schemas import SCHEMAS

TARGET_SETTERS = (Role.ADMIN, Role.FEDERAL_ANALYST, Role.REGIONAL_ADMIN)
LEVELS = ("office", "region", "federation")
_nullable_number = {"type": ["number", "null"]}

SCHEMAS.update({
    "CxMetric": {
        "type": "object",
        "required": ["code", "title", "definition", "numerator", "denominator", "kind", "scale",
                     "window", "direction", "min_n", "touchpoints", "platform_defined"],
        "properties": {
            "code": {"type": "string"}, "title": {"type": "string"},
            "definition": {"type": "string", "description": "one line in Russian"},
            "numerator": {"type": "string"}, "denominator": {"type": "string"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "scale": {"type": "string"}, "window": {"type": "string"},
            "direction": {"type": "string", "enum": ["higher", "lower"]},
            "min_n": {"type": "integer"},
            "touchpoints": {"type": "array", "items": {"type": "string",
                                                      "enum": list(TOUCHPOINTS)}},
            "platform_defined": {"type": "boolean",
                                 "description": "the platform's glossary fixes the definition"},
            "version": {"type": "string"},
            "question": {"type": ["object", "null"]},
        },
    },
    "CxValue": {
        "type": "object",
        "required": ["metric", "touchpoint", "level", "value", "n", "insufficient"],
        "properties": {
            "metric": {"type": "string"}, "touchpoint": {"type": "string"},
            "level": {"type": "string", "enum": list(LEVELS)},
            "region": {"type": ["string", "null"]},
            "region_id": {"type": ["integer", "null"]},
            "office_id": {"type": ["integer", "null"]},
            "month": {"type": ["string", "null"], "format": "date",
                      "description": "the month a monthly metric's value is of; null: the "
                                     "whole period"},
            "value": {"type": ["number", "null"],
                      "description": "null below the minimum n (insufficient) or without data"},
            "n": {"type": "number"}, "numerator": {"type": "number"},
            "ci_low": _nullable_number, "ci_high": _nullable_number,
            "insufficient": {"type": "boolean"}, "target": _nullable_number,
            "status": {"type": ["string", "null"], "enum": ["green", "amber", "red", None]},
            "trend": {"type": ["string", "null"], "enum": ["up", "down", "flat", None]},
        },
    },
    "CxValues": {
        "type": "object", "required": ["run", "items"],
        "properties": {
            "run": {"type": ["object", "null"], "properties": {
                "id": {"type": "integer"}, "version": {"type": "integer"},
                "period_start": {"type": "string", "format": "date"},
                "period_end": {"type": "string", "format": "date",
                               "description": "the first day after the period"}}},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/CxValue"}},
        },
    },
    "CxTarget": {
        "type": "object", "required": ["region", "metric", "touchpoint", "target"],
        "properties": {"region": {"type": "string"}, "metric": {"type": "string"},
                       "touchpoint": {"type": ["string", "null"],
                                      "description": "null: every touchpoint"},
                       "target": {"type": "number"}},
    },
    "CxTargetInput": {
        "type": "object", "required": ["metric", "target"],
        "properties": {"region": {"type": "string",
                                  "description": "a federal token names the region"},
                       "metric": {"type": "string"},
                       "touchpoint": {"type": ["string", "null"]},
                       "target": {"type": "number"}},
    },
    "TouchpointAnswerInput": {
        "type": "object", "required": ["office_id", "touchpoint", "question", "value"],
        "properties": {"office_id": {"type": "integer"}, "touchpoint": {"type": "string"},
                       "question": {"type": "string"}, "value": {"type": ["integer", "string"]},
                       "client_key": {"type": "string", "maxLength": 128},
                       "comment": {"type": ["string", "null"]},
                       "submitted_at": {"type": "string", "format": "date-time"}},
    },
    "TouchpointAnswer": {
        "type": "object", "required": ["id", "counted", "created"],
        "properties": {"id": {"type": "integer"}, "counted": {"type": "boolean"},
                       "created": {"type": "boolean"},
                       "quality_flags": {"type": "array", "items": {"type": "string"}}},
    },
})


def _metrics():
    return current_app.extensions["cci.registry"].cx_metrics


@bp.get("/cx/metrics")
@operation("The installed CX metrics and their definitions", tags=["cx"],
           response=list_of("CxMetric"), errors=())
def cx_metrics():
    return jsonify(items=[m.describe() for m in _metrics().values()])


def _region_of_request() -> Region | None:
    """The region a request reads: a regional token's own; a federal token's ``region``
    (None: the federation)."""
    code = request.args.get("region")
    own = current_region_id()
    if own is not None:
        region = db.get(Region, own)
        if code and (region is None or region.code != code):
            raise ApiError(404)
        return region
    if not code:
        return None
    region = db.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise ApiError(404)
    return region


@bp.get("/cx/values")
@operation("The current CX run's values: a region's (its offices and the region) or, for a "
           "federal token without ``region``, the federation's run", tags=["cx"],
           response=ref("CxValues"),
           query=[{"name": "region", "in": "query", "required": False,
                   "schema": {"type": "string"}},
                  {"name": "level", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": list(LEVELS)}},
                  {"name": "metric", "in": "query", "required": False,
                   "schema": {"type": "string"}}], errors=(404, 422))
def cx_values():
    level = request.args.get("level")
    if level is not None and level not in LEVELS:
        raise ApiError(422, message="Уровень: office, region или federation.",
                       details={"field": "level"})
    region = _region_of_request()
    run = cx_compute.current_run(region.id if region is not None else None)
    if run is None:
        return jsonify(run=None, items=[])
    targets = cx_reports.targets(region.id) if region is not None else None
    codes: dict[int | None, str] = {r.id: r.code for r in db.scalars(select(Region))}
    items: list[dict[str, Any]] = []
    for lvl in [level] if level else list(LEVELS):
        for cell in cx_reports.cells(run, lvl, targets):
            if request.args.get("metric") and cell.metric != request.args["metric"]:
                continue
            items.append({**cell.as_json(), "region": codes.get(cell.region_id)})
    return jsonify(run={"id": run.id, "version": run.version,
                        "period_start": run.period_start.isoformat(),
                        "period_end": run.period_end.isoformat()}, items=items)


def _target_json(row: CxTarget, codes: dict[int | None, str]) -> dict:
    return {"region": codes.get(row.region_id), "metric": row.metric,
            "touchpoint": row.touchpoint or None, "target": row.target}


@bp.get("/cx/targets")
@operation("The CX targets of the token's region (a federal token: every region's)",
           tags=["cx"], response=list_of("CxTarget"), errors=())
def cx_targets():
    codes: dict[int | None, str] = {r.id: r.code for r in db.scalars(select(Region))}
    rows = db.scalars(select(CxTarget).order_by(CxTarget.region_id, CxTarget.metric,
                                                CxTarget.touchpoint))
    return jsonify(items=[_target_json(row, codes) for row in rows])


@bp.put("/cx/targets")
@operation("Set a region's target for a metric, at a touchpoint or at all", tags=["cx"],
           response=ref("CxTarget"), request_body=ref("CxTargetInput"),
           errors=(403, 404, 422))
def put_cx_target():
    if not g.api_user.has_role(*TARGET_SETTERS):
        raise ApiError(403)
    body = json_object()
    own = current_region_id()
    if own is not None:
        region = db.get(Region, own)
        if body.get("region") not in (None, region.code if region else None):
            raise ApiError(404)
    else:
        region = db.scalar(select(Region).where(Region.code == str(body.get("region", ""))))
    if region is None:
        raise ApiError(404)
    metric = _metrics().get(str(body.get("metric", "")))
    touchpoint = body.get("touchpoint") or ""
    if metric is None or not isinstance(touchpoint, str) or (
            touchpoint and touchpoint not in metric.touchpoints):
        raise ApiError(422, message="Нет такой метрики или точки касания у неё.",
                       details={"field": "metric"})
    try:
        value = parse_number(body.get("target"))
    except ValueError:
        raise ApiError(422, message="Цель должна быть числом.",
                       details={"field": "target"}) from None
    if not metric.bounds[0] <= value <= metric.bounds[1]:
        raise ApiError(422, message="Цель вне шкалы метрики.", details={"field": "target"})
    row = cx_reports.set_target(region.id, metric.code, touchpoint, value, g.api_user)
    return jsonify(_target_json(row, {region.id: region.code}))


@bp.post("/cx/touchpoint-answers")
@operation("Store one touchpoint survey answer (CES after a call, NPS by an SMS link, …); a "
           "repeated client_key returns the stored answer", tags=["cx"],
           response=ref("TouchpointAnswer"), request_body=ref("TouchpointAnswerInput"),
           status=201, errors=(404, 422))
def post_touchpoint_answer():
    body = json_object()
    office_id = body.get("office_id")
    if isinstance(office_id, bool) or not isinstance(office_id, int):
        raise ApiError(422, message="Нужен номер офиса.", details={"field": "office_id"})
    if not 1 <= office_id <= ID_MAX:
        raise ApiError(404)
    submitted = None
    if body.get("submitted_at") is not None:
        try:
            submitted = dt.datetime.fromisoformat(str(body["submitted_at"]))
        except ValueError:
            raise ApiError(422, message="Время ответа — в формате ISO 8601.",
                           details={"field": "submitted_at"}) from None
        if submitted.tzinfo is None:
            raise ApiError(422, message="Время ответа — с часовым поясом.",
                           details={"field": "submitted_at"})
    client_key = body.get("client_key")
    comment = body.get("comment")
    if (client_key is not None and not isinstance(client_key, str)) or (
            comment is not None and not isinstance(comment, str)):
        raise ApiError(422, message="Ключ ответа и комментарий — строки.",
                       details={"field": "client_key"})
    try:
        answer, created = submit_touchpoint(TouchpointSubmission(
            office_id=office_id, touchpoint=str(body.get("touchpoint", "")),
            question=str(body.get("question", "")), value=body.get("value"), channel="api",
            client_key=client_key, comment=comment, submitted_at=submitted,
            meta={"token_user": g.api_user.id}))
    except IntakeError as exc:
        if exc.field == "office":
            raise ApiError(404) from None
        raise ApiError(422, message=exc.message,
                       details={"field": exc.field, "reason": exc.reason}) from None
    return jsonify(id=answer.id, counted=answer.counted, created=created,
                   quality_flags=[f["rule"] for f in answer.quality_flags or []]), 201
