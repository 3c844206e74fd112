"""`make bench`, part "cx": every installed CX metric computed for the federation over a
quarter of touchpoint survey answers, console call records, telephony days and imported day
counts, against the floor: the bare GROUP BY over the same rows, one scan per source table
with every sum the metrics need (``cx_compute_ratio_to_floor``).

The data: for every office, BENCH_CX_ANSWERS (default 400) touchpoint answers (CSAT, CES and
NPS at the office and the kiosk, the rating at the specialist's window) and BENCH_CX_CALLS
(default 400) calls over the quarter; a telephony day per region; weekly counts per office
(site funnel, services received, e-queue contacts and clients).
"""

from __future__ import annotations

import os
import secrets
import time

PER_OFFICE_ANSWERS = int(os.environ.get("BENCH_CX_ANSWERS", "400"))
PER_OFFICE_CALLS = int(os.environ.get("BENCH_CX_CALLS", "400"))
QUARTER = ("2025-04-01", "2025-07-01")


def say(message: str) -> None:
    print(message, flush=True)


def generate_directory(app, n_regions: int, n_offices: int) -> None:
    """Regions and offices only (when the index's data set is not generated)."""
    from sqlalchemy import text

    with app.extensions["cci.engine"].begin() as c:
        c.execute(text("""
            INSERT INTO regions (code, name, network_type, timezone, is_sample,
                                 created_at, updated_at)
            SELECT 'RU-B' || chr(65 + g / 26) || chr(65 + g % 26), 'Регион ' || g,
                   'centralized', 'Europe/Moscow', true, now(), now()
            FROM generate_series(0, :n - 1) g"""), {"n": n_regions})
        c.execute(text("""
            INSERT INTO offices (region_id, code, name, address, kind, is_sample, active,
                                 created_at, updated_at)
            SELECT r.id, 'OF-' || g, 'Офис ' || g, '', 'branch', true, true, now(), now()
            FROM generate_series(1, :n) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM regions) r
              ON r.k = (g - 1) % :nr"""), {"n": n_offices, "nr": n_regions})


def _operator(app) -> int:
    from sqlalchemy import select

    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import User
    from cci.foundation.users import create_user

    with app.app_context(), tenancy.federal_scope("bench"):
        user_id = db.scalar(select(User.id).where(User.email == "cx-bench@example.ru"))
        if user_id is None:
            # a throwaway account of the bench's own schema, never logged in to
            create_user(email="cx-bench@example.ru", role="admin",
                        password=secrets.token_urlsafe(24))
            db.commit()
            user_id = db.scalar(select(User.id).where(User.email == "cx-bench@example.ru"))
        assert user_id is not None
        return user_id


def generate(app) -> dict[str, int]:
    from sqlalchemy import text

    operator = _operator(app)
    engine = app.extensions["cci.engine"]
    started = time.perf_counter()
    with engine.begin() as c:
        for table in ("touchpoint_answers", "contact_calls", "telephony_stats", "cx_counts"):
            c.execute(text(f"DELETE FROM {table}"))
        c.execute(text("""
            INSERT INTO touchpoint_answers (client_key, region_id, office_id, touchpoint,
                question, value, channel, meta, quality_flags, counted, submitted_at,
                received_at)
            SELECT 'bench-' || o.id || '-' || g, o.region_id, o.id,
                   (ARRAY['office', 'kiosk', 'office', 'specialist_window'])[1 + g % 4],
                   (ARRAY['csat', 'ces', 'nps', 'window_rating'])[1 + g % 4],
                   CASE WHEN g % 4 = 2 THEN floor(random() * 11)::int
                        ELSE 1 + floor(random() * 5)::int END,
                   'bench', '{}', '[]', random() > 0.03,
                   timestamptz '2025-04-01' + (g % 7862400) * interval '1 second', now()
            FROM offices o CROSS JOIN generate_series(1, :n) g"""),
            {"n": PER_OFFICE_ANSWERS})
        c.execute(text("""
            INSERT INTO contact_calls (region_id, office_id, operator_id, started_at, ended_at,
                resolved_first_contact, transfers, escalated, waiting_seconds,
                handling_seconds, created_at)
            SELECT o.region_id, o.id, :op,
                   timestamptz '2025-04-01' + (g * 19391 % 7862400) * interval '1 second',
                   timestamptz '2025-04-01' + (g * 19391 % 7862400 + 300) * interval '1 second',
                   random() < 0.7, 0, random() < 0.1, floor(random() * 120)::int,
                   60 + floor(random() * 600)::int, now()
            FROM offices o CROSS JOIN generate_series(1, :n) g"""),
            {"n": PER_OFFICE_CALLS, "op": operator})
        c.execute(text("""
            INSERT INTO telephony_stats (region_id, day, line, offered, answered, abandoned,
                answered_within_20s, wait_seconds_total, handle_seconds_total, created_at,
                updated_at)
            SELECT r.id, date '2025-04-01' + d, '8-800', 500, 450, 50, 380, 9000, 120000,
                   now(), now()
            FROM regions r CROSS JOIN generate_series(0, 90) d"""))
        c.execute(text("""
            INSERT INTO cx_counts (region_id, office_id, touchpoint, day, kind, count,
                                   created_at)
            SELECT o.region_id, o.id, k.touchpoint, date '2025-04-01' + 7 * w, k.kind,
                   k.base + floor(random() * k.base)::int, now()
            FROM offices o CROSS JOIN generate_series(0, 12) w
            CROSS JOIN (VALUES ('site', 'service_page_visits', 400),
                               ('site', 'preregistrations', 60),
                               ('office', 'services_received', 40),
                               ('office', 'contacts', 120),
                               ('office', 'clients', 80)) AS k(touchpoint, kind, base)"""))
        counts = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("touchpoint_answers", "contact_calls", "telephony_stats",
                            "cx_counts")}
        c.execute(text("ANALYZE touchpoint_answers"))
        c.execute(text("ANALYZE contact_calls"))
        c.execute(text("ANALYZE cx_counts"))
    say(f"  CX rows: {counts} in {time.perf_counter() - started:.1f} s")
    return counts


