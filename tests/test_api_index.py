"""The index's API resources: methodologies, campaigns, checklists, runs, results."""

from __future__ import annotations

import pytest

from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from conftest import Statements
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import work


@pytest.fixture
def token(app, make_user):
    def issue(role, region=None):
        email = make_user(role, region)
        from sqlalchemy import select

        from cci.foundation.models import User

        with app.app_context(), tenancy.federal_scope("test"):
            user = db.scalar(select(User).where(User.email == email))
            _, text = tokens.issue(user, "test")
            db.commit()
        return {"Authorization": f"Bearer {text}"}

    return issue


def test_methodologies_list_and_detail(client, token):
    headers = token("federal_analyst")
    keys = [m["key"] for m in client.get("/api/v1/methodologies", headers=headers).json["items"]]
    assert {"cci-2022", "cci-2023"} <= set(keys)
    body = client.get("/api/v1/methodologies/cci-2023", headers=headers).json
    assert body["based_on"] == "cci-2022" and len(body["changes"]) == 10
    transport = next(i for i in body["indicators"] if i["code"] == "O-V.2")
    assert [p["points"] for p in transport["checklist"]] == [0.125] * 8
    params = {p["key"]: p for p in body["parameters"]}
    assert params["positive_min"]["value"] == 8 and params["min_sample"]["is_default"]
    assert client.get("/api/v1/methodologies/nope", headers=headers).status_code == 404


def test_campaign_create_needs_a_methodology_owner_and_refuses_overlaps(client, token, tenants):
    payload = {"name": "2025-Q3", "methodology": "cci-2023", "starts_on": "2025-07-01",
               "ends_on": "2025-09-30", "regions": ["RU-BRY"]}
    assert client.post("/api/v1/campaigns", json=payload,
                       headers=token("regional_admin", "RU-BRY")).status_code == 403
    owner = token("methodology_owner")
    created = client.post("/api/v1/campaigns", json=payload, headers=owner)
    assert created.status_code == 201 and created.json["regions"] == ["RU-BRY"]
    clash = client.post("/api/v1/campaigns", headers=owner,
                        json={**payload, "name": "Другая", "starts_on": "2025-09-01",
                              "ends_on": "2025-10-31"})
    assert clash.status_code == 422 and "пересекаться" in clash.json["error"]["message"]
    campaign_id = created.json["id"]
    other_region = token("auditor", "RU-VLA")
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=other_region).status_code == 404
    assert client.get("/api/v1/campaigns", headers=other_region).json["items"] == []


def test_the_campaigns_list_gives_each_its_regions_in_the_same_statements_for_many(
        app, client, token, tenants):
    owner, federal = token("methodology_owner"), token("federal_analyst")
    bry = token("regional_admin", "RU-BRY")

    def listed(headers) -> tuple[dict[str, list[str]], int]:
        with Statements(app) as seen:
            items = client.get("/api/v1/campaigns", headers=headers).json["items"]
        return {c["name"]: c["regions"] for c in items}, len(seen.sql)

    def create(name: str, month: int, regions: list[str]) -> None:
        created = client.post("/api/v1/campaigns", headers=owner, json={
            "name": name, "methodology": "cci-2023", "starts_on": f"2025-{month:02d}-01",
            "ends_on": f"2025-{month:02d}-28", "regions": regions})
        assert created.status_code == 201, created.json

    create("Январь", 1, ["RU-BRY", "RU-KYA"])
    _, one = listed(federal)
    create("Февраль", 2, ["RU-KYA"])
    create("Март", 3, ["RU-BRY", "RU-VLA", "RU-KYA"])
    assert listed(federal) == ({"Январь": ["RU-BRY", "RU-KYA"], "Февраль": ["RU-KYA"],
                                "Март": ["RU-BRY", "RU-KYA", "RU-VLA"]}, one)
    # a region sees the campaigns it takes part in, and no other region in them
    assert listed(bry)[0] == {"Январь": ["RU-BRY"], "Март": ["RU-BRY"]}


