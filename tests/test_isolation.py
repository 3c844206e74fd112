"""Crossing the tenant boundary over HTTP: another region's pages, exports and API resources
do not exist for a regional user (404, never 403, never a hint), while their own work."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import User
from conftest import region_id

OWN, OTHER = "RU-BRY", "RU-VLA"
REGIONAL_ROLES = ["regional_admin", "auditor"]


@pytest.fixture
def world(app, tenants, make_user):
    """Office ids of both regions, a job record in each and a federal job."""
    from cci.foundation.db import db

    own, other = region_id(app, OWN), region_id(app, OTHER)
    with app.app_context():
        with tenancy.federal_scope("test set-up"):
            offices = {
                code: db.scalar(select(Office.id).where(Office.code == code))
                for code in ("BRY-01", "BRY-02", "VLA-01", "VLA-02")
            }
            federal_job = JobRecord(rq_id="fed-job", name="runs.federal", title="Федеральный")
            db.add(federal_job)
            db.commit()
        jobs = {}
        for code, rid in ((OWN, own), (OTHER, other)):
            with tenancy.region_scope(rid):
                job = JobRecord(rq_id=f"job-{code}", name="tenants.sync", title=f"Задача {code}")
                db.add(job)
                db.commit()
                jobs[code] = job.id
    return {"offices": offices, "jobs": jobs, "federal_job": federal_job.id}


@pytest.fixture
def colleagues(make_user, world):
    """Users of both regions besides the one logged in."""
    make_user("regional_admin", OTHER, email="vla-admin@example.ru")
    make_user("auditor", OTHER, email="vla-auditor@example.ru")
    make_user("auditor", OWN, email="bry-colleague@example.ru")


def _api_token(app, email: str) -> str:
    from cci.foundation import tokens
    from cci.foundation.db import db

    with app.app_context(), tenancy.federal_scope("test token"):
        user = db.scalar(select(User).where(User.email == email))
        _row, token = tokens.issue(user, "test")
        db.commit()
    return token


@pytest.fixture
def api(app, client):
    """``api(token).get(path)`` with the bearer header set."""

    class Api:
        def __init__(self, token: str):
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, path: str):
            return client.get(path, headers=self.headers)

    return Api


# --- pages ------------------------------------------------------------------------------


@pytest.fixture(params=REGIONAL_ROLES)
def regional(request, make_user, login, world):
    email = make_user(request.param, OWN)
    login(email)
    return request.param


def _other_region_paths(world) -> list[str]:
    vla_office, bry_office = world["offices"]["VLA-01"], world["offices"]["BRY-01"]
    vla_job, bry_job = world["jobs"][OTHER], world["jobs"][OWN]
    return [
        f"/r/{OTHER}/",
        f"/r/{OTHER}/offices/{vla_office}",
        f"/r/{OTHER}/offices/{bry_office}",  # own office under the other prefix
        f"/r/{OWN}/offices/{vla_office}",  # other office under the own prefix
        f"/r/{OTHER}/offices.csv",
        f"/r/{OTHER}/admin/users",
        f"/r/{OTHER}/admin/audit",
        f"/r/{OTHER}/admin/intake",
        f"/r/{OTHER}/jobs/",
        f"/r/{OTHER}/jobs/{vla_job}",
        f"/r/{OTHER}/jobs/{bry_job}",
        f"/r/{OWN}/jobs/{vla_job}",
        f"/r/{OWN}/jobs/{world['federal_job']}",
        "/federal/",
        "/federal/admin/users",
        "/federal/admin/intake",
        "/federal/jobs/",
        f"/federal/jobs/{bry_job}",
    ]


def test_other_regions_pages_do_not_exist_for_a_regional_user(client, regional, world):
    for path in _other_region_paths(world):
        response = client.get(path)
        assert response.status_code == 404, (regional, path, response.status_code)
        page = response.get_data(as_text=True)
        assert "Владимирск" not in page and "VLA-0" not in page, path


def test_another_region_looks_like_a_region_that_does_not_exist(client, regional, world):
    """No oracle: an existing foreign region answers exactly like a made-up one."""
    other = client.get(f"/r/{OTHER}/")
    made_up = client.get("/r/RU-XXX/")
    assert other.status_code == made_up.status_code == 404
    # the CSRF token is signed with the time: two requests a second apart differ there only
    token = re.compile(rb"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}")
    assert token.search(other.get_data())
    assert token.sub(b"TOKEN", other.get_data()) == token.sub(
        b"TOKEN", made_up.get_data().replace(b"RU-XXX", OTHER.encode()))


def test_own_region_pages_work(client, regional, world):
    home = client.get(f"/r/{OWN}/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "BRY-01" in page and "BRY-02" in page
    assert "VLA-01" not in page
    office = client.get(f"/r/{OWN}/offices/{world['offices']['BRY-02']}")
    assert office.status_code == 200
    assert "BRY-02" in office.get_data(as_text=True)
    job = client.get(f"/r/{OWN}/jobs/{world['jobs'][OWN]}")
    assert job.status_code == 200
    assert f"Задача {OWN}" in job.get_data(as_text=True)


def test_job_list_shows_only_own_jobs(client, regional, world):
    page = client.get(f"/r/{OWN}/jobs/").get_data(as_text=True)
    assert f"Задача {OWN}" in page
    assert f"Задача {OTHER}" not in page and "Федеральный" not in page


def test_csv_export_contains_only_own_offices(client, regional, world):
    response = client.get(f"/r/{OWN}/offices.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert f"offices-{OWN}.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert sorted(row["code"] for row in rows) == ["BRY-01", "BRY-02"]
    assert "VLA" not in body and "Владимир" not in body


def test_regional_admin_sees_only_own_users(client, make_user, login, colleagues):
    email = make_user("regional_admin", OWN)
    login(email)
    response = client.get(f"/r/{OWN}/admin/users")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert email in page and "bry-colleague@example.ru" in page
    assert "vla-admin@example.ru" not in page and "vla-auditor@example.ru" not in page


def test_regional_admin_cannot_touch_another_regions_user(app, client, make_user, login,
                                                         colleagues):
    from cci.foundation.db import db

    login(make_user("regional_admin", OWN))
    with app.app_context(), tenancy.federal_scope("test"):
        victim = db.scalar(select(User).where(User.email == "vla-auditor@example.ru"))
    for prefix in (OWN, OTHER):
        response = client.post(f"/r/{prefix}/admin/users/{victim.id}/active")
        assert response.status_code == 404, prefix
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(User, victim.id).active is True


def test_federal_analyst_reaches_every_region(client, make_user, login, world):
    login(make_user("federal_analyst"))
    assert client.get("/federal/").status_code == 200
    for code, office in (("RU-BRY", "BRY-01"), ("RU-VLA", "VLA-01")):
        assert client.get(f"/r/{code}/").status_code == 200
        assert client.get(f"/r/{code}/offices/{world['offices'][office]}").status_code == 200
    body = client.get(f"/r/{OTHER}/offices.csv").get_data(as_text=True)
    assert "VLA-01" in body and "BRY-01" not in body  # a region page is that region only
    # ... even the federal user sees an office only under its own region's prefix
    assert client.get(f"/r/{OWN}/offices/{world['offices']['VLA-01']}").status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, world):
    for path in (f"/r/{OWN}/", f"/r/{OTHER}/offices.csv", "/federal/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


# --- API -----------------------------------------------------------------------------------


@pytest.fixture(params=REGIONAL_ROLES)
def regional_api(request, app, make_user, api, world):
    return api(_api_token(app, make_user(request.param, OWN)))


def _api_other_region_paths(world) -> list[str]:
    return [
        f"/api/v1/regions/{OTHER}",
        f"/api/v1/regions/{OTHER}/offices",
        f"/api/v1/offices/{world['offices']['VLA-01']}",
        f"/api/v1/offices/{world['offices']['VLA-02']}",
        f"/api/v1/jobs/{world['jobs'][OTHER]}",
        f"/api/v1/jobs/{world['federal_job']}",
    ]


def test_api_other_regions_resources_are_404(regional_api, world):
    for path in _api_other_region_paths(world):
        response = regional_api.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found", path
        assert "VLA" not in response.get_data(as_text=True), path


def test_api_another_region_looks_like_a_missing_one(regional_api, world):
    other = regional_api.get(f"/api/v1/regions/{OTHER}/offices")
    made_up = regional_api.get("/api/v1/regions/RU-XXX/offices")
    assert other.status_code == made_up.status_code == 404
    assert other.get_json() == made_up.get_json()
    missing_office = regional_api.get("/api/v1/offices/999999")
    foreign_office = regional_api.get(f"/api/v1/offices/{world['offices']['VLA-01']}")
    assert missing_office.get_json() == foreign_office.get_json()


def test_api_own_resources_work(regional_api, world):
    region = regional_api.get(f"/api/v1/regions/{OWN}")
    assert region.status_code == 200
    assert region.get_json()["code"] == OWN
    assert region.get_json()["office_count"] == 2
    offices = regional_api.get(f"/api/v1/regions/{OWN}/offices")
    assert offices.status_code == 200
    assert [o["code"] for o in offices.get_json()["items"]] == ["BRY-01", "BRY-02"]
    office = regional_api.get(f"/api/v1/offices/{world['offices']['BRY-01']}")
    assert office.status_code == 200 and office.get_json()["region"] == OWN
    job = regional_api.get(f"/api/v1/jobs/{world['jobs'][OWN]}")
    assert job.status_code == 200 and job.get_json()["title"] == f"Задача {OWN}"


def test_api_region_list_is_only_the_own_region(regional_api, world):
    response = regional_api.get("/api/v1/regions")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["code"] for item in items] == [OWN]
    assert items[0]["office_count"] == 2


def test_api_me_reports_the_regional_scope(regional_api):
    body = regional_api.get("/api/v1/me").get_json()
    assert body["region"] == OWN and body["scope"] == OWN


def test_api_federal_analyst_sees_all_regions(app, make_user, api, world):
    federal = api(_api_token(app, make_user("federal_analyst")))
    items = federal.get("/api/v1/regions").get_json()["items"]
    assert len(items) == 13
    assert len({item["code"] for item in items}) == 13
    assert all(item["office_count"] == 2 for item in items)
    assert federal.get(f"/api/v1/regions/{OTHER}").status_code == 200
    offices = federal.get(f"/api/v1/regions/{OTHER}/offices").get_json()["items"]
    assert [o["code"] for o in offices] == ["VLA-01", "VLA-02"]
    office = federal.get(f"/api/v1/offices/{world['offices']['VLA-01']}")
    assert office.status_code == 200 and office.get_json()["region"] == OTHER
    assert federal.get(f"/api/v1/jobs/{world['jobs'][OTHER]}").status_code == 200
    assert federal.get(f"/api/v1/jobs/{world['federal_job']}").status_code == 200
    assert federal.get("/api/v1/me").get_json()["scope"] == "federal"


def test_api_token_from_the_cli_keeps_the_regional_scope(runner, client, make_user, world):
    email = make_user("auditor", OWN)
    result = runner.invoke(args=["tokens", "create", "--email", email, "--name", "cli-test"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("cci_")
    headers = {"Authorization": f"Bearer {token}"}
    assert [r["code"] for r in client.get("/api/v1/regions", headers=headers).get_json()[
        "items"]] == [OWN]
    assert client.get(f"/api/v1/regions/{OTHER}/offices", headers=headers).status_code == 404
    other_office = client.get(f"/api/v1/offices/{world['offices']['VLA-02']}", headers=headers)
    assert other_office.status_code == 404


def test_api_without_a_token_is_401_not_a_leak(client, world):
    for path in [*_api_other_region_paths(world), "/api/v1/regions"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_api_campaign_does_not_tell_a_region_who_else_takes_part(app, make_user, api,
                                                                 live_campaign):
    """A campaign is shared (RU-BRY and RU-KYA here); which other regions take part is not a
    regional token's to know."""
    for role in REGIONAL_ROLES:
        regional = api(_api_token(app, make_user(role, OWN)))
        one = regional.get(f"/api/v1/campaigns/{live_campaign}").get_json()
        assert one["regions"] == [OWN]
        listed = regional.get("/api/v1/campaigns").get_json()["items"]
        assert [c["regions"] for c in listed] == [[OWN]]
    federal = api(_api_token(app, make_user("federal_analyst")))
    assert federal.get(f"/api/v1/campaigns/{live_campaign}").get_json()["regions"] == [
        "RU-BRY", "RU-KYA"]
