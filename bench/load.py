"""`make load` (python -m bench.load): the platform under a campaign day's load, on loopback,
for a bounded time.

In a schema of its own in PostgreSQL (``LOAD_SCHEMA``, default ``cci_load``, dropped and
re-created) with the pilot regions, the sample campaigns and a campaign open today: gunicorn
serving the platform, real RQ workers, and for ``LOAD_SECONDS`` (default 120) at once

* ``LOAD_CLIENTS`` (default 200) simulated clients: three in four are kiosks (paired over HTTP
  as a device pairs, each from a loopback address of its own) delivering a survey every
  ``LOAD_PAUSE_SECONDS`` or so (default 2; random between half and one and a half times it),
  one in four web respondents going through the web survey, reading each card as long;
* an index computation of the sample campaign, started as the load begins, and the recompute
  the new answers schedule;
* a federal analyst logged in, browsing the federal and regional pages one after another.

Then it prints, per endpoint, requests, errors and p50/p99, and the answers accepted
(acknowledged as stored) against those stored: goal 0 errors, 0 lost, stored = accepted.
The pieces (the HTTP client, gunicorn, kiosks, respondents, workers) are the bench's
(:mod:`bench.submit`, :mod:`bench.workers`). The whole run stops by itself: the load after
LOAD_SECONDS, everything after LOAD_SECONDS + 600 s at the latest.

DATABASE_URL: PostgreSQL (default: the local server's database ``test``). LOAD_REDIS_URL
(default: the local server, db 14) is flushed. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import submit
from bench.submit import HTTPError
from bench.submit import Tally
from bench.workers import running_workers

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = os.environ.get("LOAD_SCHEMA", "cci_load")
BASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/14")
SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
CLIENTS = max(4, int(os.environ.get("LOAD_CLIENTS", "200")))
PAUSE = float(os.environ.get("LOAD_PAUSE_SECONDS", "2"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "2"))
GRACE_SECONDS = 600
ANALYST_EMAIL = "analyst@load.local"
ANALYST_PASSWORD = "load-analyst-password"  # noqa: S105 -- a throwaway user of the load schema


def say(message: str) -> None:
    print(message, flush=True)


def setup_environment() -> None:
    if not BASE_URL.startswith("postgresql"):
        sys.exit("make load needs PostgreSQL: set DATABASE_URL=postgresql://…")
    separator = "&" if "?" in BASE_URL else "?"
    os.environ["DATABASE_URL"] = f"{BASE_URL}{separator}options=-csearch_path%3D{SCHEMA}"
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("CCI_INSTANCE_DIR", str(ROOT / "instance" / "load"))
    os.environ["CCI_JOB_RETRIES"] = "0"
    os.environ.setdefault("CCI_LOG_LEVEL", "WARNING")  # gunicorn's log: problems only


def prepare(app) -> tuple[int, int, list]:
    """A fresh schema: the pilot regions, the sample campaigns (one to compute), a campaign
    open today in every region, the analyst. Returns (sample campaign, open campaign,
    offices)."""
    from alembic import command
    from sqlalchemy import select
    from sqlalchemy import text

    from cci.cli import alembic_config
    from cci.collection import sample_data
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import Campaign
    from cci.foundation.tenants_sync import sync
    from cci.foundation.users import create_user

    with app.extensions["cci.engine"].begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    app.extensions["cci.redis"].flushdb()
    with app.app_context():
        command.upgrade(alembic_config(app), "heads")
        sync(ROOT / "tenants")
        sample_data.load()
        with tenancy.federal_scope("make load"):
            create_user(email=ANALYST_EMAIL, role="federal_analyst", password=ANALYST_PASSWORD)
            sample = db.scalar(select(Campaign.id).where(Campaign.methodology_key == "cci-2023")
                               .order_by(Campaign.id))
            db.commit()
        db.remove()
    open_id, offices = submit.open_campaign(app)
    return sample, open_id, offices


def start_computation(app, campaign_id: int) -> int:
    from cci.index import compute

    with app.app_context():
        run, _created = compute.start_run(campaign_id)
        return run.id


def run_state(app, run_id: int) -> tuple[str, float | None]:
    from sqlalchemy import text

    with app.extensions["cci.engine"].connect() as c:
        status, seconds = c.execute(text(
            "SELECT status, extract(epoch FROM finished_at - started_at) "
            "FROM computation_runs WHERE id = :id"), {"id": run_id}).one()
    return status, (float(seconds) if seconds is not None else None)


# --- the federal analyst ------------------------------------------------------------------


class Analyst(submit.StaffBrowser):
    """A federal analyst in a browser: logged in once, then opening pages one after another,
    a second on each."""

    def __init__(self, port: int):
        super().__init__(port, "127.30.0.1", ANALYST_EMAIL, ANALYST_PASSWORD)
        self.tallies: dict[str, Tally] = defaultdict(Tally)

    async def browse(self, pages: list[str], seconds: float) -> dict[str, Tally]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        turn = 0
        while loop.time() < deadline:
            path = pages[turn % len(pages)]
            turn += 1
            tally = self.tallies[path]
            tally.requests += 1
            began = time.perf_counter()
            try:
                reply = await self.request("GET", path)
            except (TimeoutError, OSError, HTTPError, asyncio.IncompleteReadError) as exc:
                self.connection.close()
                tally.error("connection", f"{path}: {type(exc).__name__}")
                continue
            tally.latencies.append(time.perf_counter() - began)
            if reply.status == 200:
                tally.accepted += 1
            else:
                tally.error(f"HTTP {reply.status}", path)
            await asyncio.sleep(1)
        self.connection.close()
        return self.tallies


# --- the run ---------------------------------------------------------------------------------


def pace() -> float:
    return random.uniform(0.5 * PAUSE, 1.5 * PAUSE)


async def _run(app, sample_id: int, open_id: int, offices, registered, logs: Path) -> int:
    from sqlalchemy import text

    with app.extensions["cci.engine"].connect() as c:
        started_at = c.execute(text("SELECT now()")).scalar_one()
    servers: list[submit.Server] = []
    kiosks: list[submit.Kiosk] = []
    workers = contextlib.ExitStack()
    try:
        workers.enter_context(running_workers(app, WORKERS))
        real = submit.start_server("platform", "wsgi:app", logs)
        servers.append(real)
        await submit.wait_ready(real, "/healthz")
        limit = asyncio.Semaphore(8)

        async def pair(n: int, kiosk_id: int, code: str):
            async with limit:
                return n, kiosk_id, await submit.pair_kiosk(real.port, submit.kiosk_address(n),
                                                            code)

        paired = await asyncio.gather(*(pair(n, kiosk_id, code)
                                        for n, (kiosk_id, _o, code) in enumerate(registered)))
        config = await submit.kiosk_config(real.port, submit.kiosk_address(0), paired[0][2])
        form = await submit.questionnaire(real.port, submit.kiosk_address(0), paired[0][2])
        import zoneinfo

        tz = zoneinfo.ZoneInfo("Europe/Moscow")
        kiosks = [submit.Kiosk(n, kiosk_id, token, tz, form, str(config.get("appVersion", "")))
                  for n, kiosk_id, token in paired]
        web_clients = CLIENTS - len(kiosks)
        analyst = Analyst(real.port)
        await analyst.log_in()
        run_id = start_computation(app, sample_id)
        pages = ["/federal/", "/federal/campaigns/", f"/federal/campaigns/{sample_id}",
                 "/r/RU-BRY/", "/r/RU-BRY/results", "/r/RU-KYA/results", "/federal/jobs/"]
        say(f"load: {len(kiosks)} kiosks (a survey every ~{PAUSE:g} s each) and {web_clients} "
            f"web respondents (~{PAUSE:g} s a card) for {SECONDS:g} s; computation run {run_id} "
            f"of the sample campaign started; a federal analyst browses {len(pages)} pages")
        accepted_kiosk: set[str] = set()
        accepted_web: set[str] = set()
        kiosk, web, browsed = await asyncio.gather(
            submit.kiosk_phase(real.port, kiosks, len(kiosks), SECONDS, accepted_kiosk, pace),
            submit.web_phase(real.port, offices, form, web_clients, SECONDS, accepted_web,
                             pause=pace),
            analyst.browse(pages, SECONDS))
        problems = real.log_problems()
    finally:
        for device in kiosks:
            device.close()
        submit.stop_servers(servers)
        workers.close()

    stored_kiosk = submit.stored_keys(app, "kiosk:", "kiosk:%", since=started_at)
    stored_web = submit.stored_keys(app, "web:", "web:%", since=started_at)
    status, seconds = run_state(app, run_id)
    return report(kiosk, web, browsed, (accepted_kiosk, stored_kiosk), (accepted_web, stored_web),
                  (run_id, status, seconds), problems)


def report(kiosk: Tally, web: Tally, analyst: dict[str, Tally], kiosk_keys, web_keys, run,
           problems: list[str]) -> int:
    rows = [("POST /k/api/responses (kiosks)", kiosk),
            ("/s/… web survey (page and steps)", web),
            *((f"GET {path} (analyst)", tally) for path, tally in analyst.items())]
    say(f"{'endpoint':<44} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for name, tally in rows:
        say(f"{name:<44} {tally.requests:>8} {tally.error_count:>6} "
            f"{tally.percentile(50):>8.1f} {tally.percentile(99):>8.1f}")
    errors = kiosk.error_count + web.error_count + sum(t.error_count for t in analyst.values())
    lost = len(kiosk_keys[0] - kiosk_keys[1]) + len(web_keys[0] - web_keys[1])
    unacknowledged = len(kiosk_keys[1] - kiosk_keys[0]) + len(web_keys[1] - web_keys[0])
    accepted = len(kiosk_keys[0]) + len(web_keys[0])
    stored = len(kiosk_keys[1]) + len(web_keys[1])
    for name, tally in rows:
        if tally.errors:
            say(f"  {name} errors: {dict(tally.errors)}; e.g. {tally.samples[:3]}")
    if problems:
        say(f"  gunicorn log: {len(problems)} problem lines, e.g. {problems[:3]}")
    run_id, status, seconds = run
    say(f"computation run {run_id}: {status}"
        + (f" in {seconds:.1f} s under the load" if seconds is not None else ""))
    say(f"accepted {accepted} (kiosk {len(kiosk_keys[0])}, web {len(web_keys[0])}), stored "
        f"{stored}, errors {errors}, lost {lost}, stored without acknowledgement "
        f"{unacknowledged}; {accepted / SECONDS:.1f} answers/s")
    ok = errors == 0 and lost == 0 and unacknowledged == 0 and status == "succeeded"
    say("load: " + ("goals met (0 errors, 0 lost, stored = accepted, the run succeeded)" if ok
                    else "GOAL MISSED"))
    return 0 if ok else 1


def main() -> None:
    setup_environment()
    from cci import create_app

    app = create_app()
    say(f"make load: {CLIENTS} clients for {SECONDS:g} s on loopback; schema {SCHEMA}")
    sample_id, open_id, offices = prepare(app)
    kiosks = CLIENTS - CLIENTS // 4
    registered = submit.register_kiosks(app, offices, kiosks)
    logs = Path(tempfile.mkdtemp(prefix="cci-load-"))

    def _stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    # the hard bound: whatever hangs, the run ends
    signal.signal(signal.SIGALRM, _stop)
    signal.alarm(int(SECONDS + GRACE_SECONDS))
    try:
        status = asyncio.run(_run(app, sample_id, open_id, offices, registered, logs))
    finally:
        signal.alarm(0)
    say(f"  gunicorn's log: {logs / 'platform.log'}")
    sys.exit(status)


if __name__ == "__main__":
    main()
