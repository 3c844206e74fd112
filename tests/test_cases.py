"""Cases: comments and low ratings become cases for the office, once per source row (a job and
a command that can run again); the low-rating rule; a respondent's e-mail address kept apart
and only with consent; the answer e-mailed through a real local SMTP server; the address
purged when the case closes; the public «Вы сказали — мы сделали» page without personal data;
the API without personal data; regions and offices kept apart; every act audited."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import cases
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation import worker
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import AuditEntry
from cci.foundation.models import Case
from cci.foundation.models import CaseContact
from cci.foundation.models import CaseTheme
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import TouchpointAnswer
from cci.foundation.models import User
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import work

from mail_server import body
from mail_server import local_smtp
from test_kiosk import answers_for
from test_web_survey import begin
from test_web_survey import indicator_set
from test_web_survey import token_of
from test_web_survey import walk

NOW = dt.datetime.now(dt.UTC)
PERSONAL = "Звоните +7 912 345-67-89, пишите ivan@mail.ru, спросите Иванову Марию Петровну"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(autouse=True)
def _surveys_may_be_quick(app, monkeypatch):
    """The tests' surveys are answered in a second: the "too fast" rule is off here."""
    monkeypatch.setitem(app.config, "QUALITY_RULES", {"too_fast": {"enabled": False}})


def _answers(app) -> dict:
    """A questionnaire's answers that no quality rule flags (the scale ones vary)."""
    varied = answers_for(app)
    for number, key in enumerate(k for k, v in varied.items() if v == "8"):
        varied[key] = str(5 + number % 6)
    return varied


def _region(app, code: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Region.id).where(Region.code == code))


def _touchpoint(app, office_id: int, question: str, value: int, comment: str | None = None,
                touchpoint: str = "office", counted: bool = True,
                when: dt.datetime | None = None) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        office = db.get(Office, office_id)
        row = TouchpointAnswer(region_id=office.region_id, office_id=office_id,
                               touchpoint=touchpoint, question=question, value=value,
                               channel="web", comment=comment, counted=counted,
                               submitted_at=when or NOW - dt.timedelta(hours=1))
        db.add(row)
        db.commit()
        return row.id


def _cases(app) -> list[Case]:
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.scalars(select(Case).order_by(Case.id)).all()
        for row in rows:
            db.expunge(row)
        return rows


def _themes(app, case_id: int) -> set[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return set(db.scalars(select(CaseTheme.theme).where(CaseTheme.case_id == case_id)))


def _contacts(app) -> list[tuple[int, str]]:
    with app.app_context(), tenancy.federal_scope("test"):
        return [(c.case_id, c.email) for c in db.scalars(select(CaseContact))]


def _user_id(app, email: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User.id).where(User.email == email))


# --- the rule and the collection ----------------------------------------------------------------


def test_a_low_rating_is_the_worst_two_fifths_of_the_scale():
    assert list(cases.low_values(1, 5)) == [1, 2]
    assert list(cases.low_values(0, 10)) == [0, 1, 2, 3]
    assert list(cases.low_values(1, 5, "lower")) == [4, 5]  # the worst end of a "lower" metric
    assert list(cases.low_values(1, 2)) == [1]  # at least one point


def test_the_installed_questions_read_the_rule(app):
    with app.app_context():
        assert cases.is_low("csat", 2) and not cases.is_low("csat", 3)
        assert cases.is_low("window_rating", 1) and not cases.is_low("window_rating", 4)
        assert cases.is_low("nps", 3) and not cases.is_low("nps", 4)
        assert not cases.is_low("no_such_question", 1)


