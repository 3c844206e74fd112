"""The web survey channel through the Flask client: the flow, drafts, strict validation,
invitations and the staff pages (poster with a QR code). No JavaScript: plain forms and
redirects; the htmx variant of a step is checked for its fragment and pushed address."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import survey
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Answer
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import Response
from cci.foundation.models import SurveyDraft
from cci.foundation.models import SurveyInvitation
from conftest import region_id

OFFICE_URL = "/s/RU-BRY/BRY-01"
STEP_URL = re.compile(r"^/s/a/(?P<token>[A-Za-z0-9_-]+)/(?P<step>[a-z_]+)$")


def indicator_set(app):
    return app.extensions["cci.registry"].indicator_set("cci-2023")


def expected_steps(app, rtype="job_seeker", answers=None):
    return [s.key for s in survey.steps_for(indicator_set(app), rtype, answers or {})]


def office_id(app, code="BRY-01"):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


def path_of(response) -> str:
    assert response.status_code == 303, (response.status_code,
                                         response.get_data(as_text=True)[:800])
    return urlsplit(response.headers["Location"]).path


def begin(client, rtype="job_seeker", url=OFFICE_URL) -> str:
    """Choose the respondent type; returns the first question's address."""
    return path_of(client.post(url, data={"respondent_type": rtype}))


def step_key(url: str) -> str:
    return STEP_URL.match(url)["step"]


def token_of(url: str) -> str:
    return STEP_URL.match(url)["token"]


def default_answer(item) -> str:
    if item.kind == "scale":
        return "8"
    if item.kind == "yesno":
        return "0"
    return item.options[0].key


def walk(app, client, url, answers=None, comment="", stop_before=None) -> tuple[list[str], str]:
    """Answer step by step from ``url`` (a default for anything not in ``answers``); returns
    the step keys visited and the last address (the thank-you page once finished)."""
    answers = answers or {}
    visited = []
    iset = indicator_set(app)
    while STEP_URL.match(url) and not url.endswith("/done"):
        key = step_key(url)
        if key == stop_before:
            break
        visited.append(key)
        page = client.get(url)
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        item = iset.item(key)
        if item.section == "comment":
            data = {"comment": answers.get(key, comment)}
        else:
            data = {"answer": answers.get(key, default_answer(item))}
        url = path_of(client.post(url, data=data))
    return visited, url


def responses(app):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalars(select(Response).order_by(Response.id)).all()


def answers_of(app, response_id):
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.scalars(select(Answer).where(Answer.response_id == response_id)).all()
        return {row.item: (row.value, row.choice) for row in rows}


def draft_of(app, token):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(SurveyDraft).where(SurveyDraft.token == token))


# --- the flow --------------------------------------------------------------------------------


def test_the_channel_is_a_plugin_behind_the_entry_point(app):
    channel = app.extensions["cci.registry"].channels["web"]
    assert channel.label == "Веб-анкета"
    assert {"ip_hash", "user_agent", "timings", "session", "invitation_code", "verified",
            "staff_session"} <= set(channel.metadata_fields)
    assert type(channel).__module__ == "cci.collection.channels"
    # the core's questionnaire flow names no channel
    with open(survey.__file__, encoding="utf-8") as handle:
        source = handle.read()
    assert "cci_channel_web" not in source and '"web"' not in source


