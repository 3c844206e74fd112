"""Cases: what respondents said that their office owes an answer.

A case is made from a source row, once (unique on the source's kind and id):

- an index survey's response with a comment (``response``);
- a touchpoint survey's answer with a comment or a low rating (``touchpoint``).

Only quality-valid rows (``counted``) of the last ``CASES_MAX_AGE_DAYS`` days (default 90)
become cases: an older comment is not answered months later.

**A low rating** is one rule for every question (:func:`low_values`): the worst two fifths of
the question's scale points, rounded down and at least one — on 1–5, the answers 1 and 2;
on 0–10 (NPS), 0 to 3. The worst end is the scale's lowest for a metric whose higher value
is better (every installed one), its highest for a metric of direction "lower".

:func:`open_case` is the one place a case is made (by :func:`collect`, the job
:data:`COLLECT_JOB` and ``cci cases collect``, and when a respondent leaves a contact): a
"new case" notification belongs there. The job is queued at most once per
``CASES_COLLECT_SECONDS`` (default 300) by the worker's maintenance round
(:func:`schedule_collect`), so the survey's own path does no more work than before.

A case goes new → in work (someone is assigned) → answered (the answer written; e-mailed when
the respondent left a contact, :mod:`cci.collection.case_contacts`) → closed (the contact is
deleted). Every step is in the audit log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cci.collection import case_contacts
from cci.collection.comment_themes import THEME_NAMES
from cci.collection.comment_themes import has_text
from cci.collection.comment_themes import themes_of
from cci.foundation import audit
from cci.foundation import notifications
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Case
from cci.foundation.models import CaseTheme
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import TouchpointAnswer
from cci.foundation.models import User
from cci.foundation.roles import Role

STATUS_LABELS = {
    "new": _l("new"),
    "in_progress": _l("in work"),
    "answered": _l("answer given"),
    "closed": _l("closed"),
}
OPEN_STATUSES = ("new", "in_progress", "answered")
SOURCE_LABELS = {"response": _l("index survey"), "touchpoint": _l("touchpoint survey")}
#: who works on cases: regional staff (bound to an office: that office's cases only)
HANDLERS = (Role.ADMIN, Role.REGIONAL_ADMIN, Role.AUDITOR)
#: the share of a scale's points, from its worst end, that are a low rating
LOW_SHARE = 0.4
ANSWER_MAX = 4000

COLLECT_JOB = "cases.collect"
#: source rows read per transaction
COLLECT_BATCH = 500
#: after a failure to queue the job, this process asks again this much later
RETRY_SECONDS = 600
_REDIS_KEY = "cci:cases-collect"


class CaseError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# --- the low-rating rule ----------------------------------------------------------------------


def low_values(low: int, high: int, direction: str = "higher") -> range:
    """The low ratings of a ``low``..``high`` scale (see the module's doc)."""
    points = high - low + 1
    count = max(1, int(points * LOW_SHARE))
    if direction == "lower":
        return range(high - count + 1, high + 1)
    return range(low, low + count)


def _question_scales() -> dict[str, tuple[Any, range]]:
    """question key -> (the question, its low ratings), of every installed metric's
    touchpoint question."""
    found: dict[str, tuple[Any, range]] = {}
    for metric in current_app.extensions["cci.registry"].cx_metrics.values():
        question = metric.question
        if question is not None and question.key not in found:
            found[question.key] = (question, low_values(question.low, question.high,
                                                        metric.direction))
    return found


def _touchpoint_has_text():
    return func.length(func.trim(TouchpointAnswer.comment)) > 0


def _low_rating():
    """SQL: the touchpoint answer's rating is low on its question's scale."""
    conditions = [and_(TouchpointAnswer.question == key,
                       TouchpointAnswer.value.between(low.start, low.stop - 1))
                  for key, (_question, low) in _question_scales().items()]
    return or_(*conditions) if conditions else false()


def is_low(question_key: str, value: int | None) -> bool:
    scale = _question_scales().get(question_key)
    return scale is not None and value is not None and value in scale[1]


# --- making cases -----------------------------------------------------------------------------


def _since() -> dt.datetime:
    return utcnow() - dt.timedelta(days=current_app.config.get("CASES_MAX_AGE_DAYS", 90))


def _kind(source: Response | TouchpointAnswer) -> str:
    return "response" if isinstance(source, Response) else "touchpoint"


def qualifies(source: Response | TouchpointAnswer) -> bool:
    """Whether the row is a case's source (the rule :func:`collect` applies in SQL)."""
    if not source.counted or source.submitted_at < _since():
        return False
    if (source.comment or "").strip():
        return True
    return isinstance(source, TouchpointAnswer) and is_low(source.question, source.value)


def find(kind: str, source_id: int) -> Case | None:
    return db.scalar(select(Case).where(Case.source_kind == kind, Case.source_id == source_id))


def open_case(source: Response | TouchpointAnswer) -> tuple[Case, bool]:
    """The case of a source row, made if there is none yet: (case, created). The one place a
    case is made. Commits."""
    kind = _kind(source)
    found = find(kind, source.id)
    if found is not None:
        return found, False
    comment = (source.comment or "").strip() or None
    case = Case(region_id=source.region_id, office_id=source.office_id, source_kind=kind,
                source_id=source.id, comment=comment, received_at=source.submitted_at,
                status="new")
    if isinstance(source, TouchpointAnswer):
        scale = _question_scales().get(source.question)
        case.touchpoint, case.question, case.rating = (source.touchpoint, source.question,
                                                       source.value)
        if scale is not None:
            case.scale_low, case.scale_high = scale[0].low, scale[0].high
    db.add(case)
    try:
        db.flush()
        db.add_all(CaseTheme(case_id=case.id, region_id=case.region_id, theme=theme)
                   for theme in themes_of(comment))
        db.commit()
    except IntegrityError:  # made meanwhile by another process (the job, a contact)
        db.rollback()
        found = find(kind, source.id)
        if found is None:
            raise
        return found, False
    return case, True


def _pending(model) -> Any:
    """The rows of ``model`` that should be cases and are not yet."""
    kind = "response" if model is Response else "touchpoint"
    wanted = has_text() if model is Response else or_(
        and_(TouchpointAnswer.comment.is_not(None), _touchpoint_has_text()), _low_rating())
    return (select(model)
            .where(model.counted.is_(True), model.submitted_at >= _since(), wanted,
                   ~exists().where(Case.source_kind == kind, Case.source_id == model.id))
            .order_by(model.id).limit(COLLECT_BATCH))


def collect() -> int:
    """Make the cases of the current scope's rows that have none; returns how many were
    made. Safe to run again and at the same time as another run."""
    made: list[Case] = []
    for model in (Response, TouchpointAnswer):
        last = 0
        while True:
            rows = db.scalars(_pending(model).where(model.id > last)).all()
            if not rows:
                break
            last = rows[-1].id
            for row in rows:
                case, created = open_case(row)
                if created:
                    made.append(case)
    tell(made)
    return len(made)


def tell(made: list[Case]) -> None:
    """Tell the offices' handlers of the cases just made: one notification per office and
    round («N new cases»), not one per case (a first collection may find a quarter's
    comments). Commits."""
    by_office: dict[int, list[Case]] = {}
    for case in made:
        by_office.setdefault(case.office_id, []).append(case)
    for office_id, found in by_office.items():
        first = min(case.id for case in found)
        notifications.notify(
            "case_new", region_id=found[0].region_id, office_id=office_id,
            title=_("New cases: %(n)d, %(office)s", n=len(found), office=found[0].office.name),
            url=notifications.path_for("region.cases", region_code=found[0].office.region.code,
                                       office=office_id, status="new"),
            subject=f"cases:{office_id}:{first}",
            office_roles=[role.value for role in HANDLERS])
    db.commit()


def collect_job(report) -> dict:
    """The job: every region's rows in a federal scope, each region in its own."""
    made = 0
    scope = tenancy.current_scope()
    regions: list[int] = (
        [scope.region_id] if scope is not None and scope.region_id is not None
        else list(db.scalars(select(Region.id).order_by(Region.id))))
    for number, region_id in enumerate(regions, 1):
        with tenancy.narrowed(region_id, "make cases of a region's comments"):
            made += collect()
        report(number / len(regions), f"новых обращений: {made}")
    return {"created": made}


def schedule_collect() -> None:
    """Queue the job unless a process did within ``CASES_COLLECT_SECONDS``: a Redis key, as the
    purge of drafts. Called from the worker's maintenance round; never raises."""
    from cci.foundation import jobs

    every = int(current_app.config.get("CASES_COLLECT_SECONDS", 300))
    seen = current_app.extensions.setdefault("cci.cases_collect_seen", {})
    now = time.monotonic()
    if "at" in seen and now - seen["at"] < every:
        return
    seen["at"] = now
    redis = current_app.extensions["cci.redis"]
    try:
        if not redis.set(_REDIS_KEY, "1", nx=True, ex=every):
            return
        with tenancy.federal_scope("make cases of new comments and low ratings"):
            jobs.enqueue(COLLECT_JOB, title="Обращения из отзывов и низких оценок",
                         queue_name="low", dedupe_key=COLLECT_JOB)
    except (jobs.JobError, RedisError):
        current_app.logger.warning("the collection of cases was not queued", exc_info=True)
        seen["at"] = now - every + RETRY_SECONDS
        with contextlib.suppress(RedisError):
            redis.delete(_REDIS_KEY)


# --- the respondent's contact -----------------------------------------------------------------


def wants_contact(source: Response | TouchpointAnswer | None) -> bool:
    """Whether the respondent may be offered to leave a contact for this row: it is (or will
    be) a case that is still open and has no contact yet."""
    if source is None or not qualifies(source):
        return False
    case = find(_kind(source), source.id)
    return case is None or (case.status in OPEN_STATUSES and case.reply_sent_at is None
                            and case_contacts.of(case) is None)


def leave_contact(source: Response | TouchpointAnswer, email: str | None,
                  consent: bool) -> bool:
    """Keep a respondent's address for the answer to their row (its case is made now if the
    job has not yet). Returns whether an address was kept; raises
    :class:`case_contacts.ContactError` for an address that is no address, or without
    consent (then nothing is stored). Commits."""
    address = case_contacts.read(email, consent)
    if address is None:
        return False
    if not wants_contact(source):
        raise case_contacts.ContactError("email", _("This feedback is not waiting for an "
                                                    "answer any more."))
    case, created = open_case(source)
    case_contacts.store(case, address)
    db.commit()
    if created:
        tell([case])
    return True


# --- working on a case ------------------------------------------------------------------------


def may_handle(user, case: Case | None = None) -> bool:
    """A handler's role, and for a user bound to an office, that office's case."""
    if user is None or not user.has_role(*HANDLERS):
        return False
    return case is None or user.office_id is None or user.office_id == case.office_id


def visible(query, user):
    """The cases query narrowed to what the user works on (an office's user: its cases)."""
    if user.office_id is not None:
        query = query.where(Case.office_id == user.office_id)
    return query


def page_of(user, status: str, office_id: int | None, page: int, per_page: int,
            *options) -> tuple[int, list[Case]]:
    """(how many, the page's cases, newest first) of what ``user`` works on, by status ("open":
    new or in work) and office: the one listing the staff page and the API read."""
    query = visible(select(Case), user)
    if status == "open":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(Case.status == status)
    if office_id is not None:
        query = query.where(Case.office_id == office_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Case.received_at.desc(), Case.id.desc()).options(*options)
                      .offset((page - 1) * per_page).limit(per_page)).all()
    return total, list(rows)