def test_new_cases_are_told_to_the_offices_handlers_once_per_office_and_round(
        app, runner, live_campaign, make_user):
    from cci.foundation.models import Notification

    first, second = offices(app, "RU-BRY")[:2]
    head = make_user("regional_admin", "RU-BRY", email="head@bry.example.ru")
    auditor = make_user("auditor", "RU-BRY", email="auditor@bry.example.ru", office_id=first)
    make_user("operator", "RU-BRY", email="operator@bry.example.ru", office_id=first)
    make_user("auditor", "RU-BRY", email="other@bry.example.ru", office_id=second)
    for value in (1, 2):
        _touchpoint(app, first, "csat", value)
    runner.invoke(args=["cases", "collect"])

    def told() -> list[tuple[str, str, str]]:
        with app.app_context(), tenancy.federal_scope("test"):
            return sorted((db.get(User, n.user_id).email, n.title, n.url)
                          for n in db.scalars(select(Notification)))

    office_name = _office_name(app, first)
    url = f"/r/RU-BRY/cases/?office={first}&status=new"
    assert told() == [(auditor, f"Новых обращений: 2, {office_name}", url),
                      (head, f"Новых обращений: 2, {office_name}", url)]
    runner.invoke(args=["cases", "collect"])  # nothing new: nobody told again
    assert len(told()) == 2
    _touchpoint(app, first, "csat", 1)
    runner.invoke(args=["cases", "collect"])
    assert [t[1] for t in told()].count(f"Новых обращений: 1, {office_name}") == 2


def _office_name(app, office_id: int) -> str:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.get(Office, office_id).name


def test_comments_and_low_ratings_become_cases_once(app, runner, live_campaign):
    first, second = offices(app, "RU-BRY")[:2]
    commented, _ = answer(app, first, _answers(app), when=NOW - dt.timedelta(hours=2),
                          comment="Жарко, нет кулера с водой")
    answer(app, second, _answers(app), when=NOW - dt.timedelta(hours=2))  # no comment
    low = _touchpoint(app, second, "window_rating", 2, touchpoint="specialist_window")
    remarked = _touchpoint(app, first, "csat", 5, comment="Спасибо, всё быстро")
    low_nps = _touchpoint(app, first, "nps", 3)
    _touchpoint(app, first, "nps", 4)  # not low
    _touchpoint(app, first, "csat", 5)  # high, no comment
    _touchpoint(app, first, "csat", 1, counted=False)  # flagged by a quality rule
    _touchpoint(app, first, "csat", 1, when=NOW - dt.timedelta(days=200))  # too old
    _touchpoint(app, first, "csat", 4, comment="   ")  # blanks are no comment

    result = runner.invoke(args=["cases", "collect"])
    assert result.exit_code == 0, result.output
    assert "cases created: 4" in result.output
    again = runner.invoke(args=["cases", "collect"])
    assert "cases created: 0" in again.output

    made = {(c.source_kind, c.source_id): c for c in _cases(app)}
    assert set(made) == {("response", commented), ("touchpoint", low),
                         ("touchpoint", remarked), ("touchpoint", low_nps)}
    index_case = made[("response", commented)]
    assert (index_case.office_id, index_case.status, index_case.rating) == (first, "new", None)
    assert index_case.comment == "Жарко, нет кулера с водой"
    assert _themes(app, index_case.id) == {"office_comfort"}
    rating_case = made[("touchpoint", low)]
    assert (rating_case.office_id, rating_case.touchpoint, rating_case.question) == (
        second, "specialist_window", "window_rating")
    assert (rating_case.rating, rating_case.scale_low, rating_case.scale_high) == (2, 1, 5)
    assert rating_case.comment is None and _themes(app, rating_case.id) == set()
    assert _themes(app, made[("touchpoint", remarked)].id) == {"gratitude"}


