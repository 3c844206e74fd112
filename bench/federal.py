"""The federal overview at federal scale for `make bench` (part "federal").

The data: 8 quarterly campaigns of every region of the bench, each with a published run under
both methodology versions, and every run's rows as the compute engine stores them (office,
region and federation rows of every indicator per respondent type and pooled, groups, parts,
perspectives, the index). The rows are generated with bulk INSERT … SELECT, not computed: the
subject is reading published results, not computing them (the "compute" part measures that).

Measured in the same run, against gunicorn on loopback (the platform's ``wsgi:app``, the
submit part's configuration):

* the overview page ``/federal/`` (the latest campaign, its movement since the one before)
  and a template-only page of the same app (``/account/password``: a logged-in page that
  renders a form and reads nothing), each by :data:`CLIENTS` concurrent logged-in analysts
  back to back for ``BENCH_FEDERAL_SECONDS`` (default 15) s: p50/p95/p99 and pages per second;
  ``federal_ratio_to_ceiling`` is the overview's throughput over the template page's; and
  what one page cost each group of processes (gunicorn, PostgreSQL, Redis, this load
  generator), in ms of CPU;
* the overview's XLSX export, one request at a time (the median of :data:`EXPORT_TRIES`),
  against the query that feeds it, in this process (the median of as many calls of
  ``federal_overview_with_movement``): ``export_ratio_to_query``.

Goals (stated, not tuned to): p95 < 100 ms, ≥ 0.5 × the template page's throughput, the export
in under 2 × its query.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench import cpu
from bench import submit
from bench.submit import HTTPError
from bench.submit import Tally

CLIENTS = 16
SECONDS = float(os.environ.get("BENCH_FEDERAL_SECONDS", "15"))
WARMUP_SECONDS = 2.0
CAMPAIGNS = 8
VERSIONS = ("cci-2023", "cci-2022")
EXPORT_TRIES = 7
ANALYST_EMAIL = "bench-federal@example.ru"
ANALYST_PASSWORD = "Сводка-85-регионов!"  # noqa: S105 -- a throwaway user of the bench schema
TEMPLATE_PAGE = "/account/password"

GOAL_P95_MS = 100.0
GOAL_RATIO = 0.5
GOAL_EXPORT = 2.0


def say(message: str) -> None:
    print(message, flush=True)


# --- the data set -------------------------------------------------------------------------


def _metrics(indicator_set) -> list[tuple[str, str | None]]:
    """(metric, respondent type) of every row a run of this set stores per office, region and
    federation: as the built-in sets' compute_region does."""
    types: tuple[str | None, ...] = ("job_seeker", "employer", None)
    rows: list[tuple[str, str | None]] = [("index", None)]
    if indicator_set.key == "cci-2023":  # the index of the two perspectives
        rows += [("perspective", "job_seeker"), ("perspective", "employer")]
    else:  # the pilot's subjective and objective halves
        rows += [("part:subjective", None), ("part:objective", None)]
    rows += [(f"group:{code}", None) for code in indicator_set.groups]
    for indicator in indicator_set.indicators:
        for rtype in (types if indicator.kind == "subjective" else (None,)):
            rows.append((f"indicator:{indicator.code}", rtype))
    return rows


def _values_sql(metrics: list[tuple[str, str | None]]) -> str:
    return ", ".join("('{}', {}::varchar)".format(metric, f"'{rtype}'" if rtype else "NULL")
                     for metric, rtype in metrics)


#: a row's figures from one random number r: the index and perspectives on 0–100, the rest
#: on 0–1, an interval around the value, the index's stars by the default bands
_FIGURES = """
    s * (0.40 + 0.55 * r), 10 + floor(r * 200)::int,
    s * (0.35 + 0.55 * r), s * (0.45 + 0.55 * r), false,
    CASE WHEN m.metric = 'index' THEN CASE WHEN 0.40 + 0.55 * r >= 0.9 THEN 5
        WHEN 0.40 + 0.55 * r >= 0.8 THEN 4 WHEN 0.40 + 0.55 * r >= 0.7 THEN 3
        WHEN 0.40 + 0.55 * r >= 0.6 THEN 2 ELSE 1 END END"""