def test_office_link_asks_the_respondent_type_first(client, live_campaign):
    page = client.get(OFFICE_URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Кто вы?" in html
    assert 'name="respondent_type" value="job_seeker"' in html
    assert 'name="respondent_type" value="employer"' in html
    assert "ЦЗН Брянской области — центральный офис" in html
    # the respondent layout, not the staff one
    assert "Вход" not in html and 'class="mainnav"' not in html
    assert 'lang="ru"' in html


def test_steps_go_in_order_and_a_follow_up_only_when_its_condition_holds(app, client,
                                                                          live_campaign):
    url = begin(client)
    visited, last = walk(app, client, url, answers={"management_contact": "0"})
    assert last.endswith("/done")
    assert visited == expected_steps(app, answers={"management_contact": 0})[1:]
    assert "management_openness" not in visited
    # questions, then the comment, then the profile
    iset = indicator_set(app)
    sections = [iset.item(key).section for key in visited]
    assert sections == sorted(sections, key=["question", "comment", "profile"].index)
    assert sections[-1] == "profile"

    other = app.test_client()
    visited, _last = walk(app, other, begin(other), answers={"management_contact": "1"})
    position = visited.index("management_contact")
    assert visited[position + 1] == "management_openness"


def test_employer_gets_the_employer_wording_and_profile(app, client, live_campaign):
    url = begin(client, "employer")
    visited, last = walk(app, client, url)
    assert last.endswith("/done")
    assert "ownership" in visited and "gender" not in visited
    (stored,) = responses(app)
    assert stored.respondent_type == "employer"
    assert set(stored.profile) <= {"ownership", "employer_category", "headcount"}


def test_back_navigation_keeps_the_answers(app, client, live_campaign):
    first = begin(client)
    second = path_of(client.post(first, data={"answer": "7"}))
    third = path_of(client.post(second, data={"answer": "na"}))
    page = client.get(third).get_data(as_text=True)
    assert f'href="{second}"' in page  # «Назад» goes to the previous question

    page = client.get(second).get_data(as_text=True)
    assert f'href="{first}"' in page
    chosen = re.search(r'value="na" class="choice choice--na is-current"', page)
    assert chosen, "the earlier «Затрудняюсь ответить» is shown as chosen"
    page = client.get(first).get_data(as_text=True)
    assert re.search(r'value="7" class="scale__btn is-current"', page)
    assert "(ваш ответ)" in page
    assert f'href="{second}"' in page  # «Далее» without changing the answer

    # changing an answer on the way back keeps the others
    assert path_of(client.post(first, data={"answer": "3"})) == second
    draft = draft_of(app, token_of(first))
    assert draft.answers == {"prof_competence": 3, "comm_competence": None}


def test_a_reload_or_a_new_visit_resumes_the_draft(app, client, live_campaign):
    first = begin(client)
    second = path_of(client.post(first, data={"answer": "9"}))
    third = path_of(client.post(second, data={"answer": "6"}))
    # the same address again (a reload) shows the same step
    assert client.get(third).status_code == 200
    # the office link again (the tab was closed, the connection dropped): back where it stopped
    assert path_of(client.get(OFFICE_URL)) == third
    # an address further on is not skipped to
    assert path_of(client.get(third.rsplit("/", 1)[0] + "/coordination")) == third
    draft = draft_of(app, token_of(first))
    assert draft.answers == {"prof_competence": 9, "comm_competence": 6}
    assert set(draft.timings) == {"respondent_type", "prof_competence", "comm_competence"}


def test_finishing_stores_exactly_one_response_with_answers_profile_comment_and_meta(
        app, client, live_campaign):
    first = begin(client)
    token = token_of(first)
    visited, last = walk(app, client, first, comment="  Очень вежливые сотрудники  ", answers={
        "prof_competence": "10", "comm_competence": "na", "management_contact": "1",
        "management_openness": "4", "preferred_channel": "gosuslugi",
        "gender": "female", "age": "na", "education": "higher", "status": "seeking",
    })
    assert last == f"/s/a/{token}/done"
    thanks = client.get(last)
    assert thanks.status_code == 200 and "Спасибо" in thanks.get_data(as_text=True)

    (stored,) = responses(app)
    assert stored.channel == "web"
    assert stored.client_key == f"web:{token}"
    assert stored.office_id == office_id(app)
    assert stored.campaign_id == live_campaign
    assert stored.respondent_type == "job_seeker"
    assert stored.comment == "Очень вежливые сотрудники"
    assert stored.profile == {"gender": "female", "education": "higher", "status": "seeking"}
    assert stored.started_at is not None and stored.started_at <= stored.submitted_at

    answers = answers_of(app, stored.id)
    questions = [k for k in visited if indicator_set(app).item(k).section == "question"]
    assert set(answers) == set(questions)
    assert answers["prof_competence"] == (10, None)
    assert answers["comm_competence"] == (None, None)  # «Затрудняюсь ответить»: no value
    assert answers["management_contact"] == (1, None)
    assert answers["management_openness"] == (4, None)
    assert answers["preferred_channel"] == (None, "gosuslugi")

    meta = stored.meta
    secret = app.config["SECRET_KEY"]
    assert meta["ip_hash"] == hashlib.sha256(f"{secret}:127.0.0.1".encode()).hexdigest()
    assert "127.0.0.1" not in str(meta)
    assert meta["user_agent"].startswith("Werkzeug")
    assert meta["session"] == token
    assert meta["staff_session"] is False
    assert meta["verified"] is False and "invitation_code" not in meta
    assert set(meta["timings"]) == set(visited) | {"respondent_type"}
    assert all(isinstance(v, (int, float)) and v >= 0 for v in meta["timings"].values())

    draft = draft_of(app, token)
    assert draft.submitted_response_id == stored.id


def test_a_repeated_final_post_does_not_store_twice(app, client, live_campaign):
    first = begin(client)
    walk(app, client, first, stop_before="status")
    final = f"{first.rsplit('/', 1)[0]}/status"
    assert path_of(client.post(final, data={"answer": "unemployed"})).endswith("/done")
    # the browser sends the last form again (double click, back and resubmit, a retry)
    again = client.post(final, data={"answer": "seeking"})
    assert path_of(again).endswith("/done")
    assert path_of(client.post(first, data={"answer": "1"})).endswith("/done")
    (stored,) = responses(app)
    assert stored.profile["status"] == "unemployed"
    with app.app_context():
        draft = survey.find_draft(token_of(first))
        with tenancy.region_scope(draft.region_id, "test"):
            assert survey.finish(draft).id == stored.id
    assert len(responses(app)) == 1
    # a new visit to the office link starts a new survey (a shared device)
    assert client.get(OFFICE_URL).status_code == 200


def test_a_staff_session_is_marked_in_the_meta(app, client, live_campaign, make_user, login):
    login(make_user("regional_admin", region="RU-BRY"))
    _visited, last = walk(app, client, begin(client))
    assert last.endswith("/done")
    (stored,) = responses(app)
    assert stored.meta["staff_session"] is True


# --- strict validation -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "11", "-3", "7.5", "семь", "", " ", "1e1", "true"])
def test_an_out_of_range_or_unknown_scale_answer_is_refused(app, client, live_campaign, value):
    first = begin(client)
    refused = client.post(first, data={"answer": value})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "Выберите" in html  # a clear message in Russian, on the same question
    assert draft_of(app, token_of(first)).answers == {}
    assert responses(app) == []


def test_strict_validation_of_every_kind_of_step(app, client, live_campaign):
    assert client.post(OFFICE_URL, data={"respondent_type": "tourist"}).status_code == 400
    assert client.post(OFFICE_URL, data={}).status_code == 400
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(SurveyDraft)) == 0

    first = begin(client)
    base = first.rsplit("/", 1)[0]
    assert client.post(first, data={}).status_code == 400  # no answer at all
    _visited, url = walk(app, client, first, stop_before="management_contact")
    # a yes/no question without «Затрудняюсь ответить»
    refused = client.post(url, data={"answer": "na"})
    assert refused.status_code == 400 and "ответ" in refused.get_data(as_text=True)
    assert client.post(url, data={"answer": "maybe"}).status_code == 400
    # the follow-up is not asked before its condition holds
    assert client.post(f"{base}/management_openness", data={"answer": "5"}).status_code == 400
    # an unknown step does not exist
    assert client.get(f"{base}/no_such_item").status_code == 404
    assert client.get("/s/a/not-a-token/prof_competence").status_code == 404
    url = path_of(client.post(url, data={"answer": "0"}))
    _visited, url = walk(app, client, url, stop_before="preferred_channel")
    assert client.post(url, data={"answer": "pigeon_post"}).status_code == 400
    _visited, url = walk(app, client, url, stop_before="comment")
    step = client.get(url).get_data(as_text=True).split("<main", 1)[1]
    assert step.lower().count("необязательно") == 1  # the question says it; the hint does not
    long_comment = client.post(url, data={"comment": "я" * (survey.COMMENT_MAX + 1)})
    assert long_comment.status_code == 400
    assert client.post(url, data={"comment": "x" * 70_000}).status_code == 413
    draft = draft_of(app, token_of(first))
    assert draft.answers["preferred_channel"] == "office"  # the refused option never stored
    assert draft.comment is None
    assert "management_openness" not in draft.answers
    assert responses(app) == []


