"""Logs with request and job ids, and the Prometheus endpoint: protected, and counting what it
says (requests by endpoint and status, queues, job records and durations, kiosks online and
the answers waiting in them)."""

from __future__ import annotations

import json
import logging
import re
import signal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cci.foundation import jobs
from cci.foundation import logs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import JobRecord

from test_kiosk import TOKEN_HEADER
from test_kiosk import admin  # noqa: F401 - fixture used by `paired`
from test_kiosk import paired  # noqa: F401 - fixture
from test_kiosk import payload
from test_kiosk import post

METRICS_TOKEN = "metrics-test-token"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return out


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}",
                                               **headers})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return samples(response.get_data(as_text=True))


@pytest.fixture
def metrics_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", METRICS_TOKEN)


# --- logs ---------------------------------------------------------------------------------


@pytest.fixture
def json_log(app):
    """The platform's handler, switched to JSON, writing into a list."""
    lines: list[str] = []
    handler = logs.configure("json", "INFO")
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    yield lines
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])


@pytest.fixture
def probe(build):
    """An app of its own, built before the log is switched (building configures the logs):
    a route can be added to it before its first request."""
    return build()


def test_a_given_request_id_is_echoed_and_in_every_record_of_the_request(probe, json_log):
    @probe.get("/_test_logging")
    def _test_logging():
        logging.getLogger("cci.test").warning("inside the view")
        return "ok"

    response = probe.test_client().get("/_test_logging", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    records = [json.loads(line) for line in json_log]
    messages = [r["message"] for r in records]
    assert messages[0] == "inside the view"
    assert messages[1].startswith("GET /_test_logging 200 ")
    assert records and all(r["request_id"] == "abc-123" for r in records)
    assert {"time", "level", "logger", "message", "job_id"} <= set(records[0])


def test_a_request_id_is_generated_when_missing_or_unfit(client, json_log):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz", headers={"X-Request-ID": "bad id <script>" + "x" * 200}
                        ).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second
    records = [json.loads(line) for line in json_log]
    assert [r["request_id"] for r in records] == [first, second]


def test_text_lines_by_default_name_the_ids(app):
    formatter = logs.formatter("text")
    record = logging.LogRecord("cci.x", logging.INFO, __file__, 1, "hello", None, None)
    logs.ContextFilter().filter(record)
    assert formatter.format(record).endswith(" INFO cci.x: hello")
    with logs.job_context("job-7"):
        logs.ContextFilter().filter(record)
    assert formatter.format(record).endswith(" INFO cci.x [job=job-7]: hello")


def test_every_record_of_a_job_names_its_rq_job(app, tenants, json_log):
    """Run in this process by RQ's SimpleWorker: the job's own records and the runner's."""
    from rq import SimpleWorker

    registry = app.extensions["cci.registry"]
    registry.jobs["test.log_something"] = _log_something
    try:
        with app.app_context(), tenancy.federal_scope("test"):
            record = jobs.enqueue("test.log_something", title="logs")
            rq_id = record.rq_id
        jobs.set_worker_app(app)
        json_log.clear()
        SimpleWorker(["default"], connection=app.extensions["cci.redis"]).work(burst=True)
    finally:
        registry.jobs.pop("test.log_something")
    ours = [json.loads(line) for line in json_log]
    ours = [r for r in ours if r["logger"] in ("cci.jobs", "cci.test")]
    assert [r["message"] for r in ours if r["logger"] == "cci.test"] == ["from the job"]
    assert len(ours) >= 3  # started, the job's own line, finished
    assert all(r["job_id"] == rq_id for r in ours)


def _log_something(report):
    logging.getLogger("cci.test").info("from the job")
    return {}


# --- metrics ------------------------------------------------------------------------------


