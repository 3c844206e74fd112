"""API resources of the region and office dashboards: the index's trend across campaigns, what
an index rests on (coverage, partial indices), and the distribution of answers behind an
indicator. Stored figures only; every answer carries an ETag (published figures never change)."""

from __future__ import annotations

import hashlib

from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.tenancy import current_region_id
from cci.index import dashboards
from cci.index.reports import figure_json
from cci.index.reports import region_report
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

_nullable_number = {"type": ["number", "null"]}
_counts = {"type": "object", "additionalProperties": {"type": "integer"}}
_coverage = {
    "type": "object",
    "description": "what an index rests on, counted by the run and stored with it (empty for "
                   "a run computed before coverage was recorded)",
    "properties": {
        "offices_in_network": {"type": "integer"}, "offices_measured": {"type": "integer"},
        "offices_partial": {"type": "integer"}, "main_offices": {"type": "integer"},
        "main_offices_measured": {"type": "integer"},
        "responses": {"type": "integer", "description": "counted responses"},
        "answers": {"type": "object", "additionalProperties": _counts,
                    "description": "counted responses by channel, then respondent type"},
        "by_type": _counts, "by_channel": _counts,
        "verified": {"type": "integer", "description": "responses verified by a visit code"},
        "excluded": {**_counts, "description": "responses excluded, by quality rule (a "
                                               "response flagged by several rules counts "
                                               "under each)"},
        "excluded_total": {"type": "integer"},
        "checklists_filled": {"type": "integer"}, "checklists_expected": {"type": "integer"},
    },
}
_PAGE_FIELDS = {"total": {"type": "integer"}, "page": {"type": "integer"},
         "per_page": {"type": "integer"}, "pages": {"type": "integer"}}
SCHEMAS.update({
    "TrendPoint": {
        "type": "object", "required": ["campaign_id", "campaign", "run", "value"],
        "properties": {
            "campaign_id": {"type": "integer"}, "campaign": {"type": "string"},
            "starts_on": {"type": "string", "format": "date"},
            "run": {"type": "integer", "description": "the run the point comes from"},
            "value": _nullable_number,
            "ci95": {"type": ["array", "null"], "items": {"type": "number"}},
            "stars": {"type": ["integer", "null"]}, "n_valid": {"type": ["integer", "null"]},
            "perspectives": {"type": "object", "additionalProperties": _nullable_number},
        },
    },
    "Trend": {
        "type": "object", "required": ["region", "methodology", "items"],
        "properties": {"region": {"type": "string"}, "office_id": {"type": ["integer", "null"]},
                       "methodology": {"type": ["string", "null"],
                                       "description": "null: the region has no campaign yet "
                                                      "(and the trend no point)"},
                       "items": {"type": "array", "items": ref("TrendPoint")}, **_PAGE_FIELDS},
    },
    "Coverage": _coverage,
    "OfficeCoverage": {
        "type": "object", "required": ["office_id", "code", "standing", "partial"],
        "properties": {
            "office_id": {"type": "integer"}, "code": {"type": "string"},
            "name": {"type": "string"}, "kind": {"type": "string"},
            "rank": {"type": ["integer", "null"]},
            "standing": {"type": "string", "enum": ["comparable", "partial", "unranked"],
                         "description": "comparable: ranked with the offices measured on "
                                        "every side; partial: ranked apart; unranked: below "
                                        "the minimum sample"},
            "partial": {"type": "array", "items": {"type": "string"},
                        "description": "why the index is partial: no_job_seeker, "
                                       "no_employer, no_objective"},
            "measured_types": {"type": "array", "items": {"type": "string"}},
            "index": _nullable_number, "coverage": _coverage,
        },
    },
    "RegionCoverage": {
        "type": "object", "required": ["run", "region", "coverage", "warnings", "offices"],
        "properties": {
            "run": ref("Run"), "region": {"type": "string"}, "coverage": _coverage,
            "warnings": {"type": "array", "items": {
                "type": "string", "enum": ["under_half", "main_only", "one_office", "partial"]}},
            "offices": {"type": "array", "items": ref("OfficeCoverage")}, **_PAGE_FIELDS,
        },
    },
    "IndicatorDistribution": {
        "type": "object", "required": ["run", "region", "indicator", "figures", "answers"],
        "properties": {
            "run": ref("Run"), "region": {"type": "string"},
            "office_id": {"type": ["integer", "null"]}, "indicator": {"type": "string"},
            "figures": {"type": "object", "properties": {
                "pooled": {"oneOf": [ref("Figure"), {"type": "null"}]},
                "by_type": {"type": "object", "additionalProperties": ref("Figure")}}},
            "answers": {
                "type": "object", "description": (
                    "counts of answers per respondent type, item and answer (a scale point, "
                    "1/0 for yes/no, an option key, or na for «hard to say»), as the run "
                    "counted them; never an individual answer"),
                "additionalProperties": {"type": "object", "additionalProperties": _counts}},
        },
    },
})

