"""Background jobs: registered by a plugin's entry point, run by a real RQ worker process in the
tenant scope they were enqueued from, retried, deduplicated, shown on a polling page and in
the API; the federal tenants-sync button.

The module's ``app`` is built with a throwaway plugin ("testkit") installed the way any
third-party package is: a module plus a ``*.dist-info/entry_points.txt`` on the path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rq import SimpleWorker
from rq.registry import FailedJobRegistry
from sqlalchemy import func
from sqlalchemy import select

from cci import create_app
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import User
from conftest import ROOT
from conftest import TEST_CONFIG
from conftest import region_id

TESTKIT_MODULE = "cci_testkit_jobs"

TESTKIT_SOURCE = '''
"""A throwaway plugin for the job tests."""
import os
from pathlib import Path

from sqlalchemy import select

from cci import hookimpl
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation import jobs
from cci.foundation.models import Office


def count_offices(report, label=""):
    report(0.5, "counting offices")
    codes = sorted(db.scalars(select(Office.code)))
    return {"offices": len(codes), "codes": codes, "label": label,
            "region_id": tenancy.current_region_id(), "pid": os.getpid()}


def flaky(report, marker):
    """Fails on its first attempt, succeeds on the next."""
    path = Path(marker)
    attempt = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempt))
    if attempt == 1:
        raise RuntimeError("first attempt fails on purpose")
    return {"attempt": attempt}


def always_fails(report):
    report(0.25, "about to fail")
    raise ValueError("this job always fails")


def bad_input(report, marker):
    """Refuses its input on every attempt (counted in ``marker``)."""
    path = Path(marker)
    path.write_text(str(int(path.read_text()) + 1 if path.exists() else 1))
    raise jobs.InputError("файл не читается")


@hookimpl
def register_jobs():
    return {
        "testkit.count_offices": count_offices,
        "testkit.flaky": flaky,
        "testkit.always_fails": always_fails,
        "testkit.bad_input": bad_input,
    }
'''


@pytest.fixture(scope="module")
def testkit_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("testkit")
    (directory / f"{TESTKIT_MODULE}.py").write_text(TESTKIT_SOURCE, encoding="utf-8")
    dist_info = directory / "cci_testkit-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cci-testkit\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[cci.plugins]\ntestkit = {TESTKIT_MODULE}\n", encoding="utf-8"
    )
    return directory


@pytest.fixture(scope="module")
def app(app, testkit_dir):
    """The session's (migrated) database, with an app that has the testkit plugin installed."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(testkit_dir))
        application = create_app(TEST_CONFIG)
        yield application
    application.extensions["cci.engine"].dispose()
    sys.modules.pop(TESTKIT_MODULE, None)


@pytest.fixture(autouse=True)
def _worker_app(monkeypatch, app):
    """In-process workers run jobs with this module's app; restored afterwards."""
    monkeypatch.setattr(jobs, "_worker_app", app)


