"""Reading a CX run's stored values for pages and the API: the headline cell of each metric,
touchpoint and office (or region), its status against the region's target and its trend
arrow from the last two months, and one cell's months. Nothing is recomputed here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from cci.foundation import audit
from cci.foundation import journey_maps
from cci.foundation.db import db
from cci.foundation.improvement_actions import ActionMetric
from cci.foundation.models import CxRun
from cci.foundation.models import CxTarget
from cci.foundation.models import CxValue
from cci.index.cx_compute import current_run
from cci.methodology.cx import CxMetric
from cci.methodology.cx import improved
from cci.methodology.cx import status
from cci.methodology.cx import trend


@dataclass
class Cell:
    metric: str
    touchpoint: str
    level: str
    region_id: int | None
    office_id: int | None
    #: the month the headline covers (a "month" metric: the run's last month with data), or
    #: None for the whole period
    month: dt.date | None
    value: float | None
    n: float
    numerator: float
    ci_low: float | None
    ci_high: float | None
    insufficient: bool
    target: float | None = None
    status: str | None = None
    arrow: str | None = None
    better: bool | None = None

    def as_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "touchpoint": self.touchpoint, "level": self.level,
                "region_id": self.region_id, "office_id": self.office_id,
                "month": self.month.isoformat() if self.month else None,
                "value": None if self.insufficient else self.value,
                "n": self.n, "numerator": self.numerator,
                "ci_low": None if self.insufficient else self.ci_low,
                "ci_high": None if self.insufficient else self.ci_high,
                "insufficient": self.insufficient, "target": self.target,
                "status": self.status, "trend": self.arrow}


def installed() -> dict[str, CxMetric]:
    return current_app.extensions["cci.registry"].cx_metrics


def map_metrics() -> dict[str, str]:
    """{code: title} of what a journey map's metrics row may name: the installed CX metrics,
    then the other sources the specification names (surveys, analyses)."""
    return {**{code: str(metric.title) for code, metric in installed().items()},
            **{code: str(title) for code, title in journey_maps.SOURCES.items()}}


def metric_title(code: str) -> str:
    """A metric's title as the pages show it; a code no longer installed, as it was stored."""
    return map_metrics().get(code, code)


def action_metrics() -> dict[str, ActionMetric]:
    """The installed metrics as an improvement action names them: code, title, direction."""
    return {code: ActionMetric(code, str(metric.title), metric.direction == "lower")
            for code, metric in installed().items()}


def targets(region_id: int) -> dict[tuple[str, str], float]:
    """{(metric, touchpoint or ""): target} of a region."""
    return {(t.metric, t.touchpoint): t.target for t in db.scalars(
        select(CxTarget).where(CxTarget.region_id == region_id))}


def target_for(found: dict[tuple[str, str], float], metric: str,
               touchpoint: str) -> float | None:
    return found.get((metric, touchpoint), found.get((metric, "")))


