"""`make bench` (python -m bench): the index computation and the CSV import at federal scale.

Generates, in a schema of its own in PostgreSQL, 85 regions, 2,500 offices, 5,000,000
responses with their answers and a checklist for every office and indicator; runs the full
computation of each methodology version through real RQ workers; and measures, in the same
run, the floor (the bare GROUP BY over the same answers) and a raw COPY of the rows the
import stores. Every figure is printed and written to bench/results.json.

BENCH_SCALE (default 1) scales the data down for a quick run, e.g. BENCH_SCALE=0.01.
BENCH_ONLY (default "compute,import,submit,federal,cx") picks the parts to run; "federal" alone
generates the regions and offices only (no responses), then its own results (bench/federal.py);
"cx" (bench/cx.py) computes every CX metric for the federation against the bare GROUP BY over
the same rows.
BENCH_REUSE=1 keeps the data set a previous run generated in the schema (at the same scale)
instead of generating it again, which takes most of a full run: for measuring one part again,
e.g. BENCH_REUSE=1 BENCH_ONLY=submit. The parts then run over what earlier runs added too;
BENCH_REUSE=1 BENCH_ONLY=federal measures the federal overview again over the results it
generated before.
DATABASE_URL must point at PostgreSQL (default: the local server's database "test"), where
the schema BENCH_SCHEMA (default cci_bench) is dropped and re-created; BENCH_REDIS_URL
(default: the local server, db 14) is flushed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import time
from pathlib import Path

from bench.workers import WORKERS
from bench.workers import running_workers

SCHEMA = os.environ.get("BENCH_SCHEMA", "cci_bench")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
BASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PARTS = set(os.environ.get("BENCH_ONLY", "compute,import,submit,federal,cx").split(","))
REUSE = os.environ.get("BENCH_REUSE") == "1"

N_REGIONS = max(2, min(85, round(85 * SCALE)))
N_OFFICES = max(2 * N_REGIONS, round(2500 * SCALE))
N_RESPONSES = max(1000, round(5_000_000 * SCALE))
N_IMPORT = max(500, round(20_000 * min(1.0, SCALE * 10)))


def say(message: str) -> None:
    print(message, flush=True)


def schema_url() -> str:
    if not BASE_URL.startswith("postgresql"):
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgresql://…")
    separator = "&" if "?" in BASE_URL else "?"
    return f"{BASE_URL}{separator}options=-csearch_path%3D{SCHEMA}"


def setup_environment() -> None:
    os.environ["DATABASE_URL"] = schema_url()
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("CCI_INSTANCE_DIR", str(ROOT / "instance" / "bench"))
    os.environ["CCI_JOB_RETRIES"] = "0"


def make_app():
    from cci import create_app

    return create_app()


def reset_schema(app) -> None:
    from alembic import command
    from sqlalchemy import text

    from cci.cli import alembic_config

    with app.extensions["cci.engine"].begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    with app.app_context():
        command.upgrade(alembic_config(app), "heads")
    app.extensions["cci.redis"].flushdb()


def kept_data_set(app) -> int | None:
    """The campaign of a data set a previous run generated in the schema at this scale, or
    None if there is none to reuse."""
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    try:
        with app.extensions["cci.engine"].connect() as c:
            regions = c.execute(text("SELECT count(*) FROM regions")).scalar_one()
            campaign_id = c.execute(text(
                "SELECT id FROM campaigns WHERE name = '2025-Q2 bench'")).scalar()
    except ProgrammingError:  # no schema, or not migrated
        return None
    if campaign_id is None or regions != N_REGIONS:
        say(f"no data set of this scale to reuse in schema {SCHEMA}: generating one")
        return None
    return campaign_id


def timed(connection, sql: str, **params) -> float:
    from sqlalchemy import text

    started = time.perf_counter()
    connection.execute(text(sql), params)
    return time.perf_counter() - started


# --- the data set ---------------------------------------------------------------------------


def generate_directory(app) -> None:
    """The regions and their offices (what every part needs)."""
    from sqlalchemy import text

    with app.extensions["cci.engine"].begin() as c:
        c.execute(text("""
            INSERT INTO regions (code, name, network_type, timezone, is_sample,
                                 created_at, updated_at)
            SELECT 'RU-B' || chr(65 + g / 26) || chr(65 + g % 26), 'Регион ' || g,
                   CASE WHEN g % 2 = 0 THEN 'centralized' ELSE 'decentralized' END,
                   'Europe/Moscow', true, now(), now()
            FROM generate_series(0, :n - 1) g"""), {"n": N_REGIONS})
        c.execute(text("""
            INSERT INTO offices (region_id, code, name, address, kind, is_sample, active,
                                 created_at, updated_at)
            SELECT r.id, 'OF-' || g, 'Офис ' || g, '',
                   CASE WHEN g <= :nr THEN 'main' ELSE 'branch' END,
                   true, true, now(), now()
            FROM generate_series(1, :n) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM regions) r
              ON r.k = (g - 1) % :nr"""), {"n": N_OFFICES, "nr": N_REGIONS})
    say(f"  {N_REGIONS} regions, {N_OFFICES} offices")


def generate(app) -> int:
    """Regions, offices, one campaign (cci-2023), responses, answers, checklists. Returns the
    campaign id. Bulk SQL with generate_series: the data set is the subject, not the loader."""
    from sqlalchemy import text

    registry = app.extensions["cci.registry"]
    indicator_set = registry.indicator_set("cci-2023")
    items = [(i.key, i.kind, [o.key for o in i.options])
             for i in indicator_set.items_for("job_seeker")]
    engine = app.extensions["cci.engine"]
    generate_directory(app)
    with engine.begin() as c:
        campaign_id = c.execute(text("""
            INSERT INTO campaigns (name, methodology_key, starts_on, ends_on, is_sample, created_at)
            VALUES ('2025-Q2 bench', 'cci-2023', '2025-04-01', '2025-06-30', true, now())
            RETURNING id""")).scalar_one()
        c.execute(text("INSERT INTO campaign_regions SELECT :c, id FROM regions"),
                  {"c": campaign_id})
        # The load goes faster without the secondary indexes and constraints; they are
        # restored below, so everything after the load runs on the production schema.
        for index in ("ix_answers_aggregate", "ix_answers_region_id"):
            c.execute(text(f"DROP INDEX IF EXISTS {index}"))
        c.execute(text("ALTER TABLE answers DROP CONSTRAINT IF EXISTS uq_answers_response_id_item"))
        for fk in ("fk_answers_response_id_responses", "fk_answers_office_id_offices",
                   "fk_answers_campaign_id_campaigns", "fk_answers_region_id_regions"):
            c.execute(text(f"ALTER TABLE answers DROP CONSTRAINT IF EXISTS {fk}"))
    started = time.perf_counter()
    with engine.begin() as c:
        c.execute(text("""
            INSERT INTO responses (uid, client_key, region_id, office_id, campaign_id,
                methodology_key, channel, respondent_type, submitted_at, received_at, profile, meta,
                quality_flags, counted, is_sample)
            SELECT gen_random_uuid()::text, 'bench:' || g, o.region_id, o.id, :c, 'cci-2023',
                   'bench',
                   CASE WHEN g % 10 < 7 THEN 'job_seeker' ELSE 'employer' END,
                   timestamptz '2025-04-01' + (g % 7776000) * interval '1 second', now(),
                   '{}', '{}', '[]', true, true
            FROM generate_series(1, :n) g
            JOIN (SELECT id, region_id, row_number() OVER (ORDER BY id) - 1 AS k FROM offices) o
              ON o.k = g % :no"""), {"n": N_RESPONSES, "no": N_OFFICES, "c": campaign_id})
    say(f"  {N_RESPONSES:,} responses in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    values_sql = ", ".join(
        f"('{key}', '{kind}', ARRAY[{', '.join(repr(o) for o in options) or 'NULL'}]::text[])"
        for key, kind, options in items if kind in ("scale", "yesno", "choice"))
    with engine.begin() as c:
        c.execute(text(f"""
            INSERT INTO answers (response_id, region_id, office_id, campaign_id, respondent_type,
                                 counted, item, value, choice)
            SELECT r.id, r.region_id, r.office_id, r.campaign_id, r.respondent_type, true, it.item,
                   CASE it.kind WHEN 'scale' THEN
                            CASE WHEN random() < 0.05 THEN NULL
                                 ELSE 1 + floor(random() * 10)::int END
                        WHEN 'yesno' THEN floor(random() * 2)::int END,
                   CASE it.kind WHEN 'choice' THEN
                        it.options[1 + floor(random() * array_length(it.options, 1))::int] END
            FROM responses r CROSS JOIN (VALUES {values_sql}) AS it(item, kind, options)"""))
        count = c.execute(text("SELECT count(*) FROM answers")).scalar_one()
    say(f"  {count:,} answers in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with engine.begin() as c:
        c.execute(text("CREATE INDEX ix_answers_aggregate ON answers (campaign_id, region_id, "
                       "office_id, respondent_type, item, choice, value) WHERE counted"))
        c.execute(text("CREATE INDEX ix_answers_region_id ON answers (region_id)"))
        c.execute(text("ALTER TABLE answers ADD CONSTRAINT uq_answers_response_id_item "
                       "UNIQUE (response_id, item)"))
        # Enforced for every row written from now on (the import and COPY below alike);
        # the generated rows are known to satisfy them.
        for fk, column, table in (("fk_answers_response_id_responses", "response_id", "responses"),
                                  ("fk_answers_office_id_offices", "office_id", "offices"),
                                  ("fk_answers_campaign_id_campaigns", "campaign_id", "campaigns"),
                                  ("fk_answers_region_id_regions", "region_id", "regions")):
            c.execute(text(f"ALTER TABLE answers ADD CONSTRAINT {fk} FOREIGN KEY ({column}) "
                           f"REFERENCES {table} (id) NOT VALID"))
    # What autovacuum does to a table that has settled: statistics and the visibility map
    # (index-only scans need it).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    say(f"  indexes, statistics and visibility map in {time.perf_counter() - started:.1f} s")
    _checklists(app, campaign_id, indicator_set)
    return campaign_id


def _checklists(app, campaign_id: int, indicator_set) -> None:
    from sqlalchemy import text

    rnd = random.Random(7)
    rows = []
    with app.extensions["cci.engine"].begin() as c:
        offices = c.execute(text("SELECT o.id, o.region_id, r.network_type FROM offices o "
                                 "JOIN regions r ON r.id = o.region_id ORDER BY o.id")).all()
        seen_regions: set[tuple[int, str]] = set()
        for office_id, region_id, network in offices:
            for indicator in indicator_set.indicators:
                if indicator.kind != "objective" or indicator.components:
                    continue
                regional = indicator.level == "network" and network == "centralized"
                if regional:
                    if (region_id, indicator.code) in seen_regions:
                        continue
                    seen_regions.add((region_id, indicator.code))
                values = {p.key: (rnd.randint(100, 900) if p.kind == "number" else
                                  rnd.choice(p.options).key if p.kind == "choice" else
                                  rnd.random() < 0.7) for p in indicator.checklist}
                rows.append({"c": campaign_id, "r": region_id,
                             "o": None if regional else office_id,
                             "i": indicator.code, "v": json.dumps(values)})
        c.execute(text("INSERT INTO checklists (campaign_id, region_id, office_id, indicator, "
                       "values, evidence, created_at, updated_at) "
                       "VALUES (:c, :r, :o, :i, CAST(:v AS jsonb), '{}', now(), now())"), rows)
    say(f"  {len(rows):,} checklists")


# --- the computation --------------------------------------------------------------------------


def compute_floor(app, campaign_id: int) -> float:
    """The bare aggregate over the same answers, in one statement: what no compute can beat."""

    with app.extensions["cci.engine"].connect() as c:
        return timed(c, """
            SELECT office_id, respondent_type, item, choice, count(value),
                   sum(CASE WHEN value >= 8 THEN 1 ELSE 0 END),
                   sum(CASE WHEN value = 1 THEN 1 ELSE 0 END), count(*)
            FROM answers WHERE campaign_id = :c AND counted
            GROUP BY office_id, respondent_type, item, choice""", c=campaign_id)


def run_compute(app, campaign_id: int, key: str) -> float:
    """Enqueue a full run and wait until it is published (or ready, for a draft)."""
    from cci.foundation.db import db
    from cci.foundation.models import ComputationRun
    from cci.index import compute

    started = time.perf_counter()
    with app.app_context():
        run, _ = compute.start_run(campaign_id, key, draft=key != "cci-2023")
        run_id = run.id
    while True:
        with app.app_context():
            run = db.get(ComputationRun, run_id)
            if run.status in ("succeeded", "failed"):
                break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if run.status != "succeeded":
        sys.exit(f"run {run_id} failed: {run.error}")
    return elapsed


# --- the import ---------------------------------------------------------------------------------


def import_file(app, campaign_id: int, rows: int) -> tuple[bytes, list[list]]:
    """A responses CSV as Russian offices export it (cp1251, ';'), for one region's offices."""
    from sqlalchemy import text

    indicator_set = app.extensions["cci.registry"].indicator_set("cci-2023")
    items = [i for i in indicator_set.items_for("job_seeker") if i.kind in ("scale", "yesno")
             and not i.follows]
    with app.extensions["cci.engine"].connect() as c:
        region_id, region_code = c.execute(
            text("SELECT id, code FROM regions ORDER BY id LIMIT 1")).one()
        offices = c.execute(text("SELECT id, code FROM offices WHERE region_id = :r"),
                            {"r": region_id}).all()
    rnd = random.Random(11)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["response_id", "office_code", "respondent_type", "submitted_at"]
                    + [i.key for i in items])
    records = []
    for n in range(rows):
        office_id, office_code = offices[n % len(offices)]
        answers = [rnd.randint(1, 10) if i.kind == "scale" else rnd.choice(("да", "нет"))
                   for i in items]
        writer.writerow([f"imp-{n}", office_code, "соискатель", "15.05.2025 10:30", *answers])
        records.append((region_id, region_code, office_id, n, answers))
    return out.getvalue().encode("cp1251"), [items, records]


