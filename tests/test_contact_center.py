"""The contact-centre channel plugin: the operator console (a call, the phone survey through
intake, the outcome), the «mystery call» checklist, the telephony import and the figures."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.foundation.models import AuditEntry
from cci.foundation.models import Checklist
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import User
from engine_helpers import offices
from engine_helpers import work

from cci_channel_contact import figures as fig
from cci_channel_contact.models import ContactCall
from cci_channel_contact.models import TelephonyStat

BASE = "/r/RU-BRY/contact"
TODAY = dt.date.today()


@pytest.fixture
def campaign(live_campaign):
    """A cci-2023 campaign running today in BRY (centralized) and KYA (decentralized)."""
    return live_campaign


def user_id(app, email):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User.id).where(User.email == email))


def rows(app, model, *where):
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(model).where(*where).order_by(model.id)))


@pytest.fixture
def operator(make_user, login, campaign):
    email = make_user("operator", "RU-BRY")
    login(email)
    return email


def start_call(client, app, office_index=0, line="8-800"):
    office = offices(app, "RU-BRY")[office_index]
    response = client.post(f"{BASE}/calls", data={"office": office, "line": line})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    call_id = int(re.search(r"/calls/(\d+)$", response.headers["Location"]).group(1))
    return call_id, office


OUTCOME = {"resolved_first_contact": "yes", "transfers": "1", "escalated": "no",
           "waiting_seconds": "35", "handling_seconds": "240", "topic": "benefit"}

ANSWERS = {"q__prof_competence": "9", "q__comm_competence": "10", "q__management_contact": "0",
           "q__usefulness": "na", "q__preferred_channel": "contact_center",
           "q__gender": "female"}


def errors_in(html):
    return re.findall(r'class="field__error"[^>]*>([^<]+)<', html)


# --- access --------------------------------------------------------------------------------------


def test_console_needs_a_login_and_the_regions_operator_role(client, app, make_user, login,
                                                              campaign):
    anonymous = client.get(f"{BASE}/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.post(f"{BASE}/calls", data={}).status_code == 302

    login(make_user("operator", "RU-BRY"))
    page = client.get(f"{BASE}/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Начать звонок" in html and "Контакт-центр" in html
    # another region's console does not exist for this operator
    assert client.get("/r/RU-KYA/contact/").status_code == 404
    assert client.post("/r/RU-KYA/contact/calls", data={}).status_code == 404
    assert client.get("/r/RU-XXX/contact/").status_code == 404

    call_id, _office = start_call(client, app)
    # an auditor of the region may not take calls; another operator does not see this one
    client.post("/logout")
    login(make_user("auditor", "RU-BRY"))
    assert client.post(f"{BASE}/calls", data={}).status_code == 403
    assert client.get(f"{BASE}/calls/{call_id}").status_code == 403
    client.post("/logout")
    login(make_user("operator", "RU-BRY"))
    assert client.get(f"{BASE}/calls/{call_id}").status_code == 404
    # a regional administrator may use the console and sees every call of the region
    client.post("/logout")
    login(make_user("regional_admin", "RU-BRY"))
    assert client.get(f"{BASE}/calls/{call_id}").status_code == 200
    # the region's menu links to the console (Channel.region_links)
    assert f'href="{BASE}/"' in client.get("/r/RU-BRY/").get_data(as_text=True)


# --- a call --------------------------------------------------------------------------------------


def test_a_full_call_stores_the_response_through_intake_and_the_outcome(client, app, operator):
    call_id, office = start_call(client, app)
    page = client.get(f"{BASE}/calls/{call_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="respondent_type"' in html and "Затрудняюсь ответить" not in html
    # the questions of the chosen type come from the campaign's plugin set
    shown = client.post(f"{BASE}/calls/{call_id}/survey", data={"respondent_type": "job_seeker"},
                        headers={"HX-Request": "true"})
    assert shown.status_code == 200
    fragment = shown.get_data(as_text=True)
    assert 'id="survey-questions"' in fragment and "<html" not in fragment
    assert 'name="q__prof_competence"' in fragment and 'value="10"' in fragment
    assert "Затрудняюсь ответить" in fragment
    assert 'name="q__management_openness"' not in fragment  # a follow-up, not asked yet

    saved = client.post(f"{BASE}/calls/{call_id}", data={
        "respondent_type": "job_seeker", **ANSWERS, "comment": "Дозвонилась с первого раза",
        **OUTCOME, "action": "save"})
    assert saved.status_code == 303, errors_in(saved.get_data(as_text=True))

    (response,) = rows(app, Response)
    assert response.channel == "contact_center"
    assert response.client_key == f"call:{call_id}"
    assert response.office_id == office and response.campaign_id == campaign_id(app)
    assert response.meta["operator_id"] == user_id(app, operator)
    assert response.meta["call_id"] == call_id and response.meta["session"]
    assert response.respondent_type == "job_seeker"
    assert response.profile == {"gender": "female"}
    assert response.comment == "Дозвонилась с первого раза"
    assert response.started_at is not None
    answers = {a.item: (a.value, a.choice) for a in rows(app, Answer)}
    assert answers == {"prof_competence": (9, None), "comm_competence": (10, None),
                       "management_contact": (0, None), "usefulness": (None, None),
                       "preferred_channel": (None, "contact_center")}

    (call,) = rows(app, ContactCall)
    assert call.response_id == response.id and call.ended_at is not None
    assert call.operator_id == user_id(app, operator) and call.line == "8-800"
    assert (call.resolved_first_contact, call.transfers, call.escalated) == (True, 1, False)
    assert (call.waiting_seconds, call.handling_seconds, call.topic) == (35, 240, "benefit")
    listed = client.get(f"{BASE}/").get_data(as_text=True)
    assert f"/calls/{call_id}" in listed and "Пособие" in listed


def campaign_id(app):
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.models import Campaign
        return db.scalar(select(Campaign.id))


def test_follow_up_items_appear_only_when_their_condition_holds(client, app, operator):
    call_id, _office = start_call(client, app)
    base = {"respondent_type": "employer"}
    # htmx: the parent's change asks for its follow-ups
    hidden = client.post(f"{BASE}/calls/{call_id}/survey?after=management_contact",
                         data={**base, "q__management_contact": "0"})
    assert hidden.status_code == 200
    assert 'id="after-management_contact"' in hidden.get_data(as_text=True)
    assert 'name="q__management_openness"' not in hidden.get_data(as_text=True)
    shown = client.post(f"{BASE}/calls/{call_id}/survey?after=management_contact",
                        data={**base, "q__management_contact": "1"})
    assert 'name="q__management_openness"' in shown.get_data(as_text=True)
    # without JavaScript: the «refresh» button re-renders the page with the follow-up
    page = client.post(f"{BASE}/calls/{call_id}", data={**base, "q__management_contact": "1",
                                                        "action": "refresh"})
    assert page.status_code == 200
    assert 'name="q__management_openness"' in page.get_data(as_text=True)
    assert rows(app, Response) == []

    # answered although the condition does not hold: refused in Russian, nothing stored
    refused = client.post(f"{BASE}/calls/{call_id}", data={
        **base, "q__management_contact": "0", "q__management_openness": "8", **OUTCOME})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "задаётся, только если на вопрос «Приходилось ли Вам обращаться к руководству ЦЗН?» " \
           "ответили «Да»" in html
    assert rows(app, Response) == [] and rows(app, ContactCall)[0].ended_at is None

    stored = client.post(f"{BASE}/calls/{call_id}", data={
        **base, "q__management_contact": "1", "q__management_openness": "8", **OUTCOME})
    assert stored.status_code == 303
    answers = {a.item: a.value for a in rows(app, Answer)}
    assert answers == {"management_contact": 1, "management_openness": 8}


@pytest.mark.parametrize("field, raw, message", [
    ("q__prof_competence", "11", "Выберите оценку от 1 до 10 или «Затрудняюсь ответить»."),
    ("q__prof_competence", "9.5", "Выберите оценку от 1 до 10 или «Затрудняюсь ответить»."),
    ("q__management_contact", "na", "На этот вопрос нужен ответ «Да» или «Нет»."),
    ("q__preferred_channel", "pigeon", "Выберите один из перечисленных ответов."),
    ("q__no_such_item", "5", "Неизвестный вопрос «no_such_item»."),
])
def test_an_invalid_answer_gets_a_russian_message_and_nothing_is_stored(
        client, app, operator, field, raw, message):
    call_id, _office = start_call(client, app)
    refused = client.post(f"{BASE}/calls/{call_id}", data={
        "respondent_type": "job_seeker", "q__comm_competence": "7", field: raw, **OUTCOME})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert message in html
    assert "Звонок не сохранён: исправьте отмеченные поля." in html
    assert rows(app, Response) == [] and rows(app, Answer) == []
    assert rows(app, ContactCall)[0].ended_at is None


def test_the_outcome_and_the_respondent_type_are_checked(client, app, operator):
    call_id, _office = start_call(client, app)
    refused = client.post(f"{BASE}/calls/{call_id}", data={
        "q__prof_competence": "9", "transfers": "два", "waiting_seconds": "-5"})
    assert refused.status_code == 400
    found = errors_in(refused.get_data(as_text=True))
    assert "Укажите, кто звонит (соискатель или работодатель), или отметьте, что абонент " \
           "отказался от опроса." in found
    assert "Отметьте, решён ли вопрос во время этого звонка." in found
    assert "Укажите число переключений: целое число от 0 до 100." in found
    assert "Укажите целое число секунд, например 45." in found
    assert "Выберите тему звонка." in found
    assert rows(app, Response) == [] and rows(app, ContactCall)[0].ended_at is None


def test_digits_of_other_scripts_are_a_clear_message(client, app, operator):
    """«²» and «٣» are digits to Python's isdigit() but not to int(): no 500."""
    call_id, _office = start_call(client, app)
    refused = client.post(f"{BASE}/calls/{call_id}", data={
        "respondent_type": "job_seeker", "q__prof_competence": "²", **OUTCOME,
        "waiting_seconds": "٣"})
    assert refused.status_code == 400
    found = errors_in(refused.get_data(as_text=True))
    assert any("от 1 до 10" in message for message in found), found
    assert "Укажите целое число секунд, например 45." in found
    assert rows(app, Response) == []


