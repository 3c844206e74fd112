"""Fault drills on the kiosks' delivery path, with real parts:

* the database unavailable for a while (a TCP proxy the test controls, between the app and
  PostgreSQL): every delivery during the cut is answered 503 with ``Retry-After`` and nothing
  is stored, ``/readyz`` says 503; after it, every survey is delivered once (201, then 200
  "already received") and ``/readyz`` says 200. The cut lasts ``CCI_DRILL_DB_CUT_SECONDS``
  (default 5; the issue's 30 s drill: ``CCI_DRILL_DB_CUT_SECONDS=30``);
* Redis killed and started again empty while kiosks deliver: a redis-server of the test's own
  on a free port (never the shared one); no delivery fails with a 500, every survey sent is
  stored once, and the recompute the answers ask for is queued again once Redis is back.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import make_url
from sqlalchemy import select

from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import JobRecord
from cci.foundation.models import Response
from conftest import DATABASE_URL
from conftest import IS_POSTGRES

from tcp_proxy import TcpProxy
from test_kiosk import admin  # noqa: F401 - fixture used by `paired`
from test_kiosk import paired  # noqa: F401 - fixture
from test_kiosk import payload
from test_kiosk import post

CUT_SECONDS = float(os.environ.get("CCI_DRILL_DB_CUT_SECONDS", "5"))


def stored_keys(app) -> list[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(Response.client_key).order_by(Response.id)))


# --- the database cut -------------------------------------------------------------------


@pytest.fixture
def proxied(build, paired):
    """An app whose database connections go through a :class:`TcpProxy`, and the proxy."""
    url = make_url(DATABASE_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    application = build({"DATABASE_URL": url.set(host="127.0.0.1", port=proxy.port)
                         .render_as_string(hide_password=False)})
    yield application, proxy
    proxy.close()


@pytest.mark.skipif(not IS_POSTGRES, reason="a TCP proxy in front of PostgreSQL")
def test_kiosks_ride_out_a_database_cut(app, paired, proxied):
    _kiosk_id, token = paired
    application, proxy = proxied
    device = application.test_client()
    assert post(application, token, payload(application, key="before-the-cut"),
                device).status_code == 201

    proxy.cut()
    waiting = [payload(application, key=f"during-the-cut-{n}") for n in range(5)]
    attempts = 0
    ends = time.monotonic() + CUT_SECONDS
    while time.monotonic() < ends:  # the kiosks keep trying, as their queues do
        for body in waiting:
            started = time.monotonic()
            response = post(application, token, body, device)
            attempts += 1
            assert response.status_code == 503, response.get_data(as_text=True)[:300]
            assert int(response.headers["Retry-After"]) > 0
            assert response.get_json()["status"] == "retry"
            assert time.monotonic() - started < 5, "a refused database must not hang a kiosk"
        ready = device.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["database"] != "ok"
        time.sleep(0.5)
    assert attempts >= len(waiting)
    assert stored_keys(app) == ["kiosk:before-the-cut"]  # nothing half-stored

    proxy.restore()
    assert device.get("/readyz").status_code == 200
    for body in waiting:
        assert post(application, token, body, device).status_code == 201
    for body in waiting:  # a kiosk that missed the acknowledgement sends it again
        assert post(application, token, body, device).status_code == 200
    assert sorted(stored_keys(app)) == sorted(
        ["kiosk:before-the-cut", *(f"kiosk:{b['key']}" for b in waiting)])


# --- Redis restarted empty ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, without persistence: a restart starts it empty."""

    def __init__(self, directory):
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(shutil.which("redis-server")), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def test_kiosks_ride_out_redis_restarted_empty(build, paired, own_redis):
    _kiosk_id, token = paired
    application = build({"REDIS_URL": own_redis.url})
    device = application.test_client()
    sent: list[dict] = []

    def deliver(count: int) -> list[int]:
        statuses = []
        for _ in range(count):
            body = payload(application, key=str(uuid.uuid4()))
            sent.append(body)
            statuses.append(post(application, token, body, device).status_code)
        return statuses

    assert set(deliver(3)) == {201}
    own_redis.kill()  # gone, with whatever it held
    while_down = deliver(3)
    assert 500 not in while_down and set(while_down) <= {201, 503}
    own_redis.start()  # back, empty
    assert set(deliver(3)) == {201}
    # what was refused while Redis was down is sent again by the kiosk and stored once
    for body in sent:
        assert post(application, token, body, device).status_code in (200, 201)
    keys = stored_keys(application)
    assert sorted(keys) == sorted(f"kiosk:{b['key']}" for b in sent)
    # the recompute the new answers ask for is queued (debounced) in the new, empty Redis
    with application.app_context():
        scheduled = ScheduledJobRegistry(queue=jobs.queue("default")).get_job_ids()
    assert len(scheduled) == 1
    with application.app_context(), tenancy.federal_scope("test"):
        record = db.scalar(select(JobRecord).where(JobRecord.rq_id == scheduled[0]))
        assert record is not None and record.name == "runs.recompute"
        assert record.status == "queued"