def test_checklist_put_validates_and_respects_the_network_level(client, token, campaign, app):
    auditor = token("auditor", "RU-BRY")  # RU-BRY is centralized: O-III.2 is regional in 2023
    url = f"/api/v1/campaigns/{campaign}/checklists"
    office = offices(app, "RU-BRY")[0]
    per_office = client.put(url, headers=auditor, json={
        "region": "RU-BRY", "office_id": office, "indicator": "O-III.2",
        "values": {"all_addresses": "да"}})
    assert per_office.status_code == 422
    assert per_office.json["error"]["details"]["field"] == "office_id"
    missing = client.put(url, headers=auditor, json={
        "region": "RU-BRY", "office_id": None, "indicator": "O-III.2",
        "values": {"all_addresses": "да"}})
    assert missing.status_code == 422
    assert missing.json["error"]["details"]["field"] == "working_hours"
    values = {"all_addresses": "да", "working_hours": "нет", "services_described": True,
              "accessible_version": "0", "feedback_form": "есть", "not_merged": "да",
              "current": 1, "mobile_friendly": "нет"}
    saved = client.put(url, headers=auditor, json={
        "region": "RU-BRY", "office_id": None, "indicator": "O-III.2", "values": values,
        "evidence": {"all_addresses": "скриншот сайта"}})
    assert saved.status_code == 200
    assert saved.json["values"] == {"all_addresses": True, "working_hours": False,
                                    "services_described": True, "accessible_version": False,
                                    "feedback_form": True, "not_merged": True,
                                    "current": True, "mobile_friendly": False}
    vacancies = client.put(url, headers=auditor, json={
        "region": "RU-BRY", "office_id": office, "indicator": "O-II.1",
        "values": {"vacancies_current": "1 234,5", "vacancies_last_year": "1000"}})
    assert vacancies.json["values"]["vacancies_current"] == 1234.5
    foreign = client.put(url, headers=token("auditor", "RU-KYA"), json={
        "region": "RU-BRY", "office_id": None, "indicator": "O-III.2", "values": values})
    assert foreign.status_code == 404
    listed = client.get(url, headers=token("federal_analyst")).json["items"]
    assert {row["indicator"] for row in listed} == {"O-III.2", "O-II.1"}


def test_runs_and_results_through_the_api(client, token, campaign, app):
    bry = offices(app, "RU-BRY")
    for value in (10,) * 8 + (2,) * 2:
        answer(app, bry[0], {"usefulness": value})
    owner = token("methodology_owner")
    started = client.post(f"/api/v1/campaigns/{campaign}/runs", json={}, headers=owner)
    assert started.status_code == 202 and started.json["status"] == "queued"
    run_id = started.json["id"]
    before = client.get(f"/api/v1/campaigns/{campaign}/results", headers=owner)
    assert before.status_code == 404 and before.json["error"]["code"] == "no_results"
    work(app)
    run = client.get(f"/api/v1/runs/{run_id}", headers=owner).json
    assert (run["status"], run["progress"], run["published"]) == ("succeeded", 1.0, True)
    federal = client.get(f"/api/v1/campaigns/{campaign}/results", headers=owner).json
    assert federal["federal_index"] == pytest.approx(80.0)
    assert [r["region"] for r in federal["regions"]] == ["RU-BRY", "RU-KYA"]
    region = client.get(f"/api/v1/campaigns/{campaign}/results/regions/RU-BRY",
                        headers=token("regional_admin", "RU-BRY")).json
    first = region["offices"][0]
    assert (first["office_id"], first["rank"], first["ranked"]) == (bry[0], 1, True)
    usefulness = next(f for f in first["figures"]
                      if f["metric"] == "indicator:S-II.1" and f["respondent_type"] == "job_seeker")
    assert (usefulness["value"], usefulness["n_valid"], usefulness["n_positive"]) == (0.8, 10, 8)
    assert usefulness["ci95"][0] == pytest.approx(0.4902, abs=1e-4)
    office = client.get(f"/api/v1/campaigns/{campaign}/results/offices/{bry[0]}",
                        headers=owner).json
    assert office["index"]["value"] == pytest.approx(80.0)
    regional = token("regional_admin", "RU-KYA")
    assert client.get(f"/api/v1/campaigns/{campaign}/results/regions/RU-BRY",
                      headers=regional).status_code == 404
    assert client.get(f"/api/v1/campaigns/{campaign}/results/offices/{bry[0]}",
                      headers=regional).status_code == 404
    # the published region indices and the federal average, as the overview shows them to a
    # region (its benchmark); never the other region's offices
    benchmark = client.get(f"/api/v1/campaigns/{campaign}/results", headers=regional).json
    assert [r["region"] for r in benchmark["regions"]] == ["RU-BRY", "RU-KYA"]
    assert benchmark["federal_index"] == pytest.approx(80.0) == federal["federal_index"]
    assert "offices" not in str(benchmark["regions"])
    assert client.post(f"/api/v1/campaigns/{campaign}/runs", json={},
                       headers=regional).status_code == 403
    draft = client.post(f"/api/v1/campaigns/{campaign}/runs", headers=owner,
                        json={"methodology": "cci-2022", "draft": True})
    assert draft.status_code == 202 and draft.json["draft"] is True
    unknown = client.post(f"/api/v1/campaigns/{campaign}/runs", headers=owner,
                          json={"methodology": "cci-1999"})
    assert unknown.status_code == 422