def test_a_declined_survey_records_the_outcome_only(client, app, operator):
    call_id, _office = start_call(client, app, line="")
    saved = client.post(f"{BASE}/calls/{call_id}", data={
        "respondent_type": "declined", **OUTCOME, "handling_seconds": ""})
    assert saved.status_code == 303
    (call,) = rows(app, ContactCall)
    assert call.response_id is None and call.line is None
    assert call.handling_seconds is not None and call.handling_seconds >= 0  # from the clock
    assert rows(app, Response) == []


def test_saving_the_same_call_again_does_not_duplicate(client, app, operator):
    call_id, _office = start_call(client, app)
    data = {"respondent_type": "job_seeker", **ANSWERS, **OUTCOME}
    assert client.post(f"{BASE}/calls/{call_id}", data=data).status_code == 303
    again = client.post(f"{BASE}/calls/{call_id}",
                        data={**data, "q__prof_competence": "1", "topic": "other"})
    assert again.status_code == 303
    follow = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Этот звонок уже записан; ничего не изменено." in follow
    (response,) = rows(app, Response)
    assert {a.item: a.value for a in rows(app, Answer)}["prof_competence"] == 9
    (call,) = rows(app, ContactCall)
    assert call.topic == "benefit" and call.response_id == response.id

    # the client key is the call's: intake itself recognises a repeated delivery
    from cci.collection.intake import Submission
    from cci.collection.intake import submit
    with app.app_context():
        again_response, created = submit(Submission(
            office_id=response.office_id, respondent_type="job_seeker",
            answers={"prof_competence": 3}, client_key=f"call:{call_id}",
            channel="contact_center"))
        assert not created and again_response.id == response.id
    assert len(rows(app, Response)) == 1


