"""CX metric cells that turned red, told to the staff after a computation.

After a CX run (the ``cx.compute`` job, :func:`compute_job`) each office and region headline
cell's status against the region's targets (:func:`cci.index.cx_reports.cells`) is set beside
the same cell of the previous finished run of the same scope (the region's, or the
federation's): a cell red now that was not red then (green, amber, without a target or too few
answers, or not there at all) is a ``metric_red`` notification
(:func:`cci.foundation.notifications.notify`) for the region's administrators and, for an
office's cell, that office's staff. Both runs are judged by today's targets, so a changed
target alone turns nothing. The subject names the run, so a job run again tells no one twice.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from cci.foundation import notifications
from cci.foundation.db import db
from cci.foundation.models import CxRun
from cci.foundation.models import CxValue
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.index import cx_compute
from cci.index import cx_reports
from cci.index.cx_reports import Cell
from cci.methodology.cx import TOUCHPOINTS


def compute_job(report, run_id: int) -> dict[str, Any]:
    """The ``cx.compute`` job: the run (:func:`cci.index.cx_compute.compute_job`), then its
    cells turned red told."""
    result = cx_compute.compute_job(report, run_id)
    run = db.get(CxRun, run_id)
    assert run is not None
    told = notify_turned_red(run)
    db.commit()
    return {**result, "notified": told}


def previous_run(run: CxRun) -> CxRun | None:
    """The newest finished run of the same scope before ``run``."""
    region_id: int | None = run.region_id  # None: the federation's runs
    query = select(CxRun).where(CxRun.status == "succeeded", CxRun.id < run.id)
    query = query.where(CxRun.region_id == region_id) if region_id is not None else \
        query.where(CxRun.region_id.is_(None))
    return db.scalar(query.order_by(CxRun.id.desc()).limit(1))


def _key(cell: Cell) -> tuple:
    return cell.level, cell.region_id, cell.office_id, cell.metric, cell.touchpoint


def _statuses(run: CxRun, region_id: int, targets: dict) -> list[Cell]:
    return [cell for level in ("office", "region")
            for cell in cx_reports.cells(run, level, targets, region_id=region_id)]


def turned_red(run: CxRun, previous: CxRun | None) -> list[Cell]:
    """The office and region cells of ``run`` red now and not red in ``previous``."""
    scope: int | None = run.region_id
    if scope is not None:
        regions = [scope]
    else:
        regions = list(db.scalars(select(CxValue.region_id).where(
            CxValue.run_id == run.id, CxValue.level == "region").distinct()))
    found = []
    for region_id in sorted(regions):
        targets = cx_reports.targets(region_id)
        now = [c for c in _statuses(run, region_id, targets) if c.status == "red"]
        if not now:
            continue
        before = {_key(c): c.status for c in _statuses(previous, region_id, targets)} \
            if previous is not None else {}
        found += [c for c in now if before.get(_key(c)) != "red"]
    return found


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return text.replace(".", ",").replace("-", "\u2212")


def notify_turned_red(run: CxRun) -> int:
    """Tell the staff of each cell that turned red (see the module's doc); how many were
    told. Not committed."""
    cells = turned_red(run, previous_run(run))
    if not cells:
        return 0
    metrics = cx_reports.installed()
    regions = {r.id: r for r in db.scalars(select(Region).where(
        Region.id.in_({c.region_id for c in cells})))}
    offices = {o.id: o for o in db.scalars(select(Office).where(
        Office.id.in_({c.office_id for c in cells if c.office_id is not None})))}
    told = 0
    for cell in cells:
        assert cell.region_id is not None
        region = regions[cell.region_id]
        office = offices.get(cell.office_id) if cell.office_id is not None else None
        metric = metrics[cell.metric]
        place = office.name if office is not None else region.name
        title = _("%(metric)s at «%(touchpoint)s», %(place)s: %(value)s against the target "
                  "%(target)s", metric=metric.title,
                  touchpoint=TOUCHPOINTS.get(cell.touchpoint, cell.touchpoint), place=place,
                  value=_number(cell.value), target=_number(cell.target))
        if run.region_id is None:
            # a federal run's cell: the region's page (its trend reads the region's own runs)
            url = notifications.path_for("region.cx_metrics", region_code=region.code)
        else:
            values: dict[str, Any] = {"region_code": region.code, "metric_code": cell.metric,
                                      "touchpoint": cell.touchpoint}
            if office is not None:
                values["office"] = office.id
            url = notifications.path_for("region.cx_trend", **values)
        told += notifications.notify(
            "metric_red", region_id=cell.region_id, office_id=cell.office_id, title=title,
            url=url,
            subject=f"cx:{run.id}:{cell.level}:{cell.office_id or cell.region_id}:"
                    f"{cell.metric}:{cell.touchpoint}")
    return told
