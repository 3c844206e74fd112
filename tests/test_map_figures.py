"""A journey map's figures on hand-computed data: each metric cell's value, n, status against
the region's target (in words and numbers), trend arrow and «insufficient data»; the stage ×
touchpoint heat map across a region's offices and across regions, its pages and export; the
index indicators a touchpoint feeds; the themes of touchpoint comments and complaints; and
that another region reaches none of it."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.collection.comment_themes import classify_cx_pending
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import ComputationRun
from cci.foundation.models import CxCommentTheme
from cci.foundation.models import CxComplaint
from cci.foundation.models import JourneyMap
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.foundation.models import TouchpointAnswer
from cci.foundation.models import User
from cci.index import cx_reports
from conftest import region_id
from engine_helpers import offices
from engine_helpers import work

from cci_channel_contact.models import ContactCall
from test_cx_metrics import _token

NOV = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.UTC)
DEC = dt.datetime(2025, 12, 3, 9, 0, tzinfo=dt.UTC)
PERIOD = {"period_start": "2025-11-01", "period_last": "2025-12-31"}


def _calls(region, office, operator, when, total, resolved, escalated):
    for i in range(total):
        db.add(ContactCall(region_id=region, office_id=office, operator_id=operator,
                           started_at=when, ended_at=when + dt.timedelta(minutes=3),
                           resolved_first_contact=i < resolved, escalated=i < escalated))


def _answer(region, office, when, comment, counted=True, touchpoint="contact_centre"):
    db.add(TouchpointAnswer(region_id=region, office_id=office, touchpoint=touchpoint,
                            question="csat", value=5, channel="web", comment=comment,
                            counted=counted, submitted_at=when))


def _seed(app, code="RU-BRY"):
    """The contact centre of the region's first two offices, counted by hand:

    - first office, FCR: November 30 of 40 (75 %), December 36 of 40 (90 %); ER: November
      4 of 40 (10 %), December 2 of 40 (5 %);
    - second office: December 5 calls, all resolved: below FCR's minimum n (30);
    - the region, FCR: November 30/40 = 75 %, December 41/45 = 91,1 %.
    Comments and complaints at the contact centre (November–December, and one in October
    outside the period, one flagged): first office — two thanks, one about the site, one
    complaint of another theme; second office — one complaint of another theme."""
    first, second = offices(app, code)[:2]
    with app.app_context(), tenancy.federal_scope("test"):
        region = db.scalar(select(Region.id).where(Region.code == code))
        operator = db.scalar(select(User.id).where(User.region_id == region).limit(1))
        _calls(region, first, operator, NOV, 40, 30, 4)
        _calls(region, first, operator, DEC, 40, 36, 2)
        _calls(region, second, operator, DEC, 5, 5, 0)
        _answer(region, first, NOV, "Спасибо, оператор всё объяснил")
        _answer(region, first, DEC, "Благодарю за помощь!")
        _answer(region, first, DEC, "Сайт постоянно зависает")
        _answer(region, first, DEC, None)
        _answer(region, first, DEC, "   ")
        _answer(region, first, dt.datetime(2025, 10, 5, tzinfo=dt.UTC), "Спасибо")  # before
        _answer(region, first, DEC, "Спасибо", counted=False)  # flagged: not counted
        db.add(CxComplaint(region_id=region, office_id=first, channel="book",
                           touchpoint="contact_centre", topic="Грубость оператора",
                           summary="Нагрубили по телефону", received_on=dt.date(2025, 12, 4)))
        db.add(CxComplaint(region_id=region, office_id=second, channel="email",
                           touchpoint="contact_centre", topic="Не дозвониться",
                           received_on=dt.date(2025, 11, 20)))
        db.commit()
    return first, second


@pytest.fixture
def world(app, tenants, client, runner, make_user, login):
    """RU-BRY's map of the region and the first office's map, the data above, targets
    FCR ≥ 80 % and ER ≤ 3 % at the contact centre, and the region's computation."""
    assert runner.invoke(args=["maps", "seed"]).exit_code == 0
    login(make_user("regional_admin", "RU-BRY"))
    first, second = _seed(app)
    with app.app_context(), tenancy.federal_scope("test"):
        template = db.scalar(select(JourneyMap.id).where(JourneyMap.key.is_not(None)))
    assert client.post("/r/RU-BRY/maps/adopt", data={"template_id": template}).status_code == 302
    assert client.post("/r/RU-BRY/maps/adopt",
                       data={"template_id": template, "office_id": first}).status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        bry = region_id(app, "RU-BRY")
        region_map = db.scalar(select(JourneyMap.id).where(JourneyMap.region_id == bry,
                                                           JourneyMap.office_id.is_(None)))
        office_map = db.scalar(select(JourneyMap.id).where(JourneyMap.office_id == first))
    for metric, target in (("FCR", "80"), ("ER", "3")):
        assert client.post("/r/RU-BRY/cx/targets", data={
            "metric": metric, "touchpoint": "contact_centre", "target": target}
        ).status_code == 302
    assert client.post("/r/RU-BRY/cx", data=PERIOD).status_code == 302
    work(app)
    return {"first": first, "second": second, "region_map": region_map,
            "office_map": office_map, "template": template}


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _metric_item(page: str, code: str) -> list[str]:
    """The figure blocks shown beside the metric ``code`` in the map's metrics row."""
    return re.findall(rf'<abbr title="[^"]*">{re.escape(code)}</abbr>\s*(<div class="map-fig.*?'
                      r'</div>)', page)