def test_without_a_campaign_only_the_outcome_is_recorded(client, app, make_user, login, tenants):
    login(make_user("operator", "RU-BRY"))
    call_id, _office = start_call(client, app)
    page = client.get(f"{BASE}/calls/{call_id}").get_data(as_text=True)
    assert "только исход звонка" in page and 'name="respondent_type"' not in page
    assert client.post(f"{BASE}/calls/{call_id}", data=OUTCOME).status_code == 303
    (call,) = rows(app, ContactCall)
    assert call.campaign_id is None and call.ended_at is not None and call.response_id is None


# --- the mystery call ----------------------------------------------------------------------------

MYSTERY_2023 = ["greeting_script", "reached_60s", "max_one_transfer", "complete_answer",
                "next_step_offered"]


def mystery_values(present):
    return {f"value__{key}": "yes" if key in present else "no" for key in MYSTERY_2023}


def test_the_mystery_call_checklist_is_saved_at_the_sets_level(client, app, make_user, login,
                                                               campaign):
    # BRY is centralized: under cci-2023 the contact-centre checklist is filled for the region
    login(make_user("auditor", "RU-BRY"))
    page = client.get(f"{BASE}/mystery-call")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "O-III.4" in html and "Весь регион" in html
    assert re.findall(r'name="value__(\w+)"', html)[::2] == MYSTERY_2023
    saved = client.post(f"{BASE}/mystery-call?campaign={campaign}", data={
        **mystery_values({"greeting_script", "reached_60s", "complete_answer"}),
        "evidence__reached_60s": "Ожидание 41 с"})
    assert saved.status_code == 303
    assert "Чек-лист «тайного звонка» сохранён." in client.get(
        saved.headers["Location"]).get_data(as_text=True)
    (row,) = rows(app, Checklist)
    assert (row.office_id, row.indicator, row.campaign_id) == (None, "O-III.4", campaign)
    assert row.values == {"greeting_script": True, "reached_60s": True,
                          "max_one_transfer": False, "complete_answer": True,
                          "next_step_offered": False}
    assert row.evidence == {"reached_60s": "Ожидание 41 с"}
    assert row.auditor_id is not None
    assert [e.action for e in rows(app, AuditEntry, AuditEntry.action.startswith("checklist."))] \
        == ["checklist.create"]

    # an incomplete form is refused in Russian
    client.post("/logout")
    kya_office = offices(app, "RU-KYA")[1]
    login(make_user("auditor", "RU-KYA"))
    refused = client.post(f"/r/RU-KYA/contact/mystery-call?campaign={campaign}"
                          f"&office={kya_office}", data={"value__greeting_script": "yes"})
    assert refused.status_code == 400
    assert "Выберите «Есть» или «Нет»." in refused.get_data(as_text=True)
    # KYA is decentralized: filled per office
    saved = client.post(f"/r/RU-KYA/contact/mystery-call?campaign={campaign}"
                        f"&office={kya_office}", data=mystery_values(set(MYSTERY_2023)))
    assert saved.status_code == 303
    kya = rows(app, Checklist, Checklist.office_id.is_not(None))
    assert [(r.office_id, r.indicator) for r in kya] == [(kya_office, "O-III.4")]
    # an office of another region is not found
    bry_office = offices(app, "RU-BRY")[0]
    assert client.get(f"/r/RU-KYA/contact/mystery-call?campaign={campaign}"
                      f"&office={bry_office}").status_code == 404


