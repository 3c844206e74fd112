"""Storing answers: one path for every channel, import and integration.

A response is validated against its campaign's methodology set, checked by the quality rules
(core, plugin and channel ones), and stored with its answers in one transaction; a repeated
client key returns the stored response instead of a second copy. One submission and an
import's rows are stored alike, by :func:`store_batch`: validated drafts, written around the
ORM (a few statements for one answer, COPY for many), the same rules for both.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import make_transient_to_detached

from cci.collection import quality
from cci.collection import recompute
from cci.foundation import tenancy
from cci.foundation.db import append_rows
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Answer
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import ResponseFlag
from cci.foundation.models import campaign_regions
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import TOO_LONG
from cci.methodology.contract import AnswerError

#: What a saturated or unreachable database raises while an answer is stored: no connection
#: free in the pool in time (TimeoutError), a refused or broken connection, a lock or statement
#: timeout, a deadlock (OperationalError, PostgreSQL's and SQLite's alike). Nothing is stored;
#: a channel answers 503 with ``Retry-After`` (:data:`RETRY_AFTER_SECONDS`) and the client
#: sends the answer again (the kiosk keeps it in its queue meanwhile).
UNAVAILABLE = (PoolTimeout, OperationalError)
RETRY_AFTER_SECONDS = 10


class IntakeError(ValueError):
    """Input that cannot be stored; ``field`` names what is wrong, the message is for people;
    ``reason``, when the questionnaire refused an answer, says why (see
    :mod:`cci.methodology.contract`)."""

    def __init__(self, field: str, message: str, reason: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.reason = reason


def local_date(region: Region, moment: dt.datetime) -> dt.date:
    """The calendar date of a moment in the region's time zone (campaign dates are local)."""
    return _local_date(region.timezone, moment)


def _local_date(timezone: str, moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def open_campaign_query(region_id, day):
    """The one definition of the campaign open for a region on a (local) day: one that
    includes the region and runs on the day; of several, the latest to start, and of those
    starting the same day the latest created (the highest id). A SELECT of :class:`Campaign`
    (``region_id`` and ``day`` may be values or bound parameters)."""
    return (select(Campaign)
            .join(campaign_regions, campaign_regions.c.campaign_id == Campaign.id)
            .where(campaign_regions.c.region_id == region_id, Campaign.starts_on <= day,
                   Campaign.ends_on >= day)
            .order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1))


def open_campaign(region_id: int, timezone: str, moment: dt.datetime) -> Campaign | None:
    """The campaign open for the region at the moment, by :func:`open_campaign_query` on the
    moment's date in the region's time zone (campaign dates are local). Every channel and the
    API choose the campaign of an answer with this (or :func:`campaign_for`)."""
    campaign = db.scalar(open_campaign_query(region_id, _local_date(timezone, moment)))
    if campaign is not None:
        _covering(db)[campaign.id, region_id] = campaign
    return campaign


def campaign_for(region: Region, moment: dt.datetime) -> Campaign | None:
    """:func:`open_campaign` of a region."""
    return open_campaign(region.id, region.timezone, moment)


@dataclass(frozen=True, slots=True)
class OfficeKey:
    """What validating an answer needs of its office (a channel that has read it already
    passes it in ``known``: see :func:`validate`)."""

    id: int
    region_id: int
    active: bool


def _covering(session) -> dict[tuple[int, int], Campaign]:
    """{(campaign id, region id): campaign} this session has seen cover the region: a channel
    that found the campaign itself (:func:`campaign_for`) and then submits needs no second
    look. Kept with the session, so for one request or job at most."""
    return session.info.setdefault("cci.covering", {})


def _campaign_of_region(campaign_id: int, region_id: int) -> Campaign | None:
    """The campaign if it covers the region (one row, not the campaign's every region)."""
    campaign = _covering(db).get((campaign_id, region_id))
    if campaign is None:
        campaign = db.scalar(
            select(Campaign)
            .join(campaign_regions, campaign_regions.c.campaign_id == Campaign.id)
            .where(Campaign.id == campaign_id, campaign_regions.c.region_id == region_id)
        )
        if campaign is not None:
            _covering(db)[campaign_id, region_id] = campaign
    return campaign