def run_import(app, campaign_id: int, data: bytes) -> float:
    from sqlalchemy import select

    from cci.collection import imports
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import ImportRecord
    from cci.foundation.models import Region

    with app.app_context():
        with tenancy.federal_scope("bench"):
            region = db.scalar(select(Region).order_by(Region.id).limit(1))
        with tenancy.region_scope(region.id, "bench import"):
            record = ImportRecord(region_id=region.id, campaign_id=campaign_id, kind="responses",
                                  filename="bench.csv", content=data, size=len(data))
            db.add(record)
            db.commit()
            started = time.perf_counter()
            result = imports.run_import(record.id, lambda *_: None)
            elapsed = time.perf_counter() - started
    if result.get("created") is None and result.get("created_count") is None and not result:
        sys.exit(f"the import failed: {result}")
    return elapsed


def copy_rows(app, campaign_id: int, payload: list) -> float:
    """The same responses and answers through COPY: the ceiling of any import."""
    items, records = payload
    raw = app.extensions["cci.engine"].raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        with cursor.copy("COPY responses (uid, client_key, region_id, office_id, campaign_id, "
                         "methodology_key, channel, respondent_type, submitted_at, received_at, "
                         "profile, meta, quality_flags, counted, is_sample) FROM STDIN") as copy:
            for region_id, _code, office_id, n, _answers in records:
                copy.write_row((f"00000000-0000-0000-0000-{n:012d}", f"copy:{n}", region_id,
                                office_id, campaign_id, "cci-2023", "import", "job_seeker",
                                "2025-05-15 10:30+03", "2025-05-15 10:30+03", "{}", "{}", "[]",
                                True, False))
        ids = dict(cursor.execute(
            "SELECT client_key, id FROM responses WHERE client_key LIKE 'copy:%'").fetchall())
        with cursor.copy("COPY answers (response_id, region_id, office_id, campaign_id, "
                         "respondent_type, counted, item, value) FROM STDIN") as copy:
            for region_id, _code, office_id, n, answers in records:
                for item, answer in zip(items, answers, strict=True):
                    value = answer if item.kind == "scale" else int(answer == "да")
                    copy.write_row((ids[f"copy:{n}"], region_id, office_id, campaign_id,
                                    "job_seeker", True, item.key, value))
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def bench_compute(app, campaign_id: int, results: dict) -> None:
    floor = min(compute_floor(app, campaign_id) for _ in range(2))
    results["compute_floor_seconds"] = round(floor, 3)
    say(f"floor: bare GROUP BY over the campaign's answers {floor:.2f} s")
    with running_workers(app):
        for key in ("cci-2023", "cci-2022"):
            seconds = run_compute(app, campaign_id, key)
            ratio = seconds / floor
            results[f"compute_seconds[{key}]"] = round(seconds, 3)
            results[f"compute_ratio_to_floor[{key}]"] = round(ratio, 3)
            say(f"compute {key}: {seconds:.2f} s = {ratio:.2f} × floor (goal ≤ 2)")
    results["compute_seconds"] = results["compute_seconds[cci-2023]"]
    results["compute_ratio_to_floor"] = results["compute_ratio_to_floor[cci-2023]"]