# --- the metric cells ---------------------------------------------------------------------


def test_an_office_map_shows_its_offices_figures_with_status_arrow_and_n(app, client, world):
    page = _text(client.get(f"/r/RU-BRY/maps/{world['office_map']}"))
    fcr = _metric_item(page, "FCR")
    # the contact centre is in two stages: the same figure in both
    assert len(fcr) == 2 and fcr[0] == fcr[1]
    cell = fcr[0]
    # December 36 of 40 = 90,0 %, up from November's 75 %: better; target 80: met
    assert "map-fig--green" in cell and "90,0 %" in cell and "n = 40" in cell
    assert "↑" in cell and "улучшение" in cell
    assert "цель достигнута (цель 80,0 %)" in cell
    # the definition is the title on screen and a line of its own for print
    assert 'title="Обращения, решённые при первом контакте' in cell
    assert 'class="map-fig__def">Обращения, решённые при первом контакте' in cell
    # a click opens the trend of this office's cell
    assert (f'href="/r/RU-BRY/cx/trend/FCR/contact_centre?office={world["first"]}"'
            in cell)
    er = _metric_item(page, "ER")[0]
    # ER 2 of 40 = 5,0 %, down from 10 %: lower is better, so an improvement; the target 3 %
    # lies within 5 %'s interval (Wilson 1,4–16,5 %): amber, said in words
    assert "5,0 %" in er and "↓" in er and "улучшение" in er
    assert "map-fig--amber" in er and "ниже цели в пределах погрешности (цель 3,0 %)" in er
    assert "90,0 %" not in page.split("Метрики измерения клиентского опыта")[0]
    # a metric of the map without a value in the run says so (CES of the site: no answers)
    assert re.search(r'<abbr title="[^"]*">CES</abbr>\s*<span class="map-fig__none">'
                     r'нет данных</span>', page)


def test_a_region_map_shows_the_regions_figures(app, client, world):
    page = _text(client.get(f"/r/RU-BRY/maps/{world['region_map']}"))
    cell = _metric_item(page, "FCR")[0]
    # the region in December: 36 + 5 of 40 + 5 = 41/45 = 91,1 %
    assert "91,1 %" in cell and "n = 45" in cell and "↑" in cell
    assert "цель достигнута" in cell
    assert 'href="/r/RU-BRY/cx/trend/FCR/contact_centre"' in cell
    assert "всего региона" in page


