"""The region and office dashboards: partial indices ranked apart with their reasons, coverage
counted by the run and stored with it, the trend across campaigns, the distribution of answers
behind an indicator; every figure against hand-computed values, isolation by crossing it."""

from __future__ import annotations

import datetime as dt
import re

import jsonschema
import pytest
from sqlalchemy import select
from sqlalchemy import update

from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import ResponseFlag
from cci.foundation.models import SurveyInvitation
from cci.foundation.models import User
from cci.index import compute
from cci.index.dashboards import coverage_warnings
from cci.index.reports import region_report
from conftest import Statements
from engine_helpers import answer
from engine_helpers import campaign  # noqa: F401 (a fixture)
from engine_helpers import checklist
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import start
from engine_helpers import work

APPEARANCE = {"business_clothing": True, "corporate_element": True, "name_badge": True,
              "neat": True, "one_style": True}
EARLIER = dt.datetime(2025, 2, 5, 9, 0, tzinfo=dt.UTC)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _answers(app, office_id, values, rtype="job_seeker", **kw):
    return [answer(app, office_id, {"usefulness": v}, rtype=rtype, **kw)[0] for v in values]


def _exclude(app, response_id, rule="speeding"):
    """A response flagged by a quality rule and so not counted (as intake stores one)."""
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.get(Response, response_id)
        db.execute(update(Response).where(Response.id == response_id)
                   .values(counted=False, review_status="pending"))
        from cci.foundation.models import Answer
        db.execute(update(Answer).where(Answer.response_id == response_id).values(counted=False))
        db.add(ResponseFlag(response_id=row.id, office_id=row.office_id,
                            campaign_id=row.campaign_id, region_id=row.region_id, rule=rule,
                            reason="test"))
        db.commit()


def _verify(app, response_id, code="VISIT0001"):
    """A response that a visit code (a survey invitation) vouches for."""
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.get(Response, response_id)
        db.add(SurveyInvitation(code=code, office_id=row.office_id, region_id=row.region_id,
                                visit_date=dt.date(2025, 5, 5),
                                expires_at=dt.datetime(2025, 6, 1), response_id=row.id))
        db.commit()


@pytest.fixture
def kya(app, campaign):
    """RU-KYA: office 1 measured on both types and with a checklist; office 2 on job seekers
    only, no checklist, one response excluded by a rule; one response verified by a code."""
    first, second = offices(app, "RU-KYA")
    # office 1: job seekers 5 × 10 and 5 × 1 (S-II.1 = 0.5), employers 10 × 10 (1.0),
    # appearance (O-V.3) all present (1.0). Perspectives (groups II and V, equal weights):
    # job seekers (0.5 + 1) / 2 = 75, employers (1 + 1) / 2 = 100: index 87.5
    ids = _answers(app, first, [10] * 5 + [1] * 5)
    _answers(app, first, [10] * 10, rtype="employer")
    checklist(app, campaign, "O-V.3", APPEARANCE, office_id=first, region="RU-KYA")
    # office 2: job seekers 10 × 8 (8 is positive in ИКЦ-2023): 1.0, group II only: index 100
    _answers(app, second, [8] * 10)
    excluded = _answers(app, second, [9])[0]
    _exclude(app, excluded)
    _verify(app, ids[0])
    start(app, campaign)
    work(app)
    return {"first": first, "second": second, "campaign": campaign}


def _report(app, campaign_id, code="RU-KYA"):
    with app.app_context():
        region = db.scalar(select(Region).where(Region.code == code))
        with tenancy.region_scope(region.id, "test"):
            run = compute.current_run(campaign_id, "cci-2023")
            report = region_report(run, region.id)
            return report, [(o.office.id, o.rank, o.standing, o.partial,
                             o.index.value if o.index else None) for o in report.offices]


def test_a_partial_index_is_stored_by_the_run_with_its_reasons(app, kya):
    run_id = compute.current_run  # noqa: F841 (readability: the run below is the campaign's)
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.scalar(select(ComputationRun).where(ComputationRun.campaign_id == kya["campaign"]))
    rows = results(app, run.id)
    first, second = rows[kya["first"]], rows[kya["second"]]
    assert first.value == pytest.approx(87.5)
    assert first.detail["measured_types"] == ["job_seeker", "employer"]
    assert first.detail["objective_measured"] is True and first.detail["partial"] == []
    assert second.value == pytest.approx(100.0)
    assert second.detail["measured_types"] == ["job_seeker"]
    assert second.detail["partial"] == ["no_employer", "no_objective"]