def test_the_job_is_queued_at_most_once_a_period_and_makes_the_cases(app, live_campaign):
    office = offices(app, "RU-BRY")[0]
    _touchpoint(app, office, "csat", 1)
    redis = app.extensions["cci.redis"]
    redis.delete("cci:cases-collect")
    app.extensions.pop("cci.cases_collect_seen", None)
    assert cases.schedule_collect in app.extensions["cci.maintenance"]
    with app.app_context():
        cases.schedule_collect()
        cases.schedule_collect()  # within the period: nothing more
        app.extensions.pop("cci.cases_collect_seen", None)  # another process, same period
        cases.schedule_collect()
        with tenancy.federal_scope("test"):
            from cci.foundation.models import JobRecord

            queued = db.scalars(select(JobRecord).where(
                JobRecord.name == cases.COLLECT_JOB)).all()
    assert len(queued) == 1
    work(app)
    assert [(c.source_kind, c.rating) for c in _cases(app)] == [("touchpoint", 1)]


def test_the_workers_maintenance_round_queues_the_collection(app, live_campaign):
    _touchpoint(app, offices(app, "RU-BRY")[0], "window_rating", 1,
                touchpoint="specialist_window")
    app.extensions["cci.redis"].delete("cci:cases-collect")
    app.extensions.pop("cci.cases_collect_seen", None)
    worker.reconcile(app)
    work(app)
    assert [(c.source_kind, c.rating) for c in _cases(app)] == [("touchpoint", 1)]


# --- the respondent's contact --------------------------------------------------------------------


def _finished_survey(app, client, comment: str) -> str:
    first = begin(client)
    token = token_of(first)
    scale = [item.key for item in indicator_set(app).items if item.kind == "scale"]
    varied = {key: str(5 + number % 6) for number, key in enumerate(scale)}
    _visited, last = walk(app, client, first, comment=comment, answers=varied)
    assert last == f"/s/a/{token}/done"
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalar(select(Response).where(Response.client_key == f"web:{token}"))
        assert stored.counted, stored.quality_flags
    return token


def test_the_web_survey_offers_a_contact_that_needs_consent(app, client, live_campaign):
    token = _finished_survey(app, client, "Долго ждал в очереди")
    thanks = client.get(f"/s/a/{token}/done").get_data(as_text=True)
    assert "Хотите получить ответ?" in thanks and 'name="consent"' in thanks
    assert "/s/RU-BRY/BRY-01/you-said" in thanks

    refused = client.post(f"/s/a/{token}/contact", data={"email": "me@example.ru"})
    assert refused.status_code == 400
    assert "без вашего согласия он не хранится" in refused.get_data(as_text=True)
    bad = client.post(f"/s/a/{token}/contact", data={"email": "не адрес", "consent": "yes"})
    assert bad.status_code == 400
    assert _contacts(app) == [] and _cases(app) == []

    kept = client.post(f"/s/a/{token}/contact",
                       data={"email": " me@example.ru ", "consent": "yes"})
    assert kept.status_code == 200
    assert "Адрес сохранён" in kept.get_data(as_text=True)
    (case,) = _cases(app)  # made at once, not waiting for the job
    assert case.source_kind == "response" and case.comment == "Долго ждал в очереди"
    assert _contacts(app) == [(case.id, "me@example.ru")]
    with app.app_context(), tenancy.federal_scope("test"):
        contact = db.scalar(select(CaseContact))
        assert "удалил его после закрытия обращения" in contact.consent_text
        # kept apart: the response holds no trace of the address
        response = db.get(Response, case.source_id)
        assert "me@example.ru" not in repr((response.comment, response.meta, response.profile))
    # once given, the form is not offered again
    assert 'name="consent"' not in client.get(f"/s/a/{token}/done").get_data(as_text=True)


def test_a_closed_case_takes_no_address_any_more(app, client, make_user, live_campaign):
    token = _finished_survey(app, client, "Не дозвонился")
    head = make_user("regional_admin", "RU-BRY")
    with app.app_context(), tenancy.region_scope(_region(app, "RU-BRY"), "test"):
        cases.collect()
        (case,) = db.scalars(select(Case)).all()
        cases.close(case, db.get(User, _user_id(app, head)))
        db.commit()
    assert 'name="consent"' not in client.get(f"/s/a/{token}/done").get_data(as_text=True)
    late = client.post(f"/s/a/{token}/contact", data={"email": "me@example.ru",
                                                      "consent": "yes"})
    assert late.status_code == 400
    assert "ответ уже не ожидается" in late.get_data(as_text=True)
    assert _contacts(app) == []


