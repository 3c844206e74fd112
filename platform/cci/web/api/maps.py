"""Journey maps, their versions, and improvement actions: read by every token in its scope
(the federal templates by all), actions made and changed by a region's administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g
from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.collection.comment_themes import THEME_NAMES
from cci.foundation import improvement_actions as actions_
from cci.foundation import journey_maps
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.foundation.models import Region
from cci.foundation.roles import Role
from cci.foundation.zones import MOSCOW
from cci.index import map_figures
from cci.web.api.blueprint import bp
from cci.web.api.docs import iso_datetime
from cci.web.api.docs import list_of
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.schemas import SCHEMAS

ACTION_WRITERS = (Role.ADMIN, Role.REGIONAL_ADMIN)
ESCALATION_READERS = (Role.ADMIN, Role.FEDERAL_ANALYST)


def _region_codes() -> dict[int, str]:
    return {row.id: row.code for row in db.execute(select(Region.id, Region.code))}


def _map_or_404(map_id: int) -> JourneyMap:
    row = db.get(JourneyMap, map_id) or journey_maps.template_by_id(map_id)
    if row is None:
        raise ApiError(404)
    return row


def _version_json(version: JourneyMapVersion) -> dict[str, Any]:
    based = None
    if version.based_on_id is not None:
        base, _content = journey_maps.version_content(version.based_on_id)
        if base is not None:
            based = {"map_id": base.map_id, "number": base.number}
    return {"number": version.number, "status": version.status,
            "published_at": iso_datetime(version.published_at), "based_on": based}


def map_json(row: JourneyMap, codes: dict[int, str],
             versions: list[JourneyMapVersion]) -> dict[str, Any]:
    region_id = journey_maps.owner_region(row)
    owner = ("federal_template" if region_id is None
             else "office" if row.office_id is not None else "region")
    return {"id": row.id, "title": row.title, "service": row.service, "owner": owner,
            "region": codes.get(region_id) if region_id else None,
            "office_id": row.office_id, "template_id": row.template_id,
            "versions": [_version_json(v) for v in versions]}


@bp.get("/maps")
@operation("Journey maps: the federal templates and the maps of the token's region (every "
           "region's: federal)", tags=["maps"], response=list_of("Map"), errors=(401,))
def maps():
    codes = _region_codes()
    rows = [*journey_maps.templates(),
            *db.scalars(select(JourneyMap).where(JourneyMap.region_id.is_not(None))
                        .order_by(JourneyMap.region_id, JourneyMap.id))]
    versions = journey_maps.versions_by_map(rows)
    return jsonify(items=[map_json(row, codes, versions[row.id]) for row in rows])


@bp.get("/maps/<int:map_id>")
@operation("One journey map and its versions", tags=["maps"], response=ref("Map"))
def map_detail(map_id: int):
    row = _map_or_404(map_id)
    return jsonify(map_json(row, _region_codes(), journey_maps.versions_of(row)))


@bp.get("/maps/<int:map_id>/versions/<int:number>")
@operation("One version of a map: its grid, and where it departs from its template",
           tags=["maps"], response=ref("MapVersion"))
def map_version(map_id: int, number: int):
    row = _map_or_404(map_id)
    version = next((v for v in journey_maps.versions_of(row) if v.number == number), None)
    if version is None:
        raise ApiError(404)
    departures = None
    if version.based_on_id is not None:
        _base, base_content = journey_maps.version_content(version.based_on_id)
        departures = [d.__dict__ for d in journey_maps.departures(base_content,
                                                                  version.content)]
    return jsonify(map_id=row.id, number=version.number, status=version.status,
                   published_at=iso_datetime(version.published_at), content=version.content,
                   departures=departures)


_nullable_number = {"type": ["number", "null"]}
SCHEMAS.update({
    "MapFigures": {
        "type": "object",
        "required": ["map_id", "region", "office_id", "run", "cells", "index_run", "indicators",
                     "themes"],
        "properties": {
            "map_id": {"type": "integer"}, "region": {"type": "string"},
            "office_id": {"type": ["integer", "null"],
                          "description": "an office's map: that office's figures; null: the "
                                         "region's"},
            "run": {"type": ["object", "null"], "description": "the current CX run",
                    "properties": {"id": {"type": "integer"}, "version": {"type": "integer"},
                                   "period_start": {"type": "string", "format": "date"},
                                   "period_end": {"type": "string", "format": "date"}}},
            "cells": {"type": "array", "items": {"$ref": "#/components/schemas/CxValue"}},
            "index_run": {"type": ["object", "null"],
                          "description": "the newest published index run of the region",
                          "properties": {"id": {"type": "integer"},
                                         "campaign_id": {"type": "integer"},
                                         "methodology": {"type": "string"}}},
            "indicators": {"type": "array", "items": {
                "type": "object",
                "required": ["touchpoint", "code", "title", "value", "insufficient", "n"],
                "properties": {"touchpoint": {"type": "string"}, "code": {"type": "string"},
                               "title": {"type": "string"}, "value": _nullable_number,
                               "insufficient": {"type": "boolean"},
                               "n": {"type": ["integer", "null"]}}}},
            "themes": {"type": "array", "items": {
                "type": "object", "required": ["touchpoint", "theme", "name", "count"],
                "properties": {"touchpoint": {"type": "string"}, "theme": {"type": "string"},
                               "name": {"type": "string"}, "count": {"type": "integer"}}}},
        },
    },
})


@bp.get("/maps/<int:map_id>/figures")
@operation("A region's or office's map: its scope's CX figures from the current run (value, n, "
           "status against the region's target, trend), the index indicators each touchpoint "
           "feeds with their published value, and the themes of touchpoint comments and "
           "complaints over the run's period (a federal template has none: 404)",
           tags=["maps"], response=ref("MapFigures"))
def map_figures_json(map_id: int):
    scope = map_figures.scope_of(_map_or_404(map_id))
    if scope is None:
        raise ApiError(404)
    code = _region_codes()[scope.region_id]
    run, cells = map_figures.metric_cells(scope)
    links = map_figures.indicator_links(scope)
    themes = map_figures.theme_counts(scope, run.period_start, run.period_end) if run else {}
    return jsonify(
        map_id=map_id, region=code, office_id=scope.office_id,
        run=None if run is None else {"id": run.id, "version": run.version,
                                      "period_start": run.period_start.isoformat(),
                                      "period_end": run.period_end.isoformat()},
        cells=[{**cell.as_json(), "region": code} for cell in cells.values()],
        index_run=None if links.run is None or links.campaign is None else {
            "id": links.run.id, "campaign_id": links.campaign.id,
            "methodology": links.run.methodology_key},
        indicators=[{"touchpoint": touchpoint, "code": f.code, "title": f.title,
                     "value": f.value, "insufficient": f.insufficient, "n": f.n}
                    for touchpoint, found in links.by_touchpoint.items() for f in found],
        themes=[{"touchpoint": touchpoint, "theme": theme, "name": THEME_NAMES[theme],
                 "count": count}
                for touchpoint, found in themes.items() for theme, count in found])


def _today() -> dt.date:
    return dt.datetime.now(MOSCOW).date()


def action_json(action: ImprovementAction, codes: dict[int, str], today: dt.date) -> dict:
    late = actions_.days_overdue(action, today)
    return {
        "id": action.id, "region": codes[action.region_id],
        "map_id": action.map_version.map_id, "version": action.map_version.number,
        "stage": action.stage_key, "touchpoint": action.touchpoint_code,
        "barrier": action.barrier, "title": action.title, "department": action.department,
        "owner_id": action.owner_id, "due_on": action.due_on.isoformat(),
        "status": action.status, "metric_code": action.metric_code, "target": action.target,
        "days_overdue": late, "escalated": late > actions_.escalation_days(),
        "created_at": iso_datetime(action.created_at),
        "closed_at": iso_datetime(action.closed_at),
    }


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, details={"body": "a JSON object"})
    return body


def _action_error(exc: actions_.ActionError) -> ApiError:
    db.rollback()
    return ApiError(422, message=exc.message, details={exc.field: exc.message})


def _require(*roles: Role) -> None:
    if not g.api_user.has_role(*roles):
        raise ApiError(403)


@bp.get("/actions")
@operation(
    "Improvement actions of the token's region (every region's: federal)", tags=["actions"],
    response=list_of("Action"), errors=(401, 422),
    query=[{"name": "status", "in": "query", "required": False,
            "schema": {"type": "string", "enum": [*actions_.STATUS_LABELS, "overdue"]}}])
def actions():
    status = request.args.get("status")
    today = _today()
    query = select(ImprovementAction).order_by(ImprovementAction.due_on, ImprovementAction.id)
    if status == "overdue":
        query = actions_.overdue_query(today)
    elif status in actions_.STATUS_LABELS:
        query = query.where(ImprovementAction.status == status)
    elif status is not None:
        raise ApiError(422, details={"status": "one of " + ", ".join(
            [*actions_.STATUS_LABELS, "overdue"])})
    codes = _region_codes()
    return jsonify(items=[action_json(a, codes, today) for a in db.scalars(query)])


@bp.get("/actions/escalated")
@operation("Actions overdue longer than the escalation limit, in every region (federal "
           "analysts)", tags=["actions"], response=list_of("Action"), errors=(401, 403))
def actions_escalated():
    _require(*ESCALATION_READERS)
    today = _today()
    codes = _region_codes()
    return jsonify(items=[action_json(a, codes, today) for a in actions_.escalated(today)])


@bp.get("/actions/<int:action_id>")
@operation("One improvement action", tags=["actions"], response=ref("Action"))
def action(action_id: int):
    row = db.get(ImprovementAction, action_id)
    if row is None:
        raise ApiError(404)
    return jsonify(action_json(row, _region_codes(), _today()))


@bp.post("/actions")
@operation(
    "Make a barrier of a region's map an improvement action", tags=["actions"],
    response=ref("Action"), status=201, request_body=ref("ActionNew"),
    errors=(401, 403, 404, 422),
    description="The owner must be a user of the map's region; the step is audit-logged.")
def action_create():
    _require(*ACTION_WRITERS)
    body = _body()
    map_id, number, barrier = body.get("map_id"), body.get("version"), body.get("barrier")
    if not (isinstance(map_id, int) and isinstance(number, int) and isinstance(barrier, int)) \
            or any(isinstance(v, bool) or not 0 <= v <= ID_MAX for v in (map_id, number, barrier)):
        raise ApiError(422, details={"map_id": "integer", "version": "integer",
                                     "barrier": "integer"})
    row = db.get(JourneyMap, map_id)  # a template or another region's map: not found
    if row is None or journey_maps.owner_region(row) is None:
        raise ApiError(404)
    version = next((v for v in journey_maps.versions_of(row) if v.number == number), None)
    if version is None:
        raise ApiError(404)
    values = {name: body.get(name) for name in
              ("title", "department", "owner_id", "due_on", "metric_code", "target")}
    try:
        created = actions_.create(version, str(body.get("stage")), str(body.get("touchpoint")),
                                  barrier, values, g.api_user)
    except actions_.ActionError as exc:
        raise _action_error(exc) from None
    db.commit()
    return jsonify(action_json(created, _region_codes(), _today())), 201


@bp.patch("/actions/<int:action_id>")
@operation("Change an improvement action: status, owner, due date, metric, target",
           tags=["actions"], response=ref("Action"), request_body=ref("ActionChange"),
           errors=(401, 403, 404, 422),
           description="A done or cancelled action is closed and changes no more (422).")
def action_update(action_id: int):
    _require(*ACTION_WRITERS)
    row = db.get(ImprovementAction, action_id)
    if row is None:
        raise ApiError(404)
    body = _body()
    allowed = ("status", "title", "department", "owner_id", "due_on", "metric_code", "target")
    try:
        actions_.update(row, {k: body[k] for k in allowed if k in body}, g.api_user)
    except actions_.ActionError as exc:
        raise _action_error(exc) from None
    db.commit()
    return jsonify(action_json(row, _region_codes(), _today()))
