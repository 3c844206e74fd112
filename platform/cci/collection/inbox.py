"""Answers accepted at once and stored by a job: the intake of devices that deliver in bulk.

A kiosk back online delivers its whole queue, and a hall of kiosks delivers at the same time.
Each delivery is validated in full while the device waits (an invalid answer gets its 400 and
nothing is kept), then written as one row here and acknowledged: the cost of the request is
one INSERT, whatever the quality rules cost. The drain job (``intake.drain``, queued by the first
answer that finds none waiting; more of them when a backlog builds up) stores the waiting answers as an
import's rows are stored, with :func:`cci.collection.intake.store_batch`: bulk writes, every quality
rule, look-backs once per batch. It deletes the rows it stored in the same transaction, so an
answer is in exactly one of the two tables, never in neither.

While deliveries come as a burst, the drain job gives way to them and stores them when the
burst has passed, within ``INBOX_DRAIN_MAX_LAG`` seconds of the oldest (:class:`Burst`).

A client key is unique here as in ``responses``: a repeat is recognised while its answer
waits as well as after. A region's computation drains the region first, and the run's
fingerprint counts the waiting answers, so no figure misses an acknowledged answer.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import DataError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import SQLAlchemyError

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import engine
from cci.foundation.db import utcnow
from cci.collection.intake import DRAFT_COLUMNS
from cci.collection.intake import Draft
from cci.collection.intake import DraftAnswer
from cci.foundation.models import InboxItem
from cci.foundation.models import Response

JOB = "intake.drain"
#: answers stored per transaction by the drain job
BATCH = 2000
#: how often a lingering drain looks for new answers, in seconds
LINGER_STEP = 0.1
#: a lingering drain stores at most one batch in this many seconds unless it is full. A
#: batch's look-backs cost about the same for 80 answers as for 400, so gathering for a second
#: stores an answer for less CPU (410 against 358 answers a second at saturation on the bench),
#: but each batch's writes then come as one burst the requests wait behind (p99 at 16 clients
#: 118 against 99 ms): the latency goal is the one a kiosk hall feels
GATHER_SECONDS = 0.2
#: a drain job hands over to a fresh one after this many seconds of steady deliveries, well
#: within its timeout (whose lock, should its worker die, keeps new jobs away until it ends)
RUN_SECONDS = 60
#: a batch this large means a backlog: a drain job then asks for one more (INBOX_DRAIN_JOBS)
HELP_ROWS = 200
TIMEOUT_SECONDS = 900
#: how often a drain job reports how many it has stored
REPORT_SECONDS = 5
#: the drain vacuums the inbox (PostgreSQL) after it has deleted or updated this many rows.
#: A queue's dead rows slow every look for waiting answers and every accepted key (60,000 of
#: them made each look cost 20 ms), and autovacuum, where it is on at all, comes to a table
#: at most once a minute and only after a fifth of it has changed
VACUUM_ROWS = 1000
#: how often a drain job that gives way to a burst of deliveries looks again, in seconds
YIELD_STEP = 0.5

_TIMES = ("started_at", "submitted_at")
#: an inbox row waiting to be stored (not one the database refused)
WAITING = InboxItem.error.is_(None)


def encode(draft: Draft) -> dict[str, Any]:
    data = {name: getattr(draft, name) for name in DRAFT_COLUMNS}
    for name in _TIMES:
        data[name] = data[name].isoformat() if data[name] is not None else None
    data["answers"] = [[a.item, a.value, a.choice] for a in draft.answers]
    return data


def decode(data: dict[str, Any], received_at: dt.datetime) -> Draft:
    values = {name: data.get(name) for name in DRAFT_COLUMNS}
    for name in _TIMES:
        if values[name] is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    answers = [DraftAnswer(item, value, choice) for item, value, choice in data["answers"]]
    return Draft(**values, answers=answers, received_at=received_at)


def _accept_statement(dialect: str, only_if=None):
    """INSERT … SELECT the bound values WHERE the key is not stored (and ``only_if`` holds)
    ON CONFLICT (waiting) DO NOTHING: the checks and the write in one statement, built once
    per dialect and condition."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table, responses = InboxItem.__table__, Response.__table__
    row = select(
        bindparam("client_key", type_=table.c.client_key.type),
        bindparam("region_id", type_=table.c.region_id.type),
        bindparam("campaign_id", type_=table.c.campaign_id.type),
        bindparam("channel", type_=table.c.channel.type),
        bindparam("received_at", type_=table.c.received_at.type),
        bindparam("draft", type_=table.c.draft.type),
    ).where(~exists().where(responses.c.client_key == bindparam("client_key")))
    if only_if is not None:
        row = row.where(only_if)
    return (
        insert(table)
        .from_select(["client_key", "region_id", "campaign_id", "channel", "received_at",
                      "draft"], row)
        .on_conflict_do_nothing(index_elements=["client_key"])
        .execution_options(preserve_rowcount=True)  # kept only for UPDATE/DELETE otherwise
    )