def assignees(case: Case) -> list[User]:
    """Who a case may be given to: the region's active handlers (of its office, or of none)."""
    return list(db.scalars(
        select(User).where(User.region_id == case.region_id, User.active.is_(True),
                           User.role.in_([r.value for r in HANDLERS]),
                           or_(User.office_id.is_(None), User.office_id == case.office_id))
        .order_by(User.email)))


def _audited(case: Case) -> dict[str, Any]:
    return {"case_status": case.status, "assignee_id": case.assignee_id,
            "answered": case.answer is not None, "reply_sent": case.reply_sent_at is not None}


def _record(name: str, case: Case, before: dict, user) -> None:
    after = _audited(case)
    audit.record(name, case, user=user,
                 before={k: v for k, v in before.items() if after[k] != v},
                 after={k: v for k, v in after.items() if before[k] != v})


def _open(case: Case) -> None:
    if case.status not in OPEN_STATUSES:
        raise CaseError("status", _("The case is closed; it changes no more."))


def _read_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**31 else None
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def assign(case: Case, assignee_id: Any, user) -> None:
    """Give the case to someone (new → in work)."""
    _open(case)
    chosen = _read_id(assignee_id)
    if chosen is None or chosen not in {u.id for u in assignees(case)}:
        raise CaseError("assignee_id", _("Choose who works on the case among the region's "
                                         "staff."))
    before = _audited(case)
    case.assignee_id = chosen
    if case.status == "new":
        case.status = "in_progress"
    db.flush()
    _record("case.assign", case, before, user)


