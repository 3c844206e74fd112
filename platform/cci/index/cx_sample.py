"""CX sample data for ``cci sample load``: a past quarter of the sample regions' short
touchpoint surveys, day counts, complaints and (through ``load_sample_data``, e.g. the contact
centre's calls) channel rows; the region's targets, a CX computation of the quarter, and its
adopted «Профессиональная ориентация» map, listing the metrics the sample measures at each of
its touchpoints, published, so that a newcomer finds filled figures — some of them red. The
loop's far end too: the comments made cases, a few of the main office's answered and closed,
and two barriers of the map made actions (one done, one overdue), so that the office's public
«Вы сказали — мы сделали» page and the overdue list are not empty.

Seeded (the same rows on every load), idempotent (a region whose quarter is loaded is left as
it is; targets and maps a region has are kept) and written in bulk. The figures are draws
shaped like a plausible office, not measurements: every row is marked as generated.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import case_contacts
from cci.collection import cases
from cci.collection import complaints
from cci.collection.sample_data import SAMPLE_REGIONS
from cci.foundation import audit
from cci.foundation import improvement_actions
from cci.foundation import journey_maps
from cci.foundation import tenancy
from cci.foundation.db import append_rows
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Case
from cci.foundation.models import CxCount
from cci.foundation.models import CxRun
from cci.foundation.models import CxTarget
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import TouchpointAnswer
from cci.foundation.models import User
from cci.foundation.roles import Role
from cci.foundation.users import create_user
from cci.foundation.zones import MOSCOW
from cci.index import cx_compute
from cci.index import cx_reports

SEED = 2025
MAP_TEMPLATE = "professional_orientation"
CHANNEL = "sample"

#: (touchpoint, question, answers per office in the quarter, how much harder than the office's
#: usual: the site is where people struggle, the specialist's window where they are pleased)
ANSWERS = (
    ("office", "csat", 90, 0.0), ("office", "ces", 70, 0.0), ("office", "nps", 60, 0.0),
    ("kiosk", "csat", 60, 0.0), ("kiosk", "ces", 45, 0.05), ("kiosk", "nps", 40, 0.0),
    ("specialist_window", "window_rating", 150, -0.05),
    ("contact_centre", "ces", 60, 0.1),
    ("site", "csat", 40, 0.15), ("site", "ces", 45, 0.3),
)
COMMENTS = {
    "office": ["Долго ждал в очереди, хотя был записан.", "Спасибо консультанту за помощь!",
               "Не хватает мест в зале ожидания.", "Непонятно, в какой кабинет идти."],
    "kiosk": ["Всё быстро и понятно.", "Душно в зале, нет кондиционера."],
    "specialist_window": ["Специалист всё подробно объяснил.", "Вежливый и внимательный "
                          "сотрудник."],
    "contact_centre": ["Долго не могли дозвониться.", "Оператор сразу ответил на вопрос."],
    "site": ["На сайте сложно найти запись на консультацию.", "Форма записи не работает с "
             "телефона."],
}
COMMENT_SHARE = 0.1
#: regional targets the sample sets (metric, touchpoint or "" for all, target); the site's
#: ease (CES) misses its target by far: the red cell a newcomer is meant to find
TARGETS = (("CSAT", "", 85.0), ("CES", "site", 75.0), ("CES", "", 70.0), ("NPS", "", 30.0),
           ("RATING", "", 4.5), ("FCR", "", 75.0), ("SL", "", 80.0))
COMPLAINTS = (
    ("book", "office", "Очередь и ожидание приёма", "Ждал приёма больше часа при записи."),
    ("email", "site", "Запись на сайте", "Не удалось записаться на консультацию через сайт."),
    ("site", "site", "Запись на сайте", "Форма записи выдаёт ошибку."),
    ("head_phone", "contact_centre", "Не дозвониться в контакт-центр",
     "Линия была занята весь день."),
    ("book", "office", "Духота в зале ожидания", None),
    ("email", "office", "Вежливость сотрудника", "Сотрудник отвечал резко."),
)

#: the office's answer to the sample cases it closes
REPLY = ("Спасибо за отзыв. Мы разобрали ситуацию с сотрудниками офиса и изменили порядок "
         "работы, чтобы это не повторялось.")
CASES_CLOSED = 4
#: the map's barriers made actions: (touchpoint, metric, target, status, due in days from
#: today, department, what will be done)
ACTIONS = (
    ("site", "CES", 75.0, "done", -45, "Отдел информационных технологий",
     "Упростить запись на консультацию на сайте: форма в три шага, работающая с телефона"),
    ("office", "CSAT", 85.0, "in_progress", -10, "Администрация офиса",
     "Навигация в зале: указатели кабинетов и администратор у входа в часы пик"),
)


@dataclass
class Loaded:
    """What a load did, per region code: the rows added (empty: the region had its quarter)."""

    regions: dict[str, dict[str, int]] = field(default_factory=dict)
    runs: list[int] = field(default_factory=list)


def quarter_before(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar quarter before the one ``today`` is in: [first day, first day after)."""
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    month = first.month - 3
    return dt.date(first.year - (month < 1), (month - 1) % 12 + 1, 1), first


