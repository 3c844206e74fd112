"""Notifications to staff: an event (a new case, an action due, a metric turned red) becomes one
row per person who should see it, read on the platform's page «Уведомления» and e-mailed once a
day as a digest of what is still unread, never a message per event.

:func:`notify` decides who by role: the region's administrators, and for an event of an office
its staff (the users bound to that office); the federal analysts only for escalations
(:data:`ESCALATIONS`); plus whoever the caller names (an action's owner), if of the region. A
row belongs to the event's region, also when its reader is a federal analyst. One row per
user, kind and subject (``subject`` names what the event is about, the same each time it is
told), so a job that runs again tells nobody twice.

What calls it: :func:`remind_actions` (improvement actions due within
``NOTIFY_ACTION_DAYS`` days or past, and escalated past ``ACTION_ESCALATION_DAYS``),
``cci.index.cx_alerts`` after a CX computation (a cell that turned red), and the office's cases
(``notify("case_new", region_id=…, office_id=…, title=…, url=…, subject=f"case:{id}")``).

The digest (:func:`send_digests`) goes to each user who chose it (the default; «none» in the
account page) once per day, from ``NOTIFY_DIGEST_HOUR`` o'clock in the user's time zone (the
region's; Moscow for federal users), listing their unread notifications not yet in a digest.
There is no cron: every worker calls :func:`run_scheduled` from its maintenance round, at most
once per ``NOTIFY_EVERY_SECONDS`` across workers (a Redis key); exactly once per user and day is
the database's: the day's :class:`NotificationDigest` row is inserted (unique per user and day)
before the e-mail goes, and removed again if the mail server refuses it, for the next round.
``cci notifications digest`` does the same for an operator.

A digest's links are absolute (a link in an e-mail has no page to be relative to), under
:func:`public_base`: ``CCI_PUBLIC_URL``; without it Flask's ``SERVER_NAME`` (with
``PREFERRED_URL_SCHEME``), if the configuration sets one. A digest is sent by a worker, with
no request whose address could stand in; with neither set, the letter carries no links and
names the pages in words (the page «Notifications») rather than send paths no mail reader can
open.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask import has_request_context
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from cci.foundation import improvement_actions
from cci.foundation import mail
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import rows_updated
from cci.foundation.db import utcnow
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.foundation.models import Notification
from cci.foundation.models import NotificationDigest
from cci.foundation.models import Region
from cci.foundation.models import User
from cci.foundation.roles import Role

log = logging.getLogger("cci.notifications")

KINDS = {
    "case_new": _l("New case"),
    "action_due": _l("Action due"),
    "action_escalated": _l("Action escalated"),
    "metric_red": _l("Metric turned red"),
}
#: kinds that reach the federal analysts too
ESCALATIONS = frozenset({"action_escalated"})
#: what a user may choose to receive by e-mail
EMAIL_CHOICES = {"daily": _l("a daily digest of unread notifications"),
                 "none": _l("no e-mail (the notifications page only)")}
#: a digest lists unread notifications of at most this many days (not a backlog of months
#: to someone who has just chosen the digest again)
DIGEST_DAYS = 7
MOSCOW = "Europe/Moscow"
_REDIS_KEY = "cci:notifications:round"


# --- telling ---------------------------------------------------------------------------------


def notify(kind: str, *, region_id: int, office_id: int | None, title: str, url: str,
           subject: str, users: Iterable[int] = (), office_roles: Iterable[str] = ()) -> int:
    """Record an event for the staff who should see it (see the module's doc); returns how
    many people were told now (0 when everyone was told before). ``office_roles``: only the
    office's staff in these roles (those who may open the subject); all of them when empty.
    In a regional scope, only of that region. Not committed."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    subject = subject[:200]
    scope = tenancy.current_scope()
    if scope is None or (not scope.federal and scope.region_id != region_id):
        raise tenancy.TenantIsolationError("a notification of another region")
    with tenancy.federal_scope("a notification's readers: a region's staff, and the federal "
                               "analysts for an escalation"):
        audience = audience_of(kind, region_id, office_id, users, office_roles)
        if not audience:
            return 0
        told = set(db.scalars(select(Notification.user_id).where(
            Notification.kind == kind, Notification.subject == subject,
            Notification.user_id.in_(audience))))
        now = utcnow()
        rows = [{"user_id": user_id, "region_id": region_id, "office_id": office_id,
                 "kind": kind, "subject": subject, "title": title[:500],
                 "url": url[:500], "created_at": now}
                for user_id in sorted(audience - told)]
        _insert_new(rows)
    return len(rows)


def audience_of(kind: str, region_id: int, office_id: int | None,
                users: Iterable[int] = (), office_roles: Iterable[str] = ()) -> set[int]:
    """The active users an event of this kind reaches (read in the federal scope)."""
    mine = User.region_id == region_id
    who = [and_(mine, User.role == Role.REGIONAL_ADMIN.value)]
    if office_id is not None:
        roles = list(office_roles)
        who.append(and_(mine, User.office_id == office_id,
                        User.role.in_(roles) if roles else true()))
    named = list(users)
    if named:
        who.append(and_(mine, User.id.in_(named)))
    if kind in ESCALATIONS:
        who.append(User.role == Role.FEDERAL_ANALYST.value)
    return set(db.scalars(select(User.id).where(User.active.is_(True), or_(*who))))


def _insert_new(rows: list[dict[str, Any]]) -> None:
    """The rows, but those another process stored meanwhile (unique: user, kind, subject)."""
    if not rows:
        return
    connection = db.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Notification.__table__).on_conflict_do_nothing(
        index_elements=["user_id", "kind", "subject"])
    connection.execute(statement, rows)