@dataclass
class Submission:
    office_id: int
    respondent_type: str
    answers: dict[str, Any]
    client_key: str
    channel: str
    submitted_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    profile: dict[str, Any] | None = None
    comment: str | None = None
    meta: dict[str, Any] | None = None
    campaign_id: int | None = None
    is_sample: bool = False
    #: the methodology whose set the channel has already checked ``answers`` and ``profile``
    #: with (normalised, to word its own errors): not checked twice against the same set
    checked_with: str | None = None


def existing(client_key: str) -> Response | None:
    with tenancy.federal_scope("recognise a repeated delivery"):
        return db.scalar(select(Response).where(Response.client_key == client_key))


@dataclass(slots=True)
class DraftAnswer:
    item: str
    value: int | None
    choice: str | None
    counted: bool = True


@dataclass(slots=True)
class Draft:
    """A validated response not stored yet: the attributes of a :class:`Response` that the
    quality rules read, without the ORM's bookkeeping (an import builds thousands)."""

    client_key: str
    region_id: int
    office_id: int
    campaign_id: int
    methodology_key: str
    channel: str
    respondent_type: str
    started_at: dt.datetime | None
    submitted_at: dt.datetime
    comment: str | None
    profile: dict[str, Any]
    meta: dict[str, Any]
    is_sample: bool
    answers: list[DraftAnswer]
    id: int | None = None
    uid: str | None = None
    received_at: dt.datetime | None = None
    quality_flags: list[Any] = field(default_factory=list)
    counted: bool = True
    review_status: str | None = None


def validate(sub: Submission, known: dict | None = None) -> Draft:
    """Validate a submission against its campaign's set. Raises :class:`IntakeError`; runs in
    the office's region scope. ``known``, kept by the caller across many submissions (an
    import), remembers the offices and campaigns already looked up; a channel that has read
    the office may put it there (``("office", id)``: an :class:`OfficeKey` will do)."""
    known = {} if known is None else known
    _check_meta(sub)
    office = _known_office(sub.office_id, known)
    submitted = sub.submitted_at or utcnow()
    campaign = _known_campaign(sub.campaign_id, office.region_id, submitted, known)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(campaign.methodology_key)
    answers, profile = _checked_answers(sub, indicator_set, campaign.methodology_key)
    if not answers:
        raise IntakeError("answers", "нет ни одного ответа")
    drafts = []
    for key, value in answers.items():
        kind = indicator_set.item(key).kind
        drafts.append(DraftAnswer(key, value if kind in ("scale", "yesno") else None,
                                  value if kind == "choice" else None))
    return Draft(
        client_key=sub.client_key, region_id=office.region_id, office_id=office.id,
        campaign_id=campaign.id, methodology_key=campaign.methodology_key, channel=sub.channel,
        respondent_type=sub.respondent_type, started_at=sub.started_at, submitted_at=submitted,
        comment=_comment(sub.comment),
        profile={k: v for k, v in profile.items() if v is not None},
        meta=sub.meta or {}, is_sample=sub.is_sample, answers=drafts,
    )


def _known_office(office_id: int, known: dict) -> Office | OfficeKey:
    office = known.get(("office", office_id))
    if office is None:
        office = known[("office", office_id)] = db.get(Office, office_id)
    if office is None or not office.active:
        raise IntakeError("office", "офис не найден")
    return office


def _known_campaign(campaign_id: int | None, region_id: int, submitted: dt.datetime,
                    known: dict) -> Campaign:
    """The campaign a submission names (if it covers the region), else the one open then."""
    if campaign_id is None:
        # the office's region (a foreign key; regions are never deleted)
        campaign = campaign_for(db.get_one(Region, region_id), submitted)
        if campaign is None:
            raise IntakeError("submitted_at", "на эту дату в регионе нет кампании измерения")
        return campaign
    campaign = known.get(("campaign", campaign_id, region_id))
    if campaign is None:
        campaign = _campaign_of_region(campaign_id, region_id)
        if campaign is None:
            raise IntakeError("campaign", "кампания не найдена для этого региона")
        known[("campaign", campaign_id, region_id)] = campaign
    return campaign


def _comment(text: str | None) -> str | None:
    comment = (text or "").strip()
    if len(comment) > TEXT_MAX:
        raise IntakeError("comment", f"комментарий длиннее {TEXT_MAX} символов", TOO_LONG)
    return comment or None