def load(today: dt.date | None = None, seed: int = SEED) -> Loaded:
    """Load the quarter before ``today``'s (Moscow's date by default) in the sample regions,
    and compute it (a run per region that got rows, and the federation's). Commits."""
    today = today or dt.datetime.now(MOSCOW).date()
    start, end = quarter_before(today)
    loaded = Loaded()
    with tenancy.federal_scope("load CX sample data"):
        journey_maps.seed_templates()
        db.commit()
        template = db.scalar(select(JourneyMap).where(JourneyMap.key == MAP_TEMPLATE))
        regions = list(db.scalars(select(Region).where(Region.code.in_(SAMPLE_REGIONS))
                                  .order_by(Region.code)))
    if len(regions) != len(SAMPLE_REGIONS):
        raise RuntimeError("sync the tenants first: cci tenants sync")
    for region in regions:
        with tenancy.region_scope(region.id, "load CX sample data"):
            rnd = random.Random(f"{seed}:{region.code}:{start}")  # noqa: S311 - sample draws
            added = _fill_region(rnd, region, start, end, seed)
            _targets(region)
            if added or _no_run(region.id, start, end):
                loaded.runs.append(_compute(start, end))
            if template is not None:  # after the run: the map lists what the run measured
                _closed_loop(region, _journey_map(template, region), today)
            loaded.regions[region.code] = added
            db.commit()
    with tenancy.federal_scope("compute the CX sample"):
        if loaded.runs or _no_run(None, start, end):
            loaded.runs.append(_compute(start, end))
            db.commit()
    return loaded


def _fill_region(rnd: random.Random, region: Region, start: dt.date, end: dt.date,
                 seed: int) -> dict[str, int]:
    prefix = f"sample-cx:{start.isoformat()}:{region.code}:"
    if db.scalar(select(TouchpointAnswer.id).where(
            TouchpointAnswer.region_id == region.id,
            TouchpointAnswer.client_key.like(prefix + "%")).limit(1)) is not None:
        return {}
    offices = list(db.scalars(select(Office).where(Office.region_id == region.id,
                                                   Office.active.is_(True))
                              .order_by(Office.code)))
    days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
    weekdays = [d for d in days if d.weekday() < 5]
    zone = ZoneInfo(region.timezone)
    answers: list[tuple] = []
    counts: list[tuple] = []
    for office in offices:
        quality = rnd.uniform(0.68, 0.9)  # how good this office is: a plausible spread
        for touchpoint, question, n, harder in ANSWERS:
            for number in range(n):
                day = rnd.choice(weekdays)
                local = dt.datetime.combine(day, dt.time(9 + rnd.randrange(8), rnd.randrange(60)),
                                            tzinfo=zone)
                moment = local.astimezone(dt.UTC)
                comment = (rnd.choice(COMMENTS[touchpoint]) if rnd.random() < COMMENT_SHARE
                           else None)
                answers.append((
                    f"{prefix}{office.code}:{touchpoint}:{question}:{number}", region.id,
                    office.id, touchpoint, question, _value(rnd, question, quality - harder),
                    CHANNEL, comment, {"generated": True}, [], True, moment, moment))
        counts += _day_counts(rnd, region, office, weekdays, quality)
    append_rows(db, TouchpointAnswer, (
        "client_key", "region_id", "office_id", "touchpoint", "question", "value", "channel",
        "comment", "meta", "quality_flags", "counted", "submitted_at", "received_at"), answers)
    append_rows(db, CxCount, ("region_id", "office_id", "touchpoint", "day", "kind", "count",
                              "created_at"), counts)
    registered = _complaints(rnd, region, offices, weekdays)
    staff = sample_staff(region)
    channel_rows = sum(current_app.extensions["cci.plugins"].hook.load_sample_data(
        region=region, offices=offices, start=start, end=end, seed=seed, staff=staff))
    return {"touchpoint_answers": len(answers), "cx_counts": len(counts),
            "complaints": registered, "channel_rows": channel_rows}