def test_below_the_minimum_n_a_cell_says_so_never_zero(app, client, world):
    with app.app_context(), tenancy.federal_scope("test"):
        template = world["template"]
    client.post("/r/RU-BRY/maps/adopt",
                data={"template_id": template, "office_id": world["second"]})
    with app.app_context(), tenancy.federal_scope("test"):
        second_map = db.scalar(select(JourneyMap.id).where(
            JourneyMap.office_id == world["second"]))
    page = _text(client.get(f"/r/RU-BRY/maps/{second_map}"))
    cell = _metric_item(page, "FCR")[0]
    assert "недостаточно данных (n = 5)" in cell
    assert "100,0 %" not in cell and "0,0 %" not in cell and "map-fig--" not in \
        cell.split('"', 2)[1].replace("map-fig", "", 1)


def test_the_trend_behind_a_cell_shows_its_months(app, client, world):
    page = _text(client.get(
        f"/r/RU-BRY/cx/trend/FCR/contact_centre?office={world['first']}"))
    assert "75,0 %" in page and "90,0 %" in page and "cx-trend-table" in page


def test_the_print_page_and_the_xlsx_carry_the_figures(app, client, world, monkeypatch):
    from cci.web import map_exports

    monkeypatch.setattr(map_exports, "pdf", lambda html: html.encode())
    printed = _text(client.get(f"/r/RU-BRY/maps/{world['office_map']}.pdf"))
    assert "90,0 %" in printed and "цель достигнута" in printed
    assert 'class="map-fig__def">Обращения, решённые при первом контакте' in printed
    book = load_workbook(io.BytesIO(client.get(
        f"/r/RU-BRY/maps/{world['office_map']}.xlsx").data))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value]
    contact = next(c for c in cells if "• FCR" in c)
    assert "• FCR: 90,0 % ↑, n = 40; цель достигнута (цель 80,0 %)" in contact
    assert "• ER: 5,0 % ↓, n = 40; ниже цели в пределах погрешности (цель 3,0 %)" in contact
    # the title in Russian words, the version's too
    assert book.active["A1"].value == "Профессиональная ориентация · версия 1 (черновик)"


# --- «контент-анализ» ---------------------------------------------------------------------


def test_themes_of_comments_and_complaints_are_counted_per_touchpoint(app, client, world):
    office = _text(client.get(f"/r/RU-BRY/maps/{world['office_map']}"))
    block = re.search(r'<div class="map-themes">.*?</div>', office).group(0)
    # the first office, November–December: two thanks, one about the site, a complaint of
    # no theme of the classifier («Прочее»); October's and the flagged answer are not counted
    assert "Благодарность ЦЗН и сотрудникам: <strong>2</strong>" in block
    assert "Дистанционное взаимодействие и портал «Работа России»: <strong>1</strong>" in block
    assert "Прочее: <strong>1</strong>" in block
    region = _text(client.get(f"/r/RU-BRY/maps/{world['region_map']}"))
    block = re.search(r'<div class="map-themes">.*?</div>', region).group(0)
    assert "Благодарность ЦЗН и сотрудникам: <strong>2</strong>" in block
    assert "Прочее: <strong>2</strong>" in block  # the second office's complaint too


def test_texts_are_classified_once(app, world):
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalar(select(func.count(CxCommentTheme.id)))
        # five answers with text (two thanks, the site, October's thanks, the flagged one)
        # and two complaints
        assert stored == 7
        assert classify_cx_pending() == 0
        assert db.scalar(select(func.count(CxCommentTheme.id))) == stored


# --- the index indicators a touchpoint feeds ----------------------------------------------


