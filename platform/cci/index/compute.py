"""The compute engine: database aggregates in, a methodology set's formula, versioned runs out.

A run is for (campaign, methodology version). It is computed by one RQ job per region, then
a federal roll-up job that publishes it: results become visible in one UPDATE of the run's
status, so a worker killed half-way leaves nothing half-visible, and the retried region job
replaces its own rows and produces the same numbers.

Runs are ordered by their inputs: a run is created (under a per-campaign lock) right after its
inputs' fingerprint is read, so a higher id has read newer inputs. The current run is the
published one with the highest id, and a run that ends after a newer one was published is
kept unpublished: a late retry never puts older figures over newer ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from cci.collection import comment_themes
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import append_rows
from cci.foundation.db import db
from cci.foundation.db import rows_updated
from cci.foundation.db import utcnow
from cci.foundation.models import Answer
from cci.foundation.models import Campaign
from cci.foundation.models import Checklist
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import RunResult
from cci.index import coverage
from cci.index import distributions
from cci.methodology.contract import IndicatorSet
from cci.methodology.figures import Z_95
from cci.methodology.figures import FederalData
from cci.methodology.figures import FigureAggregate
from cci.methodology.figures import ItemCounts
from cci.methodology.figures import OfficeData
from cci.methodology.figures import RegionData
from cci.methodology.figures import RegionResult

log = logging.getLogger("cci.compute")

ACTIVE = ("queued", "running", "succeeded")


def registry():
    return current_app.extensions["cci.registry"]


# --- aggregation (in the database) -------------------------------------------------------


def aggregate_region(campaign: Campaign, region: Region, indicator_set: IndicatorSet) -> RegionData:
    """One region's inputs, built from GROUP BY queries in the current (region) scope."""
    positive_min = indicator_set.parameter("positive_min")
    offices = {
        office.id: OfficeData(office.id, office.code, office.name, office.kind)
        for office in db.scalars(
            select(Office).where(Office.region_id == region.id, Office.active.is_(True))
            .order_by(Office.code)
        )
    }
    # One pass over the region's counted answers (an index-only scan): scale and yes/no items
    # group by item, choice items by item and option.
    rows = db.execute(
        select(
            Answer.office_id,
            Answer.respondent_type,
            Answer.item,
            Answer.choice,
            func.count(Answer.value),
            func.sum(case((Answer.value >= positive_min, 1), else_=0)),
            func.sum(case((Answer.value == 1, 1), else_=0)),
            func.count(),
        )
        .where(Answer.campaign_id == campaign.id, Answer.region_id == region.id,
               Answer.counted)
        .group_by(Answer.office_id, Answer.respondent_type, Answer.item, Answer.choice)
    )
    for office_id, rtype, item, choice, n_valid, n_high, n_yes, count in rows:
        data = offices.get(office_id)
        if data is None:
            continue
        previous = data.answers.get((rtype, item), ItemCounts())
        if choice is None:
            data.answers[(rtype, item)] = ItemCounts(
                int(n_valid), int(n_high or 0), int(n_yes or 0), previous.choices)
        else:
            data.answers[(rtype, item)] = ItemCounts(
                previous.n_valid, previous.n_high, previous.n_yes,
                {**previous.choices, choice: int(count)})
    responses = db.execute(
        select(Response.office_id, Response.respondent_type, func.count())
        .where(Response.campaign_id == campaign.id, Response.region_id == region.id,
               Response.counted)
        .group_by(Response.office_id, Response.respondent_type)
    )
    for office_id, rtype, count in responses:
        if office_id in offices:
            offices[office_id].responses[rtype] = int(count)
    region_checklists: dict[str, dict[str, Any]] = {}
    for checklist in db.scalars(
        select(Checklist).where(Checklist.campaign_id == campaign.id,
                                Checklist.region_id == region.id)
    ):
        if checklist.office_id is None:
            region_checklists[checklist.indicator] = checklist.values
        elif checklist.office_id in offices:
            offices[checklist.office_id].checklists[checklist.indicator] = checklist.values
    return RegionData(
        region_id=region.id,
        code=region.code,
        name=region.name,
        network_type=region.network_type,
        offices=list(offices.values()),
        checklists=region_checklists,
        source_methodology=campaign.methodology_key,
    )