def test_unknown_office_or_region_is_a_clear_404(client, live_campaign):
    for url in ("/s/RU-XXX", "/s/RU-BRY/NOPE-99", "/s/RU-XXX/BRY-01", "/s/RU-KYA/BRY-01"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "Страница не найдена" in page.get_data(as_text=True)


def test_without_a_campaign_today_a_clear_page(client, tenants):
    for url in (OFFICE_URL, "/s/RU-BRY"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Сейчас опрос не проводится" in html
        assert "<form" not in html.split('class="survey-main"')[1]
    assert client.post(OFFICE_URL, data={"respondent_type": "job_seeker"}).status_code == 200


def test_the_region_link_asks_for_the_office_first(app, client, live_campaign):
    page = client.get("/s/RU-BRY")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Какой офис вас обслуживал?" in html
    assert 'href="/s/RU-BRY/BRY-01"' in html and 'href="/s/RU-BRY/BRY-02"' in html
    assert "/s/RU-KYA" not in html


def test_public_forms_carry_the_csrf_token(app, client, live_campaign, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post(OFFICE_URL, data={"respondent_type": "job_seeker"})
    assert refused.status_code == 400
    assert "Страница устарела" in refused.get_data(as_text=True)
    html = client.get(OFFICE_URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    url = begin_with = path_of(client.post(OFFICE_URL, data={"respondent_type": "job_seeker",
                                                             "csrf_token": token}))
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    assert path_of(client.post(begin_with, data={"answer": "5", "csrf_token": token}))


# --- htmx and the display switch --------------------------------------------------------------


def test_htmx_swaps_the_card_and_pushes_the_address(app, client, live_campaign):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://localhost" + OFFICE_URL}
    started = client.post(OFFICE_URL, data={"respondent_type": "job_seeker"}, headers=headers)
    assert started.status_code == 200
    first = urlsplit(started.headers["HX-Push-Url"]).path
    assert step_key(first) == "prof_competence"
    fragment = started.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith("<title>")
    assert 'id="survey-card"' in fragment and 'id="step-heading"' in fragment
    assert "HX-Request" in started.headers.get("Vary", "")
    assert started.headers["Cache-Control"] == "no-store"

    refused = client.post(first, data={"answer": "42"}, headers=headers)
    assert refused.status_code == 400 and "HX-Push-Url" not in refused.headers
    assert "<html" not in refused.get_data(as_text=True)

    moved = client.post(first, data={"answer": "6"}, headers=headers)
    assert step_key(urlsplit(moved.headers["HX-Push-Url"]).path) == "comm_competence"
    # the history restore of an address gets the whole page
    whole = client.get(first, headers={**headers, "HX-History-Restore-Request": "true"})
    assert "<html" in whole.get_data(as_text=True)


def test_large_text_and_high_contrast_switch_is_kept_in_a_cookie(client, live_campaign):
    html = client.get(OFFICE_URL).get_data(as_text=True)
    assert 'aria-pressed="false"' in html and "a11y-large" not in html.split("<head>")[0]
    switched = client.post("/s/prefs", data={"toggle": "large", "next": OFFICE_URL})
    assert path_of(switched) == OFFICE_URL
    client.post("/s/prefs", data={"toggle": "contrast", "next": OFFICE_URL})
    html = client.get(OFFICE_URL).get_data(as_text=True)
    opening = html.split("<head>")[0]
    assert "a11y-large" in opening and "a11y-contrast" in opening
    client.post("/s/prefs", data={"toggle": "large", "next": OFFICE_URL})
    opening = client.get(OFFICE_URL).get_data(as_text=True).split("<head>")[0]
    assert "a11y-large" not in opening and "a11y-contrast" in opening
    # never a redirect away from the survey
    for target in ("https://example.com/", "//example.com/s/x", "/login"):
        assert path_of(client.post("/s/prefs", data={"toggle": "large", "next": target})) == "/s/i"
    assert client.post("/s/prefs", data={"toggle": "colour"}).status_code == 400


# --- invitations -----------------------------------------------------------------------------


def issue(app, office="BRY-01", days=7, now=None, service="Постановка на учёт"):
    with app.app_context():
        oid = office_id(app, office)
        with tenancy.region_scope(region_id(app, "RU-BRY"), "test"):
            found = db.get(Office, oid)
            return survey.issue_invitation(found, service=service, visit_date=dt.date.today(),
                                           days=days, now=now).code


def test_staff_issue_an_invitation_and_it_gives_one_verified_answer(
        app, client, live_campaign, make_user, login):
    staff = app.test_client()
    with staff:
        email = make_user("regional_admin", region="RU-BRY")
        assert staff.post("/login", data={"email": email, "password": "correct-horse-battery"}
                          ).status_code == 302
        form = staff.get("/r/RU-BRY/survey/invitations/")
        assert form.status_code == 200
        issued = staff.post("/r/RU-BRY/survey/invitations/", data={
            "office": office_id(app, "BRY-02"), "service": "Подбор вакансий",
            "visit_date": dt.date.today().isoformat(), "days": "7"})
        slip_url = path_of(issued)
        slip = staff.get(slip_url).get_data(as_text=True)
        assert "qr.svg" in slip
    with app.app_context(), tenancy.federal_scope("test"):
        invitation = db.scalar(select(SurveyInvitation))
        code = invitation.code
        assert invitation.service == "Подбор вакансий"
        assert invitation.office_id == office_id(app, "BRY-02")
        days = (invitation.expires_at - invitation.created_at).days
        assert days == 7
        logged = db.scalar(select(AuditEntry).where(AuditEntry.action == "survey_invitation.issue"))
        assert logged.actor == email and logged.region_id == region_id(app, "RU-BRY")
        assert logged.after["code"] == invitation.code
    assert re.fullmatch(f"[{survey.CODE_ALPHABET}]{{8}}", code)
    assert survey.format_code(code) in slip

    # typed by hand, in lower case with a dash
    typed = client.get(f"/s/i?code={code[:4].lower()}-{code[4:].lower()}")
    assert path_of(typed) == f"/s/i/{code}"
    page = client.get(f"/s/i/{code}")
    assert page.status_code == 200 and "Кто вы?" in page.get_data(as_text=True)
    _visited, last = walk(app, client, begin(client, url=f"/s/i/{code}"))
    assert last.endswith("/done")
    (stored,) = responses(app)
    assert stored.office_id == office_id(app, "BRY-02")
    assert stored.meta["invitation_code"] == code
    assert stored.meta["verified"] is True
    with app.app_context(), tenancy.federal_scope("test"):
        invitation = db.scalar(select(SurveyInvitation))
        assert invitation.used_at is not None and invitation.response_id == stored.id

    # the same browser is shown its thanks; anyone else learns the code was used
    assert path_of(client.get(f"/s/i/{code}")).endswith("/done")
    other = app.test_client()
    used = other.get(f"/s/i/{code}")
    assert used.status_code == 410
    assert "уже использован" in used.get_data(as_text=True)
    assert other.post(f"/s/i/{code}", data={"respondent_type": "employer"}).status_code == 410
    assert len(responses(app)) == 1


def test_two_surveys_racing_for_one_code_store_one_answer(app, live_campaign):
    code = issue(app)
    one, two = app.test_client(), app.test_client()
    url_one = begin(one, url=f"/s/i/{code}")
    url_two = begin(two, url=f"/s/i/{code}")
    _visited, last = walk(app, one, url_one)
    assert last.endswith("/done")
    _visited, url = walk(app, two, url_two, stop_before="status")
    refused = two.post(url, data={"answer": "seeking"})
    assert refused.status_code == 410
    assert "уже использован" in refused.get_data(as_text=True)
    (stored,) = responses(app)
    assert stored.client_key == f"web:{token_of(url_one)}"
    assert draft_of(app, token_of(url_two)).submitted_response_id is None


def test_an_expired_or_unknown_code_gets_a_clear_page(app, client, live_campaign):
    code = issue(app, days=7, now=utcnow() - dt.timedelta(days=8))
    expired = client.get(f"/s/i/{code}")
    assert expired.status_code == 410
    assert "истёк" in expired.get_data(as_text=True)
    assert client.post(f"/s/i/{code}", data={"respondent_type": "job_seeker"}).status_code == 410
    unknown = client.get("/s/i/ZZZZ2222")
    assert unknown.status_code == 404
    assert "Код не найден" in unknown.get_data(as_text=True)
    assert 'name="code"' in unknown.get_data(as_text=True)  # a form to type it again
    assert client.get("/s/i").status_code == 200
    assert responses(app) == []


def test_a_survey_started_before_expiry_may_be_finished(app, client, live_campaign):
    code = issue(app, days=1)
    first = begin(client, url=f"/s/i/{code}")
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY"), "test"):
        invitation = db.scalar(select(SurveyInvitation))
        invitation.expires_at = utcnow() - dt.timedelta(minutes=1)
        db.commit()
    assert path_of(client.get(f"/s/i/{code}")) == first  # resumes, not «expired»
    _visited, last = walk(app, client, first)
    assert last.endswith("/done")
    assert responses(app)[0].meta["verified"] is True


def test_invitations_are_for_the_regions_staff(app, client, live_campaign, make_user, login):
    login(make_user("federal_analyst"))
    assert client.get("/r/RU-BRY/survey/invitations/").status_code == 403
    client.post("/logout")
    login(make_user("auditor", region="RU-KYA"))
    assert client.get("/r/RU-BRY/survey/invitations/").status_code == 404
    # an office of another region is not among the choices
    refused = client.post("/r/RU-KYA/survey/invitations/", data={
        "office": office_id(app, "BRY-01"), "service": "x",
        "visit_date": dt.date.today().isoformat(), "days": "7"})
    assert refused.status_code == 400
    future = client.post("/r/RU-KYA/survey/invitations/", data={
        "office": office_id(app, "KYA-01"), "service": "Консультация",
        "visit_date": (dt.date.today() + dt.timedelta(days=3)).isoformat(), "days": "7"})
    assert future.status_code == 400
    too_long = client.post("/r/RU-KYA/survey/invitations/", data={
        "office": office_id(app, "KYA-01"), "service": "Консультация",
        "visit_date": dt.date.today().isoformat(), "days": "365"})
    assert too_long.status_code == 400
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(SurveyInvitation)) == 0
    code = issue(app)
    with app.app_context(), tenancy.federal_scope("test"):
        bry_invitation = db.scalar(select(SurveyInvitation.id).where(
            SurveyInvitation.code == code))
    assert client.get(f"/r/RU-KYA/survey/invitations/{bry_invitation}").status_code == 404


# --- staff pages: links and the poster ----------------------------------------------------------


def test_the_poster_has_a_qr_code_and_is_for_the_regions_staff(app, client, live_campaign,
                                                               make_user, login):
    office = office_id(app)
    poster_url = f"/r/RU-BRY/survey/poster/{office}"
    anonymous = client.get(poster_url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.get(f"{poster_url}/qr.svg").status_code == 302

    login(make_user("auditor", region="RU-KYA"))
    assert client.get(poster_url).status_code == 404
    assert client.get(f"/r/RU-KYA/survey/poster/{office}").status_code == 404  # not its office
    client.post("/logout")

    login(make_user("regional_admin", region="RU-BRY"))
    links = client.get("/r/RU-BRY/survey/")
    assert links.status_code == 200
    html = links.get_data(as_text=True)
    assert "http://localhost/s/RU-BRY/BRY-01" in html and "http://localhost/s/RU-BRY" in html
    assert poster_url in html
    home = client.get("/r/RU-BRY/").get_data(as_text=True)
    assert 'href="/r/RU-BRY/survey/"' in home  # the region's navigation links the channel

    poster = client.get(poster_url)
    assert poster.status_code == 200
    html = poster.get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', html)[1]
    css = client.get(stylesheet)
    assert css.status_code == 200 and "@page { size: A4" in css.get_data(as_text=True)
    assert "http://localhost/s/RU-BRY/BRY-01" in html
    assert "ЦЗН Брянской области — центральный офис" in html
    src = re.search(r'<img class="qr" src="([^"]+)" alt="[^"]+"', html)[1]
    image = client.get(src)
    assert image.status_code == 200
    assert image.mimetype == "image/svg+xml"
    svg = image.get_data(as_text=True)
    assert svg.startswith("<?xml") and "<svg" in svg and "<path" in svg

    import segno

    expected = segno.make("http://localhost/s/RU-BRY/BRY-01", error="m", micro=False)
    assert f'width="{(expected.symbol_size(scale=10, border=4))[0]}"' in svg


def test_public_endpoints_are_rate_limited_per_address(app, client, live_campaign, monkeypatch):
    monkeypatch.setitem(app.config, "WEB_SURVEY_RATELIMIT", "3/minute")
    monkeypatch.setitem(app.config, "WEB_SURVEY_RATELIMIT_CODES", "2/minute")
    first = begin(client)  # starting counts as one answer
    assert client.post(first, data={"answer": "5"}).status_code == 303
    assert client.get(first).status_code == 200  # reading is not counted
    assert client.post(first, data={"answer": "6"}).status_code == 303
    limited = client.post(first, data={"answer": "7"})
    assert limited.status_code == 429
    assert "Слишком много запросов" in limited.get_data(as_text=True)
    assert draft_of(app, token_of(first)).answers["prof_competence"] == 6
    # another address is not affected
    other = client.post(first, data={"answer": "7"}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303
    for _ in range(2):
        assert client.get("/s/i/ZZZZ2222").status_code == 404
    assert client.get("/s/i/ZZZZ2223").status_code == 429
