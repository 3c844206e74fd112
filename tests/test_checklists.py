"""The auditors' checklists: forms generated from the campaign's plugin set, the per-region /
per-office levels of a centralized network, access, validation, audit and the computation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import recompute
from cci.collection.campaigns import save_campaign
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import Checklist
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.foundation.models import User
from cci.index import compute


@pytest.fixture
def campaigns(app, tenants):
    """cci-2022 in the first quarter, cci-2023 in the second, both for BRY and KYA."""
    ids = {}
    with app.app_context(), tenancy.federal_scope("test"):
        for key, name, starts, ends in (
            ("cci-2022", "2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
            ("cci-2023", "2025-Q2", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
        ):
            ids[key] = save_campaign(name=name, methodology_key=key, starts_on=starts,
                                     ends_on=ends, region_codes=["RU-BRY", "RU-KYA"]).id
        db.commit()
    return ids


def offices(app, code):
    with app.app_context(), tenancy.federal_scope("test"):
        region = db.scalar(select(Region).where(Region.code == code))
        return [o.id for o in db.scalars(select(Office).where(Office.region_id == region.id)
                                         .order_by(Office.code))]


def stored(app):
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(Checklist).order_by(Checklist.id)))


def audit_entries(app, prefix="checklist."):
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action.startswith(prefix))
                               .order_by(AuditEntry.id)))


def relogin(client, login, email):
    """Log out whoever is logged in, then log in as ``email``."""
    client.post("/logout")
    login(email)


def form_url(region, campaign_id, target, code):
    return f"/r/{region}/checklists/{campaign_id}/{target}/{code}"


def status(client, *parts):
    """The status of a GET of the form at ``form_url(*parts)``."""
    return client.get(form_url(*parts)).status_code


def param_keys(html):
    """The checklist parameters a rendered form asks for, in order."""
    return list(dict.fromkeys(re.findall(r'name="value__([\w]+)"', html)))


@pytest.fixture
def kya_admin(make_user, login):
    email = make_user("regional_admin", "RU-KYA")
    login(email)
    return email


@pytest.fixture
def bry_admin(make_user, login):
    email = make_user("regional_admin", "RU-BRY")
    login(email)
    return email


TRANSPORT_2022 = ["transport_routes", "stop_nearby", "parking", "barrier_free", "city_signs"]


def transport_answers(present=("stop_nearby", "parking"), evidence=None):
    data = {f"value__{key}": "yes" if key in present else "no" for key in TRANSPORT_2022}
    for key, note in (evidence or {}).items():
        data[f"evidence__{key}"] = note
    return data


# --- forms generated from the set -------------------------------------------------------------


def test_transport_form_has_5_parameters_in_2022_and_8_in_2023(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    pilot = client.get(form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2"))
    revised = client.get(form_url("RU-KYA", campaigns["cci-2023"], office, "O-V.2"))
    assert pilot.status_code == revised.status_code == 200
    assert param_keys(pilot.get_data(as_text=True)) == TRANSPORT_2022
    keys_2023 = param_keys(revised.get_data(as_text=True))
    assert len(keys_2023) == 8 and "disabled_parking" in keys_2023
    html = pilot.get_data(as_text=True)
    # yes/no radios with both answers, the points and the platform-default mark
    assert html.count('type="radio"') == 2 * 5
    assert "Есть" in html and "Нет" in html
    assert "баллов: 0,2" in html
    # whether a parameter is the platform's default is said on the methodology pages, not here
    assert "параметр по умолчанию платформы" not in html
    assert html.count('name="evidence__') == 5


def test_comfort_is_a_level_choice_in_2022_and_ten_features_in_2023(client, campaigns, kya_admin,
                                                                    app):
    office = offices(app, "RU-KYA")[0]
    pilot = client.get(form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.1"))
    html = pilot.get_data(as_text=True)
    assert param_keys(html) == ["level"]
    assert re.findall(r'name="value__level"[^>]*value="([^"]+)"', html) == ["1", "2", "3", "none"]
    assert "Уровень 1: офис модернизирован по брендбуку" in html
    assert "Уровень 1 = 2 балла" in html  # the indicator's description
    revised = client.get(form_url("RU-KYA", campaigns["cci-2023"], office, "O-V.1"))
    keys = param_keys(revised.get_data(as_text=True))
    assert len(keys) == 10 and {"seating", "toilet", "e_queue", "air_conditioning"} <= set(keys)


@pytest.mark.parametrize("code", ["S-II.1", "O-III.1-4", "O-X.9", "O-III.5"])
def test_codes_that_are_not_filled_checklists_of_the_set_are_404(client, campaigns, kya_admin,
                                                                 app, code):
    office = offices(app, "RU-KYA")[0]
    # O-III.5 exists in 2022 only; the composite O-III.1-4 has no checklist of its own
    assert status(client, "RU-KYA", campaigns["cci-2023"], office, code) == 404
    if code == "O-III.5":
        assert status(client, "RU-KYA", campaigns["cci-2022"], office, code) == 200


def test_components_without_a_score_of_their_own_are_filled(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    for code in ("O-III.1", "O-III.2", "O-III.3", "O-III.4"):
        response = client.get(form_url("RU-KYA", campaigns["cci-2022"], office, code))
        assert response.status_code == 200 and len(param_keys(response.get_data(as_text=True))) == 5
    table = client.get(f"/r/RU-KYA/checklists/?campaign={campaigns['cci-2022']}")
    html = table.get_data(as_text=True)
    assert ">O-III.4</abbr>" in html and ">O-III.1-4</abbr>" not in html
    # 2 offices × 14 filled indicators of the pilot
    assert "заполнено 0 из 28" in html


# --- saving -----------------------------------------------------------------------------------


def test_saving_stores_values_evidence_and_an_audit_entry(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    url = form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2")
    response = client.post(url, data=transport_answers(
        evidence={"parking": "Фото парковки от 12.03", "city_signs": "  "}))
    assert response.status_code == 302
    assert f"campaign={campaigns['cci-2022']}" in response.headers["Location"]
    [row] = stored(app)
    assert (row.campaign_id, row.office_id, row.indicator) == (
        campaigns["cci-2022"], office, "O-V.2")
    assert row.values == {"transport_routes": False, "stop_nearby": True, "parking": True,
                          "barrier_free": False, "city_signs": False}
    assert row.evidence == {"parking": "Фото парковки от 12.03"}
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(User, row.auditor_id).email == kya_admin
    [created] = audit_entries(app)
    assert created.action == "checklist.create" and created.before is None
    assert created.after["values"] == row.values and created.after["indicator"] == "O-V.2"
    assert created.region_id == row.region_id and created.object_id == str(row.id)

    # a change is an update with the state before it; the form shows what is stored
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'value="yes"[^>]*checked[^>]*name="value__parking"|'
                     r'checked[^>]*name="value__parking"[^>]*value="yes"|'
                     r'name="value__parking"[^>]*value="yes"[^>]*checked', page)
    assert "Фото парковки от 12.03" in page
    client.post(url, data=transport_answers(present=TRANSPORT_2022))
    [row] = stored(app)
    assert all(row.values.values()) and row.evidence == {}
    created, updated = audit_entries(app)
    assert updated.action == "checklist.update"
    assert updated.before["values"]["barrier_free"] is False
    assert updated.after["values"]["barrier_free"] is True
    # the table shows it filled with the set's score (5 × 0.2)
    table = client.get(f"/r/RU-KYA/checklists/?campaign={campaigns['cci-2022']}")
    html = table.get_data(as_text=True)
    assert "заполнено 1 из 28" in html and "1,00" in html


def test_saving_the_same_values_again_changes_nothing(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    url = form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2")
    client.post(url, data=transport_answers())
    response = client.post(url, data=transport_answers(), follow_redirects=True)
    assert "Изменений нет." in response.get_data(as_text=True)
    assert len(audit_entries(app)) == 1


def test_a_missing_answer_is_a_russian_error_and_nothing_is_stored(client, campaigns, kya_admin,
                                                                   app):
    office = offices(app, "RU-KYA")[0]
    data = transport_answers(evidence={"parking": "фото"})
    del data["value__barrier_free"]
    response = client.post(form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2"), data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count("Выберите «Есть» или «Нет».") == 1
    assert "Чек-лист не сохранён" in html
    # the error is next to its parameter, and the other answers are kept on the page
    barrier = html.index("Безбарьерная среда")
    error = html.index("Выберите «Есть» или «Нет».")
    assert barrier < error < html.index("Навигационные указатели")
    assert "фото" in html
    assert stored(app) == [] and audit_entries(app) == []


def test_an_unknown_option_is_refused(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    url = form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.1")
    response = client.post(url, data={"value__level": "5"})
    assert response.status_code == 400
    assert "Выберите один из вариантов." in response.get_data(as_text=True)
    assert client.post(url, data={"value__level": "2"}).status_code == 302
    assert stored(app)[0].values == {"level": "2"}


@pytest.mark.parametrize("raw,expected", [
    ("1 250,5", 1250.5), ("980", 980), ("12,0", 12), ("0", 0), ("\u00a07\u00a0000 ", 7000),
])
def test_vacancy_figures_accept_a_decimal_comma(client, campaigns, kya_admin, app, raw, expected):
    office = offices(app, "RU-KYA")[0]
    response = client.post(form_url("RU-KYA", campaigns["cci-2022"], office, "O-II.1"),
                           data={"value__vacancies_current": raw,
                                 "value__vacancies_previous": "1000"})
    assert response.status_code == 302
    values = stored(app)[0].values
    assert values == {"vacancies_current": expected, "vacancies_previous": 1000}
    assert type(values["vacancies_current"]) is type(expected)


@pytest.mark.parametrize("raw,error", [
    ("", "Введите число."), ("много", "Введите число, например 1250 или 12,5."),
    ("-5", "Число не может быть отрицательным."), ("1,2,3", "Введите число, например"),
    ("inf", "Введите число, например"), ("nan", "Введите число, например"),
    ("1" + "0" * 400, "Введите число, например"), ("1e5", "Введите число, например"),
])
def test_vacancy_figures_must_be_non_negative_numbers(client, campaigns, kya_admin, app, raw,
                                                      error):
    office = offices(app, "RU-KYA")[0]
    response = client.post(form_url("RU-KYA", campaigns["cci-2023"], office, "O-II.1"),
                           data={"value__vacancies_current": raw,
                                 "value__vacancies_last_year": "900"})
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert stored(app) == []


def test_the_table_says_why_a_filled_checklist_has_no_score(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    client.post(form_url("RU-KYA", campaigns["cci-2023"], office, "O-II.1"),
                data={"value__vacancies_current": "5", "value__vacancies_last_year": "0"})
    html = client.get(f"/r/RU-KYA/checklists/?campaign={campaigns['cci-2023']}").get_data(
        as_text=True)
    assert "заполнено 1 из 26" in html
    assert "балл не рассчитан: " in html and "деление на ноль" in html


def test_a_queue_outage_keeps_the_saved_checklist(client, campaigns, kya_admin, app, monkeypatch,
                                                   caplog):
    def down(_campaign_id):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(recompute, "request", down)
    office = offices(app, "RU-KYA")[0]
    response = client.post(form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2"),
                           data=transport_answers(), follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Чек-лист сохранён." in html and "очередь задач сейчас недоступна" in html
    assert len(stored(app)) == 1 and len(audit_entries(app)) == 1
    assert "could not schedule a recompute" in caplog.text


def test_saving_schedules_a_recompute_of_the_campaign(client, campaigns, kya_admin, app):
    office = offices(app, "RU-KYA")[0]
    client.post(form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2"),
                data=transport_answers())
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.models import JobRecord

        [job] = db.scalars(select(JobRecord).where(JobRecord.name == "runs.recompute")).all()
        assert job.params == {"campaign_id": campaigns["cci-2022"]}


# --- network levels (cci-2023, centralized regions) --------------------------------------------


def test_a_centralized_region_fills_network_indicators_once(client, campaigns, bry_admin, app):
    office = offices(app, "RU-BRY")[0]
    table = client.get(f"/r/RU-BRY/checklists/?campaign={campaigns['cci-2023']}")
    html = table.get_data(as_text=True)
    assert "Весь регион" in html
    region_row = html[html.index('<th scope="row">Весь регион</th>'):].split("</tr>")[0]
    for code in ("O-III.2", "O-III.3", "O-III.4", "O-III.6", "O-III.7", "O-III.8"):
        assert f"/checklists/{campaigns['cci-2023']}/region/{code}" in region_row
        assert status(client, "RU-BRY", campaigns["cci-2023"], office, code) == 404
    assert "/region/O-V.2" not in html
    # 2 offices × 7 office-level indicators + 6 network-level ones for the region
    assert "заполнено 0 из 20" in html
    assert status(client, "RU-BRY", campaigns["cci-2023"], "region", "O-V.2") == 404
    assert status(client, "RU-BRY", campaigns["cci-2023"], office, "O-V.2") == 200

    response = client.post(form_url("RU-BRY", campaigns["cci-2023"], "region", "O-III.6"),
                           data={f"value__{key}": "yes" for key in (
                               "office", "contact_center", "regional_site", "trudvsem",
                               "gosuslugi", "vk", "ok", "telegram", "email", "chatbot")})
    assert response.status_code == 302
    [row] = stored(app)
    assert row.office_id is None and row.indicator == "O-III.6"
    html = client.get(f"/r/RU-BRY/checklists/?campaign={campaigns['cci-2023']}").get_data(
        as_text=True)
    assert "заполнено 1 из 20" in html


def test_the_pilot_and_decentralized_regions_fill_everything_per_office(client, campaigns,
                                                                        bry_admin, make_user,
                                                                        login, app):
    html = client.get(f"/r/RU-BRY/checklists/?campaign={campaigns['cci-2022']}").get_data(
        as_text=True)
    assert '<th scope="row">Весь регион</th>' not in html
    assert status(client, "RU-BRY", campaigns["cci-2022"], "region", "O-III.6") == 404
    office = offices(app, "RU-BRY")[0]
    assert status(client, "RU-BRY", campaigns["cci-2022"], office, "O-III.6") == 200

    relogin(client, login, make_user("regional_admin", "RU-KYA"))
    html = client.get(f"/r/RU-KYA/checklists/?campaign={campaigns['cci-2023']}").get_data(
        as_text=True)
    assert '<th scope="row">Весь регион</th>' not in html and "заполнено 0 из 26" in html  # 2 × 13
    assert status(client, "RU-KYA", campaigns["cci-2023"], "region", "O-III.6") == 404
    kya = offices(app, "RU-KYA")[0]
    assert status(client, "RU-KYA", campaigns["cci-2023"], kya, "O-III.6") == 200


# --- access -------------------------------------------------------------------------------------


def test_another_region_is_404(client, campaigns, kya_admin, app, tenants):
    bry_office = offices(app, "RU-BRY")[0]
    assert client.get("/r/RU-BRY/checklists/").status_code == 404
    assert status(client, "RU-BRY", campaigns["cci-2022"], bry_office, "O-V.2") == 404
    # another region's office through one's own region: the tenant scope does not find it
    url = form_url("RU-KYA", campaigns["cci-2022"], bry_office, "O-V.2")
    assert client.get(url).status_code == 404
    assert client.post(url, data=transport_answers()).status_code == 404
    # a campaign that does not cover the region
    with app.app_context(), tenancy.federal_scope("test"):
        other = save_campaign(name="Владимир", methodology_key="cci-2022",
                              starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 3, 31),
                              region_codes=["RU-VLA"]).id
        db.commit()
    kya_office = offices(app, "RU-KYA")[0]
    assert client.get(f"/r/RU-KYA/checklists/?campaign={other}").status_code == 404
    assert status(client, "RU-KYA", other, kya_office, "O-V.2") == 404
    assert status(client, "RU-KYA", campaigns["cci-2022"], "abc", "O-V.2") == 404
    assert stored(app) == []


def test_an_auditor_of_one_office_fills_only_that_office(client, campaigns, make_user, login, app):
    own, other = offices(app, "RU-BRY")
    login(make_user("auditor", "RU-BRY", office_id=own))
    key = campaigns["cci-2023"]
    assert client.post(form_url("RU-BRY", key, other, "O-V.3"),
                       data={f"value__{k}": "yes" for k in (
                           "business_clothing", "corporate_element", "name_badge", "neat",
                           "one_style")}).status_code in (403, 404)
    # may look at it, without a save button
    page = client.get(form_url("RU-BRY", key, other, "O-V.3"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Сохранить чек-лист" not in html and "disabled" in html
    # the region's own checklists are for auditors without an office and regional admins
    multichannel = {f"value__{k}": "no" for k in ("office", "contact_center", "regional_site",
                                                  "trudvsem", "gosuslugi", "vk", "ok",
                                                  "telegram", "email", "chatbot")}
    assert client.post(form_url("RU-BRY", key, "region", "O-III.6"),
                       data=multichannel).status_code == 403
    assert stored(app) == []
    response = client.post(form_url("RU-BRY", key, own, "O-V.3"),
                           data={f"value__{k}": "yes" for k in (
                               "business_clothing", "corporate_element", "name_badge", "neat",
                               "one_style")})
    assert response.status_code == 302 and stored(app)[0].office_id == own

    relogin(client, login, make_user("auditor", "RU-BRY"))  # an auditor of the whole region
    assert client.post(form_url("RU-BRY", key, "region", "O-III.6"),
                       data=multichannel).status_code == 302
    assert client.post(form_url("RU-BRY", key, other, "O-V.2"), data={
        f"value__{k}": "no" for k in ("stop_500m", "parking", "disabled_parking", "ramp",
                                      "call_button", "tactile_marks", "city_signs",
                                      "directions_online")}).status_code == 302


@pytest.mark.parametrize("role,can_save", [
    ("federal_analyst", False), ("methodology_owner", False), ("admin", True),
])
def test_federal_roles_view_and_only_the_admin_edits(client, campaigns, make_user, login, app,
                                                     role, can_save):
    login(make_user(role))
    office = offices(app, "RU-KYA")[0]
    url = form_url("RU-KYA", campaigns["cci-2022"], office, "O-V.2")
    assert client.get("/r/RU-KYA/checklists/").status_code == 200
    page = client.get(url).get_data(as_text=True)
    assert ("Сохранить чек-лист" in page) is can_save
    assert client.post(url, data=transport_answers()).status_code == (302 if can_save else 403)
    assert len(stored(app)) == (1 if can_save else 0)


def test_an_operator_has_no_checklists(client, campaigns, make_user, login):
    login(make_user("operator", "RU-KYA"))
    assert client.get("/r/RU-KYA/checklists/").status_code == 403
    assert "/checklists/" not in client.get("/r/RU-KYA/").get_data(as_text=True)


def test_the_region_menu_links_the_checklists(client, campaigns, make_user, login):
    login(make_user("auditor", "RU-KYA"))
    html = client.get("/r/RU-KYA/").get_data(as_text=True)
    assert 'href="/r/RU-KYA/checklists/"' in html and "Чек-листы" in html


def test_anonymous_visitors_are_sent_to_log_in(client, campaigns):
    response = client.get("/r/RU-KYA/checklists/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the campaign selector ---------------------------------------------------------------------


def test_the_campaign_selector_works_with_and_without_htmx(client, campaigns, kya_admin):
    page = client.get("/r/RU-KYA/checklists/")
    html = page.get_data(as_text=True)
    # the latest campaign by default; a plain GET form for browsers without JavaScript
    assert re.search(rf'<option value="{campaigns["cci-2023"]}"\s+selected', html)
    assert 'method="get"' in html and 'name="campaign"' in html
    assert 'hx-get="/r/RU-KYA/checklists/"' in html and 'hx-push-url="true"' in html
    assert 'hx-target="#checklists-table"' in html and 'id="checklists-table"' in html
    assert "ИКЦ-2023" in html

    partial = client.get(f"/r/RU-KYA/checklists/?campaign={campaigns['cci-2022']}",
                         headers={"HX-Request": "true"})
    fragment = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "HX-Request" in partial.headers["Vary"]
    assert "<html" not in fragment and "<table" in fragment and "ИКЦ-2022" in fragment
    # a history restore after a cache miss needs the whole page
    restored = client.get(f"/r/RU-KYA/checklists/?campaign={campaigns['cci-2022']}",
                          headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)


def test_a_region_without_campaigns_says_so(client, tenants, make_user, login):
    login(make_user("auditor", "RU-KYA"))
    response = client.get("/r/RU-KYA/checklists/")
    assert response.status_code == 200
    assert "В регионе пока нет кампаний измерения." in response.get_data(as_text=True)


# --- the computation reads what was saved --------------------------------------------------------


def work(app):
    """Run every queued job in this process with a real RQ worker against the real Redis."""
    from rq import SimpleWorker

    jobs.set_worker_app(app)
    SimpleWorker(list(jobs.QUEUES), connection=app.extensions["cci.redis"]).work(burst=True)


def indicator_results(app, run_id, code):
    with app.app_context(), tenancy.federal_scope("test"):
        return {row.office_id: row.value for row in db.scalars(select(RunResult).where(
            RunResult.run_id == run_id, RunResult.level == "office",
            RunResult.metric == f"indicator:{code}", RunResult.respondent_type.is_(None)))}


def test_the_computation_uses_the_saved_checklists(client, campaigns, make_user, login, app):
    key = campaigns["cci-2023"]
    bry = offices(app, "RU-BRY")
    kya = offices(app, "RU-KYA")
    login(make_user("regional_admin", "RU-KYA"))
    transport = ("stop_500m", "parking", "disabled_parking", "ramp", "call_button",
                 "tactile_marks", "city_signs", "directions_online")
    assert client.post(form_url("RU-KYA", key, kya[0], "O-V.2"), data={
        f"value__{k}": "yes" if i < 5 else "no" for i, k in enumerate(transport)},
    ).status_code == 302
    assert client.post(form_url("RU-KYA", key, kya[0], "O-II.1"), data={
        "value__vacancies_current": "850,5", "value__vacancies_last_year": "1000"},
    ).status_code == 302
    relogin(client, login, make_user("auditor", "RU-BRY"))
    assert client.post(form_url("RU-BRY", key, "region", "O-III.8"), data={
        "value__regional_site": "yes", "value__contact_center": "yes",
        "value__gosuslugi": "no", "value__social_messengers": "yes"},
    ).status_code == 302

    with app.app_context():
        run, created = compute.start_run(key)
        assert created
    work(app)
    with app.app_context():
        assert compute.current_run(key, "cci-2023").id == run.id
    transport_scores = indicator_results(app, run.id, "O-V.2")
    assert transport_scores[kya[0]] == pytest.approx(5 * 0.125)
    assert transport_scores[kya[1]] is None  # not filled: not computable, not zero
    # 850.5 / 1000 = 0.85: the 0.8 band of the 2023 scale
    assert indicator_results(app, run.id, "O-II.1")[kya[0]] == pytest.approx(0.5)
    # the region's own checklist counts for every office of the centralized network
    pre_registration = indicator_results(app, run.id, "O-III.8")
    assert pre_registration[bry[0]] == pre_registration[bry[1]] == pytest.approx(0.75)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(Checklist)) == 3
