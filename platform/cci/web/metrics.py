"""``GET /metrics`` for Prometheus: requests, queues, jobs and what plugins report.

Request counts and durations are counted where requests are answered
(:mod:`cci.web.observability`); with gunicorn's several processes, ``PROMETHEUS_MULTIPROC_DIR``
makes each process write them to that directory and a scrape sums them (prometheus_client's
multiprocess mode). The rest is read at the scrape itself, so every web process answers the
same and nothing is lost with a process: the queues' lengths from Redis (RQ), the job records
and their durations from the database, and the plugins' gauges (``report_metrics``: kiosks
online, answers waiting in kiosks).

Not public: served only to a bearer token equal to ``CCI_METRICS_TOKEN`` or to an address in
``CCI_METRICS_ALLOW``; with neither configured the endpoint answers 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections import defaultdict
from collections.abc import Iterator

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from rq import Worker
from rq.registry import FailedJobRegistry
from rq.registry import ScheduledJobRegistry
from rq.registry import StartedJobRegistry
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import JobRecord
from cci.web.observability import REQUEST_SECONDS
from cci.web.observability import REQUESTS

log = logging.getLogger("cci.metrics")
bp = Blueprint("metrics", __name__)

#: Upper bounds (seconds) of the job-duration histogram's buckets.
JOB_BUCKETS = (1, 5, 15, 60, 300, 900, 3600)


def _allowed() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    allow = current_app.config["METRICS_ALLOW"]
    if not token and not allow:
        abort(404)  # not configured: not served at all
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(item, strict=False) for item in allow)


@bp.route("/metrics")
def metrics():
    if not _allowed():
        abort(403)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_SECONDS)
    registry.register(StateCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class StateCollector(Collector):
    """What is read at the scrape: each part on its own, so a dependency down leaves the
    others and says so in ``cci_dependency_up``."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator:
        up = GaugeMetricFamily("cci_dependency_up",
                               "Whether the dependency answered this scrape (1) or not (0)",
                               labels=["dependency"])
        parts = (("redis", self._queues), ("database", self._jobs),
                 ("plugins", self._plugins))
        for name, part in parts:
            try:
                families = list(part())
            except Exception:
                log.warning("metrics: %s unavailable", name, exc_info=True)
                db.rollback()
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up

    def _queues(self) -> Iterator:
        redis = self.app.extensions["cci.redis"]
        jobs = GaugeMetricFamily("cci_queue_jobs",
                                 "RQ jobs per queue and state (queued: waiting for a worker; "
                                 "started: running; scheduled: waiting to retry; failed)",
                                 labels=["queue", "state"])
        for name, queue in self.app.extensions["cci.queues"].items():
            jobs.add_metric([name, "queued"], queue.count)
            for state, registry in (("started", StartedJobRegistry),
                                    ("scheduled", ScheduledJobRegistry),
                                    ("failed", FailedJobRegistry)):
                jobs.add_metric([name, state], registry(queue=queue).count)
        yield jobs
        yield GaugeMetricFamily("cci_workers", "RQ workers alive",
                                value=Worker.count(connection=redis))

    def _jobs(self) -> Iterator:
        with tenancy.federal_scope("metrics"):
            by_status = GaugeMetricFamily("cci_job_records",
                                          "Job records by status (the database's view)",
                                          labels=["status"])
            rows = db.execute(select(JobRecord.status, func.count())
                              .group_by(JobRecord.status)).all()
            for status, count in rows:
                by_status.add_metric([status], count)
            yield by_status
            yield self._durations()

    def _durations(self) -> HistogramMetricFamily:
        """Every finished or failed job's run time, by job name (records are never deleted,
        so the counts only grow, as a histogram's must)."""
        seconds = _seconds(JobRecord.started_at, JobRecord.finished_at)
        columns = [func.count(), func.coalesce(func.sum(seconds), 0.0)]
        columns += [func.sum(case((seconds <= bound, 1), else_=0)) for bound in JOB_BUCKETS]
        rows = db.execute(
            select(JobRecord.name, *columns)
            .where(JobRecord.started_at.is_not(None), JobRecord.finished_at.is_not(None))
            .group_by(JobRecord.name)).all()
        family = HistogramMetricFamily("cci_job_duration_seconds",
                                       "Run time of finished and failed jobs, by job name",
                                       labels=["job"])
        for name, count, total, *cumulative in rows:
            buckets = [(str(float(bound)), int(n or 0)) for bound, n in zip(JOB_BUCKETS, cumulative,
                                                                     strict=True)]
            buckets.append(("+Inf", int(count)))
            family.add_metric([name], buckets, float(total))
        return family

    def _plugins(self) -> Iterator:
        with tenancy.federal_scope("metrics"):
            readings = [reading for result in
                        self.app.extensions["cci.plugins"].hook.report_metrics()
                        for reading in result or ()]
        grouped: dict[str, list] = defaultdict(list)
        for reading in readings:
            grouped[reading.name].append(reading)
        for name, group in sorted(grouped.items()):
            labels = sorted(group[0].labels)
            family = GaugeMetricFamily(name, group[0].help, labels=labels)
            for reading in group:
                family.add_metric([reading.labels.get(key, "") for key in labels], reading.value)
            yield family


def _seconds(start, end):
    """``end - start`` in seconds, in the database (PostgreSQL or SQLite)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * literal_column("86400.0")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
