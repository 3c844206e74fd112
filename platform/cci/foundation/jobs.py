"""Background jobs on RQ, each run inside the tenant scope it was enqueued from.

Jobs are named functions that plugins (and the core, through its built-in plugin) register with the
``register_jobs`` hook. They take plain keyword values, never ORM objects, plus
``report(fraction, message)`` to show progress. A :class:`cci.foundation.models.JobRecord` row
mirrors each job so pages and the API can show its status without asking Redis, and lets
:func:`reconcile` find a job whose process died (its heartbeat stopped) or that Redis lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import threading
import traceback
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask import current_app
from rq import Queue
from rq import Retry
from rq import get_current_job
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from cci.foundation import audit
from cci.foundation import logs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import rows_updated
from cci.foundation.db import utcnow
from cci.foundation.models import JobRecord

log = logging.getLogger("cci.jobs")

QUEUES = ("high", "default", "low")
LOCK_PREFIX = "cci:job-lock:"
FINISHED = ("finished", "failed")
WAITING = ("queued", "retrying")
#: Heartbeats a running job may miss before it counts as dead.
MISSED_BEATS = 3
DIED = "the process running this job stopped (worker or work horse killed)"


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
        queue=queue_name,
        timeout=timeout,
        lock=lock,
    )
    db.add(record)
    db.commit()
    try:
        _submit(record, delay_seconds)
    except Exception as exc:  # Redis down: the record says so instead of pretending to wait
        record.status = "failed"
        record.error = f"queue unavailable: {exc}"
        db.commit()
        if lock:
            redis.delete(lock)
        raise JobError(str(exc)) from exc
    return record


def _submit(record: JobRecord, delay_seconds: int = 0) -> None:
    """Put the record's job on its RQ queue (first time, or again after Redis lost it)."""
    target = queue(record.queue)
    schedule = (
        functools.partial(target.enqueue_in, dt.timedelta(seconds=delay_seconds))
        if delay_seconds
        else target.enqueue
    )
    schedule(
        run_job,
        record.id,
        record.region_id,
        record.lock,
        job_id=record.rq_id,
        description=record.title,
        **_rq_options(record.timeout),
    )


def on_failure(handler: Callable[..., None]) -> Callable[[Callable], Callable]:
    """Mark a job function with what to do when it dies without raising (its process was
    killed, or it stopped beating): ``handler(message, **params)`` in the job's scope."""

    def mark(job_function: Callable) -> Callable:
        job_function.on_failure = handler  # type: ignore[attr-defined]
        return job_function

    return mark


def _rq_options(timeout: int) -> dict[str, Any]:
    """How every job is queued: its time limit, retries, and how long RQ keeps its outcome."""
    retries = current_app.config["JOB_RETRIES"]
    intervals = current_app.config["JOB_RETRY_INTERVALS"][:retries] or [0]
    return {"retry": Retry(max=retries, interval=intervals) if retries else None,
            "job_timeout": timeout, "result_ttl": 86400, "failure_ttl": 7 * 86400}


def lock_key(dedupe_key: str, region_id: int | None) -> str:
    return f"{LOCK_PREFIX}{region_id or 'federal'}:{dedupe_key}"


def is_pending(dedupe_key: str, region_id: int | None = None) -> bool:
    """Whether a job with this dedupe key is queued or running (one Redis round trip)."""
    return bool(current_app.extensions["cci.redis"].exists(lock_key(dedupe_key, region_id)))


def _record_by_rq_id(rq_id: str) -> JobRecord | None:
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
        try:
            app.extensions["cci.redis"].eval(_RELEASE, 1, lock, rq_id)
        except Exception:  # Redis down: the lock expires by itself; the job's outcome stands
            log.warning("could not release the dedupe lock %s", lock, exc_info=True)


def _dead_before(app: Flask) -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=MISSED_BEATS * app.config["JOB_HEARTBEAT_SECONDS"])


