"""Times as people read them: the region's local time named from Moscow («МСК+4») on a region's
pages and the reader's own pages, Moscow time marked «МСК» on federal pages; one filter for
every page, the plugins' included."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import JobRecord
from cci.foundation.zones import zone_label
from conftest import region_id
from engine_helpers import answer
from engine_helpers import offices

SHOWN = re.compile(r">\d\d\.\d\d\.\d{4} (\d\d:\d\d)")  # a moment as a page shows it
# 06:10 UTC: 09:10 in Moscow, 13:10 in Krasnoyarsk
MOMENT = dt.datetime(2025, 5, 5, 6, 10, tzinfo=dt.UTC)  # in the campaign fixture


@pytest.mark.parametrize(("zone", "label"), [
    ("Europe/Moscow", "МСК"),
    ("Europe/Kaliningrad", "МСК\u22121"),  # a real minus sign
    ("Europe/Samara", "МСК+1"),
    ("Asia/Krasnoyarsk", "МСК+4"),
    ("Asia/Kamchatka", "МСК+9"),
    ("UTC", "МСК\u22123"),
    ("Asia/Kolkata", "МСК+2:30"),
])
def test_zones_are_named_by_their_offset_from_moscow(zone, label):
    assert zone_label(zoneinfo.ZoneInfo(zone), MOMENT) == label


def test_an_offset_is_taken_at_the_moment_itself():
    # Moscow kept summer time until 2011 (UTC+4 in July 2010), Krasnoyarsk UTC+8 then: still +4
    summer_2010 = dt.datetime(2010, 7, 1, tzinfo=dt.UTC)
    assert zone_label(zoneinfo.ZoneInfo("Asia/Krasnoyarsk"), summer_2010) == "МСК+4"
    # between 2011 and 2014 Moscow was UTC+4 all year and Samara UTC+4 too: the same time
    assert zone_label(zoneinfo.ZoneInfo("Europe/Samara"), dt.datetime(2013, 1, 1, tzinfo=dt.UTC)) \
        == "МСК"


def _job_and_audit(app, code: str) -> None:
    with app.app_context(), tenancy.region_scope(region_id(app, code)):
        db.add(JobRecord(rq_id=f"job-{code}", name="tenants.sync", title="Задача",
                         created_at=MOMENT, finished_at=MOMENT))
        db.add(AuditEntry(action="user.create", object_type="User", object_id="1",
                          actor="test", at=MOMENT))
        db.commit()


def test_a_region_reads_its_own_local_time_on_every_page(app, client, make_user, login,
                                                          campaign):
    office = offices(app, "RU-KYA")[0]
    response_id, _ = answer(app, office, {"prof_competence": 5}, when=MOMENT,
                            meta={"staff_session": True})
    _job_and_audit(app, "RU-KYA")
    login(make_user("regional_admin", "RU-KYA"))
    pages = {
        "review queue": "/r/RU-KYA/review",
        "jobs": "/r/RU-KYA/jobs/",
        "audit log": "/r/RU-KYA/admin/audit",
    }
    for name, url in pages.items():
        html = client.get(url).get_data(as_text=True)
        assert "05.05.2025 13:10 МСК+4" in html, name
        assert not {"06:10", "09:10"} & set(SHOWN.findall(html)), name  # neither UTC nor MSK
    assert f'id="review-{response_id}"' in client.get(pages["review queue"]).get_data(
        as_text=True)
    home = client.get("/r/RU-KYA/").get_data(as_text=True)
    assert "МСК+4" in home and "Asia/Krasnoyarsk" not in home


def test_federal_pages_read_moscow_time_and_name_zones_from_moscow(app, client, make_user,
                                                                   login):
    _job_and_audit(app, "RU-KYA")
    with app.app_context(), tenancy.federal_scope("test"):
        db.add(JobRecord(rq_id="job-federal", name="runs.federal", title="Федеральная",
                         created_at=MOMENT))
        db.commit()
    login(make_user("admin", None))
    jobs = client.get("/federal/jobs/").get_data(as_text=True)
    assert "05.05.2025 09:10 МСК" in jobs and set(SHOWN.findall(jobs)) == {"09:10"}
    regions = client.get("/federal/").get_data(as_text=True)
    assert "МСК+4" in regions and "Asia/Krasnoyarsk" not in regions
    # a federal reader on a region's page reads that region's time
    assert "05.05.2025 13:10 МСК+4" in client.get("/r/RU-KYA/jobs/").get_data(as_text=True)