def _published_index(app, first):
    """A published run of RU-BRY: S-III.4 72 % (region, n 50), 60 % (the first office, n 20);
    O-III.4 80 % (region); O-V.1 insufficient at the first office."""
    with app.app_context(), tenancy.federal_scope("test"):
        bry = region_id(app, "RU-BRY")
        campaign = save_campaign(name="Кампания 2025", methodology_key="cci-2023",
                                 starts_on=dt.date(2025, 9, 1), ends_on=dt.date(2025, 10, 31),
                                 region_codes=["RU-BRY"])
        run = ComputationRun(campaign_id=campaign.id, methodology_key="cci-2023",
                             status="succeeded", finished_at=utcnow(), published_at=utcnow())
        db.add(run)
        db.flush()
        for level, office, metric, value, n, insufficient in (
                ("region", None, "indicator:S-III.4", 0.72, 50, False),
                ("office", first, "indicator:S-III.4", 0.60, 20, False),
                ("region", None, "indicator:O-III.4", 0.80, None, False),
                ("office", first, "indicator:O-V.1", None, 3, True)):
            db.add(RunResult(run_id=run.id, region_id=bry, level=level, office_id=office,
                             metric=metric, value=value, n_valid=n, insufficient=insufficient))
        db.commit()
        return campaign.id


def test_the_indicators_of_a_touchpoint_link_to_their_results(app, client, world):
    campaign = _published_index(app, world["first"])
    region = _text(client.get(f"/r/RU-BRY/maps/{world['region_map']}"))
    link = (f'href="/r/RU-BRY/results/indicators/S-III.4?campaign={campaign}'
            f'&amp;version=cci-2023"')
    assert link in region
    after = region.split(link, 1)[1][:400]
    assert "72,0 %" in after and "n = 50" in after
    assert "80,0 %" in region.split("O-III.4</a>", 1)[1][:200]
    office = _text(client.get(f"/r/RU-BRY/maps/{world['office_map']}"))
    link = (f'href="/r/RU-BRY/offices/{world["first"]}/indicators/S-III.4?campaign={campaign}'
            f'&amp;version=cci-2023"')
    assert link in office and "60,0 %" in office.split(link, 1)[1][:400]
    # the office (comfort, O-V.1) feeds an indicator with too few answers: said so
    assert "недостаточно данных (n = 3)" in office.split("O-V.1</a>", 1)[1][:300]
    # the links open
    assert client.get(link.split('"')[1].replace("&amp;", "&")).status_code == 200


def test_the_sets_declare_the_touchpoints_their_indicators_feed(app):
    from cci.foundation.journey_maps import TOUCHPOINTS
    from cci.index.map_figures import declared_touchpoints

    with app.app_context():
        registry = app.extensions["cci.registry"]
        for key in ("cci-2022", "cci-2023"):
            declared = declared_touchpoints(registry.indicator_set(key))
            assert {i.code for i in declared["contact_centre"]} == {"S-III.4", "O-III.4"}
            assert "O-V.1" in {i.code for i in declared["office"]}
            for indicators in declared.values():
                for indicator in indicators:
                    assert set(indicator.touchpoints) <= set(TOUCHPOINTS)


# --- the heat map -------------------------------------------------------------------------


def test_the_heat_map_across_the_offices(app, client, world):
    url = f"/r/RU-BRY/maps/{world['region_map']}/heat"
    page = _text(client.get(url + "?metric=FCR"))
    # the contact centre is in the stages «Поиск информации» and «Решение о выборе»
    assert page.count('class="map-heat__tp"') == 2
    first_row = re.search(r'<tr><th scope="row">[^<]*центральный офис</th>(.*?)</tr>',
                          page).group(1)
    assert first_row.count("90,0 %") == 2 and "n = 40" in first_row
    assert "цель достигнута (цель 80,0 %)" in first_row and "map-fig--green" in first_row
    assert f'href="/r/RU-BRY/cx/trend/FCR/contact_centre?office={world["first"]}"' in first_row
    second_row = re.search(r'<tr><th scope="row">[^<]*Клинцы</th>(.*?)</tr>', page).group(1)
    assert "недостаточно данных (n = 5)" in second_row
    # the region's row: December 41 of 45 = 91,1 %, against its target; its own trend
    total = re.search(r'<tr class="map-heat__total"><th scope="row">Регион</th>(.*?)</tr>',
                      page).group(1)
    assert total.count("91,1 %") == 2 and "n = 45" in total and "цель достигнута" in total
    assert "улучшение" in total  # the arrow in words too
    assert 'href="/r/RU-BRY/cx/trend/FCR/contact_centre"' in total
    # each stage heads its columns once
    assert page.count('scope="colgroup" colspan="1"') == 2
    # the select, by htmx: the table alone, of another metric
    part = _text(client.get(url + "?metric=ER", headers={"HX-Request": "true"}))
    assert "<html" not in part and 'id="map-heat"' in part and "5,0 %" in part
    assert client.get(url + "?metric=NOPE").status_code == 404
    assert client.get(url + "?metric=FCR&page=0").status_code == 404


