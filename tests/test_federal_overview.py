"""The federation's own figures: computed by the run's federal job from the regions' rows in
the database, stored as the run's rows at level "federation", checked against hand-computed
values (ties, a region with one office, an empty region)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import jsonschema
import openpyxl
import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.foundation.models import User
from cci.index import compute
from cci.index.reports import rank_ranges
from engine_helpers import answer
from engine_helpers import campaign  # noqa: F401 (a fixture)
from engine_helpers import offices
from engine_helpers import start
from engine_helpers import work

SHARE = "indicator:S-II.1"


def _ids(codes):
    return {code: db.scalar(select(Region.id).where(Region.code == code)) for code in codes}


def _region_row(run_id, region_id, metric, value, rtype=None, **kw):
    return RunResult(run_id=run_id, region_id=region_id, level="region", office_id=None,
                     metric=metric, respondent_type=rtype, value=value, detail=kw.pop("detail", {}),
                     **kw)


@pytest.fixture
def four(app, tenants):
    """A campaign of four regions."""
    with app.app_context(), tenancy.federal_scope("test"):
        created = save_campaign(name="2025-Q3", methodology_key="cci-2023",
                                starts_on=dt.date(2025, 7, 1), ends_on=dt.date(2025, 9, 30),
                                region_codes=["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"])
        db.commit()
        return created.id


@pytest.fixture
def hand_run(app, four):
    """A run whose region rows are written by hand: BRY and KYA tie at 80, LIP (one office) has
    50 and no share, ORE measured nothing."""
    with app.app_context(), tenancy.federal_scope("test"):
        ids = _ids(["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"])
        run = ComputationRun(campaign_id=four, methodology_key="cci-2023", status="running",
                             input_fingerprint="f1nger", regions_total=4)
        db.add(run)
        db.flush()
        db.add_all([
            _region_row(run.id, ids["RU-BRY"], "index", 80.0, stars=4, n_valid=30,
                        ci_low=70.0, ci_high=90.0),
            _region_row(run.id, ids["RU-KYA"], "index", 80.0, stars=4, n_valid=20,
                        ci_low=75.0, ci_high=85.0),
            _region_row(run.id, ids["RU-LIP"], "index", 50.0, stars=1, n_valid=12),
            _region_row(run.id, ids["RU-ORE"], "index", None, n_valid=0),
            # a share: 6 of 10 (one office) and a mean of offices, 0.9 on an effective n of 20
            _region_row(run.id, ids["RU-BRY"], SHARE, 0.6, "job_seeker", n_valid=10,
                        n_positive=6, ci_low=0.31, ci_high=0.83),
            _region_row(run.id, ids["RU-KYA"], SHARE, 0.9, "job_seeker", n_valid=25,
                        n_positive=22, ci_low=0.7, ci_high=0.97, detail={"n_effective": 20.0}),
            _region_row(run.id, ids["RU-LIP"], SHARE, None, "job_seeker", n_valid=4,
                        insufficient=True),
            _region_row(run.id, ids["RU-BRY"], "group:II", 0.5),
            _region_row(run.id, ids["RU-KYA"], "group:II", 0.7),
            _region_row(run.id, ids["RU-ORE"], "group:II", None),
            _region_row(run.id, ids["RU-LIP"], "indicator:S-I.1", None, "employer", n_valid=3,
                        insufficient=True),
        ])
        db.commit()
        return run.id


def _federation(app, run_id):
    with app.app_context(), tenancy.federal_scope("test"):
        return {(r.metric, r.respondent_type): r for r in db.scalars(
            select(RunResult).where(RunResult.run_id == run_id,
                                    RunResult.level == "federation"))}


def _federal_job(app, run_id):
    with app.app_context(), tenancy.federal_scope("test"):
        return compute.compute_federal_job(lambda *_a: None, run_id)


def test_the_federal_job_stores_the_federations_figures_computed_by_hand(app, hand_run):
    _federal_job(app, hand_run)
    rows = _federation(app, hand_run)
    index = rows[("index", None)]
    # the mean of 80, 80 and 50 (the empty region left out, each region counted once)
    assert index.value == pytest.approx(70.0) and index.stars == 3
    assert index.region_id is None and index.detail["regions"] == 3
    assert index.n_valid == 62  # 30 + 20 + 12 answers
    # the spread of 80, 80, 50: s = √300, s/√3 = 10, t(2) = 4.303; kept within 0–100
    assert index.ci_low == pytest.approx(70 - 43.03) and index.ci_high == 100.0
    share = rows[(SHARE, "job_seeker")]
    assert share.value == pytest.approx(0.75) and (share.n_valid, share.n_positive) == (35, 28)
    # mean_interval over (0.6, n 10) and (0.9, n 20): adjusted shares 0.57225 and 0.83555,
    # variance (0.57225·0.42775/10 + 0.83555·0.16445/20) / 4 = 0.0078371, effective n 26.59
    assert share.detail["n_effective"] == pytest.approx(26.6)
    assert share.ci_low == pytest.approx(0.56141, abs=1e-5)
    assert share.ci_high == pytest.approx(0.87548, abs=1e-5)
    group = rows[("group:II", None)]
    # not a share: the spread of 0.5 and 0.7 (s = 0.1414, t(1) = 12.706), within 0–1
    assert group.value == pytest.approx(0.6) and (group.ci_low, group.ci_high) == (0.0, 1.0)
    # no region has a value: not computable, with the answers that fell short
    short = rows[("indicator:S-I.1", "employer")]
    assert short.value is None and short.n_valid == 3 and short.detail["reason"] == "нет данных"
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.get(ComputationRun, hand_run)
        assert run.status == "succeeded" and run.summary["federal_index"] == pytest.approx(70.0)


def test_a_retried_federal_job_replaces_its_rows(app, hand_run):
    _federal_job(app, hand_run)
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(ComputationRun, hand_run).status = "running"
        db.commit()
    _federal_job(app, hand_run)
    with app.app_context(), tenancy.federal_scope("test"):
        count = db.scalar(select(func.count()).select_from(RunResult).where(
            RunResult.run_id == hand_run, RunResult.level == "federation",
            RunResult.metric == "index"))
    assert count == 1


def test_federation_rows_are_invisible_in_a_regional_scope(app, hand_run):
    _federal_job(app, hand_run)
    bry = _ids_in_app(app, "RU-BRY")
    with app.app_context(), tenancy.region_scope(bry, "test"):
        levels = set(db.scalars(select(RunResult.level).where(RunResult.run_id == hand_run)))
    assert levels == {"region"}


def _ids_in_app(app, code):
    with app.app_context():
        return db.scalar(select(Region.id).where(Region.code == code))


@pytest.mark.parametrize("version", ["cci-2022", "cci-2023"])
def test_a_run_stores_federation_figures_per_type_and_pooled(app, campaign, version):
    bry, kya = offices(app, "RU-BRY"), offices(app, "RU-KYA")
    for _ in range(10):
        answer(app, bry[0], {"usefulness": 10})
        answer(app, kya[0], {"usefulness": 10})
        answer(app, kya[1], {"usefulness": 2})
    run_id, _ = start(app, campaign, methodology_key=version)
    work(app)
    rows = _federation(app, run_id)
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.get(ComputationRun, run_id)
        region = {r.region_id: r for r in db.scalars(select(RunResult).where(
            RunResult.run_id == run_id, RunResult.level == "region",
            RunResult.metric == "index", RunResult.respondent_type.is_(None)))}
    bry_index, kya_index = region[_ids_in_app(app, "RU-BRY")], region[_ids_in_app(app, "RU-KYA")]
    # BRY rests on one office of two: no spread, no interval
    assert bry_index.ci_low is None and bry_index.detail["offices"] == 1
    assert bry_index.detail["offices_in_network"] == 2
    # KYA: offices at 100 and 0 (S-II.1 alone): mean 50, spread ±12.706·50 kept within 0–100
    assert kya_index.value == pytest.approx(50.0)
    assert (kya_index.ci_low, kya_index.ci_high) == (0.0, 100.0)
    index = rows[("index", None)]
    assert index.value == pytest.approx(75.0) == run.summary["federal_index"]
    assert index.stars == run.summary["federal_stars"] == 3
    # per respondent type (job seekers only answered) and pooled: the mean of BRY's 1.0 and
    # KYA's mean of its offices (1.0 and 0.0)
    assert rows[("indicator:S-II.1", "job_seeker")].value == pytest.approx(0.75)
    assert rows[("indicator:S-II.1", None)].value == pytest.approx(0.75)
    assert rows[("indicator:S-II.1", "job_seeker")].n_valid == 30
    assert rows[("indicator:S-II.1", "employer")].value is None
    if version == "cci-2023":
        assert rows[("perspective", "job_seeker")].value == pytest.approx(75.0)


# --- ranks: overlapping intervals share a range ----------------------------------------------


def test_overlapping_intervals_share_a_rank_range():
    ranks = rank_ranges({
        "BRY": (80.0, 70.0, 90.0), "KYA": (80.0, 75.0, 85.0), "YAR": (60.0, 40.0, 72.0),
        "LIP": (50.0, 50.0, 50.0),  # one office: its value alone
        "TAM": (20.0, 20.0, 20.0), "PSK": (20.0, 20.0, 20.0),  # a tie without intervals
    })
    assert ranks == {
        "BRY": (1, 3),  # YAR's interval reaches 72 ≥ 70
        "KYA": (1, 2),
        "YAR": (2, 4),  # only KYA (from 75) is surely above 72; LIP's 50 lies within it
        "LIP": (3, 4),
        "TAM": (5, 6), "PSK": (5, 6),
    }


# --- the pages ---------------------------------------------------------------------------------


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _published(app, hand_run):
    _federal_job(app, hand_run)
    with app.app_context(), tenancy.federal_scope("test"):
        names = {r.code: r.name for r in db.scalars(select(Region))}
        office_names = {o.region_id: o.name for o in db.scalars(select(Office))}
        return names, office_names


def _rows(response) -> list[str]:
    html = response.get_data(as_text=True)
    body = html.split('id="federal-overview"', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in body.split("</tr>") if "<td" in row]


def test_the_federal_overview_ranks_every_region_with_its_figures(
        app, client, hand_run, four, make_user, login):
    names, _offices = _published(app, hand_run)
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/?campaign={four}")
    assert response.status_code == 200
    rows = _rows(response)
    # rank range, region, network, index and stars, interval, offices, answers, groups I–V
    assert rows[0].startswith(f"1–2 {names['RU-BRY']} централизованная 80,0 ★★★★")
    assert "70,0–90,0" in rows[0] and " 50 %" in rows[0]  # group II of BRY: 0.5
    assert rows[1].startswith(f"1–2 {names['RU-KYA']}") and " 70 %" in rows[1]
    assert rows[2].startswith(f"3 {names['RU-LIP']}") and "50,0" in rows[2]
    assert rows[3].startswith(f"— {names['RU-ORE']}")
    page = text(response)
    assert "Федеральный индекс 70,0" in page and "27,0–100,0" in page  # 70 ± 4,303·10
    assert "Справочник регионов" in page  # the directory stays below
    # the filters agree with their labels: «Сеть ЦЗН: любая», «Звёзды: любое число»
    html = response.get_data(as_text=True)
    assert dict(re.findall(r'<select id="(network|stars-filter)"[^>]*>\s*'
                           r'<option value="">([^<]+)<', html)) == \
        {"network": "любая", "stars-filter": "любое число"}
    assert "Регионы: индекс и оценки групп" in page


@pytest.mark.parametrize(("query", "expected"), [
    ("stars=1", ["RU-LIP"]),
    ("stars=4", ["RU-BRY", "RU-KYA"]),
    ("network=centralized&q=брян", ["RU-BRY"]),
    ("q=RU-ORE", ["RU-ORE"]),
    ("sort=index", ["RU-LIP", "RU-BRY", "RU-KYA", "RU-ORE"]),  # the lowest first; none last
    ("stars=9&network=x&sort=y", ["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"]),  # ignored
])
def test_the_overview_filters_and_sorts(app, client, hand_run, four, make_user, login, query,
                                        expected):
    names, _offices = _published(app, hand_run)
    login(make_user("federal_analyst"))
    rows = _rows(client.get(f"/federal/?campaign={four}&{query}"))
    assert [next(code for code, name in names.items() if f" {name} " in f" {row} ")
            for row in rows] == expected


def test_a_regional_user_sees_the_region_indices_and_the_federal_average_only(
        app, client, hand_run, four, make_user, login):
    names, office_names = _published(app, hand_run)
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/federal?campaign={four}")
    assert response.status_code == 200
    page = text(response)
    assert all(names[code] in page for code in ("RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"))
    assert "Федеральный индекс 70,0" in page
    html = response.get_data(as_text=True)
    # nothing below another region's level: no link into it, no office of it
    assert "/r/RU-KYA" not in html and "/r/RU-LIP" not in html
    with app.app_context():
        kya = _ids_in_app(app, "RU-KYA")
    assert office_names[kya] not in page


def test_a_regional_user_cannot_cross_into_another_region_or_the_federal_pages(
        app, client, hand_run, four, campaign, make_user, login):
    _published(app, hand_run)
    login(make_user("regional_admin", "RU-ORE"))
    assert client.get(f"/r/RU-ORE/federal?campaign={four}").status_code == 200
    assert client.get(f"/r/RU-KYA/federal?campaign={four}").status_code == 404
    assert client.get(f"/federal/?campaign={four}").status_code == 404
    # a campaign the region is not in does not exist for it
    assert client.get(f"/r/RU-ORE/federal?campaign={campaign}").status_code == 404


# --- exports and the API -----------------------------------------------------------------------


def test_the_xlsx_export_holds_the_numbers_the_page_shows(
        app, client, hand_run, four, make_user, login):
    names, _offices = _published(app, hand_run)
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/overview.xlsx?campaign={four}&stars=4")
    assert response.status_code == 200
    assert f"run{hand_run}.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book["Регионы"]
    assert sheet.freeze_panes == "F2"
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["Место", "Место с", "Место по", "Код", "Регион", "Сеть ЦЗН", "Индекс",
                          "Звёзды"] and all(c.font.b for c in sheet[1])
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0][4] == "Федерация" and values[0][6] == pytest.approx(70.0)
    assert values[0][8] == pytest.approx(26.97)  # the federal index's interval, as a number
    bry = values[1]  # the filter as on the page: 4 stars, BRY and KYA
    assert bry[:8] == ["1–2", 1, 2, "RU-BRY", names["RU-BRY"], "централизованная", 80.0, 4]
    assert (bry[8], bry[9], bry[12]) == (70.0, 90.0, 30)
    assert bry[13:] == [None, 0.5, None, None, None]  # group II of BRY: 0.5
    assert sheet.cell(row=3, column=7).number_format == "0.0"
    assert sheet.cell(row=3, column=15).number_format == "0%"
    assert [row[3] for row in values[1:]] == ["RU-BRY", "RU-KYA"]
    about = dict(book["Происхождение"].iter_rows(values_only=True))
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.get(ComputationRun, hand_run)
    assert about["Расчёт"] == hand_run and about["Отпечаток данных"] == run.input_fingerprint
    assert "cci-2023" in about["Методика"] and about["Фильтры"] == "sort=rank, stars=4"


def test_the_csv_export_reads_in_russian_excel(app, client, hand_run, four, make_user, login):
    _published(app, hand_run)
    login(make_user("federal_analyst"))
    body = client.get(f"/federal/overview.csv?campaign={four}").get_data(as_text=True)
    assert body.startswith("\ufeffМесто;Место с;Место по;Код;")
    lines = body.splitlines()
    assert lines[1].startswith(";;;;Федерация;;70,0;3;")
    assert lines[2].startswith("1–2;1;2;RU-BRY;") and ";80,0;4;70,0;90,0;;2;30;;0,5;" in lines[2]
    assert lines[4].startswith("3;3;3;RU-LIP;")


def test_a_region_exports_the_benchmark_and_not_another_regions(
        app, client, hand_run, four, make_user, login):
    _published(app, hand_run)
    login(make_user("auditor", "RU-LIP"))
    assert client.get(f"/r/RU-LIP/federal.csv?campaign={four}").status_code == 200
    assert client.get(f"/r/RU-BRY/federal.csv?campaign={four}").status_code == 404
    assert client.get(f"/federal/overview.csv?campaign={four}").status_code == 404


@pytest.fixture
def bearer(app, make_user):
    def issue(role, region=None):
        email = make_user(role, region)
        with app.app_context(), tenancy.federal_scope("test"):
            user = db.scalar(select(User).where(User.email == email))
            _, secret = tokens.issue(user, "test")
            db.commit()
        return {"Authorization": f"Bearer {secret}"}
    return issue


def _conforms(client, headers, body) -> None:
    """The answer matches the OpenAPI document's schema of it."""
    document = client.get("/api/v1/openapi.json", headers=headers).json
    jsonschema.validate(body, {"$ref": "#/components/schemas/FederalOverview",
                               "components": document["components"]})