def test_an_office_measured_on_one_side_is_ranked_apart_not_first(app, kya):
    _, rows = _report(app, kya["campaign"])
    # before: office 2 (100, job seekers only) was first, above office 1 (87.5, both types)
    assert rows == [
        (kya["first"], 1, "comparable", [], pytest.approx(87.5)),
        (kya["second"], 1, "partial", ["no_employer", "no_objective"], pytest.approx(100.0)),
    ]


def test_coverage_is_counted_by_the_run_and_stored_with_it(app, kya):
    report, _rows = _report(app, kya["campaign"])
    cov = report.coverage
    # counted: office 1 10 job seekers + 10 employers, office 2 10 job seekers (1 excluded)
    assert cov["responses"] == 30
    assert cov["answers"] == {"test": {"job_seeker": 20, "employer": 10}}
    assert cov["by_type"] == {"job_seeker": 20, "employer": 10}
    assert cov["excluded"] == {"speeding": 1} and cov["excluded_total"] == 1
    assert cov["verified"] == 1
    assert (cov["offices_measured"], cov["offices_in_network"]) == (2, 2)
    assert cov["offices_partial"] == 1
    # 13 objective indicators in ИКЦ-2023, one checklist filled in office 1
    assert (cov["checklists_filled"], cov["checklists_expected"]) == (1, 26)
    office = report.office(kya["second"]).coverage
    assert office["responses"] == 10 and office["excluded"] == {"speeding": 1}
    assert office["verified"] == 0 and office["checklists_filled"] == 0
    assert report.office(kya["first"]).coverage["verified"] == 1
    assert coverage_warnings(cov) == ["partial"]
    # stored: a response restored later does not move the published coverage
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(Response).values(counted=True))
        db.commit()
    again, _ = _report(app, kya["campaign"])
    assert again.coverage["responses"] == 30


def test_the_main_office_alone_and_fewer_than_half_are_warned_of():
    main_only = {"offices_measured": 1, "offices_in_network": 2, "main_offices": 1,
                 "main_offices_measured": 1}
    assert coverage_warnings(main_only) == ["main_only"]
    assert coverage_warnings({**main_only, "offices_in_network": 3}) == \
        ["under_half", "main_only"]
    # no office marked main: one office of several is said as such
    assert coverage_warnings({"offices_measured": 1, "offices_in_network": 2,
                              "main_offices": 0}) == ["one_office"]
    # a branch measured with the main office: no warning; an empty region: fewer than half
    assert coverage_warnings({"offices_measured": 2, "offices_in_network": 2, "main_offices": 1,
                              "main_offices_measured": 1}) == []
    assert coverage_warnings({"offices_measured": 0, "offices_in_network": 2}) == ["under_half"]
    assert coverage_warnings({}) == []


def test_the_region_page_warns_of_its_main_office_alone(app, client, campaign, make_user,
                                                        login):
    bry = offices(app, "RU-BRY")  # BRY-01 is the main office, BRY-02 a branch
    _answers(app, bry[0], [10] * 10)
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-BRY"))
    page = text(client.get(f"/r/RU-BRY/results?campaign={campaign}"))
    assert "только на главном офисе" in page
    assert "1 из 2" in page  # offices measured