def path_for(endpoint: str, **values: Any) -> str:
    """A page's path, also outside a request (a worker's round, a job)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


# --- reading ---------------------------------------------------------------------------------


def unread_count(user) -> int:
    return db.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def of_user(user, limit: int = 200) -> list[Notification]:
    """A user's notifications, the unread first, newest first."""
    return list(db.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(),
                  Notification.id.desc()).limit(limit)))


def own(user, notification_id: int) -> Notification | None:
    """One of the user's notifications; None for anyone else's (or another region's)."""
    row = db.get(Notification, notification_id)
    return row if row is not None and row.user_id == user.id else None


def mark_read(row: Notification) -> None:
    if row.read_at is None:
        row.read_at = utcnow()


def mark_all_read(user) -> int:
    result = db.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    ).values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# --- improvement actions ---------------------------------------------------------------------


def remind_actions(now: dt.datetime | None = None) -> int:
    """Tell about every open action due within ``NOTIFY_ACTION_DAYS`` days or past (once per
    action and due date), and escalate those overdue past ``ACTION_ESCALATION_DAYS`` to the
    federal analysts; the dates are the region's. Returns how many people were told; not
    committed."""
    now = now or utcnow()
    ahead = current_app.config["NOTIFY_ACTION_DAYS"]
    limit = improvement_actions.escalation_days()
    told = 0
    with tenancy.federal_scope("improvement actions due, in every region"):
        rows = db.execute(
            select(ImprovementAction, Region.code, Region.timezone, JourneyMap.office_id)
            .join(Region, Region.id == ImprovementAction.region_id)
            .join(JourneyMapVersion, JourneyMapVersion.id == ImprovementAction.map_version_id)
            .join(JourneyMap, JourneyMap.id == JourneyMapVersion.map_id)
            .where(ImprovementAction.status.in_(improvement_actions.OPEN_STATUSES),
                   # a day's margin for the time zones; each region's date decides below
                   ImprovementAction.due_on <= now.date() + dt.timedelta(days=ahead + 1))
            .order_by(ImprovementAction.id)).all()
        events = []
        for action, code, timezone, office_id in rows:
            today = now.astimezone(zoneinfo.ZoneInfo(timezone)).date()
            if action.due_on > today + dt.timedelta(days=ahead):
                continue
            subject = f"action:{action.id}:{action.due_on.isoformat()}"
            url = path_for("region.action", region_code=code, action_id=action.id)
            due = action.due_on.strftime("%d.%m.%Y")
            if action.due_on < today:
                title = _("Action «%(title)s» is overdue (due %(due)s)", title=action.title,
                          due=due)
            else:
                title = _("Action «%(title)s» is due %(due)s", title=action.title, due=due)
            events.append(("action_due", action, office_id, title, url, subject))
            if (today - action.due_on).days > limit:
                title = _("Action «%(title)s» is overdue by more than %(days)d days "
                          "(due %(due)s)", title=action.title, days=limit, due=due)
                events.append(("action_escalated", action, office_id, title, url, subject))
        done = set(db.execute(select(Notification.kind, Notification.subject).where(
            Notification.subject.in_({e[5] for e in events})).distinct()).all()) \
            if events else set()
        for kind, action, office_id, title, url, subject in events:
            if (kind, subject) not in done:
                told += notify(kind, region_id=action.region_id, office_id=office_id,
                               title=title, url=url, subject=subject, users=[action.owner_id])
    return told