def test_an_operator_cannot_fill_the_mystery_call(client, operator, campaign):
    assert client.get(f"{BASE}/mystery-call").status_code == 403


# --- telephony statistics ------------------------------------------------------------------------

HEADER = ("Дата;Линия;Поступило;Принято;Потеряно;Среднее ожидание, с;Обработка всего, с;"
          "Принято за 20 с")
GOOD_ROWS = [
    "01.11.2025;8-800;100;90;10;30;18000;72",
    "02.11.2025;8-800;50;45;5;20;9000;40",
    "01.11.2025;Линия 2;20;18;2;10,5;3600;17",
]


def csv_file(lines, encoding="cp1251"):
    return "\r\n".join([HEADER, *lines]).encode(encoding)


def upload(client, data, name="телефония.csv", region="RU-BRY"):
    import io
    return client.post(f"/r/{region}/contact/telephony",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def imported(client, app, data, name="телефония.csv", region="RU-BRY"):
    """Upload, run the import's job with a real worker, and return its page."""
    response = upload(client, data, name, region)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert re.search(r"/contact/telephony/imports/\d+$", response.headers["Location"])
    work(app)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.fixture
def regional_admin(make_user, login, tenants):
    email = make_user("regional_admin", "RU-BRY")
    login(email)
    return email


def add_calls(app, region="RU-BRY", resolved=7, escalated=2, transfers=(1, 1, 3),
              total=10, day=dt.datetime(2025, 11, 10, 8, 0, tzinfo=dt.UTC)):
    """``total`` completed calls in the console: ``resolved`` resolved at the first contact,
    ``escalated`` escalated, the ``transfers`` spread over the first calls; one open call."""
    with app.app_context(), tenancy.federal_scope("test"):
        region_row = db.scalar(select(Region).where(Region.code == region))
        office = db.scalar(select(Office.id).where(Office.region_id == region_row.id)
                           .order_by(Office.code))
        operator_id = db.scalar(select(User.id).order_by(User.id))
        for number in range(total):
            db.add(ContactCall(
                region_id=region_row.id, office_id=office, operator_id=operator_id,
                line="8-800", started_at=day, ended_at=day + dt.timedelta(minutes=4),
                resolved_first_contact=number < resolved, escalated=number < escalated,
                transfers=transfers[number] if number < len(transfers) else 0,
                waiting_seconds=30, handling_seconds=240, topic="vacancies"))
        db.add(ContactCall(region_id=region_row.id, office_id=office, operator_id=operator_id,
                           line="8-800", started_at=day))  # still in progress: not counted
        db.commit()


def test_telephony_import_and_the_figures_computed_by_the_database(client, app,
                                                                    regional_admin):
    page = client.get(f"{BASE}/telephony")
    assert page.status_code == 200 and "Принято за 20 с" in page.get_data(as_text=True)
    done = upload(client, csv_file(GOOD_ROWS))
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    assert rows(app, TelephonyStat) == [], "the file is read by a job, not by the request"
    waiting = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "в очереди" in waiting and "hx-trigger" in waiting
    work(app)
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "новых — 3, обновлённых — 0, без изменений — 0" in html
    assert "hx-trigger" not in html
    assert "from=2025-11-01&amp;to=2025-11-02&amp;group=day" in html
    assert len(rows(app, TelephonyStat)) == 3
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "telephony.import")
    assert entry.after["created"] == 3
    add_calls(app, total=10, resolved=7, escalated=2, transfers=(1, 1, 3))

    bry = rows(app, Region, Region.code == "RU-BRY")[0]
    with app.test_request_context(), tenancy.region_scope(bry.id):
        month = fig.Filters(group="month")
        by_line = {row.line: row for row in fig.telephony_rows(month)}
        hotline, everything = by_line["8-800"], by_line[None]
        assert hotline.period == (2025, 11, None)
        assert hotline.counts == {"days": 2, "offered": 150, "answered": 135, "abandoned": 15,
                                  "within_20s": 112}
        # ASA: (30 s × 90 + 20 s × 45) / 135 answered; AHT: (18000 + 9000) s / 135
        assert hotline.figures["asa"].value == pytest.approx(3600 / 135)
        assert hotline.figures["asa"].n == 135
        assert hotline.figures["aht"].value == pytest.approx(200.0)
        abandonment = hotline.figures["abandonment"]
        assert (abandonment.value, abandonment.n, abandonment.positive) == (0.1, 150, 15)
        assert abandonment.ci_low == pytest.approx(0.06154, abs=1e-5)
        assert abandonment.ci_high == pytest.approx(0.15843, abs=1e-5)
        level = hotline.figures["service_level"]
        assert level.value == pytest.approx(112 / 150) and level.n == 150
        assert (level.ci_low, level.ci_high) == pytest.approx((0.67151, 0.80951), abs=1e-5)
        # all lines: (3600 + 10.5 s × 18) / 153; 129 of 170 within 20 s
        assert everything.figures["asa"].value == pytest.approx(3789 / 153)
        assert everything.figures["service_level"].value == pytest.approx(129 / 170)
        assert everything.figures["abandonment"].n == 170
        # by day and for one line only
        days = fig.telephony_rows(fig.Filters(group="day", line="8-800"))
        assert [(r.period, r.line, r.counts["offered"]) for r in days] == [
            ((2025, 11, 1), "8-800", 100), ((2025, 11, 1), None, 100),
            ((2025, 11, 2), "8-800", 50), ((2025, 11, 2), None, 50)]
        # the calls recorded in the console: FCR 7/10, ER 2/10, 5 transfers over 10 calls
        (calls_line, calls_all) = fig.call_rows(month, bry.timezone)
        fcr = calls_all.figures["fcr"]
        assert (fcr.value, fcr.n, fcr.positive) == (0.7, 10, 7)
        assert (fcr.ci_low, fcr.ci_high) == pytest.approx((0.39678, 0.89221), abs=1e-5)
        er = calls_all.figures["er"]
        assert (er.value, er.n) == (0.2, 10)
        assert (er.ci_low, er.ci_high) == pytest.approx((0.05668, 0.50984), abs=1e-5)
        assert calls_all.figures["transfers"].value == pytest.approx(0.5)
        assert calls_line.line == "8-800" and calls_line.counts == {"calls": 10}
        # a date range outside the data has nothing
        empty = fig.Filters(date_from=dt.date(2025, 12, 1), group="all")
        assert fig.telephony_rows(empty) == [] and fig.call_rows(empty, bry.timezone) == []

    html = client.get(f"{BASE}/figures?from=2025-11-01&to=2025-11-30&group=month").get_data(
        as_text=True)
    for text in ("26,7", "200,0", "10,0\u202f%", "74,7\u202f%", "6,2–15,8\u202f%", "70,0\u202f%",
                 "39,7–89,2\u202f%",
                 "0,50", "n=150", "n=10"):
        assert text in html, text
    # each figure with its definition
    assert "Обращения, решённые при первом обращении / все обращения, в %." in html
    assert "Вызовы, принятые в течение 20 секунд / поступившие вызовы, в %" in html
    assert "Обращения, переданные руководителю, на вторую линию или специалисту / все " \
           "обращения, в %." in html


