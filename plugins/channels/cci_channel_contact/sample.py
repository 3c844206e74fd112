"""The contact centre's sample rows for ``cci sample load`` (hook ``load_sample_data``): a
quarter of calls with their outcomes taken by the region's sample operator, and the telephony
platform's daily figures of the region's line. Seeded draws shaped like a plausible centre
(most calls solved at once, a few escalated, the waits of a busy line), not measurements."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy import select

from cci.plugin_api import db
from cci.plugin_api import utcnow

from cci_channel_contact.models import ContactCall
from cci_channel_contact.models import TelephonyStat

LINE = "8-800 (демо)"
#: calls per office in the quarter
CALLS = (110, 160)


def load(region, offices, start: dt.date, end: dt.date, seed: int, staff) -> int:
    """Add the rows unless this quarter's are there (the sample operator's calls); the number
    added."""
    began = dt.datetime.combine(start, dt.time(), dt.UTC)
    ended = dt.datetime.combine(end, dt.time(), dt.UTC)
    if db.scalar(select(ContactCall.id).where(
            ContactCall.region_id == region.id, ContactCall.operator_id == staff.id,
            ContactCall.started_at >= began, ContactCall.started_at < ended).limit(1)):
        return 0
    rnd = random.Random(f"{seed}:{region.code}:contact:{start}")  # noqa: S311 - sample draws
    weekdays = [start + dt.timedelta(days=n) for n in range((end - start).days)
                if (start + dt.timedelta(days=n)).weekday() < 5]
    zone = ZoneInfo(region.timezone)
    now = utcnow()
    calls: list[dict[str, Any]] = []
    for office in offices:
        solved = rnd.uniform(0.62, 0.82)  # this office's first-contact resolution
        for _number in range(rnd.randint(*CALLS)):
            started = dt.datetime.combine(rnd.choice(weekdays), dt.time(
                9 + rnd.randrange(9), rnd.randrange(60), rnd.randrange(60)),
                zone).astimezone(dt.UTC)
            handling = rnd.randint(120, 540)
            resolved = rnd.random() < solved
            calls.append({
                "region_id": region.id, "office_id": office.id, "operator_id": staff.id,
                "line": LINE, "started_at": started,
                "ended_at": started + dt.timedelta(seconds=handling),
                "resolved_first_contact": resolved,
                "transfers": 0 if resolved else rnd.randint(0, 2),
                "escalated": not resolved and rnd.random() < 0.3,
                "waiting_seconds": rnd.randint(5, 90), "handling_seconds": handling,
                "created_at": now})
    days: list[dict[str, Any]] = []
    for day in weekdays:
        offered = rnd.randint(180, 320)
        abandoned = round(offered * rnd.uniform(0.04, 0.12))
        answered = offered - abandoned
        days.append({
            "region_id": region.id, "day": day, "line": LINE, "offered": offered,
            "answered": answered, "abandoned": abandoned,
            "answered_within_20s": round(answered * rnd.uniform(0.68, 0.9)),
            "wait_seconds_total": float(answered * rnd.randint(15, 45)),
            "handle_seconds_total": float(answered * rnd.randint(180, 300)),
            "created_at": now, "updated_at": now})
    # two multi-row INSERTs, around the ORM: the rows are of the region in scope
    db.execute(insert(ContactCall), calls)
    known = set(db.scalars(select(TelephonyStat.day).where(
        TelephonyStat.region_id == region.id, TelephonyStat.line == LINE)))
    days = [d for d in days if d["day"] not in known]
    if days:
        db.execute(insert(TelephonyStat), days)
    return len(calls) + len(days)