def _claim(app: Flask, record_id: int) -> bool:
    """Mark the record running, unless it already ended or another live process runs it
    (RQ may deliver a job again: an abandoned job's retry, a job queued again by reconcile)."""
    claimable = or_(
        JobRecord.status.in_(WAITING),
        (JobRecord.status == "running")
        & (func.coalesce(JobRecord.heartbeat_at, JobRecord.started_at) < _dead_before(app)),
    )
    now = utcnow()
    claimed = rows_updated(db.execute(
        update(JobRecord)
        .where(JobRecord.id == record_id, claimable)
        .values(status="running", attempts=JobRecord.attempts + 1, heartbeat_at=now,
                started_at=func.coalesce(JobRecord.started_at, now), error=None)
        .execution_options(synchronize_session=False)
    ))
    db.commit()
    return bool(claimed)


@contextlib.contextmanager
def _heartbeat(app: Flask, record_id: int) -> Iterator[None]:
    """Refresh the record's heartbeat from a thread while the job runs in this process."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(app.config["JOB_HEARTBEAT_SECONDS"]):
            try:
                with app.extensions["cci.sessionmaker"]() as session, \
                        tenancy.federal_scope("job heartbeat"):
                    session.execute(update(JobRecord)
                                    .where(JobRecord.id == record_id,
                                           JobRecord.status == "running")
                                    .values(heartbeat_at=utcnow()))
                    session.commit()
            except Exception:  # the database away for a moment: the next beat may pass
                log.warning("job %s: heartbeat not stored", record_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"job-{record_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def run_job(record_id: int, region_id: int | None, lock: str | None = None) -> dict:
    """The RQ entry point for every named job; its log records name the RQ job."""
    rq_job = get_current_job()
    with logs.job_context(rq_job.id if rq_job is not None else f"record-{record_id}"):
        return _run_job(record_id, region_id, lock)


def _run_job(record_id: int, region_id: int | None, lock: str | None) -> dict:
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
        if not _claim(app, record_id):
            log.warning("job %s (%s) is %s: not run again", record_id, record.name, record.status)
            return {"skipped": record.status}
        db.refresh(record)
        job_function = app.extensions["cci.registry"].jobs[record.name]
        log.info("job %s (%s) started, attempt %s", record.id, record.name, record.attempts)
        try:
            with _heartbeat(app, record_id):
                result = job_function(report=Progress(record.id), **record.params) or {}
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


def _give_up(record_id: int, message: str, *, retrying: bool = False) -> bool:
    """End a running record whose process died; the job's ``on_failure`` handler runs unless
    RQ retries it. False when the record was not running (it ended, or was claimed again)."""
    app = _app_or_current()
    with tenancy.federal_scope("a job's process died"):
        ended = rows_updated(db.execute(
            update(JobRecord)
            .where(JobRecord.id == record_id, JobRecord.status == "running")
            .values(status="retrying" if retrying else "failed", error=message,
                    finished_at=None if retrying else utcnow())
            .execution_options(synchronize_session=False)
        ))
        db.commit()
        record = db.get_one(JobRecord, record_id)
    if not ended or retrying:
        return bool(ended)
    log.error("job %s (%s): %s", record_id, record.name, message)
    _release(app, record.lock, record.rq_id)
    handler = getattr(app.extensions["cci.registry"].jobs.get(record.name), "on_failure", None)
    if handler is not None:
        with tenancy.scoped(tenancy.Scope(record.region_id, f"job {record_id} died")):
            handler(message, **record.params)
    return True


def _app_or_current() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def horse_killed(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """RQ's ``work_horse_killed_handler``: the worker saw its work horse die mid-job."""
    if not job.args:
        return
    app = _app()
    retrying = bool(job.retries_left)
    with app.app_context():
        _give_up(int(job.args[0]), f"{DIED}; waitpid returned {ret_val}", retrying=retrying)


