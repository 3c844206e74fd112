"""Background jobs on RQ, each run inside the tenant scope it was enqueued from.

Jobs are named functions that plugins (and the core, through its built-in plugin) register with the
``register_jobs`` hook. They take plain keyword values, never ORM objects, plus
``report(fraction, message)`` to show progress. A :class:`cci.foundation.models.JobRecord` row
mirrors each job so pages and the API can show its status without asking Redis.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask import current_app
from rq import Queue
from rq import Retry
from rq import get_current_job
from sqlalchemy import update

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import JobRecord

log = logging.getLogger("cci.jobs")

QUEUES = ("high", "default", "low")
LOCK_PREFIX = "cci:job-lock:"
FINISHED = ("finished", "failed")


class JobError(RuntimeError):
    """A job could not be queued; the message is for people."""


class InputError(ValueError):
    """The job's input is at fault (a file that cannot be read within its bounds): running the
    job again cannot help, so a job that raises it is failed at once, never retried. Only
    other failures (the database, Redis, a killed process) are retried. Message for people."""


#: marks a job reading its input; left behind only by a process that died while reading
INPUT_PREFIX = "cci:job-input:"
#: longer than the retries' intervals, so the retry still finds the mark
INPUT_MARK_SECONDS = 86400
INTERRUPTED = ("чтение файла было прервано (процесс остановлен, вероятно, из-за нехватки "
               "памяти): файл не читается повторно — разделите его на части или сохраните "
               "заново и загрузите ещё раз")


@contextlib.contextmanager
def reading_input() -> Iterator[None]:
    """The block where a job reads its input (parses an uploaded file).

    A process killed inside it (out of memory, a timeout) is most likely killed by that
    input, so its retry does not read it again: entering the block raises
    :class:`InputError` when an earlier attempt of the same job entered it and never left.
    Outside a job (tests, commands) the block only runs its body.
    """
    job = get_current_job()
    if job is None:
        yield
        return
    redis = current_app.extensions["cci.redis"]
    key = f"{INPUT_PREFIX}{job.id}"
    if not redis.set(key, "1", nx=True, ex=INPUT_MARK_SECONDS):
        redis.delete(key)
        raise InputError(INTERRUPTED)
    try:
        yield
    finally:
        redis.delete(key)


def queue(name: str = "default") -> Queue:
    return current_app.extensions["cci.queues"][name]


def enqueue(
    name: str,
    *,
    title: str = "",
    queue_name: str = "default",
    dedupe_key: str | None = None,
    user_id: int | None = None,
    timeout: int = 3600,
    delay_seconds: int = 0,
    **params: Any,
) -> JobRecord:
    """Queue job ``name`` in the current tenant scope and return its record.

    With ``dedupe_key``, the same work is never queued twice: while a job with that key is
    queued or running, its record is returned instead of a new one. With ``delay_seconds``
    the job waits that long first (a debounce: later requests join the waiting job).
    """
    registry = current_app.extensions["cci.registry"]
    if name not in registry.jobs:
        raise LookupError(f"no job named {name!r} is registered")
    scope = tenancy.current_scope()
    if scope is None:
        raise tenancy.TenantIsolationError(f"job {name!r} enqueued without a tenant scope")
    redis = current_app.extensions["cci.redis"]
    rq_id = str(uuid.uuid4())
    lock = None
    if dedupe_key:
        lock = lock_key(dedupe_key, scope.region_id)
        if not redis.set(lock, rq_id, nx=True, ex=timeout + delay_seconds):
            existing = _record_by_rq_id((redis.get(lock) or b"").decode())
            if existing is not None and existing.status not in FINISHED:
                return existing
            redis.set(lock, rq_id, ex=timeout + delay_seconds)
    record = JobRecord(
        rq_id=rq_id,
        name=name,
        title=title or name,
        params=params,
        region_id=scope.region_id,
        created_by_id=user_id,
    )
    db.add(record)
    db.commit()
    retries = current_app.config["JOB_RETRIES"]
    intervals = current_app.config["JOB_RETRY_INTERVALS"][:retries] or [0]
    try:
        target = queue(queue_name)
        schedule = (
            functools.partial(target.enqueue_in, dt.timedelta(seconds=delay_seconds))
            if delay_seconds
            else target.enqueue
        )
        schedule(
            run_job,
            record.id,
            scope.region_id,
            lock,
            job_id=rq_id,
            description=record.title,
            retry=Retry(max=retries, interval=intervals) if retries else None,
            job_timeout=timeout,
            result_ttl=86400,
            failure_ttl=7 * 86400,
        )
    except Exception as exc:  # Redis down: the record says so instead of pretending to wait
        record.status = "failed"
        record.error = f"queue unavailable: {exc}"
        db.commit()
        if lock:
            redis.delete(lock)
        raise JobError(str(exc)) from exc
    return record


def lock_key(dedupe_key: str, region_id: int | None) -> str:
    return f"{LOCK_PREFIX}{region_id or 'federal'}:{dedupe_key}"


def is_pending(dedupe_key: str, region_id: int | None = None) -> bool:
    """Whether a job with this dedupe key is queued or running (one Redis round trip)."""
    return bool(current_app.extensions["cci.redis"].exists(lock_key(dedupe_key, region_id)))


def _record_by_rq_id(rq_id: str) -> JobRecord | None:
    from sqlalchemy import select

    return db.scalar(select(JobRecord).where(JobRecord.rq_id == rq_id)) if rq_id else None


class Progress:
    """``report(fraction, message)``: commits progress in its own transaction, visible at once."""

    def __init__(self, record_id: int):
        self.record_id = record_id

    def __call__(self, fraction: float, message: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        with current_app.extensions["cci.sessionmaker"]() as session:
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == self.record_id)
                .values(progress=fraction, message=message[:2000])
            )
            session.commit()


_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    """The `cci worker` command hands its app over, so jobs need not build another."""
    global _worker_app
    _worker_app = app


def _app() -> Flask:
    if _worker_app is None:
        # the application is built by the command that runs the worker (it knows the factory;
        # this layer does not)
        raise RuntimeError("jobs run in `cci worker`, which hands its application over")
    return _worker_app


#: Delete a dedupe lock only if it is still this job's (a newer job may hold the key now).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def _release(app: Flask, lock: str | None, rq_id: str) -> None:
    if lock:
        app.extensions["cci.redis"].eval(_RELEASE, 1, lock, rq_id)


def run_job(record_id: int, region_id: int | None, lock: str | None = None) -> dict:
    """The RQ entry point for every named job."""
    app = _app()
    if app.extensions.get("cci.pid") != os.getpid():
        # A forked work horse must not share the parent's pooled connections.
        app.extensions["cci.engine"].dispose(close=False)
        app.extensions["cci.pid"] = os.getpid()
    scope = tenancy.Scope(region_id=region_id, reason=f"job {record_id}")
    with app.app_context(), tenancy.scoped(scope):
        record = db.get(JobRecord, record_id)
        if record is None:
            raise LookupError(f"job record {record_id} is missing")
        func = app.extensions["cci.registry"].jobs[record.name]
        record.status = "running"
        record.attempts += 1
        record.started_at = record.started_at or utcnow()
        record.error = None
        db.commit()
        log.info("job %s (%s) started, attempt %s", record.id, record.name, record.attempts)
        try:
            result = func(report=Progress(record.id), **record.params) or {}
        except Exception as exc:
            db.rollback()
            rq_job = get_current_job()
            if rq_job is not None and isinstance(exc, InputError):
                rq_job.retries_left = 0  # the worker reads it to decide on a retry
            retrying = bool(rq_job is not None and rq_job.should_retry)
            db.execute(
                update(JobRecord)
                .where(JobRecord.id == record_id)
                .values(
                    status="retrying" if retrying else "failed",
                    error=traceback.format_exc(limit=5)[-4000:],
                    finished_at=None if retrying else utcnow(),
                )
            )
            db.commit()
            if not retrying:
                _release(app, lock, record.rq_id)
            log.exception("job %s (%s) failed", record_id, record.name)
            raise
        record = db.get_one(JobRecord, record_id)  # read above; job records are never deleted
        record.status = "finished"
        record.progress = 1.0
        record.result = result
        record.finished_at = utcnow()
        db.commit()
        _release(app, lock, record.rq_id)
        log.info("job %s (%s) finished", record_id, record.name)
        return result


def init_app(app: Flask) -> None:
    connection = app.extensions["cci.redis"]
    app.extensions["cci.queues"] = {name: Queue(name, connection=connection) for name in QUEUES}