_ACCEPT: dict[tuple[str, Any], Any] = {}


class Acceptance(enum.Enum):
    KEPT = "kept"
    #: the client key is known already (waiting or stored)
    REPEAT = "repeat"
    #: the channel's condition (``only_if``) did not hold: nothing was kept
    REFUSED = "refused"


def accept(draft: Draft, only_if=None, params: dict[str, Any] | None = None,
           autocommit: bool = False) -> Acceptance:
    """Keep a validated answer until the drain job stores it: in the current transaction (not
    committed), or with ``autocommit`` and nothing begun in the session, committed by itself,
    as are the session's next statements until it commits (the whole write of a delivery is
    then one statement, not BEGIN, INSERT and COMMIT).

    ``only_if`` (a SQL condition, built once, with its bound ``params``) is checked in the same
    statement: a channel that validated the answer against what it read earlier (a device, its
    campaign) keeps it only if that still holds, and is told REFUSED otherwise. A key already
    known (waiting or stored) is a REPEAT."""
    tenancy.guard_rows([draft.region_id])
    if autocommit and not db().in_transaction():
        connection = db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    else:
        connection = db.connection()  # around the ORM, as cci.foundation.db.append_rows: rows guarded
    # above (a client key is unique across regions: looking it up crosses no boundary)
    dialect = connection.dialect.name
    statement = _ACCEPT.get((dialect, only_if))
    if statement is None:
        statement = _ACCEPT[dialect, only_if] = _accept_statement(dialect, only_if)
    if connection.execute(statement, {
        "client_key": draft.client_key, "region_id": draft.region_id,
        "campaign_id": draft.campaign_id, "channel": draft.channel, "received_at": utcnow(),
        "draft": encode(draft), **(params or {}),
    }).rowcount == 1:
        return Acceptance.KEPT
    if only_if is None or _known(connection, draft.client_key):
        return Acceptance.REPEAT
    # not "the condition fails now": it may hold again by the time it is asked, and a repeat
    # the device then drops must be one the platform has
    return Acceptance.REFUSED


def known(client_key: str) -> bool:
    """Whether an answer with this client key is waiting or stored."""
    with tenancy.federal_scope("recognise a repeated delivery"):
        return _known(db.connection(), client_key)


def _known(connection, client_key: str) -> bool:
    # a client key is unique across regions: looking it up crosses no boundary
    return connection.execute(select(
        exists().where(InboxItem.client_key == client_key)
        | exists().where(Response.client_key == client_key))).scalar() is True


def _slot_key(slot: int) -> str:
    return f"{JOB}:{slot}"


