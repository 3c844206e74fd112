"""Reading the region and office dashboards' figures from stored runs (no computation here):
the trend of an index across campaigns, coverage warnings, and the answers behind a figure."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.index.compute import current_runs


@dataclass
class TrendPoint:
    """One campaign's published index (of one methodology version) and the run it comes
    from: a newer run is a new point of its campaign, never an edit of the old one."""

    campaign: Campaign
    run: ComputationRun
    value: float | None
    ci_low: float | None
    ci_high: float | None
    stars: int | None
    n_valid: int | None
    perspectives: dict[str, float | None] = field(default_factory=dict)


def region_campaigns(region_id: int) -> list[Campaign]:
    """The campaigns the region took part in, oldest first."""
    return list(db.scalars(
        select(Campaign).where(Campaign.regions.any(Region.id == region_id))
        .order_by(Campaign.starts_on, Campaign.id)))


def trend(region_id: int, methodology_key: str, office_id: int | None = None) -> list[TrendPoint]:
    """The region's (or one of its offices') index in every campaign of the region with a
    published run of this methodology version, oldest first; each point names its run."""
    campaigns = region_campaigns(region_id)
    current = current_runs(campaigns, methodology_key)
    runs = {run.id: (c, run) for c in campaigns if (run := current.get(c.id)) is not None}
    if not runs:
        return []
    level = (RunResult.level == "office") & (RunResult.office_id == office_id) \
        if office_id is not None else (RunResult.level == "region")
    rows = db.scalars(select(RunResult).where(
        RunResult.run_id.in_(runs), RunResult.region_id == region_id, level,
        RunResult.metric.in_(("index", "perspective"))))
    points: dict[int, TrendPoint] = {}
    perspectives: dict[int, dict[str, float | None]] = {}
    for row in rows:
        if row.metric == "index" and row.respondent_type is None:
            campaign, run = runs[row.run_id]
            points[row.run_id] = TrendPoint(campaign, run, row.value, row.ci_low, row.ci_high,
                                            row.stars, row.n_valid)
        elif row.metric == "perspective" and row.respondent_type:
            perspectives.setdefault(row.run_id, {})[row.respondent_type] = row.value
    for run_id, point in points.items():
        point.perspectives = perspectives.get(run_id, {})
    return sorted(points.values(), key=lambda p: (p.campaign.starts_on, p.campaign.id))


def coverage_warnings(coverage: dict[str, Any]) -> list[str]:
    """Codes of what the region's index rests on that a reader must be warned of:
    ``under_half`` (fewer than half of the network's offices measured), ``main_only`` (only
    its main office(s), the network having others), ``one_office`` (one office of several,
    the network naming no main office), ``partial`` (some offices measured from one side)."""
    measured = coverage.get("offices_measured", 0)
    network = coverage.get("offices_in_network", 0)
    main = coverage.get("main_offices", 0)
    out = []
    if network and measured * 2 < network:
        out.append("under_half")
    if measured and network > measured:
        if main and main < network and coverage.get("main_offices_measured") == measured:
            out.append("main_only")
        elif not main and measured == 1:
            out.append("one_office")
    if coverage.get("offices_partial"):
        out.append("partial")
    return out


@dataclass
class Distribution:
    """An indicator's figures for one office or the region, per respondent type and pooled,
    with the answers they rest on: {respondent type: {item: {answer: count}}}."""

    pooled: RunResult | None
    by_type: dict[str, RunResult]
    answers: dict[str, dict[str, dict[str, int]]]

    @property
    def stored(self) -> bool:
        return bool(self.answers)


def indicator_figures(run: ComputationRun, region_id: int, code: str,
                      office_id: int | None = None) -> Distribution:
    """One indicator's stored figures (and the distribution of answers stored with them)."""
    level = (RunResult.level == "office") & (RunResult.office_id == office_id) \
        if office_id is not None else (RunResult.level == "region")
    pooled = None
    by_type: dict[str, RunResult] = {}
    answers: dict[str, dict[str, dict[str, int]]] = {}
    for row in db.scalars(select(RunResult).where(
            RunResult.run_id == run.id, RunResult.region_id == region_id, level,
            RunResult.metric == f"indicator:{code}")):
        if row.respondent_type is None:
            pooled = row
        else:
            by_type[row.respondent_type] = row
        for rtype, per_item in (row.detail or {}).get("answers", {}).items():
            answers.setdefault(rtype, {}).update(per_item)
    return Distribution(pooled, by_type, answers)