def bench_import(app, campaign_id: int, results: dict) -> None:
    data, payload = import_file(app, campaign_id, N_IMPORT)
    import_seconds = run_import(app, campaign_id, data)
    copy_seconds = copy_rows(app, campaign_id, payload)
    results.update(
        import_rows=N_IMPORT,
        import_rows_per_second=round(N_IMPORT / import_seconds, 1),
        copy_rows_per_second=round(N_IMPORT / copy_seconds, 1),
        import_ratio_to_copy=round(copy_seconds / import_seconds, 3),
    )
    say(f"import: {N_IMPORT:,} rows in {import_seconds:.2f} s "
        f"({results['import_rows_per_second']:,.0f} rows/s); COPY of the same rows "
        f"{copy_seconds:.2f} s ({results['copy_rows_per_second']:,.0f} rows/s); "
        f"ratio {results['import_ratio_to_copy']:.2f} (goal ≥ 0.5)")


def main() -> None:
    setup_environment()
    app = make_app()
    say(f"make bench: scale {SCALE} — {N_REGIONS} regions, {N_OFFICES} offices, "
        f"{N_RESPONSES:,} responses, {WORKERS} RQ workers; parts: {', '.join(sorted(PARTS))}")
    federal_only = {"federal"} == PARTS
    if federal_only:  # the federal part needs the regions and offices only, or its own results
        from bench import federal

        campaign_id = federal.kept_results(app, N_REGIONS) if REUSE else None
    else:
        campaign_id = kept_data_set(app) if REUSE else None
    reused = campaign_id is not None
    if not reused and federal_only:
        reset_schema(app)
        generate_directory(app)
    elif not reused:
        reset_schema(app)
        say("generating the data set…")
        if PARTS - {"cx"}:
            campaign_id = generate(app)
        else:  # the CX metrics alone need the regions and offices only
            from bench import cx

            cx.generate_directory(app, N_REGIONS, N_OFFICES)
    else:
        from alembic import command

        from cci.cli import alembic_config

        with app.app_context():
            command.upgrade(alembic_config(app), "heads")  # kept by an older version, maybe
        app.extensions["cci.redis"].flushdb()
        say(f"reusing the data set kept in schema {SCHEMA} (BENCH_REUSE)")
    results: dict[str, float | int] = {
        "scale": SCALE, "regions": N_REGIONS, "offices": N_OFFICES, "responses": N_RESPONSES,
        "workers": WORKERS, "data_set_reused": reused,
    }
    if "compute" in PARTS:
        bench_compute(app, campaign_id, results)
    if "import" in PARTS:
        bench_import(app, campaign_id, results)
    if "submit" in PARTS:
        from bench import submit

        submit.bench_submit(app, campaign_id, results)
    if "federal" in PARTS:
        from bench import federal

        federal.bench_federal(app, results, kept=campaign_id if federal_only else None)
    if "cx" in PARTS:
        from bench import cx

        cx.bench_cx(app, results)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    say(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