def test_a_survey_without_a_comment_offers_no_contact(app, client, live_campaign):
    token = _finished_survey(app, client, "")
    thanks = client.get(f"/s/a/{token}/done").get_data(as_text=True)
    assert 'name="consent"' not in thanks and "you-said" in thanks
    client.post(f"/s/a/{token}/contact", data={"email": "me@example.ru", "consent": "yes"})
    assert _contacts(app) == []


def test_a_low_touchpoint_rating_offers_a_contact(app, client, tenants):
    url = "/s/RU-BRY/BRY-01/t/specialist_window/window_rating"
    high = client.post(url, data={"answer": "5", "key": uuid.uuid4().hex}).get_data(as_text=True)
    assert "Спасибо" in high and 'name="consent"' not in high
    key = uuid.uuid4().hex
    low = client.post(url, data={"answer": "2", "key": key})
    assert low.status_code == 200 and 'name="consent"' in low.get_data(as_text=True)
    assert client.post(url + "/contact", data={"key": uuid.uuid4().hex, "email": "a@b.ru",
                                               "consent": "yes"}).status_code == 404
    refused = client.post(url + "/contact", data={"key": key, "email": "a@b.ru"})
    assert refused.status_code == 400 and _contacts(app) == []
    kept = client.post(url + "/contact", data={"key": key, "email": "a@b.ru", "consent": "yes"})
    assert kept.status_code == 200
    (case,) = _cases(app)
    assert (case.source_kind, case.rating) == ("touchpoint", 2)
    assert _contacts(app) == [(case.id, "a@b.ru")]


# --- working on a case ---------------------------------------------------------------------------


@pytest.fixture
def contact_case(app, client, live_campaign):
    """A finished web survey with a comment full of personal data and a consented address."""
    token = _finished_survey(app, client, PERSONAL + ". Жарко в зале")
    client.post(f"/s/a/{token}/contact", data={"email": "resp@example.ru", "consent": "yes"})
    (case,) = _cases(app)
    return case.id


def test_the_answer_reaches_the_respondent_and_closing_purges_the_address(
        app, client, make_user, login, contact_case):
    head = make_user("regional_admin", "RU-BRY", email="head@bry.example.ru")
    login(head)
    listing = _text(client.get("/r/RU-BRY/cases/?status=new").get_data(as_text=True))
    assert "1 обращение" in listing and "Жарко в зале" in listing
    assert "ivan@mail.ru" not in listing and "345-67-89" not in listing
    page = client.get(f"/r/RU-BRY/cases/{contact_case}").get_data(as_text=True)
    assert "[телефон]" in page and "[e-mail]" in page and "[имя]" in page
    for secret in ("ivan@mail.ru", "345-67-89", "Иванову", "resp@example.ru"):
        assert secret not in page, secret

    # closing first is refused: the respondent waits for the answer
    refused = client.post(f"/r/RU-BRY/cases/{contact_case}", data={"act": "close"})
    assert refused.status_code == 400 and "сначала ответьте" in refused.get_data(as_text=True)

    assigned = client.post(f"/r/RU-BRY/cases/{contact_case}",
                           data={"act": "assign", "assignee_id": _user_id(app, head)})
    assert assigned.status_code == 302
    assert _cases(app)[0].status == "in_progress"
    assert client.post(f"/r/RU-BRY/cases/{contact_case}",
                       data={"act": "answer", "answer": "  "}).status_code == 400
    with local_smtp(app) as inbox:
        answered = client.post(f"/r/RU-BRY/cases/{contact_case}", data={
            "act": "answer", "answer": "Мы поставили кондиционер в зале ожидания."})
        assert answered.status_code == 302
        (message,) = inbox.wait_for(1)
    assert inbox.recipients == [["resp@example.ru"]]
    assert "Мы поставили кондиционер в зале ожидания." in body(message)
    assert "ответ" in message["Subject"].lower()
    case = _cases(app)[0]
    assert case.status == "answered" and case.reply_sent_at is not None
    assert _contacts(app) == [(contact_case, "resp@example.ru")]

    closed = client.post(f"/r/RU-BRY/cases/{contact_case}", data={"act": "close"})
    assert closed.status_code == 302
    assert _cases(app)[0].status == "closed" and _contacts(app) == []
    again = client.post(f"/r/RU-BRY/cases/{contact_case}", data={"act": "close"})
    assert again.status_code == 400

    with app.app_context(), tenancy.federal_scope("test"):
        actions = [e.action for e in db.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "Case").order_by(AuditEntry.id))]
    assert actions == ["case.assign", "case.answer", "case.close"]
    log = _text(client.get("/r/RU-BRY/admin/audit").get_data(as_text=True))
    assert "Ответ на обращение" in log and "Обращение закрыто" in log