def answer(case: Case, text: Any, user) -> bool:
    """Write the office's answer (→ answered); e-mailed at once when the respondent left a
    contact. Returns whether it was e-mailed. Raises :class:`cci.foundation.mail.MailError`
    when the mail server refuses it (nothing is saved then)."""
    _open(case)
    if case.answer is not None:
        raise CaseError("answer", _("The case has been answered; close it."))
    words = str(text or "").strip()
    if not words:
        raise CaseError("answer", _("Write the answer."))
    if len(words) > ANSWER_MAX:
        raise CaseError("answer", _("At most %(n)s characters.", n=ANSWER_MAX))
    before = _audited(case)
    case.answer, case.answered_at, case.answered_by_id = words, utcnow(), user.id
    case.status = "answered"
    if case.assignee_id is None:
        case.assignee_id = user.id
    contact = case_contacts.of(case)
    if contact is not None:
        case_contacts.send_reply(case, contact)
        case.reply_sent_at = utcnow()
    db.flush()
    _record("case.answer", case, before, user)
    return contact is not None


def close(case: Case, user) -> None:
    """Close the case and delete the respondent's contact. A case with a contact is answered
    first: the respondent is waiting for it."""
    _open(case)
    if case.answer is None and case_contacts.of(case) is not None:
        raise CaseError("status", _("The respondent left an address for the answer: answer "
                                    "first, then close."))
    before = _audited(case)
    case.status, case.closed_at, case.closed_by_id = "closed", utcnow(), user.id
    case_contacts.purge(case)
    db.flush()
    _record("case.close", case, before, user)