PAGE_QUERY = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}},
]
ETAG_NOTE = ("Published figures never change, so the answer carries an ETag: send it back in "
             "If-None-Match for a 304.")


def _paging() -> tuple[int, int]:
    page = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", 100, type=int)
    invalid = {name: rule for name, rule, bad in (
        ("page", ">= 1", page < 1), ("per_page", "1..100", not 1 <= per_page <= 100)) if bad}
    if invalid:
        raise ApiError(422, details=invalid)
    return page, per_page


def _page(items: list, page: int, per_page: int) -> dict:
    return {"total": len(items), "page": page, "per_page": per_page,
            "pages": max(1, -(-len(items) // per_page))}


def _region(code: str) -> Region:
    """A region the token may read (404 for another region, as if it did not exist)."""
    region = db.scalar(select(Region).where(Region.code == code))
    if region is None or (current_region_id() is not None and region.id != current_region_id()):
        raise ApiError(404)
    return region


def _version() -> str:
    version = request.args.get("version")
    if version is not None and version not in _registry().indicator_sets:
        raise ApiError(404)
    return version or ""


def _conditional(response, *key):
    """An ETag from what names the answer: the runs it reads, the question and the scope."""
    response.set_etag(hashlib.sha256(
        f"{key}|{current_region_id()}|{sorted(request.args.items(multi=True))}".encode()
    ).hexdigest()[:32])
    return response.make_conditional(request)


TREND_NOTE = ("Each point is a campaign's current published run of the version (default: "
              "the latest campaign's version), oldest first, and names its run: a newer run is "
              "a new point, never an edit of an old one. ")


@bp.get("/regions/<code>/trend")
@operation("A region's index across its campaigns, one methodology version", tags=["results"],
           response=ref("Trend"), query=[*VERSION_QUERY, *PAGE_QUERY], errors=(401, 404, 422),
           description=TREND_NOTE + ETAG_NOTE)
def trend(code: str):
    return _trend(_region(code), None)


@bp.get("/offices/<int:office_id>/trend")
@operation("An office's index across its region's campaigns, one methodology version",
           tags=["results"], response=ref("Trend"), query=[*VERSION_QUERY, *PAGE_QUERY],
           errors=(401, 404, 422), description=TREND_NOTE + ETAG_NOTE)
def office_trend(office_id: int):
    office = db.get(Office, office_id)
    if office is None:
        raise ApiError(404)
    return _trend(office.region, office)


def _trend(region: Region, office: Office | None):
    page, per_page = _paging()
    version: str | None = _version()
    if not version:
        # a region without campaigns has a trend without points, not a missing resource
        campaigns = dashboards.region_campaigns(region.id)
        version = campaigns[-1].methodology_key if campaigns else None
    points = dashboards.trend(region.id, version, office.id if office else None) \
        if version else []
    shown = points[(page - 1) * per_page:page * per_page]
    response = jsonify(
        region=region.code, office_id=office.id if office else None, methodology=version,
        items=[{"campaign_id": p.campaign.id, "campaign": p.campaign.name,
                "starts_on": p.campaign.starts_on.isoformat(), "run": p.run.id,
                "value": p.value,
                "ci95": [p.ci_low, p.ci_high] if p.ci_low is not None else None,
                "stars": p.stars, "n_valid": p.n_valid, "perspectives": p.perspectives}
               for p in shown],
        **_page(points, page, per_page))
    return _conditional(response, tuple(p.run.id for p in points))


def _campaign_region(campaign_id: int, code: str):
    campaign = _campaign_or_404(campaign_id)
    region = _region(code)
    if region not in campaign.regions:
        raise ApiError(404)
    return campaign, region


@bp.get("/campaigns/<int:campaign_id>/results/regions/<code>/coverage")
@operation(
    "What a region's index rests on: offices measured out of the network, responses by "
    "channel and respondent type, excluded by quality rule, verified by a visit code, "
    "checklists filled; and every office's standing (partial indices ranked apart)",
    tags=["results"], response=ref("RegionCoverage"), query=[*VERSION_QUERY, *PAGE_QUERY],
    errors=(401, 404, 422),
    description=("Counted by the run in the database and stored with it. warnings: "
                 "under_half (fewer than half of the network's offices measured), main_only "
                 "(the main office(s) only), one_office (one office, the network naming no "
                 "main office), partial (some offices measured from one side). " + ETAG_NOTE))
def coverage(campaign_id: int, code: str):
    campaign, region = _campaign_region(campaign_id, code)
    page, per_page = _paging()
    run = _published_run(campaign)
    report = region_report(run, region.id)
    shown = report.offices[(page - 1) * per_page:page * per_page]
    response = jsonify(
        run=run_json(run), region=region.code, coverage=report.coverage,
        warnings=dashboards.coverage_warnings(report.coverage),
        offices=[{"office_id": o.office.id, "code": o.office.code, "name": o.office.name,
                  "kind": o.office.kind, "rank": o.rank, "standing": o.standing,
                  "partial": o.partial,
                  "measured_types": o.index.detail.get("measured_types", []) if o.index else [],
                  "index": o.index.value if o.index else None, "coverage": o.coverage}
                 for o in shown],
        **_page(report.offices, page, per_page))
    return _conditional(response, run.id)


DISTRIBUTION_NOTE = ("Counts of answers per answer option or scale point, as the run "
                     "counted them (stored with the run); never an individual respondent's "
                     "answers. ")


@bp.get("/campaigns/<int:campaign_id>/results/regions/<code>/indicators/<indicator>")
@operation(
    "One indicator of a region: its value, n and 95% interval pooled and per respondent "
    "type, and the distribution of the answers behind it", tags=["results"],
    response=ref("IndicatorDistribution"), query=VERSION_QUERY, errors=(401, 404),
    description=DISTRIBUTION_NOTE + ETAG_NOTE)
def indicator_distribution(campaign_id: int, code: str, indicator: str):
    campaign, region = _campaign_region(campaign_id, code)
    return _distribution(campaign, region, None, indicator)


@bp.get("/campaigns/<int:campaign_id>/results/offices/<int:office_id>/indicators/<indicator>")
@operation(
    "One indicator of an office: its value, n and 95% interval pooled and per respondent "
    "type, and the distribution of the answers behind it", tags=["results"],
    response=ref("IndicatorDistribution"), query=VERSION_QUERY, errors=(401, 404),
    description=DISTRIBUTION_NOTE + ETAG_NOTE)
def office_indicator_distribution(campaign_id: int, office_id: int, indicator: str):
    campaign = _campaign_or_404(campaign_id)
    office = db.get(Office, office_id)
    if office is None or office.region not in campaign.regions:
        raise ApiError(404)
    return _distribution(campaign, office.region, office, indicator)


def _distribution(campaign, region: Region, office: Office | None, indicator: str):
    run = _published_run(campaign)
    indicator_set = _registry().indicator_set(run.methodology_key)
    if not any(i.code == indicator for i in indicator_set.indicators):
        raise ApiError(404)
    figures = dashboards.indicator_figures(run, region.id, indicator,
                                           office.id if office else None)
    response = jsonify(
        run=run_json(run), region=region.code, office_id=office.id if office else None,
        indicator=indicator,
        figures={"pooled": figure_json(figures.pooled),
                 "by_type": {t: figure_json(f) for t, f in figures.by_type.items()}},
        answers=figures.answers)
    return _conditional(response, run.id)