def _checked_answers(sub: Submission, indicator_set, methodology_key: str):
    """(answers, profile) as the campaign's questionnaire reads them; a channel that checked
    them against the same set already is not checked twice."""
    if sub.checked_with == methodology_key:
        return sub.answers or {}, sub.profile or {}
    try:
        return (indicator_set.validate_answers(sub.respondent_type, sub.answers or {}),
                indicator_set.validate_answers(sub.respondent_type, sub.profile or {},
                                               "profile"))
    except AnswerError as exc:
        raise IntakeError(exc.item, exc.message, exc.reason) from exc


def _check_meta(sub: Submission) -> None:
    """A channel that declares its ``metadata_fields`` attaches no other key: a misspelt one
    would silently escape the quality rules that read it."""
    channel = current_app.extensions["cci.registry"].channels.get(sub.channel)
    if channel is None or not channel.metadata_fields or not sub.meta:
        return
    unknown = sorted(set(sub.meta) - set(channel.metadata_fields))
    if unknown:
        raise IntakeError("meta", f"канал «{channel.key}» не объявляет ключи метаданных: "
                                  f"{', '.join(unknown)}")


def build_response(sub: Submission) -> Response:
    """Validate a submission and build its rows (not yet added to the session).

    Raises :class:`IntakeError`; runs in the office's region scope.
    """
    draft = validate(sub)
    response = Response(**{column: getattr(draft, column) for column in DRAFT_COLUMNS})
    for answer in draft.answers:
        response.answers.append(Answer(
            region_id=draft.region_id, office_id=draft.office_id, campaign_id=draft.campaign_id,
            respondent_type=draft.respondent_type, item=answer.item, value=answer.value,
            choice=answer.choice,
        ))
    return response


#: the columns a draft gives its response
DRAFT_COLUMNS = ("client_key", "region_id", "office_id", "campaign_id", "methodology_key",
                 "channel", "respondent_type", "started_at", "submitted_at", "comment",
                 "profile", "meta", "is_sample")


#: the columns of a response a batch writes (the rest keep their database defaults)
_BATCH_COLUMNS = (*DRAFT_COLUMNS, "uid", "received_at", "quality_flags", "counted", "review_status")


_ANSWER_COLUMNS = ("response_id", "region_id", "office_id", "campaign_id", "respondent_type",
                   "counted", "item", "value", "choice")


def store_batch(responses: list[Draft], channel=None, *,
                written: Callable[[int], None] | None = None, step: int = 2000) -> None:
    """Store validated responses in the current transaction, not committed: an import, or the
    one response of :func:`submit`. A batch may hold many regions (in the federal scope: each
    row is written with its own region, and every hook and rule sees one region's responses,
    see :func:`cci.collection.quality.evaluate_many`).

    Every rule runs, at the cost of a few statements for the whole batch: responses and
    answers go in as bulk writes of ``step`` responses (``written(count)`` is told after
    each), then the look-back rules run once over the whole inserted batch
    (``QualityRule.check_many``), comparing its responses with the stored ones and with each
    other, and the flags go in. Sets each draft's ``id``, ``uid`` and ``received_at``.
    """
    if not responses:
        return
    related = _check_each(responses, channel)
    ids = _write(responses, written, step)
    flags, related = quality.evaluate_many(responses, channel, related)
    _flag_after_look_backs(responses, flags)
    flag_rows = [quality.flag_values(r, flag["rule"], flag.get("reason"))
                 for r in responses for flag in r.quality_flags or []]
    if flag_rows:
        db.execute(insert(ResponseFlag), flag_rows)
    quality.flag_related(related, skip=set(ids))


def _check_each(responses: list[Draft], channel) -> dict:
    """The rules of one response and the ``prepare_response`` hook, in each response's region
    (also in a batch of many regions); returns what the findings name among stored responses
    (``quality.Related``)."""
    pm = current_app.extensions["cci.plugins"]
    related: quality.Related = {}
    now = utcnow()
    rules = quality.single_rules(channel)  # once: an import has thousands of responses
    for region_id, part in tenancy.by_region(responses).items():
        with tenancy.narrowed(region_id, "check the answers"):
            for response in part:
                findings = quality.evaluate(response, rules)
                pm.hook.prepare_response(response=response, channel=channel)
                response.quality_flags = list(response.quality_flags or []) + [
                    {"rule": f.rule.key, "reason": f.reason} for f in findings]
                quality.settle(response)
                for finding in findings:
                    if finding.rule.related is not None:
                        quality.add_related(related, region_id, finding.rule.key,
                                            finding.rule.related(response, db, finding.params))
                response.uid = response.uid or str(uuid.uuid4())
                response.received_at = response.received_at or now
                response.submitted_at = response.submitted_at or now
    return related


