"""The federal API beyond the overview: the federation's own figures, two methodology
versions compared, and where respondents and auditors disagree. Paginated; published figures
never change, so every answer carries an ETag named by its runs, its question and the reader's
scope. A regional token reads region-level figures and the federal averages, never another
region's offices."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Region
from cci.foundation.tenancy import current_region_id
from cci.index import compute
from cci.index.comparison import compare_versions
from cci.index.reports import DISAGREEMENT_GAP
from cci.index.reports import Shown
from cci.index.reports import disagreements
from cci.index.reports import federation_figures
from cci.web.api.blueprint import bp
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.methodology import VERSION_QUERY
from cci.web.api.methodology import _campaign_or_404
from cci.web.api.methodology import _published_run
from cci.web.api.methodology import _registry
from cci.web.api.methodology import run_json
from cci.web.api.schemas import SCHEMAS
from cci.web.compare_tables import comparison_json

PAGE_QUERY = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}},
]
_PAGE = {"total": {"type": "integer"}, "page": {"type": "integer"},
         "per_page": {"type": "integer"}, "pages": {"type": "integer"}}
_BRIEF = {"$ref": "#/components/schemas/FigureBrief"}
_RANK = {"type": ["object", "null"], "properties": {"best": {"type": "integer"},
                                                    "worst": {"type": "integer"}}}

SCHEMAS.update({
    "FederationFigures": {
        "type": "object", "required": ["run", "items", *_PAGE],
        "properties": {
            "run": {"$ref": "#/components/schemas/Run"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Figure"},
                      "description": "every figure of the federation: per indicator, group, "
                                     "perspective and part, per respondent type and pooled "
                                     "(respondent_type null)"},
            **_PAGE},
    },
    "VersionComparison": {
        "type": "object", "required": ["a", "b", "regions", "indicators", *_PAGE],
        "properties": {
            "a": {"type": "object", "properties": {"methodology": {"type": "string"},
                                                   "run": {"type": "integer"},
                                                   "federal_index": _BRIEF}},
            "b": {"type": "object", "properties": {"methodology": {"type": "string"},
                                                   "run": {"type": "integer"},
                                                   "federal_index": _BRIEF}},
            "regions": {"type": "array", "items": {
                "type": "object", "required": ["region", "a", "b", "rank_a", "rank_b"],
                "properties": {"region": {"type": "string"}, "name": {"type": "string"},
                               "a": _BRIEF, "b": _BRIEF, "rank_a": _RANK, "rank_b": _RANK,
                               "difference": {"type": ["number", "null"]},
                               "places_gained": {"type": ["integer", "null"]}}}},
            "indicators": {"type": "array", "description": "empty for a regional token",
                           "items": {"type": "object",
                                     "required": ["code", "status", "differs", "changes"],
                                     "properties": {
                                         "code": {"type": "string"}, "title": {"type": "string"},
                                         "status": {"type": "string", "enum": [
                                             "same", "changed", "added", "removed"]},
                                         "differs": {"type": "array",
                                                     "items": {"type": "string"}},
                                         "changes": {
                                             "type": "array",
                                             "description": "the declared changes of the "
                                                            "methodology that name the "
                                                            "indicator",
                                             "items": {"type": "object",
                                                       "required": ["number", "summary"],
                                                       "properties": {
                                                           "number": {"type": "integer"},
                                                           "summary": {"type": "string"}}}},
                                         "a": _BRIEF, "b": _BRIEF,
                                         "difference": {"type": ["number", "null"]}}}},
            **_PAGE},
    },
    "Disagreements": {
        "type": "object", "required": ["run", "rule", "items", *_PAGE],
        "properties": {
            "run": {"$ref": "#/components/schemas/Run"},
            "rule": {"type": "object", "properties": {"gap": {"type": "number"},
                                                      "description": {"type": "string"}}},
            "items": {"type": "array", "items": {
                "type": "object",
                "required": ["region", "office_id", "subjective", "objective", "gap"],
                "properties": {
                    "region": {"type": "string"}, "office_id": {"type": "integer"},
                    "office_code": {"type": "string"}, "office_name": {"type": "string"},
                    "subjective": {"type": "string"}, "objective": {"type": "string"},
                    "subjective_value": {"type": "number"},
                    "objective_value": {"type": "number"},
                    "subjective_n": {"type": ["integer", "null"]},
                    "gap": {"type": "number", "description": "subjective − objective"},
                    "respondents_higher": {"type": "boolean"}}}},
            **_PAGE},
    },
})

RULE = (f"A pair disagrees in an office when the respondents' share (pooled over respondent "
        f"types) and the checklist's score are both computed and at least "
        f"{DISAGREEMENT_GAP:g} apart (on the 0–1 scale).")


def _page() -> tuple[int, int]:
    page = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", 100, type=int)
    invalid = {name: rule for name, rule, bad in (
        ("page", ">= 1", page < 1), ("per_page", "1..100", not 1 <= per_page <= 100)) if bad}
    if invalid:
        raise ApiError(422, details=invalid)
    return page, per_page


def _paginated(items: list, page: int, per_page: int) -> dict[str, Any]:
    return {"total": len(items), "page": page, "per_page": per_page,
            "pages": max(1, -(-len(items) // per_page))}


def _conditional(body: dict, *run_ids: int):
    """The answer with an ETag: the runs' figures never change, so the runs, the question
    and the reader's scope name it."""
    response = jsonify(body)
    response.set_etag(hashlib.sha256(
        f"{run_ids}|{current_region_id()}|{sorted(request.args.items(multi=True))}".encode()
    ).hexdigest()[:32])
    return response.make_conditional(request)