def test_results_carry_what_the_pages_show_beside_a_figure(client, token, campaign, app):
    """A distribution with the channels offered, and a pooled share's effective n."""
    from engine_helpers import checklist

    kya = offices(app, "RU-KYA")  # decentralized: the office fills O-III.6
    for value, channel in ((10, "messengers"), (10, "office"), (1, "office")):
        answer(app, kya[0], {"usefulness": value, "preferred_channel": channel})
    for value in (10,) * 10 + (1,) * 10:
        answer(app, kya[0], {"usefulness": value}, rtype="job_seeker" if value == 1 else
               "employer")
    checklist(app, campaign, "O-III.6", {"office": True}, office_id=kya[0], region="RU-KYA")
    owner = token("methodology_owner")
    client.post(f"/api/v1/campaigns/{campaign}/runs", json={}, headers=owner)
    work(app)
    office = client.get(f"/api/v1/campaigns/{campaign}/results/offices/{kya[0]}",
                        headers=owner).json
    figures = {(f["metric"], f["respondent_type"]): f for f in office["figures"]}
    channel = figures["indicator:S-III.7", None]
    assert channel["distribution"]["office"] == 2 and channel["distribution"]["messengers"] == 1
    assert channel["offered"]["office"] is True
    pooled = figures["indicator:S-II.1", None]  # job seekers 2 of 13, employers 10 of 10
    assert pooled["value"] == pytest.approx((2 / 13 + 1) / 2) and pooled["n_valid"] == 23
    assert pooled["n_effective"] == 23  # capped at the answers: the types differ widely
    assert pooled["ci95"][0] < pooled["value"] < pooled["ci95"][1]
    region = client.get(f"/api/v1/campaigns/{campaign}/results/regions/RU-KYA",
                        headers=owner).json
    shown = next(f for f in region["figures"]
                 if f["metric"] == "indicator:S-III.7" and f["respondent_type"] is None)
    # the checklist answers for the office only: nothing is said of the messengers
    assert channel["offered"]["messengers"] is None
    assert (shown["offered_in"]["office"], shown["offices_checked"]["office"]) == (1, 1)
    assert shown["offices_checked"]["messengers"] == 0


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e400", "Infinity", "1e5", "12abc", "",
                                 True, [1], {"n": 1}])
def test_a_checklist_number_must_be_a_finite_number_as_people_write_it(client, token, campaign,
                                                                       app, raw):
    """Not a number, not finite, or an exponent: a clear 422 naming the parameter, nothing
    stored (a NaN would not even fit the database's JSON)."""
    url = f"/api/v1/campaigns/{campaign}/checklists"
    office = offices(app, "RU-BRY")[0]
    auditor = token("auditor", "RU-BRY")
    refused = client.put(url, headers=auditor, json={
        "region": "RU-BRY", "office_id": office, "indicator": "O-II.1",
        "values": {"vacancies_current": raw, "vacancies_last_year": "1000"}})
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["details"]["field"] == "vacancies_current"
    assert client.get(url, headers=auditor).json["items"] == []


@pytest.mark.parametrize("number", ["1" + "0" * 400, "1e400", "NaN", "-Infinity"])
def test_a_checklist_number_in_the_json_itself_must_be_finite(client, token, campaign, app,
                                                              number):
    """JSON numbers Python cannot hold as a float (or reads as infinity or NaN): a 422."""
    url = f"/api/v1/campaigns/{campaign}/checklists"
    office = offices(app, "RU-BRY")[0]
    auditor = token("auditor", "RU-BRY")
    body = (f'{{"region": "RU-BRY", "office_id": {office}, "indicator": "O-II.1", "values": '
            f'{{"vacancies_current": {number}, "vacancies_last_year": 1000}}}}')
    refused = client.put(url, data=body, headers={**auditor, "Content-Type": "application/json"})
    assert refused.status_code == 422, refused.get_data(as_text=True)[:300]
    assert refused.json["error"]["details"]["field"] == "vacancies_current"
    assert client.get(url, headers=auditor).json["items"] == []