def test_the_heat_map_follows_the_map(app, client, world):
    """A column shows the metric only where the map lists it at that touchpoint, although the
    CX run has the metric for the touchpoint wherever it appears; the select offers only the
    metrics the map lists."""
    from cci.foundation import journey_maps

    url = f"/r/RU-BRY/maps/{world['region_map']}/heat"
    with app.app_context(), tenancy.federal_scope("test"):
        draft = journey_maps.draft_of(db.get(JourneyMap, world["region_map"]))
        # FCR off the contact centre of «Поиск информации»; «Решение о выборе» keeps it
        tp = draft.content["stages"][0]["touchpoints"][1]
        assert tp["code"] == "contact_centre"
        journey_maps.edit(draft, "item_remove", {
            "stage": "search", "touchpoint": "contact_centre", "row": "metrics",
            "index": [m["code"] for m in tp["metrics"]].index("FCR")}, None, {})
        listed = {m["code"] for stage in draft.content["stages"]
                  for t in stage["touchpoints"] for m in t["metrics"]}
        installed = set(cx_reports.installed())
        db.commit()
    page = _text(client.get(url + "?metric=FCR"))
    assert page.count('class="map-heat__tp"') == 1
    assert '<th scope="colgroup" colspan="1">Решение о выборе</th>' in page
    assert "Поиск информации" not in page
    first_row = re.search(r'<tr><th scope="row">[^<]*центральный офис</th>(.*?)</tr>',
                          page).group(1)
    assert first_row.count("90,0 %") == 1
    assert "значение одинаково во всех этапах" in page
    options = re.findall(r'<option value="([^"]+)"', page)
    assert set(options) == listed & installed and "SL" not in options
    assert client.get(url + "?metric=SL").status_code == 404  # installed, not on the map

    # a map that lists no metric: the page says so; there is nothing to export
    with app.app_context(), tenancy.federal_scope("test"):
        draft = journey_maps.draft_of(db.get(JourneyMap, world["region_map"]))
        content = copy.deepcopy(draft.content)
        for stage in content["stages"]:
            for t in stage["touchpoints"]:
                t["metrics"] = []
        draft.content = content
        db.commit()
    page = _text(client.get(url))
    assert "Карта не называет ни одной метрики" in page and "map-heat__tp" not in page
    assert client.get(url + ".csv").status_code == 404


def test_the_heat_map_is_read_a_page_at_a_time(app, client, world, monkeypatch):
    from cci.index import map_figures

    monkeypatch.setattr(map_figures, "PER_PAGE", 1)
    url = f"/r/RU-BRY/maps/{world['region_map']}/heat?metric=FCR"
    first = _text(client.get(url))
    assert "центральный офис" in first and "Клинцы" not in first and "&amp;page=2" in first
    second = _text(client.get(url + "&page=2", headers={"HX-Request": "true"}))
    assert "Клинцы" in second and "недостаточно данных (n = 5)" in second
    assert client.get(url + "&page=99").status_code == 404
    assert client.get(url + "&page=2000000000").status_code == 404
    assert client.get(url + f"&page={10**20}").status_code == 200  # past the integer: page 1


