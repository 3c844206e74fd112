"""Generated sample data in two regions: the pilot wave «Пилот 2022», a past quarter, the
quarter before today's (the one the CX sample fills) and the current quarter, open today, so
that a newcomer finds the kiosk, the web survey and the contact centre collecting answers (its
sample answers stop at yesterday).

Everything made here is marked ``is_sample`` and shown as «демо-данные»: the answers and
checklists are random draws shaped like the pilot's results, not real measurements.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from flask import current_app
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.collection.intake import Submission
from cci.collection.intake import build_response
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Checklist
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.zones import MOSCOW

SAMPLE_REGIONS = ("RU-BRY", "RU-KYA")  # one centralized and one decentralized network
CAMPAIGNS = (
    ("Пилот 2022", "cci-2022", dt.date(2022, 4, 25), dt.date(2022, 5, 6)),
    ("2025-Q2 (демо)", "cci-2023", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
)
#: respondents per office and type, as in the pilot: many job seekers, fewer employers
SAMPLE_SIZES = {"job_seeker": (40, 70), "employer": (12, 24)}


def current_quarter(today: dt.date) -> tuple[str, str, dt.date, dt.date]:
    """The sample campaign of the quarter ``today`` is in, e.g. «2026-Q4 (демо, идёт сейчас)»."""
    quarter = (today.month - 1) // 3
    starts = dt.date(today.year, 3 * quarter + 1, 1)
    following = dt.date(today.year + (quarter == 3), (3 * quarter + 3) % 12 + 1, 1)
    return (f"{today.year}-Q{quarter + 1} (демо, идёт сейчас)", "cci-2023", starts,
            following - dt.timedelta(days=1))


def previous_quarter(today: dt.date) -> tuple[str, str, dt.date, dt.date]:
    """The sample campaign of the quarter before ``today``'s, e.g. «2026-Q3 (демо)»: the
    quarter the CX sample fills, so that its calls have surveys of the index to link to."""
    _label, key, starts, _ends = current_quarter(today)
    ends = starts - dt.timedelta(days=1)
    _label, key, starts, _ends = current_quarter(ends)
    return f"{starts.year}-Q{(starts.month - 1) // 3 + 1} (демо)", key, starts, ends


def load(seed: int = 2022, today: dt.date | None = None) -> list[str]:
    """Create the sample campaigns with answers and checklists; idempotent by campaign name.
    ``today`` (Moscow's date by default) places the current quarter's campaign."""
    rnd = random.Random(seed)  # noqa: S311 -- reproducible sample answers, not a secret
    today = today or dt.datetime.now(MOSCOW).date()
    created = []
    registry = current_app.extensions["cci.registry"]
    with tenancy.federal_scope("load sample data"):
        regions = list(db.scalars(select(Region).where(Region.code.in_(SAMPLE_REGIONS))))
        if len(regions) != len(SAMPLE_REGIONS):
            raise RuntimeError("sync the tenants first: cci tenants sync")
        for name, key, starts, ends in (*CAMPAIGNS, previous_quarter(today),
                                         current_quarter(today)):
            if key not in registry.indicator_sets:
                continue
            if db.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
                continue
            campaign = save_campaign(name=name, methodology_key=key, starts_on=starts,
                                     ends_on=ends, region_codes=list(SAMPLE_REGIONS),
                                     is_sample=True)
            db.commit()
            for region in regions:
                with tenancy.region_scope(region.id, "load sample data"):
                    _fill_region(rnd, campaign, region, registry.indicator_set(key),
                                 until=min(ends, today - dt.timedelta(days=1)))
                    db.commit()
            created.append(name)
    return created


def _fill_region(rnd: random.Random, campaign: Campaign, region: Region, indicator_set,
                 until: dt.date) -> None:
    """Answers on the campaign's days up to ``until`` (a share of the sizes for a campaign
    still running) and its checklists."""
    offices = db.scalars(select(Office).where(Office.region_id == region.id,
                                              Office.active.is_(True))).all()
    days = (until - campaign.starts_on).days + 1
    share = max(0, days) / ((campaign.ends_on - campaign.starts_on).days + 1)
    for office in offices:
        quality = rnd.uniform(0.55, 0.95)  # how good this office is, for plausible spread
        for rtype, (low, high) in SAMPLE_SIZES.items():
            for number in range(round(rnd.randint(low, high) * share)):
                day = campaign.starts_on + dt.timedelta(days=rnd.randrange(days))
                moment = dt.datetime.combine(day, dt.time(6 + rnd.randrange(9), rnd.randrange(60)),
                                             tzinfo=dt.UTC)
                response = build_response(Submission(
                    office_id=office.id, respondent_type=rtype,
                    answers=_answers(rnd, indicator_set, rtype, quality),
                    profile=_profile(rnd, indicator_set, rtype),
                    comment=_comment(rnd, rtype),
                    client_key=f"sample:{campaign.id}:{office.code}:{rtype}:{number}",
                    channel="sample", submitted_at=moment, campaign_id=campaign.id,
                    meta={"generated": True}, is_sample=True,
                ))
                db.add(response)
        for indicator in indicator_set.indicators:
            if indicator.kind != "objective" or indicator.components:
                continue
            network = indicator.level == "network" and region.network_type == "centralized"
            if network and office is not offices[0]:
                continue
            if rnd.random() < 0.08:
                continue  # some checklists left unfilled, as happens
            db.add(Checklist(campaign_id=campaign.id, region_id=region.id,
                             office_id=None if network else office.id, indicator=indicator.code,
                             values=_checklist(rnd, indicator, quality),
                             evidence={"_note": "демо-данные"}))


def _answers(rnd, indicator_set, rtype: str, quality: float) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in indicator_set.items_for(rtype):
        if item.follows:
            parent, expected = item.follows
            if answers.get(parent) != expected:
                continue
        if item.kind == "scale":
            if rnd.random() < 0.06:
                answers[item.key] = None  # «Затрудняюсь ответить»
            else:
                top = rnd.random() < quality
                answers[item.key] = rnd.choice((9, 10, 10)) if top else rnd.randint(3, 8)
        elif item.kind == "yesno":
            answers[item.key] = int(rnd.random() < (0.3 if "contact" in item.key else quality))
        elif item.kind == "choice":
            answers[item.key] = rnd.choice(item.options).key
    return answers


def _profile(rnd, indicator_set, rtype: str) -> dict[str, Any]:
    return {item.key: rnd.choice(item.options).key
            for item in indicator_set.items_for(rtype, "profile") if item.options}


COMMENTS = {
    "job_seeker": ["Спасибо сотрудникам за помощь!",
                   "Нет кулера с водой, жарко — нет кондиционера.",
                   "Сложно разобраться с порталом «Работа России».",
                   "Хотелось бы больше личного общения с куратором."],
    "employer": ["Просим лучше подбирать кандидатов под вакансии.",
                 "Спасибо за оперативную работу.", "Удобно работать через контакт-центр."],
}


def _comment(rnd, rtype: str) -> str | None:
    share = 0.122 if rtype == "job_seeker" else 0.88  # the pilot's comment rates
    return rnd.choice(COMMENTS[rtype]) if rnd.random() < share else None


def _checklist(rnd, indicator, quality: float) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in indicator.checklist:
        if param.kind == "number":
            values[param.key] = rnd.randint(150, 900)
        elif param.kind == "choice":
            values[param.key] = rnd.choice(param.options).key
        else:
            values[param.key] = rnd.random() < quality
    return values
