"""The federal overview's further parts, against hand-computed values: the federation's own
figures on the page, the charts beside their tables, two methodology versions side by side,
respondents against auditors per office, and the federal API (a regional token tries to cross
into another region)."""

from __future__ import annotations

import datetime as dt
import io

import jsonschema
import openpyxl
import pytest
from sqlalchemy import select

from cci.collection.comment_themes import classify_pending
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import RunResult
from cci.index import reports
from engine_helpers import answer
from engine_helpers import offices

from test_federal_overview import _federal_job
from test_federal_overview import _ids
from test_federal_overview import _region_row
from test_federal_overview import bearer  # noqa: F401 (a fixture)
from test_federal_overview import earlier_run  # noqa: F401 (a fixture)
from test_federal_overview import four  # noqa: F401 (a fixture)
from test_federal_overview import hand_run  # noqa: F401 (a fixture)
from test_federal_overview import text

CODES = ["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"]


def _conforms(client, headers, body, schema) -> None:
    document = client.get("/api/v1/openapi.json", headers=headers).json
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{schema}",
                               "components": document["components"]})


# --- the federation's own figures on the overview -------------------------------------------


def test_the_overview_shows_the_federations_figures_per_type_and_pooled(
        app, client, hand_run, four, make_user, login):
    _federal_job(app, hand_run)
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/?campaign={four}")
    html = response.get_data(as_text=True)
    section = text(response).split("Показатели федерации", 1)[1].split("Звёзды и сети", 1)[0]
    # S-II.1 of job seekers: the mean of BRY's 0.6 and KYA's 0.9 (LIP's is insufficient), n
    # summed 10 + 25, the interval of that mean (56–88 %, test_federal_overview)
    row = section.split("S-II.1.", 1)[1].split("S-", 1)[0]
    assert "75 % n=35 · 56–88 %" in row
    # group II: the mean of 0.5 and 0.7 (ORE has none)
    assert "II. Полезность обращения" in section and "60 %" in section
    # the index, pooled: 70 with the spread of 80, 80 and 50
    assert "Индекс" in section and "70,0" in section
    # no employer measured S-I.1 anywhere: not computable, with the answers that fell short
    assert 'id="federation-3"' in html


def test_the_federation_section_reads_stored_rows_only(app, hand_run):
    _federal_job(app, hand_run)
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.get(ComputationRun, hand_run)
        figures = reports.federation_figures(run)
        lines = reports.federation_lines(
            app.extensions["cci.registry"].indicator_set("cci-2023"), figures)
    s_ii = next(line for line in lines["indicators"] if line.code == "S-II.1")
    assert s_ii.cells["job_seeker"].value == pytest.approx(0.75)
    assert s_ii.cells["job_seeker"].n_positive == 28
    assert s_ii.cells["employer"] is None and s_ii.pooled is None
    assert [line.code for line in lines["groups"]] == ["II"]
    assert [line.metric for line in lines["summary"]] == ["index"]


# --- charts with their tables ----------------------------------------------------------------


def test_every_chart_sits_beside_its_table(app, client, hand_run, earlier_run, four,
                                           make_user, login):
    _federal_job(app, hand_run)
    login(make_user("federal_analyst"))
    html = client.get(f"/federal/?campaign={four}").get_data(as_text=True)
    for table in ("stars-table", "networks-table", "movement-table"):
        assert f'href="#{table}"' in html and f'id="{table}"' in html
    assert html.count('src="data:image/svg+xml;base64,') == 3
    # the text alternatives say what the charts draw
    assert "Регионы по звёздам. 5 звёзд: 0; 4 звезды: 2" in html
    assert "централизованные сети: 65,0; децентрализованные сети: 80,0" in html
    movement = html.split('id="movement-table"', 1)[1].split("</table>", 1)[0]
    # rises first (BRY +10, LIP +5), then falls (KYA −10); ORE has no index now
    names = [r.split("</th>", 1)[0].strip() for r in movement.split('<th scope="row">')[1:]]
    assert names == [_name(app, "RU-BRY"), _name(app, "RU-LIP"), _name(app, "RU-KYA")]


def _name(app, code):
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.models import Region

        return db.scalar(select(Region.name).where(Region.code == code))


# --- two methodology versions side by side ------------------------------------------------