_SCALE = "CASE WHEN m.metric IN ('index', 'perspective') THEN 100.0 ELSE 1.0 END"


def _random(outer: str) -> str:
    """A random number per row: the lateral refers to both sides of the row (the metric and
    ``outer``, the office's or region's id), so it is drawn again for each (one that refers
    to the metric alone is drawn once a metric and gives every region the same figures)."""
    return (f"CROSS JOIN LATERAL (SELECT {_SCALE} AS s, "
            f"random() + 0 * length(m.metric) + 0 * {outer} AS r) x")


_INSERT = ("INSERT INTO run_results (run_id, region_id, level, office_id, metric, "
           "respondent_type, value, n_valid, ci_low, ci_high, insufficient, stars, detail) ")


def generate_results(app) -> int:
    """The campaigns, runs and rows; an analyst to log in. Returns the latest campaign's id."""
    from sqlalchemy import select
    from sqlalchemy import text

    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import User
    from cci.foundation.users import create_user

    registry = app.extensions["cci.registry"]
    engine = app.extensions["cci.engine"]
    started = time.perf_counter()
    latest = 0
    for quarter in range(CAMPAIGNS):
        year, q = 2023 + (quarter + 2) // 4, (quarter + 2) % 4
        starts = f"{year}-{3 * q + 1:02d}-01"
        ends = {0: "03-31", 1: "06-30", 2: "09-30", 3: "12-31"}[q]
        with engine.begin() as c:
            campaign_id = c.execute(text("""
                INSERT INTO campaigns (name, methodology_key, starts_on, ends_on, is_sample,
                                       created_at)
                VALUES (:name, 'cci-2023', :starts, :ends, true, now()) RETURNING id"""),
                {"name": f"{year}-Q{q + 1} federal bench", "starts": starts,
                 "ends": f"{year}-{ends}"}).scalar_one()
            c.execute(text("INSERT INTO campaign_regions SELECT :c, id FROM regions"),
                      {"c": campaign_id})
            for key in VERSIONS:
                indicator_set = registry.indicator_set(key)
                run_id = c.execute(text("""
                    INSERT INTO computation_runs (campaign_id, methodology_key, plugin_package,
                        plugin_version, parameters, input_fingerprint, status, progress,
                        regions_total, is_draft, summary, created_at, started_at, finished_at,
                        published_at)
                    SELECT :c, CAST(:key AS text), 'bench', '0', '{}',
                           md5(CAST(:c AS text) || CAST(:key AS text)), 'succeeded', 1.0,
                           count(*), false, '{}', now(), now(), now(), now() FROM regions
                    RETURNING id"""), {"c": campaign_id, "key": key}).scalar_one()
                metrics = f"(VALUES {_values_sql(_metrics(indicator_set))}) AS m(metric, rtype)"
                c.execute(text(_INSERT + f"""
                    SELECT :run, o.region_id, 'office', o.id, m.metric, m.rtype, {_FIGURES},
                           '{{}}'::jsonb
                    FROM offices o CROSS JOIN {metrics} {_random("o.id")}"""), {"run": run_id})
                c.execute(text(_INSERT + f"""
                    SELECT :run, g.region_id, 'region', NULL, m.metric, m.rtype, {_FIGURES},
                           CASE WHEN m.metric = 'index' AND m.rtype IS NULL THEN
                                jsonb_build_object('offices', g.n, 'offices_in_network', g.n)
                           ELSE jsonb_build_object('offices', g.n) END
                    FROM (SELECT region_id, count(*) AS n FROM offices GROUP BY region_id) g
                    CROSS JOIN {metrics} {_random("g.region_id")}"""), {"run": run_id})
                c.execute(text(_INSERT + f"""
                    SELECT :run, NULL, 'federation', NULL, m.metric, m.rtype, {_FIGURES},
                           jsonb_build_object('regions', (SELECT count(*) FROM regions))
                    FROM {metrics} {_random("0")}"""), {"run": run_id})
        latest = campaign_id
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE run_results"))
        rows = c.execute(text("SELECT count(*) FROM run_results")).scalar_one()
    with app.app_context(), tenancy.federal_scope("bench: the federal analyst"):
        if db.scalar(select(User.id).where(User.email == ANALYST_EMAIL)) is None:
            create_user(email=ANALYST_EMAIL, role="federal_analyst", password=ANALYST_PASSWORD)
            db.commit()
        db.remove()
    say(f"  {CAMPAIGNS} campaigns × {len(VERSIONS)} versions: {rows:,} result rows in "
        f"{time.perf_counter() - started:.1f} s")
    return latest