def test_a_region_with_one_office_and_an_empty_region(app, client, campaign, make_user, login):
    bry = offices(app, "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(Office).where(Office.id == bry[1]).values(active=False))
        db.commit()
    _answers(app, bry[0], [10] * 9 + [1])
    start(app, campaign)
    work(app)
    report, rows = _report(app, campaign, "RU-BRY")
    cov = report.coverage
    assert (cov["offices_measured"], cov["offices_in_network"]) == (1, 1)
    assert coverage_warnings(cov) == ["partial"]  # job seekers only, no checklist
    assert rows[0][1:3] == (1, "partial")
    # one office: the region's index is its office's, with no spread to take an interval of
    assert report.index.value == pytest.approx(rows[0][4])
    assert report.index.ci_low is None
    # RU-KYA took part and measured nothing: no office, a warning, a page that says so
    empty, rows = _report(app, campaign, "RU-KYA")
    assert [row[1:] for row in rows] == [
        (None, "unranked", ["no_job_seeker", "no_employer", "no_objective"], None)] * 2
    assert empty.index.value is None
    assert (empty.coverage["offices_measured"], empty.coverage["responses"]) == (0, 0)
    assert coverage_warnings(empty.coverage) == ["under_half"]
    login(make_user("regional_admin", "RU-KYA"))
    page = text(client.get(f"/r/RU-KYA/results?campaign={campaign}"))
    assert "на 0 из 2 офисов" in page


def test_offices_with_the_same_index_share_a_place(app, campaign):
    kya = offices(app, "RU-KYA")
    for office_id in kya:
        _answers(app, office_id, [10] * 10)
        _answers(app, office_id, [9] * 10, rtype="employer")
        checklist(app, campaign, "O-V.3", APPEARANCE, office_id=office_id, region="RU-KYA")
    start(app, campaign)
    work(app)
    _, rows = _report(app, campaign)
    assert [(rank, standing) for _id, rank, standing, _p, _v in rows] == \
        [(1, "comparable"), (1, "comparable")]


def test_the_trend_names_each_campaigns_run(app, client, campaign, make_user, login):
    with app.app_context(), tenancy.federal_scope("test"):
        earlier = save_campaign(name="2025-Q1", methodology_key="cci-2023",
                                starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 3, 31),
                                region_codes=["RU-KYA"]).id
        db.commit()
    kya = offices(app, "RU-KYA")
    _answers(app, kya[0], [10] * 6 + [1] * 4, when=EARLIER)  # 0.6: index 60
    _answers(app, kya[0], [10] * 9 + [1])  # 0.9: index 90
    first_run, _ = start(app, earlier)
    work(app)
    second_run, _ = start(app, campaign)
    work(app)
    with app.app_context():
        region = db.scalar(select(Region).where(Region.code == "RU-KYA"))
        with tenancy.region_scope(region.id, "test"):
            from cci.index.dashboards import trend
            points = trend(region.id, "cci-2023")
            office_points = trend(region.id, "cci-2023", kya[0])
            shown = [(p.campaign.name, p.run.id, round(p.value, 1),
                      round(p.perspectives["job_seeker"], 1)) for p in points]
            office_shown = [(p.run.id, round(p.value, 1)) for p in office_points]
    assert shown == [("2025-Q1", first_run, 60.0, 60.0), ("2025-Q2", second_run, 90.0, 90.0)]
    assert office_shown == [(first_run, 60.0), (second_run, 90.0)]
    login(make_user("regional_admin", "RU-KYA"))
    page = client.get(f"/r/RU-KYA/results?campaign={campaign}").get_data(as_text=True)
    assert 'id="trend-table"' in page and "data:image/svg+xml;base64," in page
    table = text(client.get(f"/r/RU-KYA/results?campaign={campaign}"))
    assert f"2025-Q1 №{first_run} 60,0" in table and f"2025-Q2 №{second_run} 90,0" in table
    office_page = text(client.get(f"/r/RU-KYA/offices/{kya[0]}?campaign={campaign}"))
    assert f"2025-Q1 №{first_run} 60,0" in office_page