# --- the daily digest ------------------------------------------------------------------------


def send_digests(now: dt.datetime | None = None, *, any_hour: bool = False) -> int:
    """Each user's digest of the day, if due (see the module's doc): past the morning hour in
    their time zone (``any_hour``: at once), not yet sent that day, something unread not in a
    digest. Returns how many e-mails went. Commits per user."""
    now = now or utcnow()
    hour = current_app.config["NOTIFY_DIGEST_HOUR"]
    since = now - dt.timedelta(days=DIGEST_DAYS)
    sent = 0
    with tenancy.federal_scope("the daily digests of notifications, in every region"):
        pending = db.execute(
            select(User.id, User.email, User.region_id, Region.timezone)
            .join(Notification, Notification.user_id == User.id)
            .outerjoin(Region, Region.id == User.region_id)
            .where(User.active.is_(True), User.notification_email == "daily",
                   Notification.read_at.is_(None), Notification.digest_id.is_(None),
                   Notification.created_at >= since)
            .group_by(User.id, User.email, User.region_id, Region.timezone)
            .order_by(User.id)).all()
        db.rollback()  # no transaction held while e-mails go
        for user_id, email, region_id, timezone in pending:
            local = now.astimezone(zoneinfo.ZoneInfo(timezone or MOSCOW))
            if local.hour < hour and not any_hour:
                continue
            sent += _send_digest(user_id, email, region_id, local.date(), since, now)
    return sent


def _send_digest(user_id: int, email: str, region_id: int | None, day: dt.date,
                 since: dt.datetime, now: dt.datetime) -> bool:
    dialect = postgresql if db.connection().dialect.name == "postgresql" else sqlite
    digest_id = db.execute(
        dialect.insert(NotificationDigest.__table__)
        .values(user_id=user_id, region_id=region_id, day=day, count=0, sent_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "day"])
        .returning(NotificationDigest.__table__.c.id)).scalar()
    if digest_id is None:  # sent today already (by this process or another)
        db.rollback()
        return False
    db.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None),
        Notification.digest_id.is_(None), Notification.created_at >= since,
    ).values(digest_id=digest_id).execution_options(synchronize_session=False))
    items = list(db.scalars(select(Notification).where(Notification.digest_id == digest_id)
                            .order_by(Notification.created_at, Notification.id)))
    if not items:  # read meanwhile: nothing to send, the day stays free
        db.rollback()
        return False
    db.execute(update(NotificationDigest).where(NotificationDigest.id == digest_id)
               .values(count=len(items)).execution_options(synchronize_session=False))
    subject, body = digest_message(items, day)
    db.commit()  # the day is taken before the e-mail goes: a second worker sends nothing
    try:
        mail.send(email, subject, body)
    except mail.MailError:
        log.warning("the digest to user %s was not sent; the next round tries again", user_id,
                    exc_info=True)
        db.execute(update(Notification).where(Notification.digest_id == digest_id)
                   .values(digest_id=None).execution_options(synchronize_session=False))
        db.execute(delete(NotificationDigest).where(NotificationDigest.id == digest_id))
        db.commit()
        return False
    return True