def schedule_drain(more: bool = False, just_kept: bool = False) -> None:
    """Make sure a drain job waits or works (one Redis round trip when one does). With
    ``more`` (a drain job with a backlog), start one more, up to ``INBOX_DRAIN_JOBS``.

    ``just_kept`` (a request that has just committed an answer) skips even that round trip
    while this process saw a job holding its lock less than a quarter of the linger ago: that
    job stored the answer whose request saw it, or will, and lingers the whole linger after
    storing, so it is still there to see this one (a job that ends at :data:`RUN_SECONDS`
    queues its successor regardless)."""
    from cci.foundation import jobs

    seen = current_app.extensions.setdefault("cci.inbox_drain_seen", {})
    now = time.monotonic()
    trust = current_app.config["INBOX_DRAIN_LINGER"] / 4
    if just_kept and 0 <= now - seen.get("busy", now - trust) < trust:
        return
    slots = current_app.config["INBOX_DRAIN_JOBS"]
    locks = [jobs.lock_key(_slot_key(slot), None) for slot in range(slots)]
    redis = current_app.extensions["cci.redis"]
    busy = redis.exists(*locks)
    if busy >= slots or (busy and not more):
        if just_kept:
            seen["busy"] = now
        return  # a job that holds its lock has its last look still to come: it sees these
    free = next((slot for slot, lock in enumerate(locks) if not redis.exists(lock)), None)
    if free is None:
        return  # every slot was taken meanwhile: those jobs have their last look to come
    with tenancy.federal_scope("store delivered answers"):
        jobs.enqueue(JOB, title="Сохранение принятых ответов", dedupe_key=_slot_key(free),
                     timeout=TIMEOUT_SECONDS, slot=free)


def waiting() -> int:
    """Answers waiting to be stored in the current scope."""
    return sum(waiting_by_region().values())


def waiting_by_region() -> dict[int, int]:
    """{region id: answers waiting} in the current scope."""
    return dict(db.execute(
        select(InboxItem.region_id, func.count()).where(WAITING)
        .group_by(InboxItem.region_id)).all())


@dataclass(frozen=True)
class Backlog:
    """A region's answers acknowledged and not stored: waiting for the drain job (and since
    when: an old one means no worker is storing them), or refused by the database."""

    region_id: int
    waiting: int
    oldest: dt.datetime | None
    failed: int


def backlog() -> list[Backlog]:
    """Per region of the current scope that has any: one aggregate query."""
    rows = db.execute(
        select(InboxItem.region_id, func.count().filter(WAITING),
               func.min(InboxItem.received_at).filter(WAITING),
               func.count().filter(~WAITING))
        .group_by(InboxItem.region_id).order_by(InboxItem.region_id))
    return [Backlog(*row) for row in rows]


def failed(limit: int | None = None) -> list[InboxItem]:
    """The answers that could not be stored (with the database's error), oldest first."""
    return list(db.scalars(select(InboxItem).where(InboxItem.error.is_not(None))
                           .order_by(InboxItem.id).limit(limit)))


def retry(ids: list[int] | None = None) -> int:
    """Let the drain try failed answers again (all, or those of ``ids``) once the cause is
    mended; returns how many. Not committed."""
    query = update(InboxItem).where(InboxItem.error.is_not(None))
    if ids:
        query = query.where(InboxItem.id.in_(ids))
    return db.execute(query.values(error=None).execution_options(
        synchronize_session=False)).rowcount


class Burst:
    """Whether deliveries come as a burst the drain job should give way to.

    Storing an answer (its rows, every quality rule) costs the machine more than accepting
    it, so while a hall of kiosks delivers the queues of a night offline, the drain would take
    the CPU the deliveries wait for. A burst is deliveries coming at ``rate`` answers a second
    or more (an ordinary day brings a few a second over the whole country); while one lasts
    the drain waits, unless the oldest waiting answer has waited ``max_lag`` seconds (under
    steady deliveries it then stores as before, the oldest first). The answers are kept and
    acknowledged meanwhile, and a computation stores its region's waiting answers before it
    counts (:func:`drain` without a burst), so no figure misses one.

    Each look is one statement over index look-ups (the newest inbox id, the first waiting
    answer and its time); the rate is the ids taken since the previous look (or since the
    first waiting answer, when none waited then: a sequence moves on while the table empties),
    so a job's first look with answers waiting gives way once, to learn it (a job that takes
    over in the middle of a burst would otherwise store a batch there)."""

    def __init__(self, rate: float, max_lag: float):
        self.rate, self.max_lag = rate, max_lag
        self._last: tuple[int, float] | None = None
        self.lag = 0.0

    @classmethod
    def from_config(cls) -> Burst | None:
        rate = current_app.config["INBOX_DRAIN_YIELD_RATE"]
        return cls(rate, current_app.config["INBOX_DRAIN_MAX_LAG"]) if rate > 0 else None

    def ongoing(self) -> bool:
        first_waiting = select(InboxItem.id, InboxItem.received_at).where(WAITING) \
            .order_by(InboxItem.id).limit(1).subquery()
        newest, first, oldest = db.execute(select(
            select(func.max(InboxItem.id)).scalar_subquery(),
            select(first_waiting.c.id).scalar_subquery(),
            select(first_waiting.c.received_at).scalar_subquery())).one()
        db.commit()  # a fresh snapshot for the next look
        now, last = time.monotonic(), self._last
        self._last = (max(newest or 0, last[0] if last else 0), now)
        if first is None:
            return False  # nothing waits
        self.lag = (utcnow() - oldest).total_seconds()
        if self.lag >= self.max_lag:
            return False
        if last is None:
            return True
        came = (newest or 0) - max(last[0], first - 1)
        return came / max(now - last[1], 1e-3) >= self.rate