def test_the_trend_reads_the_same_few_statements_however_many_campaigns(app, tenants):
    """A quarterly product: the region's trend reads its campaigns, their current runs and
    their rows in three statements, not one per campaign."""
    from cci.index.dashboards import trend

    published = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with app.app_context(), tenancy.federal_scope("test"):
        for quarter in range(12):
            starts = dt.date(2023 + quarter // 4, 3 * (quarter % 4) + 1, 1)
            held = save_campaign(name=f"Q{quarter}", methodology_key="cci-2023",
                                 starts_on=starts, ends_on=starts + dt.timedelta(days=80),
                                 region_codes=["RU-KYA"])
            db.flush()
            db.add(ComputationRun(campaign_id=held.id, methodology_key="cci-2023",
                                  status="succeeded", published_at=published))
        db.commit()
    with app.app_context():
        region = db.scalar(select(Region).where(Region.code == "RU-KYA"))
        with tenancy.region_scope(region.id, "test"), Statements(app) as seen:
            trend(region.id, "cci-2023")
    assert len(seen.sql) == 3, "\n".join(seen.sql)


def test_the_indicator_page_shows_the_answers_behind_a_figure(app, client, kya, make_user,
                                                              login):
    login(make_user("regional_admin", "RU-KYA"))
    url = f"/r/RU-KYA/results/indicators/S-II.1?campaign={kya['campaign']}"
    page = client.get(f"/r/RU-KYA/offices/{kya['first']}/indicators/S-II.1"
                      f"?campaign={kya['campaign']}")
    assert page.status_code == 200
    body = text(page)
    # office 1: job seekers 5 × «10» and 5 × «1», employers 10 × «10»
    assert "10 5 10" in body and "1 5 0" in body
    assert "Всего 10 10" in body
    assert "n=10" in body and "50 %" in body  # the job seekers' share with its n
    assert 'id="item-table-1"' in page.get_data(as_text=True)
    # the region: office 2's ten «8» with them; the excluded «9» is not counted
    region = text(client.get(url))
    assert "8 10 0" in region and "9 1" not in region and "Всего 20 10" in region
    assert client.get(f"/r/RU-KYA/results/indicators/NOPE?campaign={kya['campaign']}") \
        .status_code == 404


def test_the_region_page_lists_offices_as_rows_with_the_metric_chosen(
        app, client, kya, make_user, login):
    login(make_user("regional_admin", "RU-KYA"))
    page = text(client.get(f"/r/RU-KYA/results?campaign={kya['campaign']}"))
    assert "Частичный индекс: отдельный рейтинг" in page
    assert "не измерены работодатели" in page
    fragment = client.get(f"/r/RU-KYA/results/offices?campaign={kya['campaign']}"
                          "&metric=indicator:S-II.1", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'data-metric="indicator:S-II.1"' in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert client.get(f"/r/RU-KYA/results/offices?campaign={kya['campaign']}&metric=x") \
        .status_code == 404


def test_sixty_offices_load_a_page_at_a_time(app, client, campaign, make_user, login):
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.scalar(select(Region.id).where(Region.code == "RU-KYA"))
        db.add_all([Office(region_id=region_id, code=f"KYA-X{n:02d}", name=f"Офис {n:02d}",
                           kind="branch") for n in range(58)])
        db.commit()
    for office_id in offices(app, "RU-KYA"):
        _answers(app, office_id, [10] * 10)
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-KYA"))
    page = client.get(f"/r/RU-KYA/results?campaign={campaign}").get_data(as_text=True)
    assert page.count("data-office=") == 25 and "page=2" in page
    third = client.get(f"/r/RU-KYA/results/offices?campaign={campaign}&page=3",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert third.count("data-office=") == 10 and "page=4" not in third


def test_the_office_page_shows_its_figures_checklists_and_links_down(app, client, kya,
                                                                     make_user, login):
    login(make_user("regional_admin", "RU-KYA"))
    page = client.get(f"/r/RU-KYA/offices/{kya['first']}?campaign={kya['campaign']}")
    body = text(page)
    assert "87,5" in body
    assert "Внешний вид сотрудников" in body and "Бейдж с именем : Да" in body
    assert f"/r/RU-KYA/offices/{kya['first']}/indicators/S-II.1?campaign=" in \
        page.get_data(as_text=True).replace("&amp;", "&")
    partial = text(client.get(f"/r/RU-KYA/offices/{kya['second']}?campaign={kya['campaign']}"))
    assert "отдельный рейтинг" in partial and "нет чек-листов" in partial


# --- isolation ------------------------------------------------------------------------------


def test_another_regions_office_and_indicator_pages_are_not_there(app, client, kya, make_user,
                                                                  login):
    login(make_user("regional_admin", "RU-BRY"))
    assert client.get(f"/r/RU-BRY/offices/{kya['first']}").status_code == 404
    assert client.get(f"/r/RU-BRY/offices/{kya['first']}/indicators/S-II.1"
                      f"?campaign={kya['campaign']}").status_code == 404
    assert client.get(f"/r/RU-KYA/results?campaign={kya['campaign']}").status_code == 404


# --- the API ------------------------------------------------------------------------------


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


def _conforms(client, headers, body, schema) -> None:
    document = client.get("/api/v1/openapi.json", headers=headers).json
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{schema}",
                               "components": document["components"]})


def test_the_api_gives_coverage_trend_and_distribution_with_etags(app, client, kya, bearer):
    headers = bearer("regional_admin", "RU-KYA")
    base = f"/api/v1/campaigns/{kya['campaign']}/results/regions/RU-KYA"
    coverage = client.get(f"{base}/coverage?per_page=1", headers=headers)
    assert coverage.status_code == 200
    body = coverage.json
    assert body["coverage"]["responses"] == 30 and body["warnings"] == ["partial"]
    assert (body["total"], body["pages"]) == (2, 2)
    assert body["offices"][0]["standing"] == "comparable"
    second = client.get(f"{base}/coverage?per_page=1&page=2", headers=headers).json
    assert second["offices"][0]["partial"] == ["no_employer", "no_objective"]
    _conforms(client, headers, body, "RegionCoverage")
    etag = coverage.headers["ETag"]
    assert client.get(f"{base}/coverage?per_page=1", headers={
        **headers, "If-None-Match": etag}).status_code == 304

    office_base = f"/api/v1/campaigns/{kya['campaign']}/results/offices/{kya['first']}"
    dist = client.get(f"{office_base}/indicators/S-II.1", headers=headers)
    assert dist.json["answers"] == {"job_seeker": {"usefulness": {"10": 5, "1": 5}},
                                    "employer": {"usefulness": {"10": 10}}}
    assert dist.json["figures"]["by_type"]["job_seeker"]["value"] == pytest.approx(0.5)
    assert dist.json["figures"]["by_type"]["job_seeker"]["n_valid"] == 10
    _conforms(client, headers, dist.json, "IndicatorDistribution")
    assert dist.headers.get("ETag")

    trend = client.get("/api/v1/regions/RU-KYA/trend", headers=headers)
    assert [p["value"] for p in trend.json["items"]] == [pytest.approx(93.75)]
    assert trend.json["items"][0]["run"] > 0 and trend.json["methodology"] == "cci-2023"
    _conforms(client, headers, trend.json, "Trend")
    office = client.get(f"/api/v1/offices/{kya['second']}/trend", headers=headers)
    assert [p["value"] for p in office.json["items"]] == [pytest.approx(100.0)]
    for bad in ("per_page=0", "page=0"):
        assert client.get(f"{base}/coverage?{bad}", headers=headers).status_code == 422


def test_a_regional_token_cannot_read_another_regions_dashboards(app, client, kya, bearer):
    headers = bearer("regional_admin", "RU-BRY")
    base = f"/api/v1/campaigns/{kya['campaign']}/results/regions/RU-KYA"
    assert client.get(f"{base}/coverage", headers=headers).status_code == 404
    assert client.get(f"{base}/indicators/S-II.1", headers=headers).status_code == 404
    assert client.get("/api/v1/regions/RU-KYA/trend", headers=headers).status_code == 404
    # nor an office of another region
    office = f"/api/v1/campaigns/{kya['campaign']}/results/offices/{kya['first']}"
    assert client.get(f"{office}/indicators/S-II.1", headers=headers).status_code == 404
    assert client.get(f"/api/v1/offices/{kya['first']}/trend", headers=headers).status_code \
        == 404
    federal = bearer("federal_analyst")
    assert client.get(f"{base}/coverage", headers=federal).status_code == 200


# --- exports ------------------------------------------------------------------------------


def _book(response):
    import io

    import openpyxl

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def test_the_offices_table_exports_every_office_with_its_standing(app, client, kya, make_user,
                                                                  login):
    login(make_user("regional_admin", "RU-KYA"))
    book = _book(client.get(f"/r/RU-KYA/results/offices.xlsx?campaign={kya['campaign']}"
                            "&metric=indicator:S-II.1"))
    sheet = book.worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:6] == ("Место", "Рейтинг", "Почему частичный", "Код", "Офис", "Индекс")
    first, second = rows
    assert first[0] == 1 and first[1] == "Измерены полностью: общий рейтинг"
    assert first[5] == pytest.approx(87.5)
    # S-II.1 pooled: the mean of 0.5 and 1.0, on 20 answers; per type 0.5 and 1.0
    chosen = header.index("S-II.1 Полезность обращения в ЦЗН")
    assert first[chosen] == pytest.approx(0.75) and first[chosen + 1] == 20
    assert first[chosen + 4] == pytest.approx(0.5) and first[chosen + 5] == pytest.approx(1.0)
    assert second[1] == "Частичный индекс: отдельный рейтинг"
    assert second[2] == "не измерены работодатели; нет чек-листов: нет объективной части"
    assert second[header.index("Исключено правилами качества")] == 1
    assert first[header.index("Подтверждено кодом визита")] == 1
    assert any(str(row[0]) == "Расчёт" for row in book.worksheets[1].iter_rows(values_only=True))
    csv = client.get(f"/r/RU-KYA/results/offices.csv?campaign={kya['campaign']}")
    assert csv.status_code == 200 and "87,5" in csv.get_data(as_text=True)