def public_base() -> str | None:
    """Where the platform's pages are for links in e-mails (see the module's doc): the
    configured public address, else ``scheme://SERVER_NAME``; None when neither is set."""
    public = current_app.config.get("PUBLIC_URL", "")
    if public:
        return public
    server = current_app.config.get("SERVER_NAME")
    if server:
        scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "http"
        return f"{scheme}://{server}"
    return None


def digest_message(items: list[Notification], day: dt.date) -> tuple[str, str]:
    """The digest's subject and plain-text body; links absolute, or none (:func:`public_base`)."""
    base = public_base()
    subject = _("Client-centricity index: unread notifications, %(day)s (%(n)d)", n=len(items),
                day=day.strftime("%d.%m.%Y"))
    lines = [_("Hello!"), "",
             _("Your unread notifications on the client-centricity index platform:"), ""]
    for item in items:
        lines.append(f"— {KINDS.get(item.kind, item.kind)}: {item.title}")
        if base is not None:
            lines.append(f"  {base}{item.url}")
        lines.append("")
    if base is not None:
        lines += [_("All notifications: %(url)s", url=base + path_for("notifications.index")),
                  _("You receive this letter once a day while something is unread; to stop "
                    "it, choose «no e-mail» on your account page: %(url)s",
                    url=base + path_for("account.password"))]
    else:
        lines += [_("All notifications are on the platform's page «Notifications»."),
                  _("You receive this letter once a day while something is unread; to stop "
                    "it, choose «no e-mail» on the page «Change password».")]
    return subject, "\n".join(lines)


def set_email_choice(user, choice: str) -> bool:
    """The user's choice of e-mail; returns whether it changed. The caller checks the value."""
    if choice not in EMAIL_CHOICES:
        raise ValueError(choice)
    if user.notification_email == choice:
        return False
    user.notification_email = choice
    return True


# --- the schedule ----------------------------------------------------------------------------


def purge(now: dt.datetime | None = None) -> int:
    """Delete notifications older than ``NOTIFICATION_KEEP_DAYS``, read or not, and the
    digests' day rows as old: a notification points at work whose own page keeps its history
    (the case, the action, the run), so an old one only crowds the list. Returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=current_app.config["NOTIFICATION_KEEP_DAYS"])
    with tenancy.federal_scope("notifications past their keeping time, in every region"):
        gone = db.execute(delete(Notification).where(Notification.created_at < cutoff))
        db.execute(delete(NotificationDigest).where(NotificationDigest.day < cutoff.date()))
    return rows_updated(gone)


def run_due(now: dt.datetime | None = None) -> dict[str, int]:
    """One round: actions due, then the digests due, then what is past its keeping time.
    Commits."""
    told = remind_actions(now)
    db.commit()
    digests = send_digests(now)
    purged = purge(now)
    db.commit()
    return {"told": told, "digests": digests, "purged": purged}


def run_scheduled() -> None:
    """From a worker's maintenance round (``app.extensions["cci.maintenance"]``):
    :func:`run_due` unless another worker ran it within ``NOTIFY_EVERY_SECONDS``. Without Redis
    it runs anyway: the database keeps every step once."""
    every = current_app.config["NOTIFY_EVERY_SECONDS"]
    try:
        if not current_app.extensions["cci.redis"].set(_REDIS_KEY, "1", nx=True, ex=every):
            return
    except RedisError:
        log.warning("Redis unavailable: notifications run without the round's key")
    try:
        run_due()
    finally:
        db.rollback()
