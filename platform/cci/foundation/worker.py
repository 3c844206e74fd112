"""The RQ worker of `cci worker`: reconciles job records, and outlives a Redis outage.

RQ already retries a lost connection while the worker waits for work, but a worker busy with a
job exits when Redis goes away. Here the worker is started again, once Redis answers, after the
job it was watching has ended; and at start and every ``JOB_RECONCILE_SECONDS`` it runs
:func:`cci.foundation.jobs.reconcile`, which queues again what an emptied Redis lost and fails
what died with its process, and the app's periodic tasks (``cci.maintenance``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time

import redis
from flask import Flask
from rq import SimpleWorker
from rq import Worker

from cci.foundation import jobs

log = logging.getLogger("cci.worker")

#: Longest wait between two attempts to reach Redis again.
MAX_BACKOFF_SECONDS = 30.0


def reconcile(app: Flask) -> None:
    """Job records against Redis, then the periodic work the app asks for
    (``app.extensions["cci.maintenance"]``: callables that do their work at most once per
    their period across workers, e.g. the collection of cases, the notifications due), each
    on its own: one that fails (the database, Redis or a mail server away) is logged and tried
    again next round, and does not keep the others from running."""
    with app.app_context():
        for task in (jobs.reconcile, *app.extensions.get("cci.maintenance", ())):
            try:
                task()
            except Exception:
                log.warning("the maintenance task %s failed", task.__qualname__, exc_info=True)


class _Reconciling:
    """RQ's periodic maintenance, plus reconciling the job records and the app's periodic
    work."""

    app: Flask

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[misc]
        reconcile(self.app)


class ForkingWorker(_Reconciling, Worker):
    """Each job in a work horse of its own (the default)."""


class InProcessWorker(_Reconciling, SimpleWorker):
    """Jobs in the worker's own process (`--simple`)."""


def build(app: Flask, queue_names: list[str], simple: bool) -> Worker | SimpleWorker:
    beat = app.config["JOB_HEARTBEAT_SECONDS"]
    every = app.config["JOB_RECONCILE_SECONDS"]
    worker_class = InProcessWorker if simple else ForkingWorker
    rq_worker = worker_class(
        queue_names,
        connection=app.extensions["cci.redis"],
        # how often the worker checks on its work horse and renews its own heartbeat
        job_monitoring_interval=beat,
        # RQ's maintenance runs between dequeues, which block for worker_ttl - 15 s
        maintenance_interval=every,
        worker_ttl=every + 15,
        work_horse_killed_handler=jobs.horse_killed,
    )
    rq_worker.app = app
    return rq_worker


def run(app: Flask, queue_names: list[str], *, simple: bool = False, burst: bool = False) -> None:
    """Work until stopped (or, with ``burst``, until the queues are empty), through outages."""
    connection = app.extensions["cci.redis"]
    backoff = 1.0
    while True:
        rq_worker = build(app, queue_names, simple)
        try:
            rq_worker.work(burst=burst, with_scheduler=True)
        except redis.exceptions.RedisError:  # its farewell to Redis failed: Redis is away
            log.warning("worker %s lost Redis", rq_worker.name, exc_info=True)
        if getattr(rq_worker, "_shutdown_requested_date", None) is not None:
            return  # stopped on request (SIGTERM, Ctrl-C)
        if burst and _answers(connection):
            return  # the queues are empty
        _wait_for_horse(rq_worker)
        while not _answers(connection):
            log.warning("Redis unreachable; trying again in %.0f s", backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        backoff = 1.0
        log.warning("Redis answers again: reconciling jobs and starting a new worker")
        reconcile(app)


def _answers(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except redis.exceptions.RedisError:
        return False


def _wait_for_horse(rq_worker: Worker | SimpleWorker) -> None:
    """The job a broken worker was watching runs on (it needs only the database): let it end,
    one job at a time per worker, and reap its process."""
    pid = getattr(rq_worker, "_horse_pid", 0)
    if not pid:
        return
    log.warning("waiting for work horse %s to end its job", pid)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