def test_a_refused_mail_saves_nothing(app, client, make_user, login, contact_case):
    login(make_user("regional_admin", "RU-BRY"))
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_STARTTLS=False)
    try:
        failed = client.post(f"/r/RU-BRY/cases/{contact_case}",
                             data={"act": "answer", "answer": "Ответ"})
    finally:
        app.config.update(SMTP_HOST="")
    assert failed.status_code == 400
    assert "Почтовый сервер не принял ответ" in failed.get_data(as_text=True)
    case = _cases(app)[0]
    assert case.answer is None and case.status == "new"
    assert _contacts(app) == [(contact_case, "resp@example.ru")]


def test_a_case_without_contact_is_answered_and_closed_without_mail(app, client, make_user,
                                                                   login, live_campaign):
    office = offices(app, "RU-BRY")[0]
    _touchpoint(app, office, "csat", 1)
    with app.app_context(), tenancy.federal_scope("test"):
        cases.collect_job(lambda *_: None)
    (case,) = _cases(app)
    login(make_user("auditor", "RU-BRY"))
    from cci.foundation import mail

    with app.app_context():
        sent_before = len(mail.outbox())
    client.post(f"/r/RU-BRY/cases/{case.id}", data={"act": "answer", "answer": "Разобрались"})
    client.post(f"/r/RU-BRY/cases/{case.id}", data={"act": "close"})
    closed = _cases(app)[0]
    assert closed.status == "closed" and closed.reply_sent_at is None
    page = client.get(f"/r/RU-BRY/cases/{case.id}").get_data(as_text=True)
    assert "<dt>Закрыто</dt>" in page  # a case is «закрыто»; the actions' heading «Закрыты»
    with app.app_context():
        assert len(mail.outbox()) == sent_before


# --- «Вы сказали — мы сделали» --------------------------------------------------------------------


def test_the_public_page_lists_resolved_themes_and_done_actions_without_personal_data(
        app, client, runner, make_user, contact_case):
    with app.app_context(), tenancy.federal_scope("test"):
        case = db.get(Case, contact_case)
        case.status, case.answer, case.closed_at = "closed", "Готово", utcnow()
        db.commit()
    # an action done on the region's map, its title naming a person and a phone
    from cci.foundation import improvement_actions
    from cci.foundation import journey_maps

    owner = make_user("regional_admin", "RU-BRY")
    runner.invoke(args=["maps", "seed"])
    with app.app_context(), tenancy.region_scope(_region(app, "RU-BRY"), "test"):
        region = db.get(Region, _region(app, "RU-BRY"))
        adopted = journey_maps.adopt(journey_maps.templates()[0], region, None, None)
        version = journey_maps.draft_of(adopted)
        action = improvement_actions.create(
            version, "search", "contact_centre", 1,
            {"title": "Поставили кулер, звонить Петрову 8 912 345 67 89", "owner_id":
             _user_id(app, owner), "due_on": dt.date.today()}, None)
        action.status, action.closed_at = "done", utcnow()
        db.commit()

    page = client.get("/s/RU-BRY/BRY-01/you-said")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    assert "Вы сказали — мы сделали" in text
    assert "Комфорт в офисе ЦЗН (вода, кондиционер) 1" in text
    assert "Всего закрыто 1 обращение." in text
    assert "Поставили кулер" in text
    for secret in ("ivan@mail.ru", "345-67-89", "345 67 89", "Иванову", "resp@example.ru",
                   "Петрову", "Жарко в зале", owner):
        assert secret not in text, secret
    assert client.get("/s/RU-BRY/NO-SUCH/you-said").status_code == 404