def _value(rnd: random.Random, question: str, quality: float) -> int:
    """One answer: satisfied with the office's quality as the chance, else a weaker one."""
    good = rnd.random() < quality
    if question == "nps":
        return rnd.choice((9, 10, 10, 8)) if good else rnd.randint(2, 8)
    if question == "window_rating":
        return rnd.choice((4, 5, 5)) if good else rnd.randint(2, 4)
    return rnd.choice((4, 5)) if good else rnd.choice((1, 2, 3, 3))


def _day_counts(rnd: random.Random, region: Region, office: Office, weekdays: list[dt.date],
                quality: float) -> list[tuple]:
    """Each working day's e-queue and site statistics, and a mystery shopper's checklist
    points twice a month (IQS)."""
    now = utcnow()
    rows = []
    for day in weekdays:
        contacts = rnd.randint(60, 120)
        visits = rnd.randint(150, 300)
        booked = round(visits * rnd.uniform(0.08, 0.16))
        figures = [("office", "contacts", contacts),
                   ("office", "clients", round(contacts / rnd.uniform(1.15, 1.45))),
                   ("site", "service_page_visits", visits),
                   ("site", "preregistrations", booked),
                   ("office", "services_received", round(booked * rnd.uniform(0.6, 0.9)))]
        if day.day in (10, 24) or (day.day in (11, 25) and day.weekday() == 0):
            for touchpoint in ("office", "contact_centre"):
                figures += [(touchpoint, "iqs_max", 40),
                            (touchpoint, "iqs_points", round(40 * rnd.uniform(quality - 0.1,
                                                                                   quality + 0.1)))]
        rows += [(region.id, office.id, touchpoint, day, kind, count, now)
                 for touchpoint, kind, count in figures]
    return rows


def _complaints(rnd: random.Random, region: Region, offices: list[Office],
                weekdays: list[dt.date]) -> int:
    for channel, touchpoint, topic, summary in COMPLAINTS:
        for _copy in range(rnd.randint(1, 3)):
            complaints.register(region.id, channel=channel, topic=topic,
                                received_on=rnd.choice(weekdays),
                                office_id=rnd.choice(offices).id if touchpoint == "office"
                                else None, touchpoint=touchpoint, summary=summary)
    return db.scalar(select(func.count()).select_from(complaints.CxComplaint)
                     .where(complaints.CxComplaint.region_id == region.id)) or 0


def sample_staff(region: Region) -> User:
    """The region's sample staff member: the author of sample rows that need one (a channel's
    calls). Inactive: nobody logs in with it."""
    return _sample_user(f"demo.{region.code.lower()}@example.ru", Role.OPERATOR, region,
                        "Оператор (демо-данные)", active=False)


def _sample_user(email: str, role: Role, region: Region, full_name: str, *,
                 active: bool) -> User:
    """A sample user of the region, made once, with a random password never shown."""
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        user = create_user(email=email, role=role.value, password=secrets.token_urlsafe(24),
                           region_code=region.code, full_name=full_name)
        user.active = active
        db.flush()
        audit.record("user.create", user, actor="system: cci sample load",
                     after=audit.snapshot(user, ("email", "role", "region_id")))
    return user


def _targets(region: Region) -> None:
    """The sample's targets where the region has none for the metric and touchpoint."""
    installed = cx_reports.installed()
    have = set(db.execute(select(CxTarget.metric, CxTarget.touchpoint)
                          .where(CxTarget.region_id == region.id)).all())
    for metric, touchpoint, value in TARGETS:
        if metric in installed and (metric, touchpoint) not in have:
            cx_reports.set_target(region.id, metric, touchpoint, value, None)


