"""CX metric runs: every installed metric (``register_cx_metrics``) summed by the database over
a period, stored and versioned like index runs.

A run belongs to a region (its offices and the region) or, without a region, to the
federation (every office, region and the federation). Per metric one aggregate query sums
its rows (see :mod:`cci.methodology.cx`) per office, touchpoint and calendar month (UTC); the
region, federation and whole-period cells are then sums of those stored sums, again in the
database (``GROUP BY`` over the run's ``cx_values``). The value and its interval are read from
each cell's sums (:func:`cci.methodology.cx.evaluate`). A new computation of the same period
is a new run with the next version; a run's values never change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import select

from cci.collection.comment_themes import classify_cx_pending
from cci.foundation import tenancy
from cci.foundation.db import append_rows
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.jobs import InputError
from cci.foundation.models import CxRun
from cci.foundation.models import CxValue
from cci.methodology.cx import CxMetric
from cci.methodology.cx import CxSums
from cci.methodology.cx import CxWindow
from cci.methodology.cx import evaluate

JOB = "cx.compute"
#: the longest period one run covers
MAX_DAYS = 400


def metrics() -> dict[str, CxMetric]:
    return current_app.extensions["cci.registry"].cx_metrics


def new_run(period_start: dt.date, period_end: dt.date, requested_by_id: int | None) -> CxRun:
    """A queued run of the current scope (a region's, or the federation's) for the period
    [start, end); its version is the next of that period and scope. Not committed."""
    if period_end <= period_start:
        raise ValueError("the period ends before it starts")
    if (period_end - period_start).days > MAX_DAYS:
        raise ValueError(f"a period of at most {MAX_DAYS} days")
    scope = tenancy.current_scope()
    region_id = scope.region_id if scope is not None else None
    same = select(func.count(CxRun.id)).where(CxRun.period_start == period_start,
                                              CxRun.period_end == period_end)
    same = same.where(CxRun.region_id == region_id) if region_id is not None else same.where(
        CxRun.region_id.is_(None))
    run = CxRun(region_id=region_id, period_start=period_start, period_end=period_end,
                version=(db.scalar(same) or 0) + 1, status="queued",
                requested_by_id=requested_by_id)
    db.add(run)
    db.flush()
    return run


def compute_job(report, run_id: int) -> dict[str, Any]:
    run = db.get(CxRun, run_id)
    if run is None:
        raise InputError("расчёт не найден")
    run.status = "running"
    db.commit()
    try:
        summary = compute(run, report)
    except Exception as exc:
        db.rollback()
        run = db.get(CxRun, run_id)
        assert run is not None
        run.status, run.error, run.finished_at = "failed", str(exc)[:2000], utcnow()
        db.commit()
        raise
    run.status, run.summary, run.finished_at = "succeeded", summary, utcnow()
    db.commit()
    return {"run_id": run.id, **summary}


def compute(run: CxRun, report=lambda fraction, message: None) -> dict[str, Any]:
    """Every metric's values for the run (see the module's doc); what was computed."""
    window = CxWindow(dt.datetime.combine(run.period_start, dt.time(), dt.UTC),
                      dt.datetime.combine(run.period_end, dt.time(), dt.UTC))
    tables = set(inspect(db.get_bind()).get_table_names())
    installed = metrics()
    computed, skipped = [], []
    definitions = {}
    cells: list[tuple] = []
    # No progress reports while the run writes: a report is a transaction of its own, and on
    # SQLite it would wait for this one until "database is locked".
    report(0.0, "")
    # the map's «контент-анализ» counts stored themes: the texts that came in since the last
    # run are classified now, once
    classify_cx_pending(run.region_id)
    families: dict[int, list[CxMetric]] = {}
    for metric in installed.values():
        definitions[metric.code] = metric.describe()
        if metric.rows is None or not set(metric.sources) <= tables:
            skipped.append(metric.code)
            continue
        families.setdefault(id(metric.rows), []).append(metric)
        computed.append(metric.code)
    for family in families.values():
        cells += _months(run, family, window)
    run.definitions = definitions
    _append(cells)
    _roll_up(run, installed)
    return {"computed": computed, "skipped": skipped}


COLUMNS = ("run_id", "level", "region_id", "office_id", "touchpoint", "metric",
           "definition_version", "month", "n", "numerator", "squares", "negatives", "value",
           "ci_low", "ci_high", "insufficient")


def _append(cells: list[tuple]) -> None:
    """The cells (tuples in the order of :data:`COLUMNS`, every value of its column's type:
    see :func:`_row`) in one bulk append (binary COPY on PostgreSQL): a federal run has a
    hundred thousand."""
    append_rows(db, CxValue, COLUMNS, cells, exact=True)


def _month_start(at) -> Any:
    """The first moment of the month of ``at``, by the database: one function call a row.
    PostgreSQL's ``date_trunc`` (its ``extract`` returns a numeric, which costs as much as
    the rest of a row's work); SQLite's text «YYYY-MM»."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", at)
    return func.strftime("%Y-%m", at)