def input_fingerprint(campaign: Campaign, indicator_set: IndicatorSet) -> str:
    """What a run reads, cheaply: per region the counted responses and the checklists
    (count, id sum, latest change), plus the set's version and parameters."""
    with tenancy.federal_scope("fingerprint a run's inputs"):
        responses = db.execute(
            select(Response.region_id, func.count(), func.coalesce(func.sum(Response.id), 0),
                   func.max(Response.received_at))
            .where(Response.campaign_id == campaign.id, Response.counted)
            .group_by(Response.region_id).order_by(Response.region_id)
        ).all()
        checklists = db.execute(
            select(Checklist.region_id, func.count(), func.coalesce(func.sum(Checklist.id), 0),
                   func.max(Checklist.updated_at))
            .where(Checklist.campaign_id == campaign.id)
            .group_by(Checklist.region_id).order_by(Checklist.region_id)
        ).all()
    payload = {
        "set": [indicator_set.key, indicator_set.version, indicator_set.package_version],
        "parameters": run_parameters(indicator_set),
        "regions": sorted(r.id for r in campaign.regions),
        "responses": [[str(v) for v in row] for row in responses],
        "checklists": [[str(v) for v in row] for row in checklists],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def parameter_values(indicator_set: IndicatorSet) -> dict[str, Any]:
    return {key: p.value for key, p in indicator_set.parameters.items()}


def run_parameters(indicator_set: IndicatorSet) -> dict[str, Any]:
    """What a run records of the exact set it used: the version, every parameter and, for a
    derived version, its base and every change (points, wording) made to it."""
    recorded = {"version": indicator_set.version, **parameter_values(indicator_set)}
    if indicator_set.derived_from:
        recorded["derived_from"] = indicator_set.derived_from
        recorded["overrides"] = dict(indicator_set.overrides)
    return recorded


# --- runs --------------------------------------------------------------------------------


def start_run(campaign_id: int, methodology_key: str | None = None, *, draft: bool = False,
              user_id: int | None = None) -> tuple[ComputationRun, bool]:
    """Start (or reuse) a run; returns (run, created). Unchanged inputs reuse the run, unless
    it failed or its jobs died (then it is failed, and a new run starts)."""
    with tenancy.federal_scope("start a computation run"):
        campaign = db.get(Campaign, campaign_id)
        if campaign is None:
            raise LookupError(f"campaign {campaign_id} does not exist")
        key = methodology_key or campaign.methodology_key
        indicator_set = registry().indicator_set(key)
        # One start of a campaign at a time (across processes), so that a run over newer
        # inputs always gets the higher id, and two starts at once make one run.
        with current_app.extensions["cci.redis"].lock(
                f"cci:runs-start:{campaign.id}", timeout=300, blocking_timeout=60):
            jobs.reconcile()  # a run whose job died is failed now, and can be started again
            return _start_locked(campaign, key, indicator_set, draft, user_id)


def _start_locked(campaign: Campaign, key: str, indicator_set: IndicatorSet, draft: bool,
                  user_id: int | None) -> tuple[ComputationRun, bool]:
    fingerprint = input_fingerprint(campaign, indicator_set)
    existing = db.scalar(
        select(ComputationRun)
        .where(ComputationRun.campaign_id == campaign.id,
               ComputationRun.methodology_key == key,
               ComputationRun.input_fingerprint == fingerprint,
               ComputationRun.is_draft.is_(draft),
               ComputationRun.status.in_(ACTIVE))
        .order_by(ComputationRun.id.desc()).limit(1)
    )
    if existing is not None:
        return existing, False
    regions = sorted(campaign.regions, key=lambda r: r.code)
    run = ComputationRun(
        campaign_id=campaign.id,
        methodology_key=key,
        plugin_package=indicator_set.package,
        plugin_version=indicator_set.package_version,
        parameters=run_parameters(indicator_set),
        input_fingerprint=fingerprint,
        status="queued",
        is_draft=draft,
        regions_total=len(regions),
        requested_by_id=user_id,
    )
    db.add(run)
    db.commit()
    title = f"{campaign.name}: {indicator_set.title}" + (" (черновик)" if draft else "")
    for region in regions:
        with tenancy.region_scope(region.id, "queue a region computation"):
            jobs.enqueue("runs.region", title=f"{title} — {region.name}",
                         user_id=user_id, run_id=run.id, region_id=region.id)
    if not regions:
        jobs.enqueue("runs.federal", title=title, user_id=user_id, run_id=run.id)
    return run, True


def _job_died(message: str, run_id: int, **_params: Any) -> None:
    """A job of the run died with its process (no exception to catch): the run failed."""
    mark_failed(run_id, message)


@jobs.on_failure(_job_died)
def compute_region_job(report, run_id: int, region_id: int) -> dict:
    """RQ job: compute one region of a run and store its rows (replacing a failed try's)."""
    run = db.get(ComputationRun, run_id)
    if run is None or run.status in ("succeeded", "failed"):
        return {"skipped": True}
    if run.status == "queued":
        db.execute(update(ComputationRun).where(ComputationRun.id == run_id,
                                                ComputationRun.status == "queued")
                   .values(status="running", started_at=utcnow()))
        db.commit()
    region = db.get_one(Region, region_id)  # regions are never deleted
    try:
        campaign = db.get_one(Campaign, run.campaign_id)  # nor are campaigns
        indicator_set = registry().indicator_set(run.methodology_key)
        # No progress reports within a region (each is a commit of its own): the run's
        # progress counts finished regions, and a region takes about a second.
        data = aggregate_region(campaign, region, indicator_set)
        result = indicator_set.compute_region(data)
        # what the index rests on and the answers behind each figure, stored with the run
        coverage.annotate(result, data, campaign.id, indicator_set)
        distributions.annotate(result, campaign.id, indicator_set)
        store_region(run, result)
        # the themes of comments that arrived since, classified once (pages count them)
        comment_themes.classify_pending(region.id, campaign.id)
        db.commit()
    except Exception as exc:
        db.rollback()
        if not _will_retry():
            mark_failed(run_id, f"{region.code}: {_origin(run)}: {type(exc).__name__}: {exc}")
        raise
    _after_region(run_id)
    return {"offices": len(result.offices), "index": result.index}


def _origin(run: ComputationRun) -> str:
    """Who computed: the methodology plugin's distribution, named in a failed run's error."""
    return (f"methodology {run.methodology_key} "
            f"(plugin {run.plugin_package} {run.plugin_version})".replace("  ", " "))


def _will_retry() -> bool:
    from rq import get_current_job

    job = get_current_job()
    return bool(job is not None and job.should_retry)


def store_region(run: ComputationRun, result: RegionResult) -> None:
    """Replace this region's rows of the run in the current transaction."""
    db.execute(delete(RunResult).where(RunResult.run_id == run.id,
                                       RunResult.region_id == result.region_id))
    rows = []
    for office in result.offices:
        for figure in office.figures:
            rows.append(_row(run.id, result.region_id, "office", office.office_id, figure,
                             ranked=office.ranked))
    for figure in result.figures:
        rows.append(_row(run.id, result.region_id, "region", None, figure))
    # Thousands of rows a region: COPY on PostgreSQL, not one INSERT per row.
    append_rows(db, RunResult, RESULT_COLUMNS, rows)


RESULT_COLUMNS = ("run_id", "region_id", "level", "office_id", "metric", "respondent_type",
                  "value", "n_valid", "n_positive", "ci_low", "ci_high", "insufficient", "stars",
                  "detail")


def _row(run_id, region_id, level, office_id, figure, ranked: bool | None = None) -> tuple:
    detail = dict(figure.detail)
    if figure.reason:
        detail["reason"] = figure.reason
    if ranked is not None and figure.metric == "index":
        detail["ranked"] = ranked
    return (run_id, region_id, level, office_id, figure.metric, figure.respondent_type,
            figure.value, figure.n_valid, figure.n_positive, figure.ci_low, figure.ci_high,
            figure.insufficient, figure.stars, detail)


def _after_region(run_id: int) -> None:
    """Update progress; the last region to finish queues the federal roll-up."""
    with tenancy.federal_scope("run progress"):
        run = db.get_one(ComputationRun, run_id)  # its region job just read it; never deleted
        # Each finished region has exactly one region-level index row (cheap via the index).
        done = db.scalar(
            select(func.count())
            .where(RunResult.run_id == run_id, RunResult.level == "region",
                   RunResult.metric == "index", RunResult.respondent_type.is_(None))
        ) or 0
        total = max(1, run.regions_total)
        db.execute(update(ComputationRun).where(ComputationRun.id == run_id)
                   .values(progress=min(0.99, done / total)))
        db.commit()
        if done >= run.regions_total:
            jobs.enqueue("runs.federal", title=f"Сводный расчёт №{run_id}",
                         dedupe_key=f"runs.federal:{run_id}", run_id=run_id)


@jobs.on_failure(_job_died)
def compute_federal_job(report, run_id: int) -> dict:
    """RQ job: the federal roll-up, then publish the run in one UPDATE (unless it failed
    meanwhile, or a run over newer inputs is published already)."""
    run = db.get(ComputationRun, run_id)
    if run is None or run.status in ("succeeded", "failed"):
        return {"skipped": True}
    indicator_set = registry().indicator_set(run.methodology_key)
    data = aggregate_federal(run_id)
    federal = indicator_set.rollup_federal(data.regions)
    store_federal(run_id, indicator_set.federal_figures(data))
    now = utcnow()
    newer = newer_published(run)
    publish = not run.is_draft and newer is None
    done = rows_updated(db.execute(
        update(ComputationRun)
        .where(ComputationRun.id == run_id, ComputationRun.status != "failed")
        .values(
            status="succeeded", progress=1.0, finished_at=now,
            published_at=now if publish else None,
            summary={"federal_index": federal.index, "federal_stars": federal.stars,
                     "regions_counted": federal.regions_counted, **federal.detail,
                     **({"superseded_by": newer} if newer is not None else {})},
        )
        .execution_options(synchronize_session=False)
    ))
    db.commit()
    if not done:
        return {"skipped": "failed"}
    if newer is not None:
        log.warning("run %s finished after run %s over newer inputs: not published", run_id, newer)
    report(1.0, "опубликовано" if publish else
           "черновик готов" if run.is_draft else f"не опубликован: есть расчёт №{newer}")
    return {"federal_index": federal.index, "published": publish}


def aggregate_federal(run_id: int) -> FederalData:
    """The run's region figures summed over the regions in the database (GROUP BY metric and
    respondent type), and the region indices: what the methodology's federal roll-up reads."""
    regions = [
        RegionResult(region_id, [], [], value, stars)
        for region_id, value, stars in db.execute(
            select(RunResult.region_id, RunResult.value, RunResult.stars)
            .where(RunResult.run_id == run_id, RunResult.level == "region",
                   RunResult.metric == "index", RunResult.respondent_type.is_(None))
            .order_by(RunResult.region_id))
    ]
    with_value = RunResult.value.is_not(None)
    # a share: a region figure with an interval and an n (its effective n when it is a mean)
    n = func.coalesce(RunResult.detail["n_effective"].as_float(), RunResult.n_valid)
    is_share = with_value & RunResult.ci_low.is_not(None) & (n > 0)
    z2 = Z_95 * Z_95
    adjusted = (RunResult.value * n + z2 / 2) / (n + z2)  # as mean_interval adjusts a share

    def over(expression, when=with_value):
        return func.sum(case((when, expression), else_=None))

    rows = db.execute(
        select(
            RunResult.metric, RunResult.respondent_type,
            func.count(RunResult.value),
            over(RunResult.value), over(RunResult.value * RunResult.value),
            over(RunResult.n_valid),
            over(RunResult.n_positive), over(case((RunResult.n_positive.is_(None), 1), else_=0)),
            func.sum(case((is_share, 1), else_=0)),
            over(adjusted, is_share), over(adjusted * (1 - adjusted) / n, is_share),
            over(n, is_share),
            func.sum(case((RunResult.n_valid.is_not(None), RunResult.n_valid), else_=None)),
        )
        .where(RunResult.run_id == run_id, RunResult.level == "region")
        .group_by(RunResult.metric, RunResult.respondent_type)
        .order_by(RunResult.metric, RunResult.respondent_type)
    ).all()
    figures = []
    for (metric, rtype, count, total, squares, n_valid, n_positive, n_positive_missing,
         shares, adjusted_sum, variance_sum, n_sum, n_all) in rows:
        figures.append(FigureAggregate(
            metric=metric, respondent_type=rtype, regions=int(count),
            value_sum=float(total or 0.0), value_squares=float(squares or 0.0),
            # no region with a value: the answers that fell short still say how many there were
            n_valid=int(n_valid) if n_valid is not None else
            (int(n_all) if not count and n_all is not None else None),
            n_positive=int(n_positive) if n_positive is not None and not n_positive_missing
            else None,
            share_regions=int(shares or 0), share_adjusted_sum=float(adjusted_sum or 0.0),
            share_variance_sum=float(variance_sum or 0.0), share_n_sum=float(n_sum or 0.0),
        ))
    return FederalData(regions, figures)


def store_federal(run_id: int, figures) -> None:
    """Replace the run's federation rows (no region: visible in the federal scope only) in the
    current transaction."""
    db.execute(delete(RunResult).where(RunResult.run_id == run_id,
                                       RunResult.level == "federation"))
    append_rows(db, RunResult, RESULT_COLUMNS,
                [_row(run_id, None, "federation", None, figure) for figure in figures])


def newer_published(run: ComputationRun) -> int | None:
    """The id of a published run of the same campaign and version over newer inputs."""
    return db.scalar(
        select(ComputationRun.id)
        .where(ComputationRun.campaign_id == run.campaign_id,
               ComputationRun.methodology_key == run.methodology_key,
               ComputationRun.id > run.id,
               ComputationRun.published_at.is_not(None))
        .order_by(ComputationRun.id.desc()).limit(1)
    )


def mark_failed(run_id: int, message: str) -> None:
    with current_app.extensions["cci.sessionmaker"]() as session, \
            tenancy.federal_scope("mark a run failed"):
        # a run published already stays so (its job may die after publishing)
        session.execute(update(ComputationRun)
                        .where(ComputationRun.id == run_id,
                               ComputationRun.status.in_(("queued", "running")))
                        .values(status="failed", error=message[:4000], finished_at=utcnow()))
        session.commit()


def shown_runs():
    """The conditions of a run pages and the API may show: succeeded, not a draft,
    published."""
    return (ComputationRun.status == "succeeded", ComputationRun.is_draft.is_(False),
            ComputationRun.published_at.is_not(None))


def current_run(campaign_id: int, methodology_key: str) -> ComputationRun | None:
    """The published run over the newest inputs (the highest id, not the latest published):
    what pages and the API show as "current"."""
    return db.scalar(
        select(ComputationRun)
        .where(ComputationRun.campaign_id == campaign_id,
               ComputationRun.methodology_key == methodology_key, *shown_runs())
        .order_by(ComputationRun.id.desc()).limit(1)
    )


def current_runs(campaigns: Sequence[Campaign], methodology_key: str | None = None
                 ) -> dict[int, ComputationRun]:
    """:func:`current_run` of each campaign, by campaign id, in one statement (a region's
    trend reads every campaign it took part in, a list grows by one a quarter): of
    ``methodology_key``, or of each campaign's own version. A campaign without one is not in
    the mapping."""
    if not campaigns:
        return {}
    latest = select(func.max(ComputationRun.id)).where(
        ComputationRun.campaign_id.in_([c.id for c in campaigns]), *shown_runs())
    if methodology_key is not None:
        latest = latest.where(ComputationRun.methodology_key == methodology_key)
    else:
        latest = latest.join(Campaign, Campaign.id == ComputationRun.campaign_id).where(
            ComputationRun.methodology_key == Campaign.methodology_key)
    runs = db.scalars(select(ComputationRun).where(
        ComputationRun.id.in_(latest.group_by(ComputationRun.campaign_id))))
    return {run.campaign_id: run for run in runs}


def latest_with_results(campaigns: Sequence[Campaign]) -> Campaign | None:
    """The first of ``campaigns`` (newest first, as pages list them) with a current run of
    its own methodology version: what a results page opens on by default."""
    runs = current_runs(campaigns)
    return next((c for c in campaigns if c.id in runs), None)


def recompute_job(report, campaign_id: int) -> dict:
    run, created = start_run(campaign_id)
    report(1.0, "запущен новый расчёт" if created else "данные не изменились")
    return {"run_id": run.id, "created": created}