def test_importing_the_same_file_again_changes_nothing(client, app, regional_admin):
    imported(client, app, csv_file(GOOD_ROWS))
    before = {(r.day, r.line): (r.id, r.answered, r.wait_seconds_total)
              for r in rows(app, TelephonyStat)}
    message = imported(client, app, csv_file(GOOD_ROWS, encoding="utf-8-sig"), name="again.csv")
    assert "новых — 0, обновлённых — 0, без изменений — 3" in message
    assert {(r.day, r.line): (r.id, r.answered, r.wait_seconds_total)
            for r in rows(app, TelephonyStat)} == before
    # a corrected day replaces its figures, keyed by (date, line)
    imported(client, app, csv_file(["02.11.2025;8-800;50;46;4;20;9000;40"]))
    stored = {(r.day, r.line): r for r in rows(app, TelephonyStat)}
    assert len(stored) == 3
    assert stored[(dt.date(2025, 11, 2), "8-800")].answered == 46
    assert stored[(dt.date(2025, 11, 2), "8-800")].wait_seconds_total == 920.0


def test_a_bad_row_reports_row_and_column_and_stores_nothing(client, app, regional_admin):
    html = imported(client, app, csv_file([
        GOOD_ROWS[0],
        "02.11.2025;8-800;50;55;5;20;9000;40",
        "03.11.2025;8-800;пятьдесят;45;5;20;9000;40",
        "31.02.2025;8-800;50;45;5;20;9000;40",
        GOOD_ROWS[0],
    ]))
    assert "Файл не загружен: 4 ошибки." in html
    assert "Строка 3, столбец Принято: принято (55) и потеряно (5) вместе больше, чем " \
           "поступило (50)" in html
    assert "Строка 4, столбец Поступило: «пятьдесят» — не число: нужно целое число" in html
    assert "Строка 5, столбец Дата: «31.02.2025» — не дата: нужен формат ДД.ММ.ГГГГ" in html
    assert "Строка 6, столбец Линия: дата 01.11.2025 и линия «8-800» уже есть в строке 2" in html
    assert rows(app, TelephonyStat) == []

    missing = imported(client, app, "Дата;Линия;Поступило\r\n01.11.2025;8-800;5".encode("cp1251"))
    assert "Строка 1: нет обязательного столбца «Принято»" in missing
    assert rows(app, TelephonyStat) == []