def _journey_map(template: JourneyMap, region: Region) -> JourneyMap:
    """The template adopted by the region and published (once), its draft first adapted as a
    region would: each touchpoint of the map lists the metrics the sample measures there (the
    template names none at the specialist's window, for one), so those cells show figures."""
    kept = db.scalar(select(JourneyMap).where(JourneyMap.region_id == region.id,
                                              JourneyMap.template_id == template.id,
                                              JourneyMap.office_id.is_(None)))
    if kept is not None:
        return kept
    adopted = journey_maps.adopt(template, region, None, None)
    draft = journey_maps.draft_of(adopted)
    assert draft is not None  # adopting makes the first draft
    measured = measured_metrics(region)
    places = [(stage["key"], tp["code"]) for stage in draft.content["stages"]
              for tp in stage["touchpoints"]]
    for stage_key, code in places:
        stage = next(s for s in draft.content["stages"] if s["key"] == stage_key)
        touchpoint = next(t for t in stage["touchpoints"] if t["code"] == code)
        listed = {item["code"] for item in touchpoint["metrics"]}
        for metric in measured.get(code, []):
            if metric not in listed:
                journey_maps.edit(draft, "item_add", {"stage": stage_key, "touchpoint": code,
                                                      "row": "metrics", "code": metric}, None,
                                  cx_reports.map_metrics())
    journey_maps.publish(draft, None)
    return adopted


def sample_head(region: Region) -> User:
    """The region's sample head of service: the owner of the sample's actions and the author
    of its answers to cases. Active (an action's owner is): an administrator gives it a
    password to log in as it."""
    return _sample_user(f"demo.head.{region.code.lower()}@example.ru", Role.REGIONAL_ADMIN,
                        region, "Руководитель службы занятости (демо-данные)", active=True)


def _closed_loop(region: Region, journey_map: JourneyMap, today: dt.date) -> None:
    """Once per region: the comments and low ratings made cases, the main office's oldest
    answered and closed, and the map's barriers of :data:`ACTIONS` made actions."""
    if db.scalar(select(ImprovementAction.id).limit(1)) is not None:
        return
    version = journey_maps.latest_published(journey_map)
    if version is None:
        return
    head = sample_head(region)
    cases.collect()
    office_id = db.scalar(select(Office.id).where(Office.active.is_(True))
                          .order_by(Office.code).limit(1))
    for case in db.scalars(select(Case).where(Case.office_id == office_id,
                                              Case.status == "new")
                           .order_by(Case.id).limit(CASES_CLOSED)).all():
        if case_contacts.of(case) is not None:
            continue  # a respondent waiting for an e-mail: a person answers it
        cases.answer(case, REPLY, head)
        cases.close(case, head)
    for touchpoint, metric, target, status, days, department, title in ACTIONS:
        place = next(((stage["key"], touchpoint) for stage in version.content["stages"]
                      for tp in stage["touchpoints"]
                      if tp["code"] == touchpoint and tp["barriers"]), None)
        if place is None or metric not in cx_reports.installed():
            continue
        action = improvement_actions.create(
            version, *place, 0, {"title": title, "department": department,
                                 "owner_id": head.id, "due_on": today + dt.timedelta(days),
                                 "metric_code": metric, "target": target}, head)
        if status != action.status:
            improvement_actions.update(action, {"status": status}, head)


def measured_metrics(region: Region) -> dict[str, list[str]]:
    """{touchpoint: [metric codes]} with a value in the region's current CX run (answers
    counted, n > 0), in the installed order; only metrics a map can list."""
    run = cx_compute.current_run(region.id)
    if run is None:
        return {}
    found = {(c.touchpoint, c.metric) for c in cx_reports.cells(run, "region",
                                                                 region_id=region.id)
             if c.n}
    return {touchpoint: [code for code in cx_reports.installed() if (touchpoint, code) in found]
            for touchpoint in {touchpoint for touchpoint, _code in found}}


def _no_run(region_id: int | None, start: dt.date, end: dt.date) -> bool:
    query = select(CxRun.id).where(CxRun.period_start == start, CxRun.period_end == end,
                                   CxRun.status == "succeeded")
    query = query.where(CxRun.region_id == region_id if region_id is not None
                        else CxRun.region_id.is_(None))
    return db.scalar(query.limit(1)) is None


def _compute(start: dt.date, end: dt.date) -> int:
    """A run of the current scope computed here (the sample is small): no worker needed."""
    run = cx_compute.new_run(start, end, None)
    run.status = "running"
    summary: dict[str, Any] = cx_compute.compute(run)
    run.status, run.summary, run.finished_at = "succeeded", summary, utcnow()
    db.flush()
    return run.id