@pytest.fixture
def two_versions(app, four):
    """The same campaign under both versions, region rows by hand.
    ИКЦ-2022: BRY 70 (60–80), KYA 60 (55–65), LIP 50 (one office), ORE none;
    ИКЦ-2023: BRY 80 (75–85), KYA 90 (88–92), LIP 50, ORE none.
    S-III.2 pooled: 0.6 and 0.8 under 2022, 0.9 and 0.7 under 2023."""
    run_ids = {}
    for key, values, info in (
            ("cci-2022", {"RU-BRY": (70.0, 60.0, 80.0), "RU-KYA": (60.0, 55.0, 65.0),
                          "RU-LIP": (50.0, None, None)}, (0.6, 0.8)),
            ("cci-2023", {"RU-BRY": (80.0, 75.0, 85.0), "RU-KYA": (90.0, 88.0, 92.0),
                          "RU-LIP": (50.0, None, None)}, (0.9, 0.7))):
        with app.app_context(), tenancy.federal_scope("test"):
            ids = _ids(CODES)
            run = ComputationRun(campaign_id=four, methodology_key=key, status="running",
                                 input_fingerprint=f"f-{key}", regions_total=4)
            db.add(run)
            db.flush()
            for code, (value, low, high) in values.items():
                db.add(_region_row(run.id, ids[code], "index", value, ci_low=low, ci_high=high,
                                   n_valid=10))
            db.add(_region_row(run.id, ids["RU-ORE"], "index", None, n_valid=0))
            for code, share in zip(("RU-BRY", "RU-KYA"), info, strict=True):
                db.add(_region_row(run.id, ids[code], "indicator:S-III.2", share, n_valid=10))
            db.commit()
            run_ids[key] = run.id
        _federal_job(app, run_ids[key])
    return run_ids


def test_the_compare_page_gives_both_indices_ranks_and_the_change(
        app, client, four, two_versions, make_user, login):
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/compare?campaign={four}&a=cci-2022&b=cci-2023")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    body = html.split('id="compare-regions"', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    rows = [" ".join(text_of(r).split()) for r in body.split("</tr>") if "<td" in r]
    names = {code: _name(app, code) for code in CODES}
    # 2022: BRY and KYA overlap (60–80, 55–65): 1–2; LIP 3. 2023: KYA's 88–92 is surely above
    # BRY's 75–85: KYA 1, BRY 2. BRY loses a place by its best one, KYA keeps 1.
    assert rows[0].startswith(names["RU-BRY"]) and "70,0" in rows[0] and "80,0" in rows[0]
    assert rows[0].endswith("70,0 1–2 80,0 2 +10,0 −1")
    assert rows[1].startswith(names["RU-KYA"]) and rows[1].endswith("1 +30,0 0")
    assert rows[2].startswith(names["RU-LIP"]) and rows[2].endswith("3 0,0 0")
    assert rows[3].startswith(names["RU-ORE"]) and rows[3].endswith("— — —")
    indicators = html.split('id="compare-indicators"', 1)[1]
    s_iii_2 = indicators.split("S-III.2.", 1)[1].split("</tr>", 1)[0].replace("\u202f", " ")
    # under 2022 a component of the single information indicator, counted on its own in 2023;
    # the positive answer starts at 8, not 9; federation: (0.6 + 0.8) / 2 → (0.9 + 0.7) / 2
    assert "Входит в индекс: было нет, стало да." in s_iii_2
    assert "Порог положительного ответа: было 9–10, стало 8–10." in s_iii_2
    assert "70 %" in s_iii_2 and "80 %" in s_iii_2 and "+10,0 п. п." in s_iii_2
    # which of the pilot's changes explains it: those ИКЦ-2023 declares naming S-III.2
    assert "Изменение 05: Показатель «Доступность и понятность информации» разделён на 4 " \
        "отдельных показателя" in s_iii_2
    assert "Изменение 04" not in s_iii_2 and "Изменение 03" not in s_iii_2
    removed = indicators.split("O-III.5.", 1)[1].split("</tr>", 1)[0]
    assert "Удалён во второй версии." in removed
    assert "Изменение 04: Удалён показатель «Наличие регионального сайта СЗН»" in removed
    o_v_2 = indicators.split("O-V.2.", 1)[1].split("</tr>", 1)[0]
    assert "Баллы за «Парковка для клиентов»: было 0,2, стало 0,125." in o_v_2
    assert "city_signs" not in o_v_2
    assert "Изменение 09: Расширен чек-лист «Транспортная доступность»" in o_v_2
    s_ii_1 = indicators.split("S-II.1.", 1)[1].split("</tr>", 1)[0]
    assert "Изменение" not in s_ii_1  # no declared change names it
    # changes that name no indicator are said once, under the table
    general = text_of(indicators.split("</table>", 1)[1].split('class="actions"')[0])
    assert "Изменение 03: Изменена верхняя граница при подсчёте субъективных данных" in general
    assert "Изменение 02" in general and "Изменение 10" in general
    assert "Изменение 05" not in general
    assert "Положительный ответ" not in o_v_2  # an objective indicator