def cells(run: CxRun, level: str, region_targets: dict | None = None,
          region_id: int | None = None, *, only_metric: str | None = None,
          office_ids: Collection[int] | None = None,
          region_ids: Collection[int] | None = None) -> list[Cell]:
    """The headline cells of a level of the run (a region's only, with ``region_id``; one
    metric's, some offices' or some regions' only, with ``only_metric``, ``office_ids`` or
    ``region_ids``: a page of a heat map)."""
    metrics = installed()
    query = select(CxValue).where(CxValue.run_id == run.id, CxValue.level == level)
    if region_id is not None:
        query = query.where(CxValue.region_id == region_id)
    if only_metric is not None:
        query = query.where(CxValue.metric == only_metric)
    if office_ids is not None:
        query = query.where(CxValue.office_id.in_(list(office_ids)))
    if region_ids is not None:
        query = query.where(CxValue.region_id.in_(list(region_ids)))
    if level == "office":
        query = query.where(CxValue.office_id.is_not(None))
    groups: dict[tuple, list[CxValue]] = {}
    for row in db.scalars(query):
        groups.setdefault((row.metric, row.touchpoint, row.region_id, row.office_id),
                          []).append(row)
    out = []
    for (code, touchpoint, r_id, office_id), rows in groups.items():
        metric = metrics.get(code)
        if metric is None:
            continue
        months = sorted((r for r in rows if r.month is not None),
                        key=lambda r: r.month or dt.date.min)
        whole = next((r for r in rows if r.month is None), None)
        head = months[-1] if metric.window == "month" and months else whole
        if head is None:
            continue
        cell = Cell(code, touchpoint, level, r_id, office_id, head.month, head.value, head.n,
                    head.numerator, head.ci_low, head.ci_high, head.insufficient)
        sufficient = [r for r in months if not r.insufficient and r.value is not None]
        if len(sufficient) >= 2:
            cell.arrow = trend(metric, sufficient[-2].value, sufficient[-1].value)
            cell.better = improved(metric, cell.arrow)
        if region_targets is not None:
            cell.target = target_for(region_targets, code, touchpoint)
            if not cell.insufficient:
                cell.status = status(metric, cell.value, cell.target, cell.ci_low, cell.ci_high)
        out.append(cell)
    return out


def months(run: CxRun, metric: str, touchpoint: str, level: str, office_id: int | None,
           region_id: int | None = None) -> list[CxValue]:
    """One cell's months, oldest first: the trend and the data behind it."""
    query = select(CxValue).where(
        CxValue.run_id == run.id, CxValue.metric == metric, CxValue.touchpoint == touchpoint,
        CxValue.level == level, CxValue.month.is_not(None))
    query = query.where(CxValue.office_id == office_id) if office_id is not None else \
        query.where(CxValue.office_id.is_(None))
    if region_id is not None:
        query = query.where(CxValue.region_id == region_id)
    return list(db.scalars(query.order_by(CxValue.month)))


def set_target(region_id: int, metric: str, touchpoint: str, value: float, user) -> CxTarget:
    """Create or change a region's target for a metric (at a touchpoint, or "" at all),
    audited; commits. The caller has checked the metric, touchpoint and value. ``user``
    None: set by the platform itself (the sample data)."""
    row = db.scalar(select(CxTarget).where(CxTarget.region_id == region_id,
                                           CxTarget.metric == metric,
                                           CxTarget.touchpoint == touchpoint))
    before = {"target": row.target} if row is not None else None
    if row is None:
        row = CxTarget(region_id=region_id, metric=metric, touchpoint=touchpoint, target=value,
                       set_by_id=getattr(user, "id", None))
        db.add(row)
    else:
        row.target, row.set_by_id = value, getattr(user, "id", None)
    db.flush()
    audit.record("cx.target", row, before=before,
                 after={"metric": metric, "touchpoint": touchpoint, "target": value},
                 region_id=region_id, user=user)
    db.commit()
    return row



def value_at(region_id: int, office_id: int | None, touchpoint: str, metric: str,
             on: dt.date) -> float | None:
    """A metric's value in the month of ``on`` (the office's, or the region's when
    ``office_id`` is None), from the region's newest run: what an improvement action's
    «did its metric move» reads (cci.foundation.improvement_actions.MetricReader). None when
    there is no such value or it rests on fewer answers than its minimum: no data, never a
    guess."""
    run = current_run(region_id)
    if run is None:
        return None
    query = select(CxValue.value).where(
        CxValue.run_id == run.id, CxValue.region_id == region_id, CxValue.metric == metric,
        CxValue.touchpoint == touchpoint, CxValue.month == on.replace(day=1),
        CxValue.level == ("office" if office_id is not None else "region"),
        CxValue.insufficient.is_(False))
    query = query.where(CxValue.office_id == office_id) if office_id is not None else \
        query.where(CxValue.office_id.is_(None))
    return db.scalar(query)