def drain_job(report, slot: int = 0) -> dict[str, int]:
    """The drain job (federal: every region, each row stored with its own region, each
    rule run in its region's scope, see :func:`cci.collection.intake.store_batch`): stores what
    waits, and what comes while it works, until nothing has come for
    ``INBOX_DRAIN_LINGER`` seconds or :data:`RUN_SECONDS` have passed (under steady
    deliveries one job keeps storing, instead of a job, with its process, per handful of
    answers; and it does not keep a worker from other jobs for long: its successor queues
    behind them, on the same queue). While deliveries come as a burst it gives way to them
    (:class:`Burst`, as configured)."""
    from cci.foundation import jobs

    until = time.monotonic() + RUN_SECONDS
    totals = drain(report, linger=current_app.config["INBOX_DRAIN_LINGER"], until=until,
                   burst=Burst.from_config())
    jobs.release_own_lock(_slot_key(slot))  # from here on, a new answer queues a job...
    # ...and one kept just before that is not left waiting; after a full run with deliveries,
    # their requests may have trusted that this job lingers (schedule_drain: just_kept)
    if (_late(until) and totals["stored"]) or waiting():
        schedule_drain()
    return totals


def drain(report=None, linger: float = 0.0, until: float | None = None,
          burst: Burst | None = None) -> dict[str, int]:
    """Store every answer waiting in the current scope (federal: the drain job; a region's:
    its computation, first), and those that come within ``linger`` seconds of the last,
    until the monotonic clock reaches ``until``; while ``burst`` says one is ongoing, wait
    for it to pass first. Commits per batch; returns counts."""
    from cci.collection import recompute

    registry = current_app.extensions["cci.registry"]
    totals = {"stored": 0, "repeats": 0, "failed": 0}
    idle_since = reported = time.monotonic()
    dead = 0  # inbox rows this drain deleted or updated since it last vacuumed

    def progress(message: str) -> None:
        nonlocal reported
        if report is not None and time.monotonic() - reported >= REPORT_SECONDS:
            report(0.5, message)  # a commit of its own
            reported = time.monotonic()

    while True:
        if dead >= VACUUM_ROWS:
            vacuum()
            dead = 0
        if burst is not None and burst.ongoing():
            if _late(until):
                break  # the job's successor goes on giving way
            idle_since = time.monotonic()  # answers are coming: no reason to end
            progress(f"поток ответов: сохранение отложено на {burst.lag:.0f} с")
            time.sleep(YIELD_STEP)
            continue
        began = time.monotonic()
        rows = db.execute(
            select(InboxItem.id, InboxItem.region_id, InboxItem.campaign_id,
                   InboxItem.client_key, InboxItem.channel, InboxItem.received_at,
                   InboxItem.draft)
            .where(WAITING).order_by(InboxItem.id).limit(BATCH)
            # two drains (jobs, a computation) take different rows
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            db.commit()  # a fresh snapshot for the next look
            if time.monotonic() - idle_since >= linger or _late(until):
                break
            time.sleep(min(LINGER_STEP, linger))
            continue
        with tenancy.federal_scope("recognise a repeated delivery"):
            stored = set(db.scalars(select(Response.client_key).where(
                Response.client_key.in_([row.client_key for row in rows]))))
        fresh = [row for row in rows if row.client_key not in stored]
        groups: dict[str, list] = defaultdict(list)
        failed: dict[int, str] = {}
        for row in fresh:
            try:
                draft = decode(row.draft, row.received_at)
            except (KeyError, TypeError, ValueError) as exc:
                # a row this version cannot read (written around the app, or by a version that
                # kept drafts otherwise) is kept with the reason, not left to stop every drain
                current_app.logger.warning("inbox %s (%s) cannot be read: %r", row.id,
                                           row.client_key, exc)
                failed[row.id] = f"unreadable draft: {type(exc).__name__}: {exc}"[:2000]
                continue
            groups[row.channel].append((row, draft))
        for key, group in groups.items():
            # every region at once: a batch gathered from a hall of kiosks over the country
            # has one or two answers per region, and a store's cost is mostly per call
            failed.update(_store(group, registry.channels.get(key)))
        for row_id, error in failed.items():
            db.execute(update(InboxItem).where(InboxItem.id == row_id).values(error=error))
        done = [row.id for row in rows if row.id not in failed]
        db.execute(delete(InboxItem).where(InboxItem.id.in_(done)))
        db.commit()
        dead += len(rows)
        totals["repeats"] += len(rows) - len(fresh)
        totals["failed"] += len(failed)
        totals["stored"] += len(fresh) - len(failed)
        for campaign_id in sorted({row.campaign_id for row in fresh if row.id not in failed}):
            recompute.follow([campaign_id])  # debounced: one Redis look while one waits
        idle_since = time.monotonic()
        progress(f"сохранено ответов: {totals['stored']}")
        if _late(until):
            break  # the caller looks again (the job: after releasing its lock)
        if len(rows) >= HELP_ROWS and report is not None:
            schedule_drain(more=True)  # a backlog: another worker may help
        if linger and len(rows) < BATCH:
            # let answers gather: a batch costs about the same for 5 answers as for 500
            time.sleep(max(0.0, min(GATHER_SECONDS, linger) - (idle_since - began)))
    if dead and linger:
        vacuum()  # the job leaves the table clean (a computation's drain of a region's few
        # answers leaves that to the next job)
    return totals


def vacuum() -> None:
    """VACUUM the inbox on PostgreSQL, outside any transaction (its own connection): never
    waiting for a lock, neither for another drain's VACUUM (SKIP_LOCKED) nor to give back the
    emptied pages (TRUNCATE false: that needs the table to itself, for up to 5 s while
    deliveries write to it, and a queue reuses its pages anyway). SQLite keeps no dead rows."""
    bind = engine()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql(
                f"VACUUM (SKIP_LOCKED, TRUNCATE false) {InboxItem.__tablename__}")
    except SQLAlchemyError:
        # the answers are stored and committed: housekeeping must not fail the drain (or the
        # computation that drained first); the next drain tries again
        current_app.logger.warning("the intake inbox was not vacuumed", exc_info=True)


def _late(until: float | None) -> bool:
    return until is not None and time.monotonic() >= until


def _store(rows, channel) -> dict[int, str]:
    """Store (row, draft) pairs of one channel; returns {inbox id: error} of the rows that
    could not be."""
    from cci.collection.intake import store_batch

    savepoint = db.begin_nested()
    try:
        store_batch([draft for _row, draft in rows], channel)
        savepoint.commit()
        return {}
    except (IntegrityError, DataError):
        savepoint.rollback()
    # one of them cannot be stored (its office or campaign is gone, a key raced in through
    # another path, a value the column refuses): store the others one by one and keep the
    # error of that one
    failed = {}
    for row, _draft in rows:
        savepoint = db.begin_nested()
        try:
            # read afresh: storing the batch wrote ids and flags into its drafts
            store_batch([decode(row.draft, row.received_at)], channel)
            savepoint.commit()
        except (IntegrityError, DataError) as exc:
            savepoint.rollback()
            current_app.logger.warning("inbox %s (%s) not stored: %s", row.id, row.client_key,
                                       exc.orig)
            failed[row.id] = f"{type(exc.orig).__name__}: {exc.orig}"[:2000]
    return failed