FLOOR = (
    """SELECT region_id, office_id, touchpoint, question,
              date_trunc('month', submitted_at) AS m, count(*),
              sum(CASE WHEN value >= 4 THEN 1 ELSE 0 END),
              sum(CASE WHEN value >= 9 THEN 1 ELSE 0 END),
              sum(CASE WHEN value <= 6 THEN 1 ELSE 0 END), sum(value), sum(value * value)
       FROM touchpoint_answers
       WHERE counted AND submitted_at >= :start AND submitted_at < :end
       GROUP BY 1, 2, 3, 4, 5""",
    """SELECT region_id, office_id, date_trunc('month', started_at) AS m, count(*),
              sum(CASE WHEN resolved_first_contact THEN 1 ELSE 0 END),
              sum(CASE WHEN escalated THEN 1 ELSE 0 END),
              sum(CASE WHEN response_id IS NOT NULL THEN 1 ELSE 0 END),
              sum(handling_seconds), sum(handling_seconds * handling_seconds),
              sum(waiting_seconds), sum(waiting_seconds * waiting_seconds)
       FROM contact_calls
       WHERE ended_at IS NOT NULL AND started_at >= :start AND started_at < :end
       GROUP BY 1, 2, 3""",
    """SELECT region_id, date_trunc('month', day) AS m, sum(offered), sum(abandoned),
              sum(answered_within_20s)
       FROM telephony_stats WHERE day >= :start AND day < :end GROUP BY 1, 2""",
    """SELECT region_id, office_id, touchpoint, kind, date_trunc('month', day) AS m, sum(count)
       FROM cx_counts WHERE day >= :start AND day < :end GROUP BY 1, 2, 3, 4, 5""",
)


def floor_seconds(app) -> float:
    import datetime as dt

    from sqlalchemy import text

    start, end = (dt.datetime.fromisoformat(f"{d}T00:00:00+00:00") for d in QUARTER)
    total = 0.0
    with app.extensions["cci.engine"].connect() as c:
        for sql in FLOOR:
            began = time.perf_counter()
            c.execute(text(sql), {"start": start, "end": end}).all()
            total += time.perf_counter() - began
    return total


def computed_seconds(app) -> tuple[float, int]:
    import datetime as dt

    from sqlalchemy import func
    from sqlalchemy import select

    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import CxValue
    from cci.index import cx_compute

    start, end = (dt.date.fromisoformat(d) for d in QUARTER)
    with app.app_context(), tenancy.federal_scope("bench"):
        began = time.perf_counter()
        run = cx_compute.new_run(start, end, None)
        cx_compute.compute(run)
        db.commit()
        seconds = time.perf_counter() - began
        cells = db.scalar(select(func.count(CxValue.id)).where(CxValue.run_id == run.id))
    return seconds, cells or 0


def bench_cx(app, results: dict) -> None:
    say("CX metrics: generating a quarter of touchpoint answers and calls…")
    counts = generate(app)
    floor_seconds(app)  # warm the cache for both sides alike
    floor = min(floor_seconds(app) for _ in range(2))
    computed, cells = min(computed_seconds(app) for _ in range(2))
    results.update({f"cx_rows[{table}]": n for table, n in counts.items()})
    results["cx_floor_seconds"] = round(floor, 3)
    results["cx_compute_seconds"] = round(computed, 3)
    results["cx_cells"] = cells
    results["cx_compute_ratio_to_floor"] = round(computed / floor, 3)
    say(f"CX metrics for the federation: {computed:.2f} s ({cells:,} cells stored); floor "
        f"(bare GROUP BY per source table) {floor:.2f} s; ratio {computed / floor:.2f} "
        "(goal ≤ 2)")