def test_the_trend_and_the_answers_export(app, client, kya, make_user, login):
    login(make_user("regional_admin", "RU-KYA"))
    trend = _book(client.get(f"/r/RU-KYA/results/trend.xlsx?campaign={kya['campaign']}"))
    _header, row = list(trend.worksheets[0].iter_rows(values_only=True))
    assert row[0] == "2025-Q2" and row[3] == pytest.approx(93.75)
    office = _book(client.get(f"/r/RU-KYA/offices/{kya['second']}/trend.xlsx"
                              f"?campaign={kya['campaign']}"))
    assert list(office.worksheets[0].iter_rows(values_only=True))[1][3] == pytest.approx(100.0)
    answers = _book(client.get(f"/r/RU-KYA/offices/{kya['first']}/indicators/S-II.1/"
                               f"answers.xlsx?campaign={kya['campaign']}"))
    lines = {row[1]: row[2:] for row in answers.worksheets[0].iter_rows(min_row=2,
                                                                         values_only=True)}
    assert lines["10"] == (5, 10) and lines["1"] == (5, 0) and lines["5"] == (0, 0)
    # another region's office: nothing to export
    login(make_user("regional_admin", "RU-BRY"))
    assert client.get(f"/r/RU-BRY/offices/{kya['first']}/indicators/S-II.1/answers.csv"
                      f"?campaign={kya['campaign']}").status_code == 404
    assert client.get(f"/r/RU-BRY/offices/{kya['first']}/trend.csv").status_code == 404