# --- the measurements -----------------------------------------------------------------------


class Analyst(submit.StaffBrowser):
    """A logged-in federal analyst on a connection of its own, opening one page back to back."""

    def __init__(self, port: int, n: int):
        super().__init__(port, f"127.31.{n // 250}.{1 + n % 250}", ANALYST_EMAIL,
                         ANALYST_PASSWORD)


async def phase(analysts: list[Analyst], path: str, seconds: float, tally: Tally | None = None,
                expect: bytes = b"") -> Tally:
    """Every analyst opens ``path`` back to back for ``seconds``: latencies and pages/s."""
    tally = tally or Tally()
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds

    async def client(analyst: Analyst) -> None:
        while loop.time() < deadline:
            tally.requests += 1
            began = time.perf_counter()
            try:
                reply = await analyst.request("GET", path)
            except (TimeoutError, OSError, HTTPError, asyncio.IncompleteReadError) as exc:
                analyst.connection.close()
                tally.error("connection", f"{path}: {type(exc).__name__}")
                continue
            tally.latencies.append(time.perf_counter() - began)
            if reply.status == 200 and expect in reply.body:
                tally.accepted += 1
            else:
                tally.error(f"HTTP {reply.status}", path)

    await asyncio.gather(*(client(a) for a in analysts))
    tally.elapsed = loop.time() - started
    return tally


def query_seconds(app, campaign_id: int) -> float:
    """The query that feeds the export: the overview with its movement, in this process."""
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.index import compute
    from cci.index.reports import federal_overview_with_movement

    times = []
    with app.app_context(), tenancy.federal_scope("bench: the overview's query"):
        run = compute.current_run(campaign_id, "cci-2023")
        for _ in range(EXPORT_TRIES):
            began = time.perf_counter()
            federal_overview_with_movement(run)
            times.append(time.perf_counter() - began)
            db.expire_all()
        db.remove()
    return statistics.median(times)


async def export_seconds(analyst: Analyst, campaign_id: int) -> float:
    times = []
    for _ in range(EXPORT_TRIES):
        began = time.perf_counter()
        reply = await analyst.request("GET", f"/federal/overview.xlsx?campaign={campaign_id}")
        times.append(time.perf_counter() - began)
        if reply.status != 200 or not reply.body.startswith(b"PK"):
            raise SystemExit(f"the export failed: {reply.status}")
    return statistics.median(times)


async def _metered(web_pid: int, analysts: list[Analyst], path: str,
                   expect: bytes = b"") -> tuple[Tally, dict[str, float]]:
    """A measured phase, and what one page cost each group of processes, in ms of CPU."""
    meter = cpu.Meter(cpu.bench_groups(web_pid, [])).start()
    tally = await phase(analysts, path, SECONDS, expect=expect)
    meter.stop()
    return tally, meter.ms_each(tally.accepted)


