"""One questionnaire for every channel: the same answers get the same verdict whichever way
they come in — the web survey, the kiosk's delivery API, the contact-centre form, a CSV import
and the batch JSON API. Accepted (stored), or refused naming the same item for the same
reason (each channel words the message its own way and shows the reason: ``reason`` in JSON,
``data-reason`` on a page, the row error's ``reason`` of an import).

Every case is a whole questionnaire of the cci-2023 set (a kiosk takes whole ones only) with
one thing changed, written as people write it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import survey
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Office
from cci.foundation.models import Response
from cci.methodology.contract import read_respondent_type

from test_imports import csv_bytes
from test_imports import imported
from test_kiosk import admin  # noqa: F401  (a fixture `paired` uses)
from test_kiosk import in_office_hours
from test_kiosk import paired  # noqa: F401
from test_kiosk import post as kiosk_post

TOO_LONG_COMMENT = "я" * 4001
SKIP = object()  # an override that leaves the item out

#: (case, respondent type, answers changed, profile, comment, verdict: None or (item, reason))
CASES = [
    ("valid", "job_seeker", {}, {}, "Спасибо", None),
    ("type written in Russian", "соискатель", {}, {}, "", None),
    ("yes written in capitals, with its follow-up",
     "job_seeker", {"management_contact": "ДА", "management_openness": "7"}, {}, "", None),
    ("a whole number with a decimal comma", "job_seeker", {"usefulness": "7,0"}, {}, "", None),
    ("«Затрудняюсь ответить» to a scale", "job_seeker",
     {"usefulness": "Затрудняюсь ответить"}, {}, "", None),
    ("unknown respondent type", "tourist", {}, {}, "",
     ("respondent_type", "unknown_respondent_type")),
    ("out of the scale", "job_seeker", {"usefulness": "11"}, {}, "",
     ("usefulness", "out_of_range")),
    ("not a whole number", "job_seeker", {"usefulness": "9.5"}, {}, "",
     ("usefulness", "not_whole")),
    ("not a number", "job_seeker", {"usefulness": "семь"}, {}, "",
     ("usefulness", "not_a_number")),
    ("neither yes nor no", "job_seeker", {"management_contact": "может быть"}, {}, "",
     ("management_contact", "not_yes_no")),
    ("no answer where one is required", "job_seeker",
     {"management_contact": "Затрудняюсь ответить"}, {}, "",
     ("management_contact", "required")),
    ("unknown option", "job_seeker", {"preferred_channel": "голубиная почта"}, {}, "",
     ("preferred_channel", "unknown_option")),
    ("a follow-up whose condition does not hold", "job_seeker",
     {"management_contact": "нет", "management_openness": "5"}, {}, "",
     ("management_openness", "condition_unmet")),
    ("an item of the other respondent type", "job_seeker", {}, {"ownership": "private"}, "",
     ("ownership", "not_asked")),
    ("an item the questionnaire does not have", "job_seeker", {"no_such_item": "5"}, {}, "",
     ("no_such_item", "unknown_item")),
    ("a comment too long", "job_seeker", {}, {}, TOO_LONG_COMMENT, ("comment", "too_long")),
]

CHANNELS = ["web", "kiosk", "contact", "import", "api"]


def iset(app):
    return app.extensions["cci.registry"].indicator_set("cci-2023")


def whole_questionnaire(app, rtype: str, changed: dict) -> dict:
    """Every question asked without a follow-up, answered plainly, then the changes."""
    items = iset(app).items_for(rtype if rtype == "employer" else "job_seeker", "question")
    answers = {item.key: {"scale": "8", "yesno": "0"}.get(item.kind) or item.options[0].key
               for item in items if item.follows is None}
    answers.update(changed)
    return {key: value for key, value in answers.items() if value is not SKIP}


def stored(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(Response))


def office_id(app, code: str = "BRY-01") -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


def page_reason(html: str) -> str | None:
    found = re.search(r'data-reason="(\w+)"', html)
    return found.group(1) if found else None


# --- the channels, each returning its verdict -----------------------------------------------


def through_web(app, client, rtype, answers, profile, comment):
    """The web survey step by step; an item no step asks is posted to its address."""
    chosen = client.post("/s/RU-BRY/BRY-01", data={"respondent_type": rtype})
    if chosen.status_code == 400:
        return "respondent_type", page_reason(chosen.get_data(as_text=True))
    url = urlsplit(chosen.headers["Location"]).path
    base = url.rsplit("/", 1)[0]
    given = {**answers, **profile}
    # the items no step will ask, given the answers: posted to their addresses first
    questionnaire = iset(app)
    rtype = read_respondent_type(rtype)
    read = {section: questionnaire.read_answers(rtype, values, section)[0]
            for section, values in (("question", answers), ("profile", profile))}
    steps = {s.key for s in survey.steps_for(questionnaire, rtype, read["question"],
                                             read["profile"])}
    for key in given.keys() - steps:
        refused = client.post(f"{base}/{key}", data={"answer": given[key]})
        if refused.status_code == 404:  # no step for an item the questionnaire lacks
            return key, "unknown_item"
        assert refused.status_code == 400, refused.get_data(as_text=True)[:500]
        return key, page_reason(refused.get_data(as_text=True))
    while not url.endswith("/done"):
        key = url.rsplit("/", 1)[1]
        item = iset(app).item(key)
        if item.section == "comment":
            data = {"comment": comment}
        else:
            default = "8" if item.kind == "scale" else "0" if item.kind == "yesno" else \
                item.options[0].key
            data = {"answer": given.get(key, default)}
        reply = client.post(url, data=data)
        if reply.status_code == 400:
            return key, page_reason(reply.get_data(as_text=True))
        assert reply.status_code == 303, reply.get_data(as_text=True)[:500]
        url = urlsplit(reply.headers["Location"]).path
    return None


def through_kiosk(app, token, rtype, answers, profile, comment):
    finished = in_office_hours()
    reply = kiosk_post(app, token, {
        "key": str(uuid.uuid4()), "respondent_type": rtype, "answers": answers,
        "profile": profile, "comment": comment,
        "started_at": (finished - dt.timedelta(minutes=3)).isoformat(),
        "finished_at": finished.isoformat(), "app_version": "1.0.0"})
    if reply.status_code == 201:  # stored with its flags in the request
        return None
    assert reply.status_code == 400, reply.get_data(as_text=True)[:500]
    return reply.json["field"], reply.json.get("reason")


def through_contact(app, client, rtype, answers, profile, comment):
    started = client.post("/r/RU-BRY/contact/calls", data={"office": office_id(app)})
    assert started.status_code == 303, started.get_data(as_text=True)[:500]
    call = urlsplit(started.headers["Location"]).path
    fields = {f"q__{key}": value for key, value in {**answers, **profile}.items()}
    reply = client.post(call, data={
        "respondent_type": rtype, "comment": comment, **fields,
        "resolved_first_contact": "yes", "transfers": "0", "escalated": "no",
        "topic": "benefit"})
    if reply.status_code == 303:
        return None
    assert reply.status_code == 400, reply.get_data(as_text=True)[:500]
    # the summary of the form's errors: one link per field, with the reason
    refused = re.findall(r'<li data-reason="(\w+)"><a href="#(?:item-)?(\w+)"',
                         reply.get_data(as_text=True))
    assert len(refused) == 1, reply.get_data(as_text=True)
    reason, item = refused[0]
    return item, reason


def through_import(app, client, campaign, rtype, answers, profile, comment):
    given = {**answers, **profile, "comment": comment}
    header = ["response_id", "office_code", "respondent_type", "submitted_at", *given]
    row = ["1", "BRY-01", rtype, dt.date.today().strftime("%d.%m.%Y"), *given.values()]
    record = imported(app, client, csv_bytes([";".join(header), ";".join(row)],
                                             encoding="utf-8"), campaign)
    if record.status == "succeeded":
        return None
    assert record.error_count == 1, record.errors
    return record.errors[0]["column"], record.errors[0].get("reason")


def through_api(app, client, token, rtype, answers, profile, comment):
    reply = client.post("/api/v1/responses/batch", headers={"Authorization": f"Bearer {token}"},
                        json={"responses": [{
                            "client_key": str(uuid.uuid4()), "office_id": office_id(app),
                            "respondent_type": rtype,
                            "submitted_at": dt.datetime.now(dt.UTC).isoformat(),
                            "answers": answers, "profile": profile, "comment": comment}]})
    assert reply.status_code == 207, reply.get_data(as_text=True)[:500]
    item = reply.json["items"][0]
    if item["status"] == "created":
        return None
    field = item["error"]["field"].split(".", 1)[-1]
    return field, item["error"].get("reason")


@pytest.fixture
def send(request, app, client, make_user, login, runner, live_campaign):
    """``send(rtype, answers, profile, comment)`` through the channel named by the test."""
    channel = request.node.callspec.params["channel"]
    if channel == "web":
        return lambda *given: through_web(app, client, *given)
    if channel == "kiosk":
        _kiosk_id, token = request.getfixturevalue("paired")
        return lambda *given: through_kiosk(app, token, *given)
    if channel == "contact":
        login(make_user("operator", "RU-BRY"))
        return lambda *given: through_contact(app, client, *given)
    if channel == "import":
        login(make_user("regional_admin", "RU-BRY"))
        return lambda *given: through_import(app, client, live_campaign, *given)
    email = make_user("regional_admin", "RU-BRY")
    token = runner.invoke(args=["tokens", "create", "--email", email]).output.splitlines()[-1]
    return lambda *given: through_api(app, client, token, *given)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("case, rtype, changed, profile, comment, verdict", CASES,
                         ids=[case[0] for case in CASES])
def test_every_channel_gives_the_same_verdict(app, send, channel, case, rtype, changed,
                                              profile, comment, verdict):
    answers = whole_questionnaire(app, rtype, changed)
    assert send(rtype, answers, profile, comment) == verdict
    assert stored(app) == (1 if verdict is None else 0)


def test_the_cases_cover_every_reason_a_channel_can_meet():
    from cci.methodology.contract import REASONS

    met = {verdict[1] for *_rest, verdict in CASES if verdict is not None}
    # «unanswered» is the kiosk's and the web survey's alone: they take whole questionnaires
    assert met == set(REASONS) - {"unanswered"}


# --- the authority itself ------------------------------------------------------------------


def test_the_set_says_which_follow_up_is_asked_after_which_answer(app):
    questionnaire = iset(app)
    asked = [item.key for item in questionnaire.asked_items("job_seeker", {})]
    assert "management_contact" in asked and "management_openness" not in asked
    after_yes = [item.key for item in questionnaire.asked_items(
        "job_seeker", {"management_contact": 1})]
    assert after_yes.index("management_openness") == after_yes.index("management_contact") + 1
    assert "management_openness" not in [item.key for item in questionnaire.asked_items(
        "job_seeker", {"management_contact": 0})]
    # without answers: every item that may be asked, follow-ups too
    assert "management_openness" in [i.key for i in questionnaire.asked_items("job_seeker")]
    whole = whole_questionnaire(app, "job_seeker", {"management_contact": "да"})
    read = questionnaire.validate_answers("job_seeker", whole)
    assert questionnaire.unanswered("job_seeker", read) == ["management_openness"]
    assert questionnaire.unanswered("job_seeker", {**read, "management_openness": None}) == []


def test_reading_every_answer_reports_every_refusal_in_order(app):
    clean, refusals = iset(app).read_answers("job_seeker", {
        "usefulness": "11", "comfort": "7,0", "management_contact": "может быть",
        "management_openness": "5", "no_such_item": "1"})
    assert clean == {"comfort": 7}
    assert [(r.item, r.reason) for r in refusals] == [
        ("usefulness", "out_of_range"), ("management_contact", "not_yes_no"),
        ("no_such_item", "unknown_item"), ("management_openness", "condition_unmet")]


@pytest.mark.parametrize("raw, expected", [
    ("job_seeker", "job_seeker"), ("Соискатель", "job_seeker"), (" работодатель ", "employer"),
])
def test_the_respondent_type_as_written(raw, expected):
    assert read_respondent_type(raw) == expected


@pytest.mark.parametrize("raw", ["tourist", "", None, 1, ["job_seeker"]])
def test_an_unknown_respondent_type_is_refused(raw):
    from cci.methodology.contract import AnswerError

    with pytest.raises(AnswerError) as refused:
        read_respondent_type(raw)
    assert (refused.value.item, refused.value.reason) == (
        "respondent_type", "unknown_respondent_type")