def test_the_heat_map_exports_its_table(app, client, world):
    url = f"/r/RU-BRY/maps/{world['region_map']}/heat"
    csv = client.get(url + ".csv?metric=FCR")
    assert csv.status_code == 200
    text = csv.get_data(as_text=True)
    assert "Поиск информации · Контакт-центр" in text
    line = next(row for row in text.splitlines() if "центральный офис" in row)
    assert line.split(";")[1:4] == ["90,0", "40", "цель достигнута"]
    line = next(row for row in text.splitlines() if "Клинцы" in row)
    assert line.split(";")[1:4] == ["", "5", "недостаточно данных"]
    line = next(row for row in text.splitlines() if row.startswith("Регион;"))
    assert line.split(";")[2:4] == ["45", "цель достигнута"]
    assert line.split(";")[1].startswith("91,1")
    # charset once; the headers in Russian
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    header = text.splitlines()[0].lstrip("\ufeff").split(";")
    assert header[1:4] == ["Поиск информации · Контакт-центр: Решение с первого обращения "
                           "(FCR), %", "Поиск информации · Контакт-центр: n",
                           "Поиск информации · Контакт-центр: статус"]
    book = load_workbook(io.BytesIO(client.get(url + ".xlsx?metric=FCR").data))
    values = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert any(row[1] == pytest.approx(90.0) and row[2] == 40 for row in values if row[0]
               and "центральный офис" in str(row[0]))
    # the region's 41/45 as the page shows it: one decimal, stored rounded and formatted so
    region = next(row for row in book.worksheets[0].iter_rows() if row[0].value == "Регион")
    assert region[1].value == 91.1 and region[1].number_format == "0.0"
    provenance = [[c.value for c in row] for row in book.worksheets[-1].iter_rows()]
    assert ["Карта", "Профессиональная ориентация, версия 1"] in provenance


def test_the_federal_heat_map_across_regions(app, client, world, make_user, login):
    client.post("/logout")
    login(make_user("federal_analyst"))
    assert client.post("/federal/cx", data=PERIOD).status_code == 302
    work(app)
    bry = region_id(app, "RU-BRY")
    page = _text(client.get(f"/federal/maps/{world['template']}/heat?metric=FCR"))
    row = re.search(r'<tr><th scope="row">Брянская область</th>(.*?)</tr>', page).group(1)
    # the region's own target (80 %) reads its value
    assert "91,1 %" in row and "n = 45" in row and "цель достигнута (цель 80,0 %)" in row
    # the federation's row: every region's calls (RU-BRY's alone have any)
    total = re.search(r'<tr class="map-heat__total"><th scope="row">([^<]*)</th>(.*?)</tr>',
                      page)
    assert total.group(1) == "Федерация" and "91,1 %" in total.group(2)
    href = f"/federal/cx/trend/{bry}/FCR/contact_centre"
    assert f'href="{href}"' in row
    trend = _text(client.get(href))
    assert "75,0 %" in trend and "91,1 %" in trend
    assert client.get(f"/federal/cx/trend/{bry}/FCR/nowhere").status_code == 404
    assert client.get(f"/federal/maps/{world['template']}/heat.xlsx?metric=FCR"
                      ).status_code == 200
    # a region's map seen from the federal area shows that region's figures; the template none
    seen = _text(client.get(f"/federal/maps/{world['region_map']}"))
    assert "91,1 %" in _metric_item(seen, "FCR")[0]
    assert "map-fig" not in _text(client.get(f"/federal/maps/{world['template']}"))


# --- isolation ----------------------------------------------------------------------------