def run_worker_process(testkit_dir: Path) -> subprocess.CompletedProcess:
    """`cci worker --burst` in a process of its own, configured from the environment only."""
    env = {
        key: os.environ[key]
        for key in ("PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL", "CCI_INSTANCE_DIR",
                    "SECRET_KEY")
        if key in os.environ
    }
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(testkit_dir), os.environ.get("PYTHONPATH", "")) if p
    )
    cci_bin = Path(sys.executable).parent / "cci"
    command = [str(cci_bin)] if cci_bin.exists() else [sys.executable, "-m", "cci.cli"]
    done = subprocess.run([*command, "worker", "--burst"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def run_in_process(app) -> None:
    SimpleWorker(list(jobs.QUEUES), connection=app.extensions["cci.redis"]).work(burst=True)


def job_row(app, job_id: int) -> JobRecord:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.get(JobRecord, job_id)


def job_count(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count(JobRecord.id)))


def queued_ids(app) -> list[str]:
    with app.app_context():
        return [rq_id for name in jobs.QUEUES for rq_id in jobs.queue(name).job_ids]


def test_the_testkit_job_is_registered_through_its_entry_point(app):
    from cci.hooks.manager import _DISTRIBUTIONS

    registry = app.extensions["cci.registry"]
    assert registry.jobs["testkit.count_offices"].__module__ == TESTKIT_MODULE
    assert "tenants.sync" in registry.jobs  # the core's own jobs are there as well
    assert _DISTRIBUTIONS["testkit"] == ("cci-testkit", "0.1")


@pytest.mark.worker
def test_a_worker_process_runs_jobs_in_their_tenant_scope(app, tenants, in_scope, testkit_dir):
    bry = region_id(app, "RU-BRY")
    with in_scope(bry):
        regional = jobs.enqueue("testkit.count_offices", title="Count", label="bry").id
    with in_scope(None):
        federal = jobs.enqueue("testkit.count_offices", label="all").id
    assert job_row(app, regional).status == "queued"
    assert job_row(app, regional).region_id == bry
    assert job_row(app, federal).region_id is None

    done = run_worker_process(testkit_dir)

    row = job_row(app, regional)
    assert row.status == "finished", (row.error, done.stderr[-2000:])
    assert row.progress == 1.0
    assert row.attempts == 1
    assert row.message == "counting offices"  # the job's own progress report was stored
    assert row.started_at is not None and row.finished_at is not None
    assert row.error is None
    assert row.result["offices"] == 2  # only its region's, not 26
    assert row.result["codes"] == ["BRY-01", "BRY-02"]
    assert row.result["region_id"] == bry
    assert row.result["label"] == "bry"
    assert row.result["pid"] != os.getpid(), "the job ran in another process"

    row = job_row(app, federal)
    assert row.status == "finished", row.error
    assert row.result["offices"] == 26
    assert row.result["region_id"] is None
    assert queued_ids(app) == []


@pytest.mark.worker
def test_a_job_that_fails_once_is_retried(app, tenants, in_scope, testkit_dir, tmp_path):
    assert app.config["JOB_RETRIES"] > 0
    assert app.config["JOB_RETRY_INTERVALS"][0] == 0
    marker = tmp_path / "attempts"
    with in_scope(region_id(app, "RU-TAM")):
        job_id = jobs.enqueue("testkit.flaky", marker=str(marker)).id

    done = run_worker_process(testkit_dir)

    row = job_row(app, job_id)
    assert row.status == "finished", (row.error, done.stderr[-2000:])
    assert marker.read_text() == "2"
    assert row.attempts == 2
    assert row.result == {"attempt": 2}
    assert row.error is None  # the first attempt's error is cleared by the success
    assert row.progress == 1.0


@pytest.mark.worker
def test_a_job_that_always_fails_ends_failed(app, tenants, in_scope, testkit_dir):
    with in_scope(region_id(app, "RU-TAM")):
        job_id = jobs.enqueue("testkit.always_fails", dedupe_key="fails").id

    done = run_worker_process(testkit_dir)

    row = job_row(app, job_id)
    assert row.status == "failed", done.stderr[-2000:]
    assert row.attempts == app.config["JOB_RETRIES"] + 1
    assert "ValueError: this job always fails" in row.error
    assert row.finished_at is not None
    assert row.progress == 0.25
    # The dedupe lock is released once the job has given up: a new request is a new job.
    with in_scope(region_id(app, "RU-TAM")):
        again = jobs.enqueue("testkit.always_fails", dedupe_key="fails").id
    assert again != job_id


def test_a_job_that_fails_for_its_input_is_not_retried(app, tenants, in_scope, tmp_path):
    # retrying cannot mend a file; only infrastructure failures are retried
    assert app.config["JOB_RETRIES"] > 0
    marker = tmp_path / "attempts"
    with in_scope(region_id(app, "RU-TAM")):
        job_id = jobs.enqueue("testkit.bad_input", dedupe_key="bad", marker=str(marker)).id

    run_in_process(app)

    row = job_row(app, job_id)
    assert row.status == "failed"
    assert marker.read_text() == "1"
    assert row.attempts == 1
    assert "InputError: файл не читается" in row.error
    assert row.finished_at is not None
    assert queued_ids(app) == []
    with in_scope(region_id(app, "RU-TAM")):  # the dedupe lock is released: it has given up
        assert jobs.enqueue("testkit.bad_input", dedupe_key="bad", marker=str(marker)).id \
            != job_id


def test_dedupe_key_returns_the_waiting_job(app, tenants, in_scope):
    bry, che = region_id(app, "RU-BRY"), region_id(app, "RU-CHE")
    with in_scope(bry):
        first = jobs.enqueue("testkit.count_offices", dedupe_key="count").id
        second = jobs.enqueue("testkit.count_offices", dedupe_key="count").id
        other_key = jobs.enqueue("testkit.count_offices", dedupe_key="other").id
    with in_scope(che):
        other_region = jobs.enqueue("testkit.count_offices", dedupe_key="count").id
    assert first == second
    assert len({first, other_key, other_region}) == 3
    assert job_count(app) == 3
    assert len(queued_ids(app)) == 3

    run_in_process(app)
    assert job_row(app, first).status == "finished"
    with in_scope(bry):
        after = jobs.enqueue("testkit.count_offices", dedupe_key="count").id
    assert after != first, "a finished job does not swallow new requests"


def test_without_dedupe_key_every_request_is_a_job(app, tenants, in_scope):
    with in_scope(region_id(app, "RU-BRY")):
        ids = {jobs.enqueue("testkit.count_offices").id for _ in range(3)}
    assert len(ids) == 3


def test_enqueue_without_a_scope_raises(app, tenants):
    with (app.app_context(),
          pytest.raises(tenancy.TenantIsolationError, match="without a tenant scope")):
        jobs.enqueue("testkit.count_offices")
    assert job_count(app) == 0
    assert queued_ids(app) == []


def test_enqueue_of_an_unknown_job_raises(app, in_scope):
    with in_scope(None), pytest.raises(LookupError, match="no job named 'nope'"):
        jobs.enqueue("nope")
    assert job_count(app) == 0


def test_enqueue_with_redis_down_records_the_failure(app, tenants):
    broken = create_app({**TEST_CONFIG, "REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        with (broken.app_context(), tenancy.federal_scope("test"),
              pytest.raises(jobs.JobError)):
            jobs.enqueue("tenants.sync")
    finally:
        broken.extensions["cci.engine"].dispose()
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.scalar(select(JobRecord))
        assert row.status == "failed"
        assert row.error.startswith("queue unavailable:")


# --- the status page and the API -----------------------------------------------------------


@pytest.fixture
def bry_job(app, tenants, in_scope):
    with in_scope(region_id(app, "RU-BRY")):
        return jobs.enqueue("testkit.count_offices", title="Подсчёт офисов").id


def set_status(app, job_id: int, status: str) -> None:
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(JobRecord, job_id).status = status
        db.commit()


HX = {"HX-Request": "true"}


def vary(response) -> set[str]:
    return {value.strip() for value in response.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize(
    "status, label", [("queued", "в очереди"), ("running", "выполняется"),
                      ("retrying", "ожидает повтора")],
    ids=["queued", "running", "retrying"],
)
def test_an_unfinished_job_page_polls(app, client, make_user, login, bry_job, status, label):
    set_status(app, bry_job, status)
    login(make_user("regional_admin", region="RU-BRY"))
    url = f"/r/RU-BRY/jobs/{bry_job}"

    page = client.get(url)
    assert page.status_code == 200
    assert "HX-Request" in vary(page)
    html = page.get_data(as_text=True)
    assert "<html" in html
    assert "Подсчёт офисов" in html
    assert label in html
    assert f'hx-get="{url}"' in html
    assert 'hx-trigger="every 1s"' in html

    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200
    assert "HX-Request" in vary(fragment)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "<body" not in body
    assert body.lstrip().startswith('<section id="job-status"')
    assert label in body
    assert 'hx-trigger="every 1s"' in body
    assert f'hx-get="{url}"' in body


def test_a_finished_job_page_stops_polling(app, client, make_user, login, bry_job):
    run_in_process(app)
    assert job_row(app, bry_job).status == "finished"
    login(make_user("regional_admin", region="RU-BRY"))
    url = f"/r/RU-BRY/jobs/{bry_job}"
    fragment = client.get(url, headers=HX).get_data(as_text=True)
    assert "завершена" in fragment
    assert "100\u202f%" in fragment
    assert "hx-trigger" not in fragment and "hx-get" not in fragment
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "завершена" in page
    assert "hx-trigger" not in page
    # The list shows it too, in Russian.
    listing = client.get("/r/RU-BRY/jobs/").get_data(as_text=True)
    assert f"/r/RU-BRY/jobs/{bry_job}" in listing and "завершена" in listing


def test_a_failed_job_page_shows_the_error(app, client, make_user, login, in_scope,
                                           monkeypatch):
    monkeypatch.setitem(app.config, "JOB_RETRIES", 0)
    with in_scope(region_id(app, "RU-BRY")):
        job_id = jobs.enqueue("testkit.always_fails").id
    run_in_process(app)
    row = job_row(app, job_id)
    assert row.status == "failed" and row.attempts == 1
    login(make_user("regional_admin", region="RU-BRY"))
    fragment = client.get(f"/r/RU-BRY/jobs/{job_id}", headers=HX).get_data(as_text=True)
    assert "ошибка" in fragment
    assert "Подробности ошибки" in fragment
    assert "this job always fails" in fragment
    assert "hx-trigger" not in fragment


def test_another_regions_job_is_not_found(app, client, make_user, login, bry_job):
    login(make_user("regional_admin", region="RU-CHE"))
    assert client.get(f"/r/RU-CHE/jobs/{bry_job}").status_code == 404
    assert client.get(f"/r/RU-BRY/jobs/{bry_job}").status_code == 404
    assert f"/jobs/{bry_job}" not in client.get("/r/RU-CHE/jobs/").get_data(as_text=True)


def test_the_job_page_needs_a_login(client, bry_job):
    response = client.get(f"/r/RU-BRY/jobs/{bry_job}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def _token(app, email: str) -> str:
    with app.app_context(), tenancy.federal_scope("test"):
        user = db.scalar(select(User).where(User.email == email))
        _row, token = tokens.issue(user, "test")
        db.commit()
    return token


def test_the_api_reports_a_jobs_status(app, client, make_user, bry_job):
    token = _token(app, make_user("regional_admin", region="RU-BRY"))
    auth = {"Authorization": f"Bearer {token}"}
    response = client.get(f"/api/v1/jobs/{bry_job}", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == bry_job
    assert body["name"] == "testkit.count_offices"
    assert body["status"] == "queued"
    assert body["progress"] == 0.0
    assert body["attempts"] == 0

    run_in_process(app)
    body = client.get(f"/api/v1/jobs/{bry_job}", headers=auth).get_json()
    assert body["status"] == "finished"
    assert body["progress"] == 1.0
    assert body["attempts"] == 1
    assert body["result"]["offices"] == 2
    assert body["finished_at"] is not None

    assert client.get(f"/api/v1/jobs/{bry_job}").status_code == 401
    other = {"Authorization": f"Bearer {_token(app, make_user('regional_admin', region='RU-CHE'))}"}
    assert client.get(f"/api/v1/jobs/{bry_job}", headers=other).status_code == 404


# --- the federal tenants-sync button -------------------------------------------------------


def test_the_federal_button_syncs_tenants_in_a_job(app, client, make_user, login, tmp_path,
                                                   monkeypatch):
    directory = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", directory)
    path = directory / "RU-BRY.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'name = "Брянская область"', 'name = "Брянская область (обновлено)"'), encoding="utf-8")
    monkeypatch.setitem(app.config, "TENANTS_DIR", str(directory))
    login(make_user("admin"))

    response = client.post("/federal/admin/tenants-sync")
    assert response.status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.scalar(select(JobRecord))
        job_id = row.id
        assert row.name == "tenants.sync"
        assert row.region_id is None
        assert row.title == "Обновление регионов и офисов"
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "tenants.sync")).object_id \
            == str(job_id)
    assert response.headers["Location"].endswith(f"/federal/jobs/{job_id}")

    # Pressed again while it waits: the same job, not a second one.
    again = client.post("/federal/admin/tenants-sync")
    assert again.headers["Location"].endswith(f"/federal/jobs/{job_id}")
    assert job_count(app) == 1

    page = client.get(f"/federal/jobs/{job_id}").get_data(as_text=True)
    assert "в очереди" in page and 'hx-trigger="every 1s"' in page

    run_in_process(app)
    row = job_row(app, job_id)
    assert row.status == "finished", row.error
    assert row.result["changed"] is True
    assert "updated: RU-BRY" in row.result["lines"]
    assert row.result["lines"][-1] == "0 created, 1 updated, 0 deactivated, 38 unchanged"
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(Region.name).where(Region.code == "RU-BRY")) == \
            "Брянская область (обновлено)"
        assert db.scalar(select(func.count(Office.id))) == 26
        assert db.scalar(select(AuditEntry.actor).where(AuditEntry.action == "region.update")) \
            == "system: tenants sync job"
    fragment = client.get(f"/federal/jobs/{job_id}", headers=HX).get_data(as_text=True)
    assert "завершена" in fragment and "updated: RU-BRY" in fragment
    assert "hx-trigger" not in fragment


def test_the_tenants_sync_button_is_federal_and_for_admins(app, client, make_user, login):
    login(make_user("regional_admin", region="RU-BRY"))
    assert client.post("/r/RU-BRY/admin/tenants-sync").status_code == 404
    assert client.post("/federal/admin/tenants-sync").status_code == 404
    client.post("/logout")
    login(make_user("federal_analyst"))
    assert client.post("/federal/admin/tenants-sync").status_code in (403, 404)
    assert job_count(app) == 0


# --- the administrators' view: queues, running and failed jobs, «Повторить» ------------------


@pytest.fixture
def failed_bry_job(app, tenants, in_scope, testkit_dir, tmp_path, monkeypatch):
    """A BRY job that failed (its first attempt fails; a retry succeeds) and one waiting."""
    monkeypatch.setitem(app.config, "JOB_RETRIES", 0)
    with in_scope(region_id(app, "RU-BRY")):
        failed = jobs.enqueue("testkit.flaky", title="Капризная", marker=str(tmp_path / "m")).id
    run_in_process(app)
    assert job_row(app, failed).status == "failed"
    with in_scope(region_id(app, "RU-BRY")):
        jobs.enqueue("testkit.count_offices", title="Ждёт в очереди")
    return failed


def test_the_platform_administrator_sees_the_queues_and_retries_a_failed_job(
        app, client, make_user, login, failed_bry_job):
    login(make_user("admin"))
    page = client.get("/federal/jobs/").get_data(as_text=True)
    assert "Очереди" in page
    queues = page.split('id="queues"')[1].split("</table>")[0]
    assert "<td>обычная <code>default</code></td><td class=\"num\">1</td>" in queues  # waiting
    failed = page.split('id="jobs-failed"')[1].split("</table>")[0]
    assert "Капризная" in failed
    assert "RuntimeError: first attempt fails on purpose" in failed  # the error in a line
    assert "Повторить" in failed
    with app.app_context():
        assert FailedJobRegistry(queue=jobs.queue("default")).count == 1

    response = client.post(f"/federal/jobs/{failed_bry_job}/retry")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/federal/jobs/{failed_bry_job}")
    row = job_row(app, failed_bry_job)
    assert row.status == "queued" and row.finished_at is None
    with app.app_context():
        assert FailedJobRegistry(queue=jobs.queue("default")).count == 0  # decided
    with app.app_context(), tenancy.federal_scope("test"):
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "job.retry"))
        assert entry.object_id == str(failed_bry_job) and entry.actor.startswith("admin")
        assert entry.before["status"] == "failed" and entry.after["status"] == "queued"
    run_in_process(app)
    row = job_row(app, failed_bry_job)
    assert row.status == "finished" and row.attempts == 2 and row.result == {"attempt": 2}