def _as_month(value) -> dt.date:
    if isinstance(value, str):  # SQLite: «YYYY-MM»
        return dt.date(int(value[:4]), int(value[5:7]), 1)
    return dt.date(value.year, value.month, 1)


def _months(run: CxRun, family: list[CxMetric], window: CxWindow) -> list[tuple]:
    """One aggregate query over the rows the metrics of a family share (one metric, or several
    with one ``rows`` function): each metric's sums per office, touchpoint and month, as
    cells; a metric gets no cell where its denominator is empty."""
    rows_of = family[0].rows
    assert rows_of is not None
    rows = rows_of(window).subquery()
    month = _month_start(rows.c.at)
    sums: list[Any] = []
    for metric in family:
        den, num, neg = (rows.c.get(name) for name in metric.columns)
        assert den is not None and num is not None, f"{metric.code}: no {metric.columns[:2]}"
        # Σnum² only where an interval needs it (a mean): every sum is work per row
        sums += [func.sum(den), func.sum(num),
                 func.sum(num * num) if metric.kind == "mean" else literal(0),
                 func.sum(neg) if neg is not None else literal(0)]
    query = (select(rows.c.region_id, rows.c.office_id, rows.c.touchpoint, month, *sums)
             .group_by(rows.c.region_id, rows.c.office_id, rows.c.touchpoint, month))
    if run.region_id is not None:
        # the rows may come from tables the session cannot filter by itself (a plugin's, by
        # name): the region is filtered here, and said so
        query = query.where(rows.c.region_id == run.region_id)
    values = []
    run_id = run.id
    months: dict[Any, dt.date] = {}
    for region_id, office_id, touchpoint, at, *parts in db.execute(
            query.execution_options(tenant_filtered=True)):
        first = months.get(at)
        if first is None:
            first = months[at] = _as_month(at)
        for position, metric in enumerate(family):
            den, num, squares, negatives = parts[4 * position:4 * position + 4]
            if not den:
                continue
            cell = CxSums(float(den), float(num or 0), float(squares or 0),
                          float(negatives or 0))
            values.append(_row(run_id, metric, "office", region_id, office_id, touchpoint,
                               first, cell))
    return values


def _row(run_id: int, metric: CxMetric, level: str, region_id, office_id, touchpoint: str,
         month: dt.date | None, sums: CxSums) -> tuple:
    """A cell as a tuple in the order of :data:`COLUMNS`, each value of its column's type."""
    value = evaluate(metric, sums)  # floats (or None) and a bool
    return (run_id, level, region_id, office_id, touchpoint, metric.code, metric.version, month,
            sums.den, sums.num, sums.squares, sums.neg, value.value, value.ci_low,
            value.ci_high, value.insufficient)


#: The roll-ups, each read from cells stored before it (sums of sums are the same sums): the
#: whole-period office cells and the regions' months from the offices' months (the only two
#: passes over the large level), then the smaller levels from the regions' months, and the
#: federation's period from its months. (level, keep region, keep office, keep month, read
#: from level, read months or the period, federal runs only)
ROLL_UPS = (
    (("office", True, True, False, "office", True, False),
     ("region", True, False, True, "office", True, False)),
    (("region", True, False, False, "region", True, False),
     ("federation", False, False, True, "region", True, True)),
    (("federation", False, False, False, "federation", True, True),),
)


def _roll_up(run: CxRun, installed: dict[str, CxMetric]) -> None:
    """Whole-period office cells, region cells and (a federal run) federation cells: sums of
    stored cells, by the database, each level from the one below it."""
    v = CxValue
    sums = (func.sum(v.n), func.sum(v.numerator), func.sum(v.squares), func.sum(v.negatives))
    run_id = run.id
    for step in ROLL_UPS:
        values = []
        for level, by_region, by_office, by_month, source, monthly, federal in step:
            if federal and run.region_id is not None:
                continue
            keys: list[Any] = [v.metric, v.touchpoint]
            keys += [v.region_id] if by_region else []
            keys += [v.office_id] if by_office else []
            keys += [v.month] if by_month else []
            query = select(v.metric, v.touchpoint, v.region_id if by_region else null(),
                           v.office_id if by_office else null(),
                           v.month if by_month else null(), *sums).where(
                v.run_id == run.id, v.level == source,
                v.month.is_not(None) if monthly else v.month.is_(None))
            if by_office:
                query = query.where(v.office_id.is_not(None))
            for code, touchpoint, region_id, office_id, month, den, num, squares, neg in (
                    db.execute(query.group_by(*keys))):
                cell = CxSums(float(den or 0), float(num or 0), float(squares or 0),
                              float(neg or 0))
                values.append(_row(run_id, installed[code], level, region_id, office_id,
                                   touchpoint, month, cell))
        _append(values)


def current_run(region_id: int | None) -> CxRun | None:
    """The newest finished run of a region (or, None, of the federation)."""
    query = select(CxRun).where(CxRun.status == "succeeded")
    query = query.where(CxRun.region_id == region_id) if region_id is not None else query.where(
        CxRun.region_id.is_(None))
    return db.scalar(query.order_by(CxRun.finished_at.desc(), CxRun.id.desc()).limit(1))
