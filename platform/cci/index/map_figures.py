"""A journey map's figures, read from stored runs (nothing is recomputed here).

The map's scope is its office (an office's map) or its region (a region's map). For it:

- each touchpoint's CX metrics from the region's current CX run (:mod:`cci.index.cx_reports`):
  value, n, status against the region's target, trend arrow, insufficient below minimum n;
- the index indicators each touchpoint feeds (the sets declare them, ``Indicator.touchpoints``)
  with their value in the newest published index run of the region;
- the themes of touchpoint answers' comments and of complaints over the CX run's period,
  counted by the database over the stored themes (``cx_comment_themes``).

And the stage × touchpoint heat map of one metric: a region's offices (its current run) or
every region (the federal run) as rows, the map's stage × touchpoint columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.comment_themes import THEME_KEYS
from cci.foundation import journey_maps
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import CxCommentTheme
from cci.foundation.models import CxRun
from cci.foundation.models import CxTarget
from cci.foundation.models import JourneyMap
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.foundation.models import TouchpointAnswer
from cci.index import cx_reports
from cci.index.compute import current_run as current_index_run
from cci.index.cx_compute import current_run as current_cx_run
from cci.index.cx_reports import Cell
from cci.methodology.cx import CxMetric
from cci.methodology.cx import status


@dataclass(frozen=True)
class MapScope:
    """Whose figures a map shows: an office's (``office_id``) or its region's."""

    region_id: int
    office_id: int | None

    @property
    def level(self) -> str:
        return "office" if self.office_id is not None else "region"


def scope_of(journey_map: JourneyMap) -> MapScope | None:
    """The map's scope; None for a federal template (it measures nothing by itself)."""
    region_id = journey_maps.owner_region(journey_map)
    if region_id is None:
        return None
    return MapScope(region_id, journey_map.office_id)


# --- CX metrics ---------------------------------------------------------------------------


def metric_cells(scope: MapScope) -> tuple[CxRun | None, dict[tuple[str, str], Cell]]:
    """The region's current CX run and, by (touchpoint, metric), the scope's headline cells
    with the region's targets."""
    run = current_cx_run(scope.region_id)
    if run is None:
        return None, {}
    found = cx_reports.cells(
        run, scope.level, cx_reports.targets(scope.region_id), region_id=scope.region_id,
        office_ids=None if scope.office_id is None else [scope.office_id])
    return run, {(c.touchpoint, c.metric): c for c in found}


# --- the index indicators a touchpoint feeds -----------------------------------------------


@dataclass
class IndicatorFigure:
    code: str
    title: str
    value: float | None
    insufficient: bool
    n: int | None


@dataclass
class IndicatorLinks:
    """The newest published index run of the region (its campaign and methodology version)
    and, per touchpoint, the indicators of that version feeding it with their figures."""

    campaign: Campaign | None = None
    run: ComputationRun | None = None
    by_touchpoint: dict[str, list[IndicatorFigure]] = field(default_factory=dict)


def declared_touchpoints(indicator_set) -> dict[str, list[Any]]:
    """{touchpoint: [indicators]} as a set declares them, in the set's order."""
    found: dict[str, list[Any]] = {}
    for indicator in indicator_set.indicators:
        for touchpoint in getattr(indicator, "touchpoints", ()):
            if touchpoint in journey_maps.TOUCHPOINTS:
                found.setdefault(touchpoint, []).append(indicator)
    return found


def latest_index_run(region_id: int) -> tuple[Campaign, ComputationRun] | None:
    """The newest campaign of the region with a published run of its methodology version."""
    registry = current_app.extensions["cci.registry"]
    campaigns = db.scalars(select(Campaign).where(Campaign.regions.any(Region.id == region_id))
                           .order_by(Campaign.starts_on.desc(), Campaign.id.desc()))
    for campaign in campaigns:
        if campaign.methodology_key not in registry.indicator_sets:
            continue
        run = current_index_run(campaign.id, campaign.methodology_key)
        if run is not None:
            return campaign, run
    return None


def indicator_links(scope: MapScope) -> IndicatorLinks:
    found = latest_index_run(scope.region_id)
    if found is None:
        return IndicatorLinks()
    campaign, run = found
    indicator_set = current_app.extensions["cci.registry"].indicator_set(run.methodology_key)
    declared = declared_touchpoints(indicator_set)
    codes = {i.code for indicators in declared.values() for i in indicators}
    level = (RunResult.level == "office") & (RunResult.office_id == scope.office_id) \
        if scope.office_id is not None else (RunResult.level == "region")
    rows = {row.metric.split(":", 1)[1]: row for row in db.scalars(select(RunResult).where(
        RunResult.run_id == run.id, RunResult.region_id == scope.region_id, level,
        RunResult.respondent_type.is_(None),
        RunResult.metric.in_([f"indicator:{code}" for code in codes])))}
    links = IndicatorLinks(campaign, run)
    for touchpoint, indicators in declared.items():
        links.by_touchpoint[touchpoint] = [
            IndicatorFigure(i.code, i.title,
                            rows[i.code].value if i.code in rows else None,
                            rows[i.code].insufficient if i.code in rows else False,
                            rows[i.code].n_valid if i.code in rows else None)
            for i in indicators]
    return links