def test_a_regional_administrator_retries_only_their_regions_failed_jobs(
        app, client, make_user, login, failed_bry_job):
    login(make_user("regional_admin", region="RU-CHE"))
    assert client.post(f"/r/RU-CHE/jobs/{failed_bry_job}/retry").status_code == 404
    client.post("/logout")
    login(make_user("auditor", region="RU-BRY"))
    assert client.post(f"/r/RU-BRY/jobs/{failed_bry_job}/retry").status_code == 403
    assert "Повторить" not in client.get("/r/RU-BRY/jobs/").get_data(as_text=True)
    client.post("/logout")
    login(make_user("regional_admin", region="RU-BRY"))
    page = client.get("/r/RU-BRY/jobs/").get_data(as_text=True)
    assert "Очереди" not in page  # the queues are every region's: the platform's admins only
    assert "Капризная" in page.split('id="jobs-failed"')[1]
    assert job_row(app, failed_bry_job).status == "failed"
    assert client.post(f"/r/RU-BRY/jobs/{failed_bry_job}/retry").status_code == 302
    assert job_row(app, failed_bry_job).status == "queued"
    # only a failed job is retried: a second press says so and changes nothing
    again = client.post(f"/r/RU-BRY/jobs/{failed_bry_job}/retry", follow_redirects=True)
    assert "повторить можно только задачу, завершившуюся ошибкой" in again.get_data(as_text=True)
    assert job_row(app, failed_bry_job).status == "queued"


def test_the_administrators_panel_refreshes_itself(app, client, make_user, login,
                                                    failed_bry_job):
    login(make_user("admin"))
    fragment = client.get("/federal/jobs/", headers=HX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="jobs-panel"')
    assert "<html" not in body
    assert 'hx-trigger="every 5s"' in body
    assert "HX-Request" in vary(fragment)
