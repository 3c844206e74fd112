"""API resources of the index: methodologies, campaigns, checklists, runs and results."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict

from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.collection import recompute
from cci.collection.campaigns import CampaignError
from cci.collection.campaigns import save_campaign
from cci.collection.campaigns import visible_campaigns
from cci.collection.checklists import ChecklistError
from cci.collection.checklists import save as save_checklist
from cci.collection.checklists import target_level
from cci.foundation import tenancy
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.jobs import JobError
from cci.foundation.models import Campaign
from cci.foundation.models import Checklist
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.roles import Role
from cci.foundation.tenancy import current_region_id
from cci.index import compute
from cci.index.reports import federal_overview_with_movement
from cci.index.reports import figure_json
from cci.index.reports import region_report
from cci.methodology import versions
from cci.web import federal_tables
from cci.web.api.blueprint import bp
from cci.web.api.blueprint import json_object
from cci.web.api.docs import list_of
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.resources import iso_datetime
from cci.web.api.schemas import SCHEMAS

MANAGERS = (Role.ADMIN, Role.METHODOLOGY_OWNER)
AUDITORS = (Role.ADMIN, Role.REGIONAL_ADMIN, Role.AUDITOR)

_figure = {
    "type": "object",
    "required": ["metric", "value"],
    "properties": {
        "metric": {"type": "string",
                   "description": "indicator:<code>, group:<g>, perspective, index, part:<half>"},
        "respondent_type": {"type": ["string", "null"]},
        "value": {"type": ["number", "null"], "description": "share 0..1 or index 0..100"},
        "n_valid": {"type": ["integer", "null"]},
        "n_positive": {"type": ["integer", "null"]},
        "ci95": {"type": ["array", "null"], "items": {"type": "number"}},
        "insufficient": {"type": "boolean"},
        "not_computable_reason": {"type": ["string", "null"]},
        "stars": {"type": ["integer", "null"]},
        "n_effective": {"type": "number", "description": (
            "a share that is the mean of other shares (over respondent types, components or "
            "offices): the effective sample size its ci95 is taken at; n_valid counts the "
            "answers, and value is not n_positive / n_valid")},
        "distribution": {"type": "object", "additionalProperties": {"type": "integer"},
                         "description": "an unscored choice item: answers per option key"},
        "offered": {"type": "object", "additionalProperties": {"type": ["boolean", "null"]},
                    "description": "an office's distribution: whether the office offers each "
                                   "option (from the checklist it is cross-checked with; null "
                                   "while the checklist does not answer for the option)"},
        "offered_in": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "a region's distribution: offices offering each option"},
        "offices_checked": {"type": "object", "additionalProperties": {"type": "integer"},
                            "description": "per option, the offices whose checklist tells"},
    },
}
SCHEMAS.update({
    "Figure": _figure,
    "MethodologySummary": {
        "type": "object", "required": ["key", "title", "version"],
        "properties": {"key": {"type": "string"}, "title": {"type": "string"},
                       "version": {"type": "string"}, "based_on": {"type": ["string", "null"]},
                       "package": {"type": "string"}, "package_version": {"type": "string"},
                       "derived_from": {"type": ["string", "null"], "description": (
                           "a derived version (made in the interface): the version it changes")},
                       "offered": {"type": "boolean", "description": (
                           "approved (a package) or published (a derived version): offered for "
                           "new campaigns")}},
    },
    "Methodology": {
        "type": "object",
        "required": ["key", "title", "version", "groups", "indicators", "items", "parameters"],
        "properties": {
            "key": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "string"},
            "based_on": {"type": ["string", "null"]},
            "changes": {"type": "array", "items": {"type": "string"}},
            "groups": {"type": "object", "additionalProperties": {"type": "string"}},
            "indicators": {"type": "array",
                           "items": {"type": "object", "required": ["code", "kind", "group"]}},
            "items": {"type": "array",
                      "items": {"type": "object", "required": ["key", "kind", "text"]}},
            "parameters": {"type": "array", "items": {
                "type": "object", "required": ["key", "value", "is_default"],
                "properties": {"key": {"type": "string"}, "label": {"type": "string"}, "value": {},
                               "is_default": {"type": "boolean"}}}},
            "package": {"type": "string"}, "package_version": {"type": "string"},
            "derived_from": {"type": ["string", "null"]}, "offered": {"type": "boolean"},
            "overrides": {"type": "object", "description": (
                "a derived version's changes: declared parameter key → value "
                "(GET /methodologies/{key}/parameters)")},
        },
    },
    "Campaign": {
        "type": "object",
        "required": ["id", "name", "methodology", "starts_on", "ends_on", "regions"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "methodology": {"type": "string"},
                       "starts_on": {"type": "string", "format": "date"},
                       "ends_on": {"type": "string", "format": "date"},
                       "regions": {"type": "array", "items": {"type": "string"},
                                   "description": "a regional token: its own region only"},
                       "is_sample": {"type": "boolean"}},
    },
    "CampaignInput": {
        "type": "object", "required": ["name", "methodology", "starts_on", "ends_on", "regions"],
        "properties": {"name": {"type": "string"}, "methodology": {"type": "string"},
                       "starts_on": {"type": "string", "format": "date"},
                       "ends_on": {"type": "string", "format": "date"},
                       "regions": {"type": "array", "items": {"type": "string"}}},
    },
    "Checklist": {
        "type": "object", "required": ["region", "office_id", "indicator", "values"],
        "properties": {"id": {"type": "integer"}, "region": {"type": "string"},
                       "office_id": {"type": ["integer", "null"]}, "indicator": {"type": "string"},
                       "values": {"type": "object"}, "evidence": {"type": "object"},
                       "updated_at": {"type": "string", "format": "date-time"}},
    },
    "ChecklistInput": {
        "type": "object", "required": ["region", "indicator", "values"],
        "properties": {"region": {"type": "string"},
                       "office_id": {"type": ["integer", "null"],
                                     "description": "null: filled for the whole region"},
                       "indicator": {"type": "string"}, "values": {"type": "object"},
                       "evidence": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "Run": {
        "type": "object",
        "required": ["id", "campaign_id", "methodology", "status", "progress", "draft"],
        "properties": {
            "id": {"type": "integer"}, "campaign_id": {"type": "integer"},
            "methodology": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "progress": {"type": "number"}, "draft": {"type": "boolean"},
            "published": {"type": "boolean"}, "input_fingerprint": {"type": "string"},
            "plugin": {"type": "object"}, "parameters": {"type": "object"},
            "federal": {"type": "object"}, "error": {"type": ["string", "null"]},
            "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]},
        },
    },
    "RunInput": {
        "type": "object",
        "properties": {"methodology": {"type": "string", "description": "default: the campaign's"},
                       "draft": {"type": "boolean", "default": False}},
    },
    "OfficeResult": {
        "type": "object", "required": ["office_id", "code", "rank", "ranked", "index", "figures"],
        "properties": {"office_id": {"type": "integer"}, "code": {"type": "string"},
                       "name": {"type": "string"}, "rank": {"type": ["integer", "null"]},
                       "ranked": {"type": "boolean"}, "responses": {"type": "object"},
                       "standing": {"type": "string",
                                    "enum": ["comparable", "partial", "unranked"],
                                    "description": "the ranking rank is in: offices measured "
                                                   "on every side; partial indices (one "
                                                   "respondent type, or no objective part), "
                                                   "ranked apart; below the minimum sample"},
                       "partial": {"type": "array", "items": {"type": "string"},
                                   "description": "why the index is partial: no_job_seeker, "
                                                  "no_employer, no_objective"},
                       "index": {"oneOf": [{"$ref": "#/components/schemas/Figure"},
                                           {"type": "null"}]},
                       "figures": {"type": "array",
                                   "items": {"$ref": "#/components/schemas/Figure"}}},
    },
    "RegionResult": {
        "type": "object", "required": ["run", "region", "index", "figures", "offices"],
        "properties": {"run": {"$ref": "#/components/schemas/Run"}, "region": {"type": "string"},
                       "index": {"oneOf": [{"$ref": "#/components/schemas/Figure"},
                                           {"type": "null"}]},
                       "figures": {"type": "array",
                                   "items": {"$ref": "#/components/schemas/Figure"}},
                       "offices": {"type": "array",
                                   "items": {"$ref": "#/components/schemas/OfficeResult"}}},
    },
    "FigureBrief": {
        "type": ["object", "null"],
        "properties": {"value": {"type": ["number", "null"]},
                       "stars": {"type": ["integer", "null"]},
                       "n_valid": {"type": ["integer", "null"]},
                       "ci95": {"type": ["array", "null"], "items": {"type": "number"}}},
    },
    "FederalOverview": {
        "type": "object",
        "required": ["run", "federation", "regions", "total", "page", "per_page", "pages"],
        "properties": {
            "run": {"$ref": "#/components/schemas/Run"},
            "federation": {"type": "object", "properties": {
                "index": {"$ref": "#/components/schemas/FigureBrief"},
                "groups": {"type": "object", "additionalProperties": {
                    "$ref": "#/components/schemas/FigureBrief"}},
                "stars": {"type": "object", "description": "regions by stars, 5 to 1",
                          "additionalProperties": {"type": "integer"}},
                "networks": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": {
                        "index": {"type": ["number", "null"]},
                        "regions": {"type": "integer"}}}}}},
            "regions": {"type": "array", "items": {
                "type": "object",
                "required": ["region", "name", "network_type", "rank", "index", "groups"],
                "properties": {
                    "region": {"type": "string"}, "name": {"type": "string"},
                    "network_type": {"type": "string"},
                    "rank": {"type": ["object", "null"], "properties": {
                        "best": {"type": "integer"}, "worst": {"type": "integer"}}},
                    "index": {"$ref": "#/components/schemas/FigureBrief"},
                    "offices_measured": {"type": ["integer", "null"]},
                    "offices_in_network": {"type": ["integer", "null"]},
                    "answers": {"type": ["integer", "null"]},
                    "groups": {"type": "object",
                               "additionalProperties": {"type": ["number", "null"]}},
                    "movement": {"type": ["object", "null"], "properties": {
                        "previous": {"type": ["number", "null"]},
                        "change": {"type": "number"},
                        "beyond_intervals": {"type": ["string", "null"],
                                             "enum": ["up", "down", "within", None]}}}}}},
            "previous": {"type": ["object", "null"], "properties": {
                "run": {"type": "integer"}, "campaign_id": {"type": "integer"},
                "federal_index": {"$ref": "#/components/schemas/FigureBrief"}}},
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "pages": {"type": "integer"}},
    },
    "FederalResult": {
        "type": "object", "required": ["run", "federal_index", "regions"],
        "properties": {"run": {"$ref": "#/components/schemas/Run"},
                       "federal_index": {"type": ["number", "null"]},
                       "federal_stars": {"type": ["integer", "null"]},
                       "regions": {"type": "array", "items": {
                           "type": "object", "required": ["region", "index"],
                           "properties": {
                               "region": {"type": "string"},
                               "index": {"oneOf": [{"$ref": "#/components/schemas/Figure"},
                                                   {"type": "null"}]}}}}},
    },
})

VERSION_QUERY = [{"name": "version", "in": "query", "required": False, "schema": {"type": "string"},
                  "description": "methodology version; default: the campaign's"}]


def _registry():
    return current_app.extensions["cci.registry"]


def _require(*roles: Role) -> None:
    if not g.api_user.has_role(*roles):
        raise ApiError(403)


def methodology_json(s, full: bool, offered: list[str] | None = None) -> dict:
    out = {"key": s.key, "title": s.title, "version": s.version, "based_on": s.based_on,
           "package": s.package, "package_version": s.package_version,
           "derived_from": s.derived_from or None}
    if offered is not None:
        out["offered"] = s.key in offered
    if full:
        out.update(
            overrides=dict(s.overrides),
            description=s.description, changes=list(s.changes), groups=dict(s.groups),
            indicators=[asdict(i) for i in s.indicators],
            items=[asdict(i) for i in s.items],
            parameters=[{"key": p.key, "label": p.label, "value": p.value,
                         "is_default": p.is_default, "description": p.description}
                        for p in s.parameters.values()],
        )
    return out


def campaign_json(c: Campaign) -> dict:
    # A campaign is shared, its regions are not: a regional token sees its own region only,
    # never which other regions take part.
    scope = current_region_id()
    return {"id": c.id, "name": c.name, "methodology": c.methodology_key,
            "starts_on": c.starts_on.isoformat(), "ends_on": c.ends_on.isoformat(),
            "regions": sorted(r.code for r in c.regions if scope is None or r.id == scope),
            "is_sample": c.is_sample}


def run_json(run: ComputationRun) -> dict:
    return {
        "id": run.id, "campaign_id": run.campaign_id, "methodology": run.methodology_key,
        "status": run.status, "progress": run.progress, "draft": run.is_draft,
        "published": run.published_at is not None, "input_fingerprint": run.input_fingerprint,
        "plugin": {"package": run.plugin_package, "version": run.plugin_version},
        "parameters": run.parameters,
        "federal": run.summary if current_region_id() is None else {},
        "error": run.error,
        "started_at": iso_datetime(run.started_at),
        "finished_at": iso_datetime(run.finished_at),
    }


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = next((c for c in visible_campaigns() if c.id == campaign_id), None)
    if campaign is None:
        raise ApiError(404)
    return campaign


def _published_run(campaign: Campaign) -> ComputationRun:
    version = request.args.get("version") or campaign.methodology_key
    run = compute.current_run(campaign.id, version)
    if run is None:
        raise ApiError(404, "no_results",
                       "Опубликованных результатов для этой кампании и версии нет.")
    return run


@bp.get("/methodologies")
@operation("Installed methodology versions", tags=["methodologies"],
           response=list_of("MethodologySummary"), errors=())
def methodologies():
    offered = versions.offered(_registry().indicator_sets)
    sets = sorted(_registry().indicator_sets.values(), key=lambda s: s.key)
    return jsonify(items=[methodology_json(s, full=False, offered=offered) for s in sets])


@bp.get("/methodologies/<key>")
@operation("A methodology version in full: indicators, items, checklists, parameters",
           tags=["methodologies"], response=ref("Methodology"))
def methodology(key: str):
    indicator_set = _registry().indicator_sets.get(key)
    if indicator_set is None or (key.startswith("draft-")
                                 and not g.api_user.has_role(*MANAGERS)):
        raise ApiError(404)  # a draft is its owners' work until published
    return jsonify(methodology_json(indicator_set, full=True,
                                    offered=versions.offered(_registry().indicator_sets)))


@bp.get("/campaigns")
@operation("Campaigns of the token's region, or all for a federal token", tags=["campaigns"],
           response=list_of("Campaign"), errors=())
def campaigns():
    return jsonify(items=[campaign_json(c) for c in visible_campaigns(with_regions=True)])


@bp.post("/campaigns")
@operation("Create a campaign (methodology owners)", tags=["campaigns"], response=ref("Campaign"),
           request_body=ref("CampaignInput"), status=201, errors=(403, 422))
def create_campaign():
    _require(*MANAGERS)
    body = json_object()
    regions = body.get("regions") or []
    if not isinstance(regions, list):
        raise ApiError(422, message="Нужен список кодов регионов.", details={"field": "regions"})
    key = str(body.get("methodology", ""))
    if key in _registry().indicator_sets and not versions.is_offered(_registry().indicator_sets,
                                                                     key):
        raise ApiError(422, message=f"Версия методики {key} ещё не одобрена для новых кампаний.",
                       details={"field": "methodology"})
    try:
        campaign = save_campaign(
            name=str(body.get("name", "")), methodology_key=key,
            starts_on=dt.date.fromisoformat(str(body.get("starts_on"))),
            ends_on=dt.date.fromisoformat(str(body.get("ends_on"))),
            region_codes=[str(r) for r in regions], user_id=g.api_user.id)
    except (CampaignError, ValueError) as exc:
        db.rollback()
        raise ApiError(422, message=str(exc)) from exc
    db.commit()
    return jsonify(campaign_json(campaign)), 201


@bp.get("/campaigns/<int:campaign_id>")
@operation("One campaign", tags=["campaigns"], response=ref("Campaign"))
def campaign(campaign_id: int):
    return jsonify(campaign_json(_campaign_or_404(campaign_id)))


@bp.get("/campaigns/<int:campaign_id>/checklists")
@operation("Checklists of a campaign", tags=["checklists"], response=list_of("Checklist"),
           query=[{"name": "region", "in": "query", "required": False,
                   "schema": {"type": "string"}}])
def checklists(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    codes = {r.id: r.code for r in campaign.regions}
    query = select(Checklist).where(Checklist.campaign_id == campaign.id)
    if request.args.get("region"):
        query = query.join(Region, Region.id == Checklist.region_id).where(
            Region.code == request.args["region"])
    rows = db.scalars(query.order_by(Checklist.region_id, Checklist.office_id, Checklist.indicator))
    return jsonify(items=[_checklist_json(row, codes) for row in rows])


@bp.put("/campaigns/<int:campaign_id>/checklists")
@operation("Fill one checklist, per office or once for a centralized region", tags=["checklists"],
           response=ref("Checklist"), request_body=ref("ChecklistInput"), errors=(403, 404, 422))
def put_checklist(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    codes = {r.id: r.code for r in campaign.regions}
    _require(*AUDITORS)
    body = json_object()
    region = db.scalar(select(Region).where(Region.code == str(body.get("region", ""))))
    if region is None or region.id not in codes or (
            current_region_id() is not None and region.id != current_region_id()):
        raise ApiError(404)
    indicator_set = _registry().indicator_set(campaign.methodology_key)
    try:
        indicator = indicator_set.indicator(str(body.get("indicator", "")))
    except KeyError:
        raise ApiError(422, details={"field": "indicator"}) from None
    if indicator.kind != "objective" or indicator.components:
        raise ApiError(422, message="Этот показатель не заполняется чек-листом.",
                       details={"field": "indicator"})
    office_id = body.get("office_id")
    if office_id is not None and (not isinstance(office_id, int) or isinstance(office_id, bool)):
        raise ApiError(422, message="Нужен числовой идентификатор офиса.",
                       details={"field": "office_id"})
    level = target_level(indicator, region.network_type)
    if (office_id is None) != (level == "region"):
        raise ApiError(422, message=("Показатель заполняется один раз для региона."
                                     if level == "region" else "Укажите офис."),
                       details={"field": "office_id"})
    if office_id is not None:
        office = db.get(Office, office_id) if 0 < office_id <= ID_MAX else None
        if office is None or office.region_id != region.id:
            raise ApiError(404)
        if g.api_user.office_id is not None and g.api_user.office_id != office.id:
            raise ApiError(403)
    values, evidence = body.get("values") or {}, body.get("evidence") or {}
    if not isinstance(values, dict):
        raise ApiError(422, message="Нужен объект JSON.", details={"field": "values"})
    if not isinstance(evidence, dict) or not all(isinstance(v, str) for v in evidence.values()):
        raise ApiError(422, message="Нужен объект JSON со строками.",
                       details={"field": "evidence"})
    try:
        row, _created = save_checklist(
            campaign_id=campaign.id, region_id=region.id, office_id=office_id,
            indicator=indicator, values=values, evidence=evidence, auditor_id=g.api_user.id)
    except ChecklistError as exc:
        db.rollback()
        raise ApiError(422, message=exc.message, details={"field": exc.field}) from exc
    db.commit()
    recompute.follow([campaign.id])
    return jsonify(_checklist_json(row, codes)), 200


def _checklist_json(row: Checklist, codes: dict[int, str]) -> dict:
    return {"id": row.id, "region": codes.get(row.region_id, ""), "office_id": row.office_id,
            "indicator": row.indicator, "values": row.values, "evidence": row.evidence,
            "updated_at": iso_datetime(row.updated_at)}



@bp.post("/campaigns/<int:campaign_id>/runs")
@operation("Start a computation (or get the existing run when the inputs are unchanged)",
           tags=["runs"], response=ref("Run"), request_body=ref("RunInput"), status=202,
           errors=(403, 404, 422))
def start_run(campaign_id: int):
    _require(*MANAGERS)
    campaign = _campaign_or_404(campaign_id)
    body = json_object() if request.get_data() else {}  # no body: the campaign's version
    version = body.get("methodology", campaign.methodology_key)
    if not isinstance(version, str) or version not in _registry().indicator_sets:
        raise ApiError(422, message=(f"Версия методики {version} не установлена."
                                     if isinstance(version, str) else
                                     "Нужен ключ версии методики (строка)."),
                       details={"field": "methodology"})
    try:
        run, _created = compute.start_run(campaign.id, version, draft=bool(body.get("draft")),
                                          user_id=g.api_user.id)
    except JobError as exc:
        raise ApiError(503) from exc
    return jsonify(run_json(run)), 202


@bp.get("/runs/<int:run_id>")
@operation("A run's status and progress", tags=["runs"], response=ref("Run"))
def run(run_id: int):
    row = db.get(ComputationRun, run_id)
    if row is None:
        raise ApiError(404)
    _campaign_or_404(row.campaign_id)
    return jsonify(run_json(row))


@bp.get("/campaigns/<int:campaign_id>/results")
@operation("Federal results of the current run: the federal index and every region's published "
           "index (a regional token reads them too: its benchmark)",
           tags=["results"], response=ref("FederalResult"), query=VERSION_QUERY)
def federal_results(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    run = _published_run(campaign)
    from cci.foundation.models import RunResult

    # the published region indices and the federal average: what the overview shows every
    # reader (a regional token's benchmark), never a region's offices
    with tenancy.federal_scope("the published region indices"):
        rows = db.execute(
            select(Region.code, RunResult).join(Region, Region.id == RunResult.region_id)
            .where(RunResult.run_id == run.id, RunResult.level == "region",
                   RunResult.metric == "index", RunResult.respondent_type.is_(None),
                   Region.id.in_([r.id for r in campaign.regions]))
            .order_by(Region.code))
        regions = [{"region": code, "index": figure_json(row)} for code, row in rows]
    return jsonify(run=run_json(run),
                   federal_index=run.summary.get("federal_index"),
                   federal_stars=run.summary.get("federal_stars"),
                   regions=regions)


OVERVIEW_QUERY = [
    *VERSION_QUERY,
    {"name": "network", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["centralized", "decentralized"]}},
    {"name": "stars", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 5}},
    {"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "a part of a region's name or code"},
    {"name": "sort", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["rank", "name", "index"]},
     "description": "rank (default), name, or index: the lowest first"},
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}},
]


@bp.get("/campaigns/<int:campaign_id>/overview")
@operation(
    "The federal overview: the federation's figures and every region's index, interval, "
    "stars, coverage, groups and rank range", tags=["results"],
    response=ref("FederalOverview"), query=OVERVIEW_QUERY, errors=(401, 404, 422),
    description=(
        "Regions whose 95% intervals overlap share a rank range (best, worst). With a "
        "previous campaign of published results (same version), each region's movement: its "
        "previous index, the change, and whether it goes beyond both intervals (up, down, "
        "within; null when an interval is missing). Region-level "
        "figures only: a regional token reads the same table (the federal benchmark). "
        "Published figures never change, so the answer carries an ETag: send it back in "
        "If-None-Match for a 304."))
def federal_overview_api(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    args = request.args
    page = args.get("page", 1, type=int)
    per_page = args.get("per_page", 100, type=int)
    stars = args.get("stars", type=int)
    invalid = {
        name: rule for name, rule, bad in (
            ("page", ">= 1", page < 1),
            ("per_page", "1..100", not 1 <= per_page <= 100),
            ("network", "centralized or decentralized",
             args.get("network", "centralized") not in federal_tables.NETWORKS),
            ("stars", "1..5", "stars" in args and stars not in (1, 2, 3, 4, 5)),
            ("sort", "rank, name or index", args.get("sort", "rank") not in federal_tables.SORTS),
        ) if bad
    }
    if invalid:
        raise ApiError(422, details=invalid)
    run = _published_run(campaign)
    overview = federal_overview_with_movement(run)
    lines = federal_tables.shown_lines(overview, federal_tables.read_filters())
    shown = lines[(page - 1) * per_page:page * per_page]
    groups = overview.indicator_set.groups
    response = jsonify(
        run=run_json(run),
        federation={"index": federal_tables.figure_brief(overview.index),
                     "groups": {code: federal_tables.figure_brief(overview.group(code))
                                for code in groups},
                     "stars": {str(n): count
                               for n, count in overview.stars_distribution().items()},
                     "networks": {kind: {"index": mean, "regions": count}
                                  for kind, (mean, count) in overview.by_network().items()}},
        previous=None if overview.previous is None else {
            "run": overview.previous.run.id, "campaign_id": overview.previous.campaign.id,
            "federal_index": federal_tables.figure_brief(overview.previous.index)},
        regions=[federal_tables.region_json(line) for line in shown],
        total=len(lines), page=page, per_page=per_page,
        pages=max(1, -(-len(lines) // per_page)))
    # the run's figures never change: the run, the question and the reader's scope (the run's
    # summary is shown to the federal scope only) name the answer
    response.set_etag(hashlib.sha256(
        f"{run.id}|{current_region_id()}|{sorted(args.items(multi=True))}".encode()
    ).hexdigest()[:32])
    return response.make_conditional(request)


@bp.get("/campaigns/<int:campaign_id>/results/regions/<code>")
@operation("A region's results: its index, groups, indicators and every office",
           tags=["results"], response=ref("RegionResult"), query=VERSION_QUERY)
def region_results(campaign_id: int, code: str):
    campaign = _campaign_or_404(campaign_id)
    region = db.scalar(select(Region).where(Region.code == code))
    if region is None or region not in campaign.regions or (
            current_region_id() is not None and region.id != current_region_id()):
        raise ApiError(404)
    report = region_report(_published_run(campaign), region.id)
    return jsonify(
        run=run_json(report.run), region=region.code, index=figure_json(report.index),
        figures=[figure_json(f) for f in report.figures.values()],
        offices=[_office_json(o) for o in report.offices])


@bp.get("/campaigns/<int:campaign_id>/results/offices/<int:office_id>")
@operation("One office's results", tags=["results"], response=ref("OfficeResult"),
           query=VERSION_QUERY)
def office_results(campaign_id: int, office_id: int):
    campaign = _campaign_or_404(campaign_id)
    office = db.get(Office, office_id)
    if office is None or office.region not in campaign.regions:
        raise ApiError(404)
    report = region_report(_published_run(campaign), office.region_id)
    found = next((o for o in report.offices if o.office.id == office.id), None)
    if found is None:
        raise ApiError(404, "no_results", "Для этого офиса нет результатов.")
    return jsonify(_office_json(found))


def _office_json(o) -> dict:
    return {"office_id": o.office.id, "code": o.office.code, "name": o.office.name,
            "rank": o.rank, "ranked": o.ranked, "responses": o.responses,
            "standing": o.standing, "partial": o.partial,
            "index": figure_json(o.index),
            "figures": [figure_json(f) for f in o.figures.values()]}
