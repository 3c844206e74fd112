"""Journey maps: the federal template «Профессиональная ориентация» loaded whole, a region's
adoption and adaptation of it, versions (a published one never changes), the departures a
federal analyst sees, the grid's exports, and the role and region checks of every page."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cci.foundation import journey_maps
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.index import cx_reports
from conftest import Statements
from conftest import region_id

from test_api_index import token  # noqa: F401 - fixture

STAGES = ["Поиск информации", "Решение о выборе", "Подача заявления в ЦЗН",
          "Прохождение тестирования", "Прохождение тренинга", "Получение результата",
          "Оценка работы ЦЗН"]
#: the codes the CX metrics are computed under (docs/cjm.md)
CX_CODES = {"CSAT", "NPS", "CES", "FCR", "RR", "IQS", "ER", "RpC", "CV-1", "CV-2", "AHT", "ASA",
            "AR", "SL", "RATING"}


@pytest.fixture
def seeded(app, tenants, runner):
    result = runner.invoke(args=["maps", "seed"])
    assert result.exit_code == 0, result.output
    assert "professional_orientation" in result.output
    return template_id(app)


def template_id(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(JourneyMap.id).where(JourneyMap.key == "professional_orientation"))


def _content(app, map_id: int, number: int) -> dict:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(JourneyMapVersion.content).where(
            JourneyMapVersion.map_id == map_id, JourneyMapVersion.number == number))


def _status(app, map_id: int, number: int) -> str | None:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(JourneyMapVersion.status).where(
            JourneyMapVersion.map_id == map_id, JourneyMapVersion.number == number))


def _region_map(app, code: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(JourneyMap.id).where(JourneyMap.region_id == region_id(app, code)))


def _touchpoint(content: dict, stage: str, code: str) -> dict:
    stage_row = next(s for s in content["stages"] if s["key"] == stage)
    return next(t for t in stage_row["touchpoints"] if t["code"] == code)


# --- the template ------------------------------------------------------------------------


def test_template_ships_every_stage_and_cell_of_the_source(app, seeded, runner):
    content = _content(app, seeded, 1)
    assert _status(app, seeded, 1) == "published"
    assert [s["title"] for s in content["stages"]] == STAGES
    # counted by hand from the source's slides
    assert journey_maps.counts(content) == {
        "stages": 7, "touchpoints": 18, "metrics": 64, "questions": 85, "czn_goals": 40,
        "barriers": 63, "departments": 50, "tools": 19}
    assert content["service"].startswith("Организация профессиональной ориентации граждан")
    # cells as the source has them
    assert _touchpoint(content, "search", "contact_centre")["metrics"][:5] == [
        {"code": c, "title": c} for c in ("RR", "IQS", "ER", "FCR", "RpC")]
    assert "RATING" in [m["code"] for m in
                               _touchpoint(content, "application", "office")["metrics"]]
    assert _touchpoint(content, "evaluation", "feedback")["barriers"] == [
        "Отсутствие возможности (площадок) дать полноценную обратную связь об обращении в ЦЗН.",
        "Отсутствие работы с отзывами."]
    assert _touchpoint(content, "testing", "testing")["questions"][0] == \
        "Как долго будет длиться тестирование?"
    assert content["stages"][3]["context"].startswith("Сотрудники ЦЗН предложили")
    # the stored template is the shipped file, and a second seed adds nothing
    shipped = journey_maps.read_template_file(journey_maps.template_files()[
        "professional_orientation"])
    assert content["stages"] == shipped["stages"]
    again = runner.invoke(args=["maps", "seed"])
    assert "none (already there)" in again.output
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(JourneyMap.id).where(JourneyMap.region_id.is_(None))
                         .where(JourneyMap.id != seeded)) is None


def test_template_wording_is_cleaned_of_slide_artefacts(app, seeded):
    text = json.dumps(_content(app, seeded, 1), ensure_ascii=False)
    for artefact in ("<ul", "<p>", "list-style", "•", "Ой/она", "Позоват", "перебарщивать",
                     "стенов", "  ", "Какие каналы связи наиболее эффективны"):
        assert artefact not in text, artefact


def test_codes_meet_the_cx_metrics(app, seeded):
    """The template names installed metrics and the specification's sources only; the
    editor offers every installed metric plugin's metric, with its plugin's title."""
    content = _content(app, seeded, 1)
    with app.test_request_context():
        vocabulary = cx_reports.map_metrics()
        titles = {code: str(m.title) for code, m in cx_reports.installed().items()}
    assert set(vocabulary) >= CX_CODES | set(journey_maps.SOURCES)
    assert all(vocabulary[code] == title for code, title in titles.items())
    for stage in content["stages"]:
        for touchpoint in stage["touchpoints"]:
            assert touchpoint["code"] in journey_maps.TOUCHPOINTS
            assert all(m["code"] in vocabulary for m in touchpoint["metrics"])
            codes = [m["code"] for m in touchpoint["metrics"]]
            assert len(codes) == len(set(codes))


# --- adopting and adapting ---------------------------------------------------------------


def _edit(client, map_id, **form):
    return client.post(f"/r/RU-BRY/maps/{map_id}/edit", data=form,
                       headers={"HX-Request": "true"})


@pytest.fixture
def adopted(app, client, seeded, make_user, login):
    boss = make_user("regional_admin", "RU-BRY")
    login(boss)
    response = client.post("/r/RU-BRY/maps/adopt", data={"template_id": seeded})
    assert response.status_code == 302
    return _region_map(app, "RU-BRY")


def test_region_adopts_adapts_and_publishes(app, client, seeded, adopted):
    map_id = adopted
    assert _status(app, map_id, 1) == "draft"
    assert _content(app, map_id, 1)["stages"] == _content(app, seeded, 1)["stages"]

    assert _edit(client, map_id, op="stage_remove", stage="testing").status_code == 200
    assert _edit(client, map_id, op="stage_move", stage="evaluation", delta="-1").status_code == 200
    assert _edit(client, map_id, op="stage_add", title="Трудоустройство",
                 citizen_goal="Найти работу").status_code == 200
    assert _edit(client, map_id, op="touchpoint_add", stage="stage-7",
                 code="contact_centre").status_code == 200
    assert _edit(client, map_id, op="item_add", stage="stage-7", touchpoint="contact_centre",
                 row="metrics", code="AR").status_code == 200
    assert _edit(client, map_id, op="item_add", stage="search", touchpoint="site",
                 row="metrics", code="CSAT").status_code == 200
    assert _edit(client, map_id, op="item_remove", stage="search", touchpoint="site",
                 row="barriers", index="0").status_code == 200
    response = _edit(client, map_id, op="item_add", stage="search", touchpoint="site",
                     row="barriers", text="Сайт не работает с телефона")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="map-grid"' in page and "<html" not in page
    assert _edit(client, map_id, op="item_move", stage="search", touchpoint="contact_centre",
                 row="metrics", index="1", delta="-1").status_code == 200
    assert _edit(client, map_id, op="item_edit", stage="search", touchpoint="specialist_window",
                 row="questions", index="0", text="Специалист  вежлив?").status_code == 200

    content = _content(app, map_id, 1)
    assert [s["title"] for s in content["stages"]] == [
        "Поиск информации", "Решение о выборе", "Подача заявления в ЦЗН",
        "Прохождение тренинга", "Оценка работы ЦЗН", "Получение результата",
        "Трудоустройство"]
    website = _touchpoint(content, "search", "site")
    assert [m["code"] for m in website["metrics"]] == ["CES", "CV-1", "CV-2",
                                                       "content_analysis", "CSAT"]
    assert website["barriers"][0] == "Неактуальное оснащение сайта."
    assert website["barriers"][-1] == "Сайт не работает с телефона"
    assert [m["code"] for m in _touchpoint(content, "search", "contact_centre")["metrics"]][:2] \
        == ["IQS", "RR"]
    assert _touchpoint(content, "stage-7", "contact_centre")["title"] == "Контакт-центр"
    assert _touchpoint(content, "stage-7", "contact_centre")["metrics"] == [
        {"code": "AR", "title": "Доля потерянных звонков"}]  # and by its title otherwise
    # a metric whose plugin title spells out its code is named by the code on the grid
    assert website["metrics"][-1] == {"code": "CSAT", "title": "CSAT"}
    assert _touchpoint(content, "search", "specialist_window")["questions"][0] == \
        "Специалист вежлив?"

    # publish: the version is in force and never changes
    assert client.post(f"/r/RU-BRY/maps/{map_id}/publish").status_code == 302
    assert _status(app, map_id, 1) == "published"
    refused = _edit(client, map_id, op="stage_remove", stage="search")
    assert refused.status_code == 422
    assert "никогда не меняется" in refused.get_data(as_text=True)
    assert _content(app, map_id, 1) == content
    with app.app_context(), tenancy.federal_scope("test"):
        version = db.scalar(select(JourneyMapVersion).where(JourneyMapVersion.map_id == map_id))
        with pytest.raises(journey_maps.MapError):
            journey_maps.edit(version, "stage_remove", {"stage": "search"}, None, {})

    # a new draft starts from the published version; publishing it leaves version 1 as it was
    assert client.post(f"/r/RU-BRY/maps/{map_id}/draft").status_code == 302
    assert _content(app, map_id, 2) == content
    _edit(client, map_id, op="stage_remove", stage="stage-7")
    client.post(f"/r/RU-BRY/maps/{map_id}/publish")
    assert _status(app, map_id, 2) == "published"
    assert len(_content(app, map_id, 2)["stages"]) == 6
    assert _content(app, map_id, 1) == content

    page = client.get(f"/r/RU-BRY/maps/{map_id}?version=1").get_data(as_text=True)
    assert "Трудоустройство" in page and "Версия 1" in page
    with app.app_context(), tenancy.federal_scope("test"):
        actions = db.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "JourneyMap")).all()
    assert {"journey_map.adopt", "journey_map.edit", "journey_map.publish",
            "journey_map.new_draft"} <= set(actions)


def test_bad_changes_are_refused_in_words(app, client, adopted):
    before = _content(app, adopted, 1)
    for form in ({"op": "stage_remove", "stage": "nope"},
                 {"op": "stage_move", "stage": "search", "delta": "x"},
                 {"op": "touchpoint_add", "stage": "search", "code": "site"},
                 {"op": "touchpoint_add", "stage": "search", "code": "moon"},
                 {"op": "item_add", "stage": "search", "touchpoint": "site",
                  "row": "metrics", "code": "CES"},
                 {"op": "item_add", "stage": "search", "touchpoint": "site",
                  "row": "metrics", "code": "moon"},
                 {"op": "item_add", "stage": "search", "touchpoint": "site",
                  "row": "barriers", "text": "   "},
                 {"op": "item_remove", "stage": "search", "touchpoint": "site",
                  "row": "barriers", "index": "99"},
                 {"op": "stage_add", "title": ""},
                 {"op": "explode"}):
        response = _edit(client, adopted, **form)
        assert response.status_code == 422, form
        assert 'role="alert"' in response.get_data(as_text=True)
    assert _content(app, adopted, 1) == before
    # a second adoption of the same template by the region is refused
    client.post("/r/RU-BRY/maps/adopt", data={"template_id": template_id(app)})
    with app.app_context(), tenancy.federal_scope("test"):
        assert len(db.scalars(select(JourneyMap).where(
            JourneyMap.region_id == region_id(app, "RU-BRY"))).all()) == 1


def test_an_office_adopts_its_own_map(app, client, adopted):
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.models import Office
        office = db.scalar(select(Office).where(Office.code == "BRY-01"))
    response = client.post("/r/RU-BRY/maps/adopt", data={"template_id": template_id(app),
                                                         "office_id": office.id})
    assert response.status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        maps = db.scalars(select(JourneyMap).where(
            JourneyMap.region_id == region_id(app, "RU-BRY")).order_by(JourneyMap.id)).all()
        assert [m.office_id for m in maps] == [None, office.id]
    assert office.name in client.get("/r/RU-BRY/maps/").get_data(as_text=True)


def test_federal_analyst_sees_where_regions_departed(app, client, seeded, adopted, make_user,
                                                    login):
    _edit(client, adopted, op="stage_remove", stage="testing")
    _edit(client, adopted, op="item_add", stage="search", touchpoint="site", row="metrics",
          code="NPS")
    _edit(client, adopted, op="item_remove", stage="search", touchpoint="specialist_window",
          row="barriers", index="2")
    client.post(f"/r/RU-BRY/maps/{adopted}/publish")
    client.post("/logout")
    login(make_user("federal_analyst"))
    page = client.get("/federal/maps/").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Брянская область" in text
    assert "удалено этап «Прохождение тестирования»" in text
    assert "добавлено метрика «Поиск информации», Сайт и социальные сети: NPS" in text
    assert ("удалено барьер «Поиск информации», Специалист ЦЗН: Отсутствие обучения по работе "
            "и общению с заявителями.") in text
    assert text.count("добавлено") == 1 and text.count("удалено") == 2
    with app.app_context():
        found = journey_maps.departures_by_region()
    assert [(d.kind, d.what) for d in found[0][2]] == [
        ("removed", "stage"), ("added", "metric"), ("removed", "barrier")]
    # the analyst reads the region's map, and may not change it
    assert client.get(f"/federal/maps/{adopted}").status_code == 200
    assert client.get(f"/r/RU-BRY/maps/{adopted}").status_code == 200
    assert client.post(f"/federal/maps/{adopted}/draft").status_code == 403


def test_methodology_owner_versions_the_template(app, client, seeded, make_user, login):
    login(make_user("methodology_owner"))
    assert client.post(f"/federal/maps/{seeded}/edit",
                       data={"op": "stage_remove", "stage": "search"}).status_code == 302
    assert len(_content(app, seeded, 1)["stages"]) == 7  # published: refused
    client.post(f"/federal/maps/{seeded}/draft")
    client.post(f"/federal/maps/{seeded}/edit", data={
        "op": "item_add", "stage": "search", "touchpoint": "site", "row": "metrics",
        "code": "CSAT"})
    client.post(f"/federal/maps/{seeded}/publish")
    assert _status(app, seeded, 2) == "published"
    assert "CSAT" in [m["code"] for m in _touchpoint(_content(app, seeded, 2), "search",
                                                     "site")["metrics"]]
    assert "CSAT" not in [m["code"] for m in _touchpoint(_content(app, seeded, 1), "search",
                                                         "site")["metrics"]]


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_region_staff_read_but_do_not_change(app, client, adopted, make_user, login, role):
    client.post("/logout")
    login(make_user(role, "RU-BRY"))
    page = client.get(f"/r/RU-BRY/maps/{adopted}")
    assert page.status_code == 200 and "Поиск информации" in page.get_data(as_text=True)
    assert 'name="op"' not in page.get_data(as_text=True)
    assert _edit(client, adopted, op="stage_remove", stage="search").status_code == 403
    assert client.post(f"/r/RU-BRY/maps/{adopted}/publish").status_code == 403
    assert client.post("/r/RU-BRY/maps/adopt",
                       data={"template_id": template_id(app)}).status_code == 403
    assert client.get("/federal/maps/").status_code == 404
    assert len(_content(app, adopted, 1)["stages"]) == 7


def test_another_region_cannot_reach_the_map(app, client, adopted, make_user, login):
    client.post("/logout")
    login(make_user("regional_admin", "RU-VLA"))
    assert client.get(f"/r/RU-VLA/maps/{adopted}").status_code == 404
    assert client.post(f"/r/RU-VLA/maps/{adopted}/edit",
                       data={"op": "stage_remove", "stage": "search"}).status_code == 404
    assert client.post(f"/r/RU-VLA/maps/{adopted}/publish").status_code == 404
    assert client.get(f"/r/RU-VLA/maps/{adopted}.xlsx").status_code == 404
    assert client.get(f"/r/RU-BRY/maps/{adopted}").status_code == 404
    # the template, shared by every region, is readable but not changeable from a region
    assert client.get(f"/r/RU-VLA/maps/templates/{template_id(app)}").status_code == 200
    assert client.get(f"/r/RU-VLA/maps/templates/{adopted}").status_code == 404
    assert client.post(f"/federal/maps/{template_id(app)}/draft").status_code == 404
    assert len(_content(app, adopted, 1)["stages"]) == 7


# --- the grid as people read it ----------------------------------------------------------


def test_grid_page_prints_on_a3_landscape(app, client, adopted):
    page = client.get(f"/r/RU-BRY/maps/{adopted}").get_data(as_text=True)
    for row in ("Цель гражданина", "Мысли гражданина", "Цель ЦЗН", "Точки касания",
                "Метрики измерения клиентского опыта", "Барьеры",
                "Ответственные лица со стороны ЦЗН",
                "Инструменты повышения качества клиентского опыта"):
        assert f'<th scope="row">{row}</th>' in page
    assert page.count('scope="colgroup"') == 7
    assert "journey_map.css" in page
    css = client.get("/static/css/journey_map.css").get_data(as_text=True)
    assert "size: A3 landscape" in css and "@media print" in css


def test_xlsx_export_is_the_grid(app, client, adopted):
    response = client.get(f"/r/RU-BRY/maps/{adopted}.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A3"].value == "Этап"
    assert sheet["B3"].value == "Поиск информации"
    # the first stage has five touchpoints: its head spans five columns
    assert "B3:F3" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["G3"].value == "Решение о выборе"
    labels = [sheet.cell(row, 1).value for row in range(4, 12)]
    assert labels[0] == "Цель гражданина" and labels[-1] == \
        "Инструменты повышения качества клиентского опыта"
    assert sheet.cell(7, 2).value == "Сайт и социальные сети"  # the touchpoints' row
    assert sheet.cell(8, 3).value.startswith("• RR\n• IQS")  # metrics of the contact centre
    assert sheet.max_column == 1 + 18


def test_pdf_export(app, client, adopted):
    response = client.get(f"/r/RU-BRY/maps/{adopted}.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Type"] == "application/pdf"


def test_pdf_pages_are_a3_landscape(app, client, adopted):
    from weasyprint import CSS
    from weasyprint import HTML

    from cci.web import map_exports

    page = client.get(f"/r/RU-BRY/maps/{adopted}").get_data(as_text=True)
    document = HTML(string=page).render(stylesheets=[CSS(filename=str(map_exports.PRINT_CSS))])
    first = document.pages[0]
    # 420 × 297 mm in CSS pixels (96 per inch)
    assert (round(first.width), round(first.height)) == (1587, 1123)


def test_the_lists_of_maps_read_as_many_statements_for_many_maps_as_for_one(
        app, client, adopted, make_user, login, token):
    """A region keeps a map per office, the federation sees every region's: the lists (pages
    and the API) read each map's versions in one statement, not one per map."""
    def statements(path: str, headers: dict | None = None) -> int:
        assert client.get(path, headers=headers).status_code == 200  # warm
        with Statements(app) as seen:
            assert client.get(path, headers=headers).status_code == 200
        return len(seen.sql)

    client.post(f"/r/RU-BRY/maps/{adopted}/publish")
    before = statements("/r/RU-BRY/maps/")
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.models import Office
        offices = db.scalars(select(Office.id).where(
            Office.region_id == region_id(app, "RU-BRY"))).all()
    assert len(offices) >= 2
    for office in offices:
        assert client.post("/r/RU-BRY/maps/adopt", data={
            "template_id": template_id(app), "office_id": office}).status_code == 302
    assert statements("/r/RU-BRY/maps/") == before
    client.post("/logout")
    login(make_user("federal_analyst"))
    analyst = token("federal_analyst")
    many = statements("/federal/maps/"), statements("/api/v1/maps", analyst)
    with app.app_context(), tenancy.federal_scope("test"):
        for extra in db.scalars(select(JourneyMap).where(JourneyMap.office_id.is_not(None))):
            db.delete(extra)
        db.commit()
    assert (statements("/federal/maps/"), statements("/api/v1/maps", analyst)) == many