def test_telephony_import_is_for_regional_administrators(client, operator):
    assert client.get(f"{BASE}/telephony").status_code == 403
    assert upload(client, csv_file(GOOD_ROWS)).status_code == 403
    assert client.get(f"{BASE}/figures").status_code == 200


def test_figures_and_imports_stay_within_the_region(client, app, make_user, login, tenants):
    login(make_user("regional_admin", "RU-KYA"))
    imported(client, app, csv_file(GOOD_ROWS), region="RU-KYA")
    add_calls(app, region="RU-KYA")
    client.post("/logout")
    login(make_user("regional_admin", "RU-BRY"))
    # the same (date, line) in another region is another row, not an update
    imported(client, app, csv_file(GOOD_ROWS[:1]))
    assert len(rows(app, TelephonyStat)) == 4
    bry = rows(app, Region, Region.code == "RU-BRY")[0]
    with app.test_request_context(), tenancy.region_scope(bry.id):
        (line_row, all_row) = fig.telephony_rows(fig.Filters(group="all"))
        assert all_row.counts["offered"] == 100 and line_row.counts["days"] == 1
        assert fig.call_rows(fig.Filters(group="all"), bry.timezone) == []
        assert fig.lines() == ["8-800"]
    html = client.get(f"{BASE}/figures?group=all").get_data(as_text=True)
    assert "Для этой выборки нет записанных звонков." in html
    assert "Линия 2" not in html