# --- «контент-анализ» ---------------------------------------------------------------------


def theme_counts(scope: MapScope, start: dt.date, end: dt.date
                 ) -> dict[str, list[tuple[str, int]]]:
    """{touchpoint: [(theme, texts)]} of the scope's touchpoint comments and complaints with
    a day in [start, end), the themes in the classifier's order; a GROUP BY over the stored
    themes."""
    t, a = CxCommentTheme, TouchpointAnswer
    # an answer a quality rule flagged is kept but not counted, here as in the metrics
    query = (select(t.touchpoint, t.theme, func.count())
             .outerjoin(a, (t.source == "answer") & (a.id == t.source_id))
             .where(t.region_id == scope.region_id, t.touchpoint.is_not(None),
                    t.day >= start, t.day < end,
                    (t.source == "complaint") | a.counted.is_(True))
             .group_by(t.touchpoint, t.theme))
    if scope.office_id is not None:
        query = query.where(t.office_id == scope.office_id)
    counts: dict[str, dict[str, int]] = {}
    for touchpoint, theme, count in db.execute(query):
        counts.setdefault(str(touchpoint), {})[theme] = int(count)
    return {touchpoint: [(key, found[key]) for key in THEME_KEYS if key in found]
            for touchpoint, found in counts.items()}


# --- the stage × touchpoint heat map --------------------------------------------------------


#: rows of the heat map on one page (a region of 60+ offices is read a page at a time)
PER_PAGE = 25


def map_metrics(content: dict, metrics: dict[str, CxMetric]) -> list[CxMetric]:
    """The installed metrics the map lists somewhere, in the installed order (none when the
    map lists none: the heat map follows the map)."""
    named = {item.get("code") for stage in content.get("stages", [])
             for tp in stage.get("touchpoints", []) for item in tp.get("metrics", [])}
    return [m for code, m in metrics.items() if code in named]


def heat_columns(content: dict, metric: CxMetric) -> list[tuple[dict, dict]]:
    """The map's (stage, touchpoint) columns where the map lists the metric at that
    touchpoint (and the metric can be measured there): the grid's cells, not every
    touchpoint the CX run has the metric for."""
    return [(stage, tp) for stage, tp in journey_maps.grid_columns(content)
            if tp is not None and tp.get("code") in metric.touchpoints
            and any(item.get("code") == metric.code for item in tp.get("metrics", []))]


def heat_cells(run: CxRun, metric: CxMetric, rows: Sequence[Any], federal: bool
               ) -> dict[tuple[int, str], Cell]:
    """{(row id, touchpoint): cell} of one page of rows: offices of the run's region, or
    (``federal``) regions of the federal run, each against its region's target."""
    ids = [row.id for row in rows]
    if not ids:
        return {}
    if federal:
        found = cx_reports.cells(run, "region", only_metric=metric.code, region_ids=ids)
        keyed = {(c.region_id, c.touchpoint): c for c in found}
    else:
        assert run.region_id is not None
        found = cx_reports.cells(run, "office", only_metric=metric.code,
                                 region_id=run.region_id, office_ids=ids)
        keyed = {(c.office_id, c.touchpoint): c for c in found}
    targets = _targets(metric.code, {c.region_id for c in found if c.region_id is not None})
    for cell in keyed.values():
        region_targets = targets.get(cell.region_id or 0, {})
        cell.target = region_targets.get(cell.touchpoint, region_targets.get(""))
        if not cell.insufficient:
            cell.status = status(metric, cell.value, cell.target, cell.ci_low, cell.ci_high)
    return {(int(row), touchpoint): cell for (row, touchpoint), cell in keyed.items()
            if row is not None}


def heat_total(run: CxRun, metric: CxMetric, federal: bool) -> dict[str, Cell]:
    """{touchpoint: cell} of the heat map's last row: the region (against its target), or
    the federation (no target: each region sets its own)."""
    if federal:
        return {c.touchpoint: c for c in cx_reports.cells(run, "federation",
                                                         only_metric=metric.code)}
    assert run.region_id is not None
    return {c.touchpoint: c for c in cx_reports.cells(
        run, "region", cx_reports.targets(run.region_id), region_id=run.region_id,
        only_metric=metric.code)}


def stage_spans(columns: Sequence[tuple[dict, dict]]) -> list[tuple[dict, int]]:
    """The heat map's stage heads: each stage once, over as many columns as it has."""
    spans: list[tuple[dict, int]] = []
    for stage, _touchpoint in columns:
        if spans and spans[-1][0] is stage:
            spans[-1] = (stage, spans[-1][1] + 1)
        else:
            spans.append((stage, 1))
    return spans


def _targets(metric: str, region_ids: set[int]) -> dict[int, dict[str, float]]:
    found: dict[int, dict[str, float]] = {}
    for target in db.scalars(select(CxTarget).where(CxTarget.metric == metric,
                                                    CxTarget.region_id.in_(region_ids))):
        found.setdefault(target.region_id, {})[target.touchpoint] = target.target
    return found