def test_a_run_from_before_coverage_was_stored_says_so_and_computes_nothing(
        app, client, campaign, make_user, login):
    """A published run whose rows hold no standing, coverage or answers: the page ranks its
    offices together as they were, and says what the run did not record."""
    from cci.foundation.db import utcnow
    from cci.foundation.models import RunResult

    bry = offices(app, "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.scalar(select(Region.id).where(Region.code == "RU-BRY"))
        run = ComputationRun(campaign_id=campaign, methodology_key="cci-2023",
                             status="succeeded", finished_at=utcnow(), published_at=utcnow())
        db.add(run)
        db.flush()
        for office_id, value in zip(bry, (70.0, 80.0), strict=True):
            db.add(RunResult(run_id=run.id, region_id=region_id, level="office",
                             office_id=office_id, metric="index", value=value,
                             detail={"ranked": True}))
        db.add(RunResult(run_id=run.id, region_id=region_id, level="region", metric="index",
                         value=75.0, detail={"offices": 2}))
        db.add(RunResult(run_id=run.id, region_id=region_id, level="region",
                         metric="indicator:S-II.1", respondent_type="job_seeker", value=0.5,
                         n_valid=10, detail={}))
        db.commit()
    _, rows = _report(app, campaign, "RU-BRY")
    assert [(rank, standing) for _id, rank, standing, _p, _v in rows] == \
        [(1, "comparable"), (2, "comparable")]
    login(make_user("regional_admin", "RU-BRY"))
    page = text(client.get(f"/r/RU-BRY/results?campaign={campaign}"))
    assert "до того, как охват стал сохраняться" in page
    answers = text(client.get(f"/r/RU-BRY/results/indicators/S-II.1?campaign={campaign}"))
    assert "до того, как распределение ответов стало сохраняться" in answers
    # the printed report reads the same record: it says so too, and counts nothing itself
    report = text(client.get(f"/r/RU-BRY/report?campaign={campaign}"))
    assert "до того, как охват стал сохраняться" in report
    assert "Офисов измерено 2 из 2" in report


def test_the_region_results_api_says_which_ranking_an_office_is_in(app, client, kya, bearer):
    headers = bearer("federal_analyst")
    body = client.get(f"/api/v1/campaigns/{kya['campaign']}/results/regions/RU-KYA",
                      headers=headers).json
    offices_ = {o["office_id"]: o for o in body["offices"]}
    assert (offices_[kya["first"]]["rank"], offices_[kya["first"]]["standing"]) == \
        (1, "comparable")
    assert (offices_[kya["second"]]["rank"], offices_[kya["second"]]["standing"],
            offices_[kya["second"]]["partial"]) == (1, "partial", ["no_employer", "no_objective"])
    _conforms(client, headers, body, "RegionResult")