# --- isolation and the API -----------------------------------------------------------------------


def test_another_regions_or_offices_user_cannot_open_a_case(app, client, make_user, login,
                                                            contact_case):
    login(make_user("regional_admin", "RU-VLA"))
    assert client.get(f"/r/RU-VLA/cases/{contact_case}").status_code == 404
    assert client.get(f"/r/RU-BRY/cases/{contact_case}").status_code == 404
    client.post("/logout")
    with app.app_context(), tenancy.federal_scope("test"):
        other = db.scalar(select(Office.id).where(Office.code == "BRY-02"))
    login(make_user("auditor", "RU-BRY", office_id=other))
    assert client.get(f"/r/RU-BRY/cases/{contact_case}").status_code == 404
    assert "Жарко" not in client.get("/r/RU-BRY/cases/").get_data(as_text=True)


def _token(app, make_user, role, region):
    email = make_user(role, region)
    with app.app_context(), tenancy.federal_scope("test"):
        _row, text = tokens.issue(db.scalar(select(User).where(User.email == email)), "t")
        db.commit()
    return {"Authorization": f"Bearer {text}"}


def test_the_api_serves_cases_without_personal_data(app, client, make_user, contact_case):
    headers = _token(app, make_user, "regional_admin", "RU-BRY")
    listing = client.get("/api/v1/cases?status=new", headers=headers)
    assert listing.status_code == 200
    (item,) = listing.json["items"]
    assert item["id"] == contact_case and item["source"] == "response"
    assert "office_comfort" in item["themes"]
    raw = listing.get_data(as_text=True)
    for secret in ("ivan@mail.ru", "345-67-89", "Иванову", "resp@example.ru", "email"):
        assert secret not in raw, secret
    assert client.get("/api/v1/cases?status=closed", headers=headers).json["total"] == 0
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(Case, contact_case).answer = "Уважаемая Мария Петровна, кондиционер поставлен"
        db.commit()
    served = client.get(f"/api/v1/cases/{contact_case}", headers=headers).json
    assert served["answer"] == "Уважаемая [имя], кондиционер поставлен"
    assert client.get("/api/v1/cases?status=nonsense", headers=headers).status_code == 422
    assert client.get(f"/api/v1/cases/{contact_case}", headers=headers).json["id"] == contact_case

    foreign = _token(app, make_user, "regional_admin", "RU-VLA")
    assert client.get(f"/api/v1/cases/{contact_case}", headers=foreign).status_code == 404
    assert client.get("/api/v1/cases", headers=foreign).json["items"] == []
    operator = _token(app, make_user, "operator", "RU-BRY")
    assert client.get("/api/v1/cases", headers=operator).status_code == 403
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(CaseContact)) == 1


def test_the_menu_offers_cases_to_their_handlers_only(client, make_user, login, tenants):
    login(make_user("auditor", "RU-BRY"))
    assert 'href="/r/RU-BRY/cases/"' in client.get("/r/RU-BRY/").get_data(as_text=True)
    assert client.get("/r/RU-BRY/cases/").status_code == 200
    client.post("/logout")
    login(make_user("operator", "RU-BRY"))
    assert 'href="/r/RU-BRY/cases/"' not in client.get("/r/RU-BRY/").get_data(as_text=True)
    assert client.get("/r/RU-BRY/cases/").status_code == 403