def test_metrics_are_not_public(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 404  # not configured: not served
    monkeypatch.setitem(app.config, "METRICS_TOKEN", METRICS_TOKEN)
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    monkeypatch.setitem(app.config, "METRICS_ALLOW", ["10.0.0.0/8"])
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 403


def test_requests_are_counted_by_endpoint_and_status(client, metrics_on):
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    after = scrape(client)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("cci_http_requests_total", endpoint="health.healthz", status="200") == 2
    assert delta("cci_http_requests_total", endpoint="unmatched", status="404") == 1
    assert delta("cci_http_request_duration_seconds_count", endpoint="health.healthz") == 2


def test_queues_jobs_and_their_durations(app, client, tenants, metrics_on):
    import datetime as dt

    with app.app_context(), tenancy.federal_scope("test"):
        jobs.enqueue("tenants.sync", title="queued, no worker")  # waits in the queue
        start = dt.datetime(2026, 1, 1, 12, 0, 0)
        for seconds, status in ((3, "finished"), (120, "finished"), (7, "failed")):
            db.add(JobRecord(rq_id=f"done-{seconds}", name="tenants.sync", status=status,
                             started_at=start, finished_at=start + dt.timedelta(seconds=seconds)))
        db.commit()
    got = scrape(client)
    assert got["cci_queue_jobs", (("queue", "default"), ("state", "queued"))] == 1
    assert got["cci_queue_jobs", (("queue", "high"), ("state", "failed"))] == 0
    assert got["cci_job_records", (("status", "queued"),)] == 1
    assert got["cci_job_records", (("status", "finished"),)] == 2
    job = (("job", "tenants.sync"),)
    assert got["cci_job_duration_seconds_count", job] == 3
    assert got["cci_job_duration_seconds_sum", job] == pytest.approx(130)
    assert got["cci_job_duration_seconds_bucket", (*job, ("le", "5.0"))] == 1
    assert got["cci_job_duration_seconds_bucket", (*job, ("le", "15.0"))] == 2
    assert got["cci_job_duration_seconds_bucket", (*job, ("le", "300.0"))] == 3
    assert got["cci_dependency_up", (("dependency", "database"),)] == 1
    assert got["cci_dependency_up", (("dependency", "redis"),)] == 1


def test_kiosks_online_and_answers_waiting_in_them(app, client, paired, metrics_on):
    _kiosk_id, token = paired
    device = app.test_client()
    assert device.post("/k/api/heartbeat", json={"queue_length": 7},
                       headers={TOKEN_HEADER: token}).status_code == 200
    assert post(app, token, payload(app)).status_code == 201
    got = scrape(client)
    region = (("region", "RU-BRY"),)
    assert got["cci_kiosks_online", region] == 1
    assert got["cci_kiosk_answers_waiting", region] == 7


def test_a_dependency_down_is_reported_not_a_500(build, monkeypatch):
    application = build({"REDIS_URL": "redis://127.0.0.1:1/0", "METRICS_TOKEN": METRICS_TOKEN})
    got = scrape(application.test_client())
    assert got["cci_dependency_up", (("dependency", "redis"),)] == 0
    assert got["cci_dependency_up", (("dependency", "database"),)] == 1


def test_gunicorn_processes_are_summed_in_multiprocess_mode(app, tmp_path):
    """Real gunicorn with PROMETHEUS_MULTIPROC_DIR, its workers recycled every 3 requests so
    that the requests are spread over several processes: a scrape counts them all. (The app
    is preloaded, so a recycled worker starts at once.)"""
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from conftest import ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
               CCI_METRICS_TOKEN=METRICS_TOKEN, CCI_LOG_LEVEL="WARNING")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2",
               "--max-requests", "3", "--preload", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)

    def get(path: str, **headers) -> str:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        for _ in range(11):
            get("/healthz")
        key = ("cci_http_requests_total", (("endpoint", "health.healthz"), ("status", "200")))
        counts = {samples(get("/metrics", Authorization=f"Bearer {METRICS_TOKEN}"))[key]
                  for _ in range(4)}
        assert counts == {12.0}  # every process's requests, whichever answers the scrape
        assert len(list(metrics_dir.glob("counter_*.db"))) >= 4  # 12 requests, 3 a process
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