def test_a_telephony_bomb_is_read_by_a_job_within_the_bounds_and_refused(client, app,
                                                                          regional_admin):
    """The request stores the file and answers at once; the job refuses the workbook at the
    first cell past the column bound (read naively, 3,000 rows × 16,384 cells), once."""
    from cci_channel_contact.models import TelephonyImport
    from test_import_bounds import workbook_bytes

    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>Дата</t></is></c></row>'
    bomb = workbook_bytes((None, [header], '<row r="{n}"><c r="XFD{n}" s="1"/></row>×3000'))
    started = time.monotonic()
    response = upload(client, bomb, name="телефония.xlsx")
    assert response.status_code == 303
    assert time.monotonic() - started < 1.0
    (stored,) = rows(app, TelephonyImport)
    assert (stored.status, stored.size) == ("queued", len(bomb))
    work(app)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Файл не загружен: 1 ошибка." in html
    assert "Строка 2: ячейка XFD2 — дальше 500-го столбца: удалите лишние столбцы" in html
    assert time.monotonic() - started < 5.0
    (stored,) = rows(app, TelephonyImport)
    (job,) = rows(app, JobRecord)
    assert stored.status == "failed" and stored.result["error_count"] == 1
    assert (job.status, job.attempts) == ("finished", 1)
    assert rows(app, TelephonyStat) == []


def test_an_import_page_of_another_region_is_not_found(client, app, make_user, login, tenants):
    login(make_user("regional_admin", "RU-KYA"))
    response = upload(client, csv_file(GOOD_ROWS), region="RU-KYA")
    assert response.status_code == 303
    client.post("/logout")
    login(make_user("regional_admin", "RU-BRY"))
    foreign = response.headers["Location"].replace("RU-KYA", "RU-BRY")
    assert client.get(foreign).status_code == 404


def test_a_telephony_upload_when_the_queue_is_down_is_kept_failed_and_said(
        client, app, regional_admin, monkeypatch):
    from cci.plugin_api import JobError

    from cci_channel_contact import telephony
    from cci_channel_contact.models import TelephonyImport

    def unavailable(*_args, **_kwargs):
        raise JobError("connection refused")

    monkeypatch.setattr(telephony, "enqueue_job", unavailable)
    response = upload(client, csv_file(GOOD_ROWS))
    assert response.status_code == 503
    assert "Очередь задач недоступна" in response.get_data(as_text=True)
    (stored,) = rows(app, TelephonyImport)
    assert stored.status == "failed"
    assert stored.result["errors"][0]["text"] == "Файл: очередь задач недоступна"
    assert rows(app, TelephonyStat) == []