def reconcile() -> dict[str, list[int]]:
    """Square the job records with what runs: a running job whose heartbeat stopped is failed
    (its ``on_failure`` runs), a waiting job that Redis no longer holds is queued again.

    Run by every worker at start and periodically, and before a computation is started; safe
    to run from several processes at once (each change is a conditional UPDATE).
    """
    app = _app_or_current()
    dead_before = _dead_before(app)
    with tenancy.federal_scope("reconcile jobs"):
        dead = db.scalars(
            select(JobRecord.id).where(
                JobRecord.status == "running",
                func.coalesce(JobRecord.heartbeat_at, JobRecord.started_at) < dead_before)
        ).all()
        waiting = db.scalars(
            select(JobRecord).where(
                JobRecord.status.in_(WAITING),
                func.coalesce(JobRecord.heartbeat_at, JobRecord.created_at) < dead_before)
        ).all()
    failed = [record_id for record_id in dead if _give_up(record_id, DIED)]
    requeued = []
    if waiting:
        redis = app.extensions["cci.redis"]
        with redis.pipeline(transaction=False) as pipe:
            for record in waiting:
                pipe.exists(Job.key_for(record.rq_id))
            held = pipe.execute()
        for record, in_redis in zip(waiting, held, strict=True):
            if not in_redis and _requeue(record, dead_before):
                requeued.append(record.id)
    if failed or requeued:
        log.warning("jobs reconciled: failed (process died) %s, queued again %s",
                    failed, requeued)
    return {"failed": failed, "requeued": requeued}


def _requeue(record: JobRecord, dead_before: dt.datetime) -> bool:
    """Queue a waiting job again; only the process whose UPDATE wins does it."""
    with tenancy.federal_scope("queue a lost job again"):
        won = rows_updated(db.execute(
            update(JobRecord)
            .where(JobRecord.id == record.id, JobRecord.status.in_(WAITING),
                   func.coalesce(JobRecord.heartbeat_at, JobRecord.created_at) < dead_before)
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ))
        db.commit()
        if not won:
            return False
        if record.lock:
            current_app.extensions["cci.redis"].set(record.lock, record.rq_id, nx=True,
                                                    ex=record.timeout)
        _submit(record)
    return True


def init_app(app: Flask) -> None:
    connection = app.extensions["cci.redis"]
    app.extensions["cci.queues"] = {name: Queue(name, connection=connection) for name in QUEUES}


def error_summary(record: JobRecord) -> str:
    """The failure in a line: the exception and its message (the last line of the stored
    traceback), or the record's own words (``queue unavailable: …``)."""
    lines = [line.strip() for line in (record.error or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def retry(record: JobRecord, user: Any = None) -> JobRecord:
    """Queue a failed job again, as a new RQ job of the same record (its attempts go on
    counting); audit-logged. The failed RQ job is dropped from its failed registry, so the
    queue's count of failures says what still needs a decision; the job's dedupe lock is taken
    again unless a newer job of the same work holds it."""
    if record.status != "failed":
        raise JobError(f"job {record.id} is {record.status}, not failed")
    redis = current_app.extensions["cci.redis"]
    old_id = record.rq_id
    try:
        old = Job.fetch(old_id, connection=redis)
        FailedJobRegistry(queue=queue(record.queue)).remove(old, delete_job=True)
    except Exception:  # noqa: BLE001 -- gone from Redis (expired, or Redis was emptied): queue anew
        log.info("job %s: RQ job %s not found, queued anew", record.id, old_id)
    before = {"status": record.status}
    record.rq_id = str(uuid.uuid4())
    record.status = "queued"
    record.progress = 0.0
    record.finished_at = None
    record.heartbeat_at = None
    audit.record("job.retry", record, before=before, after={"status": "queued"}, user=user)
    db.commit()
    try:
        if record.lock and not redis.set(record.lock, record.rq_id, nx=True, ex=record.timeout):
            log.info("job %s: its dedupe lock is held by a newer job", record.id)
        _submit(record)
    except Exception as exc:  # Redis down: still failed, and it says why
        record.status = "failed"
        record.error = f"queue unavailable: {exc}"
        db.commit()
        raise JobError(str(exc)) from exc
    log.info("job %s (%s) queued again by %s", record.id, record.name,
             getattr(user, "email", None) or "system")
    return record