def _figure(row: Shown) -> dict:
    return {"metric": row.metric, "respondent_type": row.respondent_type, "value": row.value,
            "n_valid": row.n_valid, "n_positive": row.n_positive,
            "ci95": [row.ci_low, row.ci_high] if row.ci_low is not None else None,
            "insufficient": row.insufficient, "not_computable_reason": row.detail.get("reason"),
            "stars": row.stars,
            **{key: row.detail[key] for key in ("n_effective", "distribution")
               if key in row.detail}}


@bp.get("/campaigns/<int:campaign_id>/federation")
@operation(
    "The federation's own figures: every indicator, group, perspective and part, per "
    "respondent type and pooled", tags=["results"], response=ref("FederationFigures"),
    query=[*VERSION_QUERY, *PAGE_QUERY], errors=(401, 404, 422),
    description=("Computed by the run's federal job in the database: the mean over the regions "
                 "that have the figure, each region counted once, n summed. The federal "
                 "averages: a regional token reads them too. ETag: send it back in "
                 "If-None-Match for a 304."))
def federation(campaign_id: int):
    page, per_page = _page()
    run = _published_run(_campaign_or_404(campaign_id))
    figures = sorted(federation_figures(run).values(),
                     key=lambda f: (f.metric, f.respondent_type or ""))
    shown = figures[(page - 1) * per_page:page * per_page]
    return _conditional({"run": run_json(run), "items": [_figure(f) for f in shown],
                         **_paginated(figures, page, per_page)}, run.id)


@bp.get("/campaigns/<int:campaign_id>/comparison")
@operation(
    "Two methodology versions on the same campaign: each region's index and rank range under "
    "both, and per indicator what differs and the federation's figure under each",
    tags=["results"], response=ref("VersionComparison"), errors=(401, 404, 422),
    query=[{"name": "a", "in": "query", "required": True, "schema": {"type": "string"},
            "description": "the first methodology version"},
           {"name": "b", "in": "query", "required": True, "schema": {"type": "string"},
            "description": "the second methodology version"}, *PAGE_QUERY],
    description=("Both versions need published results of the campaign (404 no_results "
                 "otherwise). Regions in the first version's order, paginated; places_gained "
                 "by the best place of each rank range. A regional token gets the regions' "
                 "table only (indicators empty)."))
def comparison(campaign_id: int):
    page, per_page = _page()
    campaign = _campaign_or_404(campaign_id)
    a, b = request.args.get("a", ""), request.args.get("b", "")
    installed = _registry().indicator_sets
    invalid = {name: "an installed methodology version" for name, key in (("a", a), ("b", b))
               if key not in installed}
    if not invalid and a == b:
        invalid["b"] = "a version other than a"
    if invalid:
        raise ApiError(422, details=invalid)
    run_a, run_b = compute.current_run(campaign.id, a), compute.current_run(campaign.id, b)
    if run_a is None or run_b is None:
        raise ApiError(404, "no_results",
                       "Опубликованных результатов этой кампании по обеим версиям нет.")
    found = compare_versions(run_a, run_b, indicators=current_region_id() is None)
    shown = found.regions[(page - 1) * per_page:page * per_page]
    return _conditional({**comparison_json(found, shown),
                         **_paginated(found.regions, page, per_page)}, run_a.id, run_b.id)


@bp.get("/campaigns/<int:campaign_id>/disagreements")
@operation(
    "Offices where respondents' view and the auditors' checklist of the same theme disagree",
    tags=["results"], response=ref("Disagreements"), errors=(401, 404, 422),
    query=[*VERSION_QUERY,
           {"name": "region", "in": "query", "required": False, "schema": {"type": "string"},
            "description": "a region's code; default: every region the token sees"},
           *PAGE_QUERY],
    description=("The pairs are those the methodology version declares (theme_pairs). "
                 + RULE + " A regional token reads its own region's offices only."))
def disagreements_api(campaign_id: int):
    page, per_page = _page()
    campaign = _campaign_or_404(campaign_id)
    codes = {r.id: r.code for r in campaign.regions}
    region_id = None
    if request.args.get("region"):
        region = db.scalar(select(Region).where(Region.code == request.args["region"]))
        if region is None or region.id not in codes or (
                current_region_id() is not None and region.id != current_region_id()):
            raise ApiError(404)
        region_id = region.id
    run = _published_run(campaign)
    found = disagreements(run, region_id)  # in the token's scope: a region its own offices
    shown = found[(page - 1) * per_page:page * per_page]
    return _conditional({
        "run": run_json(run), "rule": {"gap": DISAGREEMENT_GAP, "description": RULE},
        "items": [{"region": codes.get(d.region_id, ""), "office_id": d.office_id,
                   "office_code": d.office_code, "office_name": d.office_name,
                   "subjective": d.subjective, "objective": d.objective,
                   "subjective_value": d.subjective_value, "objective_value": d.objective_value,
                   "subjective_n": d.subjective_n, "gap": d.gap,
                   "respondents_higher": d.respondents_higher} for d in shown],
        **_paginated(found, page, per_page)}, run.id)

