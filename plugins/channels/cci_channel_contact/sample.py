"""The contact centre's sample rows for ``cci sample load`` (hook ``load_sample_data``): a
quarter of calls with their outcomes taken by the region's sample operator, and the telephony
platform's daily figures of the region's line. Seeded draws shaped like a plausible centre
(most calls solved at once, a few escalated, the waits of a busy line), not measurements.

About a third of the calls carry the index survey the operator took in them (RR): the sample's
index responses of the call's office in that quarter, which become the contact centre's."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select

from cci.plugin_api import Response
from cci.plugin_api import db
from cci.plugin_api import utcnow

from cci_channel_contact.models import ContactCall
from cci_channel_contact.models import TelephonyStat

KEY = "contact_center"  # the channel's key (cci_channel_contact.KEY)
LINE = "8-800 (демо)"
#: calls per office in the quarter
CALLS = (110, 160)
#: the share of calls in which the caller agreed to the survey (RR)
SURVEYED = (0.3, 0.4)


def load(region, offices, start: dt.date, end: dt.date, seed: int, staff) -> int:
    """Add the rows unless this quarter's are there (the sample operator's calls); the number
    added."""
    began = dt.datetime.combine(start, dt.time(), dt.UTC)
    ended = dt.datetime.combine(end, dt.time(), dt.UTC)
    if db.scalar(select(ContactCall.id).where(
            ContactCall.region_id == region.id, ContactCall.operator_id == staff.id,
            ContactCall.started_at >= began, ContactCall.started_at < ended).limit(1)):
        return _link_surveys(region, began, ended, seed, staff)
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
    return len(calls) + len(days) + _link_surveys(region, began, ended, seed, staff)


def _link_surveys(region, began: dt.datetime, ended: dt.datetime, seed: int, staff) -> int:
    """Give a seeded share of each office's calls of the quarter a survey: one of the sample's
    index responses of that office in the quarter, now taken in that call by the contact
    centre. Once per quarter (none linked yet), so that a later load of the index sample still
    links; the number of calls linked."""
    quarter = (ContactCall.region_id == region.id, ContactCall.operator_id == staff.id,
               ContactCall.started_at >= began, ContactCall.started_at < ended)
    if db.scalar(select(ContactCall.id).where(
            *quarter, ContactCall.response_id.is_not(None)).limit(1)):
        return 0
    free: dict[int, list[int]] = {}
    for office_id, response_id in db.execute(
            select(Response.office_id, Response.id).where(
                Response.region_id == region.id, Response.is_sample.is_(True),
                Response.channel == "sample", Response.submitted_at >= began,
                Response.submitted_at < ended).order_by(Response.id)):
        free.setdefault(office_id, []).append(response_id)
    calls: dict[int, list[Any]] = {}
    for call in db.execute(select(ContactCall.id, ContactCall.office_id, ContactCall.started_at,
                                  ContactCall.ended_at).where(*quarter)
                           .order_by(ContactCall.id)):
        calls.setdefault(call.office_id, []).append(call)
    rnd = random.Random(f"{seed}:{region.code}:contact-survey:{began}")  # noqa: S311
    linked_calls: list[dict[str, Any]] = []
    taken: list[dict[str, Any]] = []
    for office_id, office_calls in sorted(calls.items()):
        share = round(len(office_calls) * rnd.uniform(*SURVEYED))
        chosen = sorted(rnd.sample(office_calls, min(share, len(office_calls))),
                        key=lambda c: c.id)
        for call, response_id in zip(chosen, free.get(office_id, ()), strict=False):
            linked_calls.append({"call": call.id, "response": response_id})
            taken.append({"response": response_id, "began": call.started_at,
                          "ended": call.ended_at,
                          "survey": {"generated": True, "operator_id": staff.id,
                                     "call_id": call.id}})
    if linked_calls:  # in bulk, in the region: core statements, filtered by hand
        responses = cast(Table, Response.__table__)
        rows = cast(Table, ContactCall.__table__)
        db.execute(responses.update().where(
            responses.c.region_id == region.id, responses.c.id == bindparam("response")).values(
            channel=KEY, started_at=bindparam("began"), submitted_at=bindparam("ended"),
            meta=bindparam("survey")).execution_options(tenant_filtered=True), taken)
        db.execute(rows.update().where(
            rows.c.region_id == region.id, rows.c.id == bindparam("call")).values(
            response_id=bindparam("response")).execution_options(tenant_filtered=True),
            linked_calls)
    return len(linked_calls)
