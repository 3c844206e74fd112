"""Complaints registered by staff: from the book of complaints, e-mail, the site or a call to
the head, each with its topic (the journey map's «анализ жалоб»). Validated and audited here;
counted by the database per topic and channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.intake import IntakeError
from cci.foundation import audit
from cci.foundation.db import db
from cci.foundation.models import COMPLAINT_CHANNELS
from cci.foundation.models import CxComplaint
from cci.foundation.models import Office
from cci.methodology.contract import TEXT_MAX
from cci.methodology.cx import TOUCHPOINTS

CHANNELS: dict[str, Any] = dict(zip(COMPLAINT_CHANNELS, (
    _l("Book of complaints"), _l("E-mail"), _l("Site"), _l("Call to the head")), strict=True))
TOPIC_MAX = 100


def register(region_id: int, *, channel: str, topic: str, received_on: dt.date,
             office_id: int | None = None, touchpoint: str | None = None,
             summary: str | None = None, user=None) -> CxComplaint:
    """Store one complaint, audited; raises :class:`IntakeError`. Not committed."""
    if channel not in CHANNELS:
        raise IntakeError("channel", "неизвестный канал жалобы")
    topic = " ".join((topic or "").split())
    if not topic:
        raise IntakeError("topic", "укажите тему жалобы")
    if len(topic) > TOPIC_MAX:
        raise IntakeError("topic", f"тема длиннее {TOPIC_MAX} знаков")
    if touchpoint and touchpoint not in TOUCHPOINTS:
        raise IntakeError("touchpoint", "неизвестная точка касания")
    summary = (summary or "").strip() or None
    if summary is not None and len(summary) > TEXT_MAX:
        raise IntakeError("summary", f"текст длиннее {TEXT_MAX} знаков")
    if received_on > dt.date.today() + dt.timedelta(days=1):  # noqa: DTZ011 - a calendar day
        raise IntakeError("received_on", "дата ещё не наступила")
    if office_id is not None:
        office = db.get(Office, office_id)
        if office is None or office.region_id != region_id:
            raise IntakeError("office", "офис не найден")
    row = CxComplaint(region_id=region_id, office_id=office_id, channel=channel,
                      touchpoint=touchpoint or None, topic=topic, summary=summary,
                      received_on=received_on, created_by_id=getattr(user, "id", None))
    db.add(row)
    db.flush()
    audit.record("cx.complaint", row, after={"topic": topic, "channel": channel},
                 region_id=region_id, user=user)
    return row


def counts(region_id: int, start: dt.date, end: dt.date) -> list[tuple[str, str, int]]:
    """(topic, channel, complaints) received in [start, end), most frequent first."""
    number = func.count(CxComplaint.id)
    return [(topic, channel, count) for topic, channel, count in db.execute(
        select(CxComplaint.topic, CxComplaint.channel, number)
        .where(CxComplaint.region_id == region_id, CxComplaint.received_on >= start,
               CxComplaint.received_on < end)
        .group_by(CxComplaint.topic, CxComplaint.channel)
        .order_by(number.desc(), CxComplaint.topic))]
