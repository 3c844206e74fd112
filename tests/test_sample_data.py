"""The sample a newcomer meets after `make run`: the pilot wave, a past quarter and the current
quarter, open today in the two sample regions (so every channel collects answers), with sample
answers only up to yesterday; only what is demo is badged «демо-данные»."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import sample_data
from cci.collection.intake import open_campaign
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Region
from cci.foundation.models import Response

TODAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(("today", "starts", "ends", "name"), [
    (dt.date(2026, 12, 7), dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026-Q4"),
    (dt.date(2027, 1, 1), dt.date(2027, 1, 1), dt.date(2027, 3, 31), "2027-Q1"),
    (dt.date(2026, 6, 30), dt.date(2026, 4, 1), dt.date(2026, 6, 30), "2026-Q2"),
])
def test_the_current_quarter(today, starts, ends, name):
    label, key, first, last = sample_data.current_quarter(today)
    assert (first, last, key) == (starts, ends, "cci-2023") and label.startswith(name)


def test_the_sample_holds_a_campaign_open_today(app, tenants):
    with app.app_context():
        created = sample_data.load(today=TODAY)
        assert sample_data.load(today=TODAY) == []  # idempotent
        with tenancy.federal_scope("test"):
            current = db.scalar(select(Campaign).where(Campaign.name.like("2026-Q4%")))
            assert current is not None and current.name in created and current.is_sample
            bry = db.scalar(select(Region).where(Region.code == "RU-BRY"))
            now = dt.datetime.combine(TODAY, dt.time(9), dt.UTC)
            assert open_campaign(bry.id, bry.timezone, now).id == current.id
            latest = db.scalar(select(func.max(Response.submitted_at))
                               .where(Response.campaign_id == current.id))
            count = db.scalar(select(func.count()).where(Response.campaign_id == current.id))
            assert latest.date() < TODAY and count > 0  # answers so far, none from the future


def test_only_what_is_demo_is_badged(app, client, tenants, make_user, login):
    with app.app_context():
        sample_data.load(today=TODAY)
    login(make_user("admin"))
    html = client.get("/federal/").get_data(as_text=True)
    badged = {code for code, row in re.findall(r'href="/r/(RU-\w+)/">[^<]*</a>(.*?)</td>', html)
              if "демо-данные" in row}
    assert badged == {"RU-BRY", "RU-KYA"}
    tam = client.get("/r/RU-TAM/").get_data(as_text=True)
    assert "демо-данные" not in tam and "пример" in tam  # its offices are illustrative