def test_another_region_reaches_neither_the_figures_nor_the_heat_map(app, client, world,
                                                                     make_user, login):
    client.post("/logout")
    login(make_user("regional_admin", "RU-KYA"))
    for url in (f"/r/RU-KYA/maps/{world['region_map']}",
                f"/r/RU-KYA/maps/{world['region_map']}/heat",
                f"/r/RU-KYA/maps/{world['region_map']}/heat.csv?metric=FCR",
                f"/r/RU-BRY/maps/{world['region_map']}/heat",
                f"/r/RU-KYA/cx/trend/FCR/contact_centre?office={world['first']}",
                f"/federal/maps/{world['template']}/heat",
                f"/federal/cx/trend/{region_id(app, 'RU-BRY')}/FCR/contact_centre"):
        assert client.get(url).status_code == 404, url
    # the region's own map of the template shows none of RU-BRY's figures
    assert client.post("/r/RU-KYA/maps/adopt",
                       data={"template_id": world["template"]}).status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        kya_map = db.scalar(select(JourneyMap.id).where(
            JourneyMap.region_id == region_id(app, "RU-KYA")))
    page = _text(client.get(f"/r/RU-KYA/maps/{kya_map}"))
    assert "90,0 %" not in page and "91,1 %" not in page and "map-themes" not in page
    heat = _text(client.get(f"/r/RU-KYA/maps/{kya_map}/heat?metric=FCR"))
    assert "91,1 %" not in heat and "90,0 %" not in heat and "Брянск" not in heat


def test_texts_are_classified_a_page_at_a_time(app, tenants, make_user, monkeypatch):
    from cci.collection import comment_themes

    make_user("regional_admin", "RU-BRY")
    _seed(app)
    monkeypatch.setattr(comment_themes, "BATCH", 2)
    with app.app_context(), tenancy.federal_scope("test"):
        # five answers with text (a blank one has none) and two complaints, read two by two
        assert classify_cx_pending() == 7
        themes = db.execute(select(CxCommentTheme.source, CxCommentTheme.theme,
                                   func.count()).group_by(CxCommentTheme.source,
                                                          CxCommentTheme.theme)).all()
        assert sorted(themes) == [("answer", "gratitude", 4), ("answer", "remote_portal", 1),
                                  ("complaint", "other", 2)]
        assert classify_cx_pending() == 0


# --- the API --------------------------------------------------------------------------------


def test_the_api_serves_a_maps_figures_in_the_tokens_region(app, client, world, make_user):
    campaign = _published_index(app, world["first"])
    bry = _token(app, make_user, "operator", "RU-BRY")
    body = client.get(f"/api/v1/maps/{world['office_map']}/figures", headers=bry).get_json()
    assert body["region"] == "RU-BRY" and body["office_id"] == world["first"]
    fcr = next(c for c in body["cells"] if c["metric"] == "FCR")
    assert (fcr["value"], fcr["n"], fcr["status"], fcr["trend"], fcr["target"]) == (
        pytest.approx(90.0), 40, "green", "up", 80.0)
    assert body["index_run"]["campaign_id"] == campaign
    s34 = next(i for i in body["indicators"] if i["code"] == "S-III.4")
    assert (s34["touchpoint"], s34["value"], s34["n"]) == ("contact_centre", 0.6, 20)
    themes = {(t["touchpoint"], t["theme"]): t["count"] for t in body["themes"]}
    assert themes == {("contact_centre", "gratitude"): 2,
                      ("contact_centre", "remote_portal"): 1, ("contact_centre", "other"): 1}
    second = client.get(f"/api/v1/maps/{world['region_map']}/figures", headers=bry).get_json()
    region = [c for c in second["cells"] if c["metric"] == "FCR"]
    assert region[0]["value"] == pytest.approx(41 / 45 * 100) and region[0]["n"] == 45
    assert client.get(f"/api/v1/maps/{world['template']}/figures",
                      headers=bry).status_code == 404
    kya = _token(app, make_user, "regional_admin", "RU-KYA")
    reply = client.get(f"/api/v1/maps/{world['office_map']}/figures", headers=kya)
    assert reply.status_code == 404 and reply.is_json


def test_an_indicator_names_only_touchpoints_of_the_maps():
    from cci.methodology.contract import Indicator

    assert Indicator("S-X", "x", "I", "subjective", "X", touchpoints=("office",)).touchpoints \
        == ("office",)
    with pytest.raises(ValueError, match="'nowhere'"):
        Indicator("S-X", "x", "I", "subjective", "X", touchpoints=("nowhere",))