def themes(case_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if case_ids:
        for case_id, theme in db.execute(select(CaseTheme.case_id, CaseTheme.theme)
                                         .where(CaseTheme.case_id.in_(case_ids))
                                         .order_by(CaseTheme.id)):
            found.setdefault(case_id, []).append(theme)
    return found


# --- «Вы сказали — мы сделали» ----------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """An office's public account: closed cases by theme, and improvement actions done (no
    personal data: counts, theme names, the actions' titles)."""

    closed: int
    themes: list[tuple[str, int]]
    actions: list[tuple[str, dt.date | None]]


def resolved(office) -> Resolved:
    """Counted by the database in the office's region scope."""
    closed = db.scalar(select(func.count()).select_from(Case).where(
        Case.office_id == office.id, Case.status == "closed")) or 0
    by_theme = db.execute(
        select(CaseTheme.theme, func.count(func.distinct(Case.id)))
        .join(Case, Case.id == CaseTheme.case_id)
        .where(Case.office_id == office.id, Case.status == "closed")
        .group_by(CaseTheme.theme).order_by(func.count(func.distinct(Case.id)).desc(),
                                            CaseTheme.theme)).all()
    actions = db.execute(
        select(ImprovementAction.title, ImprovementAction.closed_at)
        .join(JourneyMapVersion, JourneyMapVersion.id == ImprovementAction.map_version_id)
        .join(JourneyMap, JourneyMap.id == JourneyMapVersion.map_id)
        .where(ImprovementAction.status == "done",
               or_(JourneyMap.office_id == office.id, JourneyMap.office_id.is_(None)))
        .order_by(ImprovementAction.closed_at.desc(), ImprovementAction.id.desc())
        .limit(50)).all()
    return Resolved(
        closed=closed,
        themes=[(THEME_NAMES.get(theme, theme), count) for theme, count in by_theme],
        actions=[(title, closed_at.date() if closed_at else None)
                 for title, closed_at in actions])