def text_of(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", " ", html)


def test_the_comparison_exports_hold_the_numbers(app, client, four, two_versions, make_user,
                                                 login):
    login(make_user("federal_analyst"))
    response = client.get(f"/federal/compare.xlsx?campaign={four}&a=cci-2022&b=cci-2023")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    regions = [[c.value for c in row] for row in book["Регионы"].iter_rows(min_row=2)]
    assert regions[0][0] == "RU-BRY" and regions[0][2:] == [70.0, "1–2", 80.0, "2", 10.0, -1]
    indicators = {row[0]: row for row in book["Показатели"].iter_rows(min_row=2, values_only=True)}
    assert indicators["S-III.2"][3].startswith("Изменение 05: Показатель «Доступность")
    assert indicators["O-III.2"][3].startswith("Изменение 01: ")
    o_iii_2 = indicators["O-III.2"][3]
    assert "; Изменение 04: " in o_iii_2 and "; Изменение 05: " in o_iii_2
    assert indicators["S-II.1"][3] is None  # nothing declared
    assert indicators["S-III.2"][4:6] == (pytest.approx(0.7), pytest.approx(0.8))
    assert "Происхождение" in book.sheetnames
    response = client.get(f"/federal/compare.csv?campaign={four}&a=cci-2022&b=cci-2023")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    body = response.get_data(as_text=True)
    assert "\nRU-KYA;" in body and ";60,0;1–2;90,0;1;30,0;0" in body
    assert "Чем объясняется (изменение методики)" in body
    assert ";Изменение 09: Расширен чек-лист «Транспортная доступность»;" in body


def test_a_region_compares_region_indices_only(app, client, four, two_versions, make_user,
                                               login):
    login(make_user("regional_admin", "RU-LIP"))
    response = client.get(f"/r/RU-LIP/federal/compare?campaign={four}&a=cci-2022&b=cci-2023")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="compare-regions"' in html and 'id="compare-indicators"' not in html
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/r/RU-LIP/federal/compare.xlsx?campaign={four}&a=cci-2022&b=cci-2023").data))
    assert "Показатели" not in book.sheetnames
    assert client.get(f"/r/RU-BRY/federal/compare?campaign={four}").status_code == 404
    assert client.get(f"/federal/compare?campaign={four}").status_code == 404


def test_the_compare_page_says_when_a_version_has_no_results(app, client, hand_run, four,
                                                             make_user, login):
    _federal_job(app, hand_run)
    login(make_user("federal_analyst"))
    page = text(client.get(f"/federal/compare?campaign={four}"))
    assert "нужны опубликованные результаты по обеим версиям" in page
    assert client.get(f"/federal/compare?campaign={four}&a=cci-1999").status_code == 404
    assert client.get(f"/federal/compare.csv?campaign={four}").status_code == 404


# --- respondents against auditors -------------------------------------------------------------


@pytest.fixture
def pairs_run(app, campaign):
    """A published cci-2023 run with office rows by hand.
    BRY office 1: S-III.2 0.9 (n 20) / O-III.2 0.4 → 50 points, respondents higher;
                  S-V.1 0.7 / O-V.1 0.4 → 30 points exactly (0.7 − 0.4 is 0.2999… in floats);
    BRY office 2: S-III.2 0.2 / O-III.2 0.45 → 25 points, agree;
                  S-V.3 0.1 / O-V.3 0.9 → 80 points, auditors higher;
                  S-III.3 of employers only 0.0 / O-III.3 1.0 → no pooled side, not compared;
                  S-I.3 insufficient / O-I.1 1.0 → not compared;
    KYA office 1: S-V.2 1.0 / O-V.2 0.0 → disagrees (another region's)."""
    bry, kya = offices(app, "RU-BRY"), offices(app, "RU-KYA")
    with app.app_context(), tenancy.federal_scope("test"):
        ids = _ids(["RU-BRY", "RU-KYA"])
        now = dt.datetime.now(dt.UTC)
        run = ComputationRun(campaign_id=campaign, methodology_key="cci-2023",
                             status="succeeded", regions_total=2, finished_at=now,
                             published_at=now)
        db.add(run)
        db.flush()

        def office(region, office_id, metric, value, rtype=None, **kw):
            db.add(RunResult(run_id=run.id, region_id=ids[region], level="office",
                             office_id=office_id, metric=f"indicator:{metric}",
                             respondent_type=rtype, value=value, detail={}, **kw))

        office("RU-BRY", bry[0], "S-III.2", 0.9, n_valid=20)
        office("RU-BRY", bry[0], "O-III.2", 0.4)
        office("RU-BRY", bry[0], "S-V.1", 0.7, n_valid=12)
        office("RU-BRY", bry[0], "O-V.1", 0.4)
        office("RU-BRY", bry[1], "S-III.2", 0.2, n_valid=5)
        office("RU-BRY", bry[1], "O-III.2", 0.45)
        office("RU-BRY", bry[1], "S-V.3", 0.1, n_valid=10)
        office("RU-BRY", bry[1], "O-V.3", 0.9)
        office("RU-BRY", bry[1], "S-III.3", 0.0, "employer", n_valid=3)
        office("RU-BRY", bry[1], "O-III.3", 1.0)
        office("RU-BRY", bry[1], "S-I.3", None, n_valid=0, insufficient=True)
        office("RU-BRY", bry[1], "O-I.1", 1.0)
        office("RU-KYA", kya[0], "S-V.2", 1.0, n_valid=9)
        office("RU-KYA", kya[0], "O-V.2", 0.0)
        db.commit()
        return run.id, bry, kya


def test_disagreements_are_flagged_per_office_by_the_rule(app, pairs_run):
    run_id, bry, _kya = pairs_run
    with app.app_context(), tenancy.region_scope(_ids(["RU-BRY"])["RU-BRY"], "test"):
        run = db.get(ComputationRun, run_id)
        region_id = _ids(["RU-BRY"])["RU-BRY"]
        found = reports.disagreements(run, region_id)
        compared = reports.pairs_compared(run, region_id)
    assert [(d.office_id, d.subjective, d.objective) for d in found] == [
        (bry[0], "S-III.2", "O-III.2"), (bry[0], "S-V.1", "O-V.1"), (bry[1], "S-V.3", "O-V.3")]
    assert found[0].gap == pytest.approx(0.5) and found[0].respondents_higher
    assert found[0].subjective_n == 20
    assert found[2].gap == pytest.approx(-0.8) and not found[2].respondents_higher
    assert compared == 4  # office 1: two pairs; office 2: S-III.2 and S-V.3
    # a wider gap: only the 50 and 80 point ones
    with app.app_context(), tenancy.region_scope(region_id, "test"):
        wide = reports.disagreements(db.get(ComputationRun, run_id), region_id, gap=0.5)
    assert [d.subjective for d in wide] == ["S-III.2", "S-V.3"]


def test_the_agreement_page_lists_the_regions_own_offices(app, client, pairs_run, campaign,
                                                          make_user, login):
    _run_id, bry, kya = pairs_run
    with app.app_context(), tenancy.federal_scope("test"):
        names = {o.id: o.name for o in db.scalars(select(Office))}
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/agreement?campaign={campaign}")
    assert response.status_code == 200
    page = text(response)
    assert "не меньше чем на 30 процентных пунктов" in page  # the rule, on the page
    assert "4 пары сравнены в офисах · 2 офиса с расхождением" in page
    table = text_of(response.get_data(as_text=True).split('id="disagreements"', 1)[1])
    table = " ".join(table.split())
    assert (f"{names[bry[0]]} S-III.2 / O-III.2. Доступность и понятность информации на сайте "
            "СЗН 90 % n=20 40 % +50 п. п. респонденты") in table
    assert "S-V.3 / O-V.3. Внешний вид сотрудников 10 % n=10 90 % −80 п. п. аудиторы" in table
    assert names[kya[0]] not in page
    assert client.get(f"/r/RU-KYA/agreement?campaign={campaign}").status_code == 404



def test_the_office_page_shows_its_own_disagreements_and_comments(
        app, client, pairs_run, campaign, make_user, login):
    """BRY's office 1 disagrees on S-III.2 (+50) and S-V.1 (+30, exactly the rule); office 2
    on S-V.3 only (S-III.2 there is 25 points apart: agrees). Office 1's comments: 2 of its 3
    job seekers commented (66,7 %): one thanks the office and finds it stuffy, one wants the
    curator in person; KYA's comment is not BRY's."""
    _run_id, bry, kya = pairs_run
    answer(app, bry[0], {"usefulness": 10}, comment="Спасибо! Но душно, нужен кулер")
    answer(app, bry[0], {"usefulness": 10}, comment="Хочу больше очно общаться с куратором")
    answer(app, bry[0], {"usefulness": 10})
    answer(app, kya[0], {"usefulness": 10}, comment="Спасибо, Красноярск")
    with app.app_context(), tenancy.federal_scope("test"):
        classify_pending(_ids(["RU-BRY"])["RU-BRY"], campaign)
        db.commit()
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/offices/{bry[0]}?campaign={campaign}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = " ".join(text(response).replace("\u202f", " ").split())
    assert "не меньше чем на 30 процентных пунктов" in page  # the rule
    table = " ".join(text_of(html.split('id="office-disagreements"', 1)[1]
                             .split("</table>")[0]).split())
    assert "Расходятся 2 пары из сравнённых (сравнено: 2)" in table
    assert ("S-III.2 / O-III.2. Доступность и понятность информации на сайте СЗН 90 % n=20 "
            "40 % +50 п. п. респонденты") in table
    assert "S-V.1 / O-V.1." in table and "+30 п. п." in table and "S-V.3" not in table
    assert f'href="/r/RU-BRY/agreement?campaign={campaign}' in html
    # the comments: the share of respondents who commented and the themes, counted
    assert "В этом офисе комментарий оставили 66,7 % респондентов (2 из 3)." in page
    themes = " ".join(text_of(html.split('id="office-comment-themes"', 1)[1]
                              .split("</table>")[0]).split()).replace("\u202f", " ")
    assert "Благодарность ЦЗН и сотрудникам 1 50 %" in themes
    assert "Комфорт в офисе ЦЗН (вода, кондиционер) 1 50 %" in themes
    assert "Больше личного общения с куратором 1 50 %" in themes
    assert "Прочее 0 0 %" in themes
    assert f'href="/r/RU-BRY/comments?campaign={campaign}&amp;office={bry[0]}#list"' in html
    # office 2: its one disagreement, the other office's not; no comments there
    other = client.get(f"/r/RU-BRY/offices/{bry[1]}?campaign={campaign}").get_data(as_text=True)
    other_table = other.split('id="office-disagreements"', 1)[1].split("</table>")[0]
    assert "S-V.3 / O-V.3." in other_table and "S-III.2" not in other_table
    assert "Расходится 1 пара из сравнённых (сравнено: 2)" in " ".join(
        text_of(other_table).split())
    assert "office-comment-themes" not in other
    # an operator may not read the comments: neither their counts nor the link
    client.post("/logout")
    login(make_user("operator", "RU-BRY"))
    operator = client.get(f"/r/RU-BRY/offices/{bry[0]}?campaign={campaign}")
    assert "office-comment-themes" not in operator.get_data(as_text=True)
    assert "/comments?" not in operator.get_data(as_text=True)
    assert client.get(f"/r/RU-BRY/offices/{kya[0]}?campaign={campaign}").status_code == 404

# --- the federal API -------------------------------------------------------------------------


def test_the_api_gives_the_federations_figures_paginated_with_an_etag(
        app, client, hand_run, four, bearer):
    _federal_job(app, hand_run)
    headers = bearer("federal_analyst")
    url = f"/api/v1/campaigns/{four}/federation"
    first = client.get(f"{url}?per_page=3", headers=headers)
    assert first.status_code == 200
    body = first.json
    # index, S-II.1 of job seekers, S-I.1 of employers, group II
    assert body["total"] == 4 and body["pages"] == 2
    every = client.get(url, headers=headers).json["items"]
    share = next(f for f in every if f["metric"] == "indicator:S-II.1"
                 and f["respondent_type"] == "job_seeker")
    assert share["value"] == pytest.approx(0.75) and (share["n_valid"], share["n_positive"]) \
        == (35, 28)
    assert share["n_effective"] == pytest.approx(26.6)
    _conforms(client, headers, body, "FederationFigures")
    again = client.get(f"{url}?per_page=3", headers={**headers,
                                                     "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    # the federal averages are the benchmark of a region too
    regional = client.get(url, headers=bearer("auditor", "RU-LIP"))
    assert regional.status_code == 200 and len(regional.json["items"]) == 4
    assert client.get(f"{url}?page=0", headers=headers).status_code == 422


def test_the_api_compares_two_versions(app, client, four, two_versions, bearer):
    headers = bearer("federal_analyst")
    url = f"/api/v1/campaigns/{four}/comparison"
    body = client.get(f"{url}?a=cci-2022&b=cci-2023&per_page=2", headers=headers).json
    assert (body["total"], body["pages"]) == (4, 2)
    bry = body["regions"][0]
    assert bry["region"] == "RU-BRY" and bry["rank_a"] == {"best": 1, "worst": 2}
    assert bry["rank_b"] == {"best": 2, "worst": 2} and bry["places_gained"] == -1
    assert bry["difference"] == pytest.approx(10.0)
    s_iii_2 = next(i for i in body["indicators"] if i["code"] == "S-III.2")
    assert s_iii_2["status"] == "changed"
    assert "Входит в индекс: было нет, стало да." in s_iii_2["differs"]
    assert s_iii_2["changes"] == [{"number": 5, "summary": "Показатель «Доступность и "
                                   "понятность информации» разделён на 4 отдельных показателя"}]
    assert [c["number"] for c in next(i for i in body["indicators"]
                                      if i["code"] == "O-III.2")["changes"]] == [1, 4, 5]
    assert s_iii_2["difference"] == pytest.approx(0.1)
    assert next(i for i in body["indicators"] if i["code"] == "O-III.5")["status"] == "removed"
    _conforms(client, headers, body, "VersionComparison")
    regional = client.get(f"{url}?a=cci-2022&b=cci-2023", headers=bearer("regional_admin",
                                                                         "RU-ORE")).json
    assert len(regional["regions"]) == 4 and regional["indicators"] == []
    for bad in ("a=cci-2022&b=cci-2022", "a=cci-1999&b=cci-2023", "a=cci-2022"):
        assert client.get(f"{url}?{bad}", headers=headers).status_code == 422, bad


def test_the_api_lists_disagreements_and_a_region_cannot_cross(app, client, pairs_run,
                                                               campaign, bearer):
    _run_id, bry, kya = pairs_run
    federal = bearer("federal_analyst")
    url = f"/api/v1/campaigns/{campaign}/disagreements"
    body = client.get(url, headers=federal).json
    assert [(d["region"], d["office_id"], d["subjective"]) for d in body["items"]] == [
        ("RU-BRY", bry[0], "S-III.2"), ("RU-BRY", bry[0], "S-V.1"), ("RU-BRY", bry[1], "S-V.3"),
        ("RU-KYA", kya[0], "S-V.2")]  # by office code (BRY-… before KYA-…)
    assert body["rule"]["gap"] == 0.3 and body["total"] == 4
    _conforms(client, federal, body, "Disagreements")
    only_kya = client.get(f"{url}?region=RU-KYA", headers=federal).json
    assert [d["office_id"] for d in only_kya["items"]] == [kya[0]]
    regional = bearer("auditor", "RU-BRY")
    own = client.get(url, headers=regional).json
    assert {d["region"] for d in own["items"]} == {"RU-BRY"} and own["total"] == 3
    # crossing: another region's offices are not there for it
    assert client.get(f"{url}?region=RU-KYA", headers=regional).status_code == 404
    assert kya[0] not in [d["office_id"] for d in own["items"]]
    assert client.get(f"/api/v1/campaigns/{campaign}/results/offices/{kya[0]}",
                      headers=regional).status_code == 404