def test_the_api_gives_the_overview_paginated_with_an_etag(app, client, hand_run, four, bearer):
    _published(app, hand_run)
    headers = bearer("federal_analyst")
    url = f"/api/v1/campaigns/{four}/overview"
    first = client.get(f"{url}?per_page=2", headers=headers)
    assert first.status_code == 200
    body = first.json
    assert (body["total"], body["pages"], body["page"]) == (4, 2, 1)
    assert body["federation"]["index"]["value"] == pytest.approx(70.0)
    assert body["federation"]["index"]["stars"] == 3
    assert body["federation"]["groups"]["II"]["value"] == pytest.approx(0.6)
    assert body["federation"]["stars"] == {"5": 0, "4": 2, "3": 0, "2": 0, "1": 1}
    assert body["federation"]["networks"] == {
        "centralized": {"index": 65.0, "regions": 2},
        "decentralized": {"index": 80.0, "regions": 1}}
    bry = body["regions"][0]
    assert bry["region"] == "RU-BRY" and bry["rank"] == {"best": 1, "worst": 2}
    assert bry["index"] == {"value": 80.0, "stars": 4, "n_valid": 30, "ci95": [70.0, 90.0]}
    assert bry["groups"]["II"] == 0.5
    _conforms(client, headers, body)
    second = client.get(f"{url}?per_page=2&page=2", headers=headers).json
    assert [r["region"] for r in second["regions"]] == ["RU-LIP", "RU-ORE"]
    assert second["regions"][1]["rank"] is None
    etag = first.headers["ETag"]
    again = client.get(f"{url}?per_page=2", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert client.get(f"{url}?per_page=2&page=2", headers={
        **headers, "If-None-Match": etag}).status_code == 200
    # a regional token's answer is another (the run's summary is the federal scope's)
    assert client.get(f"{url}?per_page=2", headers={
        **bearer("auditor", "RU-BRY"), "If-None-Match": etag}).status_code == 200
    for bad in ("per_page=0", "page=0", "stars=7", "network=x", "sort=y"):
        refused = client.get(f"{url}?{bad}", headers=headers)
        assert refused.status_code == 422, bad


def test_a_regional_token_reads_the_benchmark_of_its_campaigns_only(
        app, client, hand_run, four, campaign, bearer):
    _published(app, hand_run)
    regional = bearer("regional_admin", "RU-ORE")
    body = client.get(f"/api/v1/campaigns/{four}/overview", headers=regional).json
    assert [r["region"] for r in body["regions"]] == ["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"]
    assert body["federation"]["index"]["value"] == pytest.approx(70.0)
    assert "offices" not in json.dumps(body).replace("offices_measured", "").replace(
        "offices_in_network", "")
    # a campaign ORE is not in (BRY and KYA's) does not exist for it
    assert client.get(f"/api/v1/campaigns/{campaign}/overview",
                      headers=regional).status_code == 404


# --- movement since the previous campaign --------------------------------------------------


@pytest.fixture
def earlier_run(app, tenants):
    """The previous quarter, published: BRY 70 (60–75), KYA 90 (87–93), LIP 45 (one office, no
    interval), ORE 40 (30–50)."""
    with app.app_context(), tenancy.federal_scope("test"):
        earlier = save_campaign(name="2025-Q1", methodology_key="cci-2023",
                                starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 3, 31),
                                region_codes=["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"])
        run = ComputationRun(campaign_id=earlier.id, methodology_key="cci-2023",
                             status="running", regions_total=4)
        db.add(run)
        db.flush()
        ids = _ids(["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"])
        for code, value, low, high in (("RU-BRY", 70.0, 60.0, 75.0), ("RU-KYA", 90.0, 87.0, 93.0),
                                       ("RU-LIP", 45.0, None, None), ("RU-ORE", 40.0, 30.0, 50.0)):
            db.add(_region_row(run.id, ids[code], "index", value, ci_low=low, ci_high=high))
        db.commit()
        run_id = run.id
    _federal_job(app, run_id)
    return run_id


