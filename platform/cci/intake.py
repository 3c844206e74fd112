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
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from cci import tenancy
from cci.db import append_rows
from cci.db import db
from cci.db import utcnow
from cci.methodology import AnswerError
from cci.models import Answer
from cci.models import Campaign
from cci.models import Office
from cci.models import Region
from cci.models import Response
from cci.models import ResponseFlag
from cci.models import campaign_regions


class IntakeError(ValueError):
    """Input that cannot be stored; ``field`` names what is wrong, the message is for people."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def local_date(region: Region, moment: dt.datetime) -> dt.date:
    """The calendar date of a moment in the region's time zone (campaign dates are local)."""
    return _local_date(region.timezone, moment)


def _local_date(timezone: str, moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def _open(region_id, day) -> tuple:
    """Conditions of a campaign that includes the region and is running on the day."""
    return (campaign_regions.c.region_id == region_id, Campaign.starts_on <= day,
            Campaign.ends_on >= day)


def campaign_for(region: Region, moment: dt.datetime) -> Campaign | None:
    """The campaign whose dates (in the region's time zone) and regions include the moment."""
    campaign = db.scalar(
        select(Campaign)
        .join(campaign_regions, campaign_regions.c.campaign_id == Campaign.id)
        .where(*_open(region.id, local_date(region, moment)))
        # as the channels' look-ups choose (_open_campaign_query, open_among)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1)
    )
    if campaign is not None:
        _covering(db)[campaign.id, region.id] = campaign
    return campaign


@dataclass(frozen=True, slots=True)
class CampaignKey:
    """What validating an answer needs of its campaign."""

    id: int
    methodology_key: str


@dataclass(frozen=True, slots=True)
class OfficeKey:
    """What validating an answer needs of its office (a channel that has read it already
    passes it in ``known``: see :func:`validate`)."""

    id: int
    region_id: int
    active: bool


def _open_campaign_query(region_id=None, day=None):
    # built once, with bound parameters (a channel's hot path runs it for every answer)
    campaigns = Campaign.__table__
    return (select(campaigns.c.id, campaigns.c.methodology_key)
            .join(campaign_regions, campaign_regions.c.campaign_id == campaigns.c.id)
            .where(*_open(bindparam("region_id") if region_id is None else region_id,
                          bindparam("day") if day is None else day))
            .order_by(campaigns.c.starts_on.desc(), campaigns.c.id.desc()).limit(1))


@dataclass(frozen=True, slots=True)
class CampaignSpan:
    """A campaign of a region and its dates: what :func:`open_among` chooses from."""

    id: int
    methodology_key: str
    starts_on: dt.date
    ends_on: dt.date


def _campaigns_near_query():
    campaigns = Campaign.__table__
    return (select(campaign_regions.c.region_id, campaigns.c.id.label("campaign_id"),
                   campaigns.c.methodology_key, campaigns.c.starts_on, campaigns.c.ends_on)
            .join(campaigns, campaigns.c.id == campaign_regions.c.campaign_id)
            .where(campaigns.c.starts_on <= bindparam("near_hi"),
                   campaigns.c.ends_on >= bindparam("near_lo"))
            .subquery("near_campaigns"))


#: The campaigns whose dates come within a day of a range of UTC dates, by region: a channel
#: joins it on ``region_id`` to its own look-up (with :func:`near_params`), so that the device
#: and the campaigns it answers for are one statement; :func:`open_among` then picks the open
#: one for a moment in the range.
CAMPAIGNS_NEAR = _campaigns_near_query()


def near_day(moment: dt.datetime) -> dt.date:
    """The UTC date of a moment: in every time zone (UTC-12 to UTC+14) its local date is
    within a day of it."""
    return _local_date("UTC", moment)


def near_params(first: dt.date, last: dt.date | None = None) -> dict[str, dt.date]:
    """:data:`CAMPAIGNS_NEAR`'s parameters for moments whose :func:`near_day` is from
    ``first`` to ``last`` (default: that one day)."""
    return {"near_lo": first - dt.timedelta(days=1),
            "near_hi": (last or first) + dt.timedelta(days=1)}


def open_among(spans, region_id: int, timezone: str,
               moment: dt.datetime) -> CampaignKey | None:
    """:func:`open_campaign` from the spans :data:`CAMPAIGNS_NEAR` read for the moment's
    :func:`near_day`: the latest-starting campaign that includes the moment's local date."""
    day = _local_date(timezone, moment)
    best = max((span for span in spans if span.starts_on <= day <= span.ends_on),
               key=lambda span: (span.starts_on, span.id), default=None)
    if best is None:
        return None
    key = _covering(db)[best.id, region_id] = CampaignKey(best.id, best.methodology_key)
    return key


_OPEN_CAMPAIGN = _open_campaign_query()


def _still_open_condition():
    campaigns = Campaign.__table__
    chosen = _open_campaign_query(bindparam("open_region_id"), bindparam("open_day"))
    # not correlated with the campaign the EXISTS looks at: it chooses among all of them
    chosen = chosen.with_only_columns(campaigns.c.id).correlate(None)
    return exists().where(campaigns.c.id == bindparam("open_campaign_id"),
                          campaigns.c.methodology_key == bindparam("open_methodology_key"),
                          campaigns.c.id == chosen.scalar_subquery())


#: A SQL condition: the campaign a channel validated an answer against, from what it read
#: earlier, is still the one :func:`open_campaign` would choose for the answer's region and local
#: date, with the same methodology. Its parameters come from :func:`still_open_params`; a channel
#: passes both to :func:`cci.inbox.accept` (``only_if``), so an answer is never kept for a
#: campaign changed since.
STILL_OPEN = _still_open_condition()


def still_open_params(draft: Draft, timezone: str) -> dict[str, Any]:
    return {"open_region_id": draft.region_id, "open_campaign_id": draft.campaign_id,
            "open_methodology_key": draft.methodology_key,
            "open_day": _local_date(timezone, draft.submitted_at)}


def open_campaign(region_id: int, timezone: str, moment: dt.datetime) -> CampaignKey | None:
    """:func:`campaign_for` for a channel's hot path: the campaign's key, without the ORM."""
    row = db.execute(_OPEN_CAMPAIGN, {"region_id": region_id,
                                      "day": _local_date(timezone, moment)}).first()
    if row is None:
        return None
    key = _covering(db)[row.id, region_id] = CampaignKey(row.id, row.methodology_key)
    return key


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
    office = known.get(("office", sub.office_id))
    if office is None:
        office = known[("office", sub.office_id)] = db.get(Office, sub.office_id)
    if office is None or not office.active:
        raise IntakeError("office", "офис не найден")
    region_id = office.region_id
    submitted = sub.submitted_at or utcnow()
    if sub.campaign_id is not None:
        campaign = known.get(("campaign", sub.campaign_id, region_id))
        if campaign is None:
            campaign = _campaign_of_region(sub.campaign_id, region_id)
            if campaign is None:
                raise IntakeError("campaign", "кампания не найдена для этого региона")
            known[("campaign", sub.campaign_id, region_id)] = campaign
    else:
        campaign = campaign_for(db.get(Region, region_id), submitted)
        if campaign is None:
            raise IntakeError("submitted_at", "на эту дату в регионе нет кампании измерения")
    indicator_set = current_app.extensions["cci.registry"].indicator_set(campaign.methodology_key)
    if sub.checked_with == campaign.methodology_key:
        answers, profile = sub.answers or {}, sub.profile or {}
    else:
        try:
            answers = indicator_set.validate_answers(sub.respondent_type, sub.answers or {})
            profile = indicator_set.validate_answers(sub.respondent_type, sub.profile or {},
                                                     "profile")
        except AnswerError as exc:
            raise IntakeError(exc.item, exc.message) from exc
    if not answers:
        raise IntakeError("answers", "нет ни одного ответа")
    drafts = []
    for key, value in answers.items():
        kind = indicator_set.item(key).kind
        drafts.append(DraftAnswer(key, value if kind in ("scale", "yesno") else None,
                                  value if kind == "choice" else None))
    return Draft(
        client_key=sub.client_key, region_id=region_id, office_id=office.id,
        campaign_id=campaign.id, methodology_key=campaign.methodology_key, channel=sub.channel,
        respondent_type=sub.respondent_type, started_at=sub.started_at, submitted_at=submitted,
        comment=(sub.comment or "").strip()[:4000] or None,
        profile={k: v for k, v in profile.items() if v is not None},
        meta=sub.meta or {}, is_sample=sub.is_sample, answers=drafts,
    )


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


#: the columns a draft gives its response (and keeps, as JSON, in the intake inbox)
DRAFT_COLUMNS = ("client_key", "region_id", "office_id", "campaign_id", "methodology_key",
                 "channel", "respondent_type", "started_at", "submitted_at", "comment",
                 "profile", "meta", "is_sample")


#: the columns of a response a batch writes (the rest keep their database defaults)
_BATCH_COLUMNS = DRAFT_COLUMNS + ("uid", "received_at", "quality_flags", "counted",
                                  "review_status")


_ANSWER_COLUMNS = ("response_id", "region_id", "office_id", "campaign_id", "respondent_type",
                   "counted", "item", "value", "choice")


def store_batch(responses: list[Draft], channel=None, *,
                written: Callable[[int], None] | None = None, step: int = 2000) -> None:
    """Store validated responses in the current transaction, not committed: an import, the
    one response of :func:`submit`, or the drain job's batch of delivered answers, which may
    hold many regions (in the federal scope: each row is written with its own region, and
    every hook and rule sees one region's responses, see :func:`cci.quality.evaluate_many`).

    Every rule runs, at the cost of a few statements for the whole batch: responses and
    answers go in as bulk writes of ``step`` responses (``written(count)`` is told after
    each), then the look-back rules run once over the whole inserted batch
    (``QualityRule.check_many``), comparing its responses with the stored ones and with each
    other, and the flags go in. Sets each draft's ``id``, ``uid`` and ``received_at``.
    """
    from cci import quality

    if not responses:
        return
    pm = current_app.extensions["cci.plugins"]
    related: quality.Related = {}
    now = utcnow()
    rules = quality.single_rules(channel)  # once: an import has thousands of responses
    # the hooks and rules see the response's region only, also in a batch of many regions
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
    ids: list[int] = []
    for start in range(0, len(responses), step):
        chunk = responses[start:start + step]
        chunk_ids = append_rows(
            db, Response, _BATCH_COLUMNS,
            [tuple(getattr(r, column) for column in _BATCH_COLUMNS) for r in chunk],
            return_ids=True)
        for response, response_id in zip(chunk, chunk_ids):
            response.id = response_id
        append_rows(db, Answer, _ANSWER_COLUMNS, [
            (r.id, r.region_id, r.office_id, r.campaign_id, r.respondent_type, a.counted,
             a.item, a.value, a.choice)
            for r in chunk for a in r.answers
        ])
        ids += chunk_ids
        if written is not None:
            written(start + len(chunk))
    flags, related = quality.evaluate_many(responses, channel, related)
    newly_excluded = []
    for response, fired in zip(responses, flags):
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
    flag_rows = [quality.flag_values(r, flag["rule"], flag.get("reason"))
                 for r in responses for flag in r.quality_flags or []]
    if flag_rows:
        db.execute(insert(ResponseFlag), flag_rows)
    quality.flag_related(related, skip=set(ids))


def submit(sub: Submission, channel=None) -> tuple[Response, bool]:
    """Store one submission; returns (response, created). Commits (with whatever else the
    caller's transaction holds).

    A repeated client key returns the stored response. A delivery racing in through another
    worker meanwhile is still caught, by the unique client key when the response is inserted.
    """
    found = existing(sub.client_key)
    if found is not None:
        return found, False
    office_region = _office_region(sub.office_id)
    with tenancy.region_scope(office_region, "store a response"):
        draft = validate(sub)
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
    follow_the_data(response.campaign_id)
    return response, True


def _stored_response(draft: Draft) -> Response:
    """The response just stored, as a session's object without reading it back: its columns
    are the draft's (the others, like its answers, load when asked for)."""
    response = Response(id=draft.id, **{column: getattr(draft, column)
                                         for column in _BATCH_COLUMNS})
    make_transient_to_detached(response)
    db.add(response)
    return response


def follow_the_data(campaign_id: int) -> None:
    """Dashboards follow the data: a debounced recompute after new answers."""
    from cci import compute
    from cci.jobs import JobError

    try:
        compute.schedule_recompute(campaign_id)
    except JobError:  # the answer is stored; the next change or a manual run recomputes
        current_app.logger.warning("recompute of campaign %s not scheduled", campaign_id)


def _office_region(office_id: int) -> int:
    # Session.get: a channel that loaded the office already (a kiosk's) costs no SELECT
    with tenancy.federal_scope("find the office's region"):
        office = db.get(Office, office_id)
    if office is None:
        raise IntakeError("office", "офис не найден")
    scope = tenancy.current_scope()
    if scope is not None and not scope.federal and scope.region_id != office.region_id:
        raise IntakeError("office", "офис не найден")
    return office.region_id