async def _measure(app, campaign_id: int, server: submit.Server, results: dict) -> None:
    analysts = [Analyst(server.port, n) for n in range(CLIENTS)]
    for analyst in analysts:
        await analyst.log_in()
    overview = f"/federal/?campaign={campaign_id}"
    # the page's own mark: the federation's table is there (a page without results is not
    # the page measured)
    mark = b'id="federation-figures"'
    await phase(analysts, overview, WARMUP_SECONDS, expect=mark)
    await phase(analysts, TEMPLATE_PAGE, WARMUP_SECONDS)
    federal, federal_cpu = await _metered(server.process.pid, analysts, overview, mark)
    ceiling, ceiling_cpu = await _metered(server.process.pid, analysts, TEMPLATE_PAGE)
    export = await export_seconds(analysts[0], campaign_id)
    for analyst in analysts:
        analyst.connection.close()
    query = query_seconds(app, campaign_id)
    ratio = federal.per_second() / ceiling.per_second() if ceiling.per_second() else 0.0
    results.update(
        federal_p50_ms=round(federal.percentile(50), 1),
        federal_p95_ms=round(federal.percentile(95), 1),
        federal_p99_ms=round(federal.percentile(99), 1),
        federal_pages_per_second=round(federal.per_second(), 1),
        federal_errors=federal.error_count,
        federal_cpu_ms_per_page=federal_cpu, ceiling_cpu_ms_per_page=ceiling_cpu,
        ceiling_p95_ms=round(ceiling.percentile(95), 1),
        ceiling_pages_per_second=round(ceiling.per_second(), 1),
        federal_ratio_to_ceiling=round(ratio, 3),
        export_ms=round(1000 * export, 1), export_query_ms=round(1000 * query, 1),
        export_ratio_to_query=round(export / query, 3) if query else None,
    )
    verdict = {True: "met", False: "MISSED"}
    say(f"federal overview: {CLIENTS} analysts for {SECONDS:.0f} s: "
        f"{federal.per_second():.1f} pages/s, p50 {federal.percentile(50):.1f} ms, "
        f"p95 {federal.percentile(95):.1f} ms (goal < {GOAL_P95_MS:.0f}: "
        f"{verdict[federal.percentile(95) < GOAL_P95_MS]}), errors {federal.error_count}"
        + (f" {federal.samples}" if federal.samples else ""))
    say(submit.cpu_line(federal_cpu, "page"))
    say(f"template-only page {TEMPLATE_PAGE}: {ceiling.per_second():.1f} pages/s, "
        f"p95 {ceiling.percentile(95):.1f} ms; the overview's throughput is {ratio:.2f} × it "
        f"(goal ≥ {GOAL_RATIO}: {verdict[ratio >= GOAL_RATIO]})")
    say(submit.cpu_line(ceiling_cpu, "page"))
    say(f"federal XLSX export {1000 * export:.1f} ms; the query that feeds it "
        f"{1000 * query:.1f} ms; ratio {export / query:.2f} (goal < {GOAL_EXPORT:.0f}: "
        f"{verdict[export / query < GOAL_EXPORT]})")


def kept_results(app, regions: int) -> int | None:
    """The latest campaign of the results an earlier run generated (BENCH_REUSE=1), if the
    schema holds them for this many regions; else None."""
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    try:
        with app.extensions["cci.engine"].connect() as c:
            if c.execute(text("SELECT count(*) FROM regions")).scalar_one() != regions:
                return None
            return c.execute(text(
                "SELECT max(c.id) FROM campaigns c WHERE c.name LIKE '% federal bench' AND "
                "(SELECT count(*) FROM computation_runs r WHERE r.campaign_id = c.id "
                "AND r.published_at IS NOT NULL) = :versions"),
                {"versions": len(VERSIONS)}).scalar()
    except ProgrammingError:  # no schema, or not migrated
        return None


def bench_federal(app, results: dict, kept: int | None = None) -> None:
    if kept is not None:
        say("federal overview: reusing the results generated before (BENCH_REUSE)")
        campaign_id = kept
    else:
        say("federal overview: generating 8 campaigns × 2 versions of results…")
        campaign_id = generate_results(app)
    logs = Path(tempfile.mkdtemp(prefix="cci-bench-federal-"))
    server = submit.start_server("federal", "wsgi:app", logs)
    try:
        asyncio.run(submit.wait_ready(server, "/login"))
        asyncio.run(_measure(app, campaign_id, server, results))
    finally:
        submit.stop_servers([server])
    problems = server.log_problems()
    if problems:
        say(f"  the server logged problems ({logs}): {problems[:3]}")