def _write(responses: list[Draft], written: Callable[[int], None] | None,
           step: int) -> list[int]:
    """Responses and answers as bulk writes of ``step`` responses; sets each draft's id."""
    ids: list[int] = []
    for start in range(0, len(responses), step):
        chunk = responses[start:start + step]
        chunk_ids = append_rows(
            db, Response, _BATCH_COLUMNS,
            [tuple(getattr(r, column) for column in _BATCH_COLUMNS) for r in chunk],
            return_ids=True)
        for response, response_id in zip(chunk, chunk_ids, strict=True):
            response.id = response_id
        append_rows(db, Answer, _ANSWER_COLUMNS, [
            (r.id, r.region_id, r.office_id, r.campaign_id, r.respondent_type, a.counted,
             a.item, a.value, a.choice)
            for r in chunk for a in r.answers
        ])
        ids += chunk_ids
        if written is not None:
            written(start + len(chunk))
    return ids


def _flag_after_look_backs(responses: list[Draft], flags: list[list]) -> None:
    """What the look-back rules found, on the stored rows: a response they exclude is no
    longer counted, nor are its answers."""
    newly_excluded = []
    for response, fired in zip(responses, flags, strict=True):
        if not fired:
            continue
        was_counted = response.counted
        response.quality_flags = list(response.quality_flags or []) + fired
        quality.settle(response)
        db.execute(update(Response).where(Response.id == response.id).values(
            quality_flags=response.quality_flags, counted=response.counted,
            review_status=response.review_status))
        if was_counted and not response.counted:
            newly_excluded.append(response.id)
    for chunk in range(0, len(newly_excluded), 1000):
        db.execute(update(Answer)
                   .where(Answer.response_id.in_(newly_excluded[chunk:chunk + 1000]))
                   .values(counted=False).execution_options(synchronize_session=False))


def submit(sub: Submission, channel=None, known: dict | None = None) -> tuple[Response, bool]:
    """Store one submission with its quality flags; returns (response, created). Commits (with
    whatever else the caller's transaction holds). ``known``: as for :func:`validate` (a
    channel that has read the office passes it, and it is not read again).

    A repeated client key returns the stored response. A delivery racing in through another
    worker meanwhile is still caught, by the unique client key when the response is inserted.
    A database that is saturated or unreachable raises one of :data:`UNAVAILABLE`: nothing is
    stored, and the channel asks the client to send the answer again later.
    """
    found = existing(sub.client_key)
    if found is not None:
        return found, False
    office_region = _office_region(sub.office_id, known)
    with tenancy.region_scope(office_region, "store a response"):
        draft = validate(sub, known)
        try:
            store_batch([draft], channel)
            db.commit()
        except IntegrityError:
            # the same delivery raced in through another worker: it is stored once
            db.rollback()
            found = existing(sub.client_key)
            if found is None:
                raise
            return found, False
        response = _stored_response(draft)
    recompute.follow([response.campaign_id])
    return response, True


def _stored_response(draft: Draft) -> Response:
    """The response just stored, as a session's object without reading it back: its columns
    are the draft's (the others, like its answers, load when asked for)."""
    response = Response(id=draft.id, **{column: getattr(draft, column)
                                         for column in _BATCH_COLUMNS})
    make_transient_to_detached(response)
    db.add(response)
    return response



def _office_region(office_id: int, known: dict | None = None) -> int:
    # a channel that read the office already (a kiosk's device) costs no SELECT
    office = (known or {}).get(("office", office_id))
    if office is None:
        with tenancy.federal_scope("find the office's region"):
            office = db.get(Office, office_id)
    if office is None:
        raise IntakeError("office", "офис не найден")
    scope = tenancy.current_scope()
    if scope is not None and not scope.federal and scope.region_id != office.region_id:
        raise IntakeError("office", "офис не найден")
    return office.region_id