def test_the_overview_shows_who_rose_and_fell_and_whether_beyond_the_intervals(
        app, client, hand_run, earlier_run, four, make_user, login, bearer):
    names, _offices = _published(app, hand_run)
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/?campaign={four}")
    rows = {row.split(" ")[1]: row for row in (
        r.replace(names[c], c) for r in _rows(response) for c in names if names[c] in r)}
    # BRY: 70 → 80, the intervals 60–75 and 70–90 overlap
    assert "70,0 +10,0 в пределах интервалов" in rows["RU-BRY"]
    # KYA: 90 → 80, 75–85 lies below 87–93
    assert "90,0 −10,0 ↓ сверх интервалов" in rows["RU-KYA"]
    # LIP: 45 → 50, measured in one office: no interval to judge the change by
    assert "45,0 +5,0 интервала нет" in rows["RU-LIP"]
    assert "40,0 —" in rows["RU-ORE"]  # no index now
    page = text(response)
    assert "С прошлой кампании, 2025-Q1" in page
    # the federal index: (70 + 90 + 45 + 40) / 4 = 61,25 → 70,0: +8,75
    assert "Федеральный индекс: 61,2 ★★ ★★★ → 70,0 ★★★ ★★ (+8,8)" in page
    assert f"Снизились сверх интервалов: {names['RU-KYA']} (−10,0)" in page
    assert "Выросли сверх интервалов: нет" in page
    body = client.get(f"/api/v1/campaigns/{four}/overview",
                      headers=bearer("federal_analyst")).json
    assert body["previous"]["run"] == earlier_run
    assert body["previous"]["federal_index"]["value"] == pytest.approx(61.25)
    movement = {r["region"]: r["movement"] for r in body["regions"]}
    assert movement["RU-KYA"] == {"previous": 90.0, "change": -10.0, "beyond_intervals": "down"}
    assert movement["RU-LIP"]["beyond_intervals"] is None and movement["RU-ORE"] is None
    _conforms(client, bearer("federal_analyst"), body)
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/federal/overview.xlsx?campaign={four}").data))["Регионы"]
    header = [c.value for c in sheet[1]]
    kya = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[3] == "RU-KYA")
    at = header.index("Было")
    assert kya[at:at + 3] == (90.0, -10.0, "снизился")


def test_without_a_previous_campaign_there_is_no_movement(
        app, client, hand_run, four, make_user, login):
    _published(app, hand_run)
    login(make_user("federal_analyst"))
    page = text(client.get(f"/federal/?campaign={four}"))
    assert "С прошлой кампании" not in page and "Изменение" not in page


def test_the_overview_counts_stars_and_compares_the_networks(
        app, client, hand_run, four, make_user, login):
    _published(app, hand_run)
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/?campaign={four}")
    html = response.get_data(as_text=True)
    section = text(response).split("Звёзды и сети", 1)[1]
    # BRY and KYA have 4 stars, LIP 1; ORE has no index
    counts = re.findall(r'<td class="num">(\d+)</td>',
                        html.split('id="spread-title"', 1)[1].split("</table>", 1)[0])
    assert counts == ["0", "2", "0", "0", "1"]
    # centralized: BRY 80 and LIP 50 → 65; decentralized: KYA 80 (ORE has no index)
    assert ("централизованные сети: 65,0 (2 региона); "
            "децентрализованные сети: 80,0 (1 регион)") in section
