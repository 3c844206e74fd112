"""Bad input where a request is read (cci.web.inputs): text with a NUL, other control
characters or a lone surrogate is cleaned in every query string, form and JSON body; ids past
the database's INTEGER name nothing. Then the paths that broke on them before (500 on every
retry, a batch half stored): the kiosk's answers, the batch API, the forms, and the API bodies
of the wrong shape."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from cci.foundation import tenancy
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Response
from cci.web.inputs import clean_text

from cci_channel_kiosk.models import Kiosk
from test_kiosk import KIOSKS_URL
from test_kiosk import admin  # noqa: F401 - fixture
from test_kiosk import paired  # noqa: F401 - fixture
from test_kiosk import payload
from test_kiosk import post
from test_quality import _count_responses
from test_quality import _item
from test_quality import _post
from test_quality import office  # noqa: F401 - fixture
from test_quality import token_for  # noqa: F401 - fixture

POISON = "a\x00b\x01c\ud800d\te\r\nf"
CLEANED = "abc\ufffdd\te\r\nf"


# --- the one place where input is read -----------------------------------------------------


def test_clean_text_drops_control_characters_and_lone_surrogates():
    assert clean_text(POISON) == CLEANED
    plain = "Обычный текст, «кавычки» и эмодзи 🙂"
    assert clean_text(plain) == plain
    # the cleaned text is valid UTF-8: what every database and file format takes
    CLEANED.encode("utf-8")


def test_query_string_form_and_json_are_cleaned_as_they_are_read(app):
    from flask import request

    with app.test_request_context("/x?q=a%00b&n=" + str(ID_MAX + 1) + "&m=7&k%00=v"):
        assert request.args["q"] == "ab" and request.args["k"] == "v"
        assert request.args.get("n", type=int) is None  # past the INTEGER: as if not a number
        assert request.args.get("n", 5, type=int) == 5
        assert request.args.get("m", type=int) == 7
    # (a form cannot carry a lone surrogate: invalid UTF-8 is decoded as U+FFFD)
    form = {"name": "a\x00b\x01c\td", "ids": ["1", "2", str(ID_MAX + 1)]}
    with app.test_request_context("/x", method="POST", data=form):
        assert request.form["name"] == "abc\td"
        assert request.form.getlist("ids", type=int) == [1, 2]
    with app.test_request_context("/x", method="POST", content_type="multipart/form-data",
                                  data={"name": "x\x00y"}):
        assert request.form["name"] == "xy"
    body = '{"k\\u0000ey": ["\\ud800", {"c": "a\\u0000\\u0007b"}], "n": 1}'
    with app.test_request_context("/x", method="POST", data=body,
                                  content_type="application/json"):
        assert request.get_json() == {"key": ["\ufffd", {"c": "ab"}], "n": 1}


def test_nul_in_a_path_segment_and_huge_ids_match_no_route(client, tenants):
    assert client.get("/r/RU-BRY%00/").status_code == 404  # no route (PostgreSQL: a 500)
    assert client.get(f"/api/v1/offices/{ID_MAX + 1}").status_code == 404
    assert client.get("/api/v1/offices/99999999999999999999").status_code == 404
    assert client.get(f"/api/v1/offices/{ID_MAX}").status_code == 401  # in range: the route
    # not a 405 because the id's GET rule has the same path (the pattern itself refuses it)
    assert client.put(f"/api/v1/campaigns/{ID_MAX + 1}/checklists").status_code == 404


def test_openapi_says_what_an_id_may_be(client, tenants):
    spec = client.get("/api/v1/openapi.json").get_json()
    [param] = spec["paths"]["/api/v1/offices/{office_id}"]["get"]["parameters"]
    assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": ID_MAX}
    batch = spec["paths"]["/api/v1/responses/batch"]["post"]["responses"]["207"]
    assert batch["description"].startswith("Multi-Status")


# --- the kiosk -------------------------------------------------------------------------------


def test_kiosk_answer_with_nul_and_lone_surrogates_is_stored_cleaned(app, paired):
    """Before: a 500 on every retry (PostgreSQL refuses NUL, no UTF-8 encoder writes a lone
    surrogate), and the device's queue never moved."""
    _kiosk_id, token = paired
    body = payload(app, comment="Очередь\x00 \ud83d долгая", app_version="1.0\x00\udfff",
                   timings={"usefulness\x00\ud800": 4.2})
    reply = post(app, token, body)
    assert reply.status_code == 201, reply.get_data(as_text=True)
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalar(select(Response))
        assert stored.comment == "Очередь \ufffd долгая"
        assert stored.meta["app_version"] == "1.0\ufffd"
        assert stored.meta["timings"] == {"usefulness\ufffd": 4.2}
    assert post(app, token, body).status_code == 200  # a retry: already received


# --- the batch API ---------------------------------------------------------------------------


def test_batch_with_poison_text_answers_every_item(app, client, office, token_for):
    """Before: a bare 500 at the poisoned item, the items before it stored and those after it
    never processed."""
    token = token_for("regional_admin", "RU-BRY")
    body = {"responses": [
        _item(office, "poison-1"),
        _item(office, "poison-2", comment="bad\x00comment\ud800", meta={"k\x00": "v\udc00"}),
        _item(office, "poison-3\x00"),
        {**_item(office, "poison-4"), "office_id": ID_MAX + 1},
    ]}
    reply = _post(client, "/api/v1/responses/batch", token, body)
    assert reply.status_code == 207, reply.get_data(as_text=True)
    items = reply.get_json()["items"]
    assert [i["status"] for i in items] == ["created", "created", "created", "error"]
    assert items[2]["client_key"] == "poison-3"
    assert items[3]["error"]["code"] == "unknown_office"
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.get(Response, items[1]["response_id"])
        assert stored.comment == "badcomment\ufffd" and stored.meta["k"] == "v\ufffd"


def test_batch_item_the_database_refuses_is_reported_and_the_rest_go_on(
        app, client, office, token_for, monkeypatch):
    from cci.collection import intake

    real = intake.store_batch

    def refuse_the_second(drafts, channel=None):
        if drafts[0].client_key.endswith(":second"):
            raise DataError("INSERT …", {}, Exception("refused"))
        return real(drafts, channel)

    monkeypatch.setattr(intake, "store_batch", refuse_the_second)
    token = token_for("regional_admin", "RU-BRY")
    body = {"responses": [_item(office, key) for key in ("first", "second", "third")]}
    reply = _post(client, "/api/v1/responses/batch", token, body)
    assert reply.status_code == 207
    data = reply.get_json()
    assert [i["status"] for i in data["items"]] == ["created", "error", "created"]
    assert data["items"][1]["error"]["code"] == "not_stored"
    assert data["summary"] == {"created": 2, "duplicate": 0, "error": 1}
    assert _count_responses(app) == 2


# --- forms ------------------------------------------------------------------------------------


def test_nul_in_form_fields_is_cleaned(app, client, admin, live_campaign):
    """A kiosk's name (a plugin's form) and a campaign's name (the core's form)."""
    reply = client.post(KIOSKS_URL, data={"office": _office_id(app), "name": "Хо\x00лл"})
    assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(Kiosk.name)) == "Холл"


def test_nul_in_a_campaign_name(app, client, tenants, make_user, login):
    login(make_user("methodology_owner"))
    reply = client.post("/federal/campaigns/", data={
        "name": "2025\x00-Q3", "methodology_key": "cci-2023", "starts_on": "2025-07-01",
        "ends_on": "2025-09-30", "regions": ["RU-BRY"]})
    assert reply.status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(Campaign.name)) == "2025-Q3"


def test_nul_in_a_contact_line_and_an_invitation_service(app, client, make_user, login,
                                                         live_campaign):
    """Two more of the forms that gave a 500 on PostgreSQL: a plugin's console and the web
    survey's invitations."""
    from cci.foundation.models import SurveyInvitation

    from cci_channel_contact.models import ContactCall

    login(make_user("regional_admin", "RU-BRY"))
    office = _office_id(app)
    call = client.post("/r/RU-BRY/contact/calls", data={"office": office, "line": "8-800\x00"})
    assert call.status_code == 303, call.get_data(as_text=True)[:500]
    issued = client.post("/r/RU-BRY/survey/invitations/", data={
        "office": office, "service": "Подбор\x00 вакансий",
        "visit_date": dt.date.today().isoformat(), "days": "7"})
    assert issued.status_code in (302, 303), issued.get_data(as_text=True)[:500]
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(ContactCall.line)) == "8-800"
        assert db.scalar(select(SurveyInvitation.service)) == "Подбор вакансий"


def _office_id(app) -> int:
    from test_kiosk import office_id

    return office_id(app)


# --- API bodies of the wrong shape ---------------------------------------------------------


@pytest.fixture
def owner_api(client, token_for, live_campaign):
    token = token_for("admin")
    return lambda method, path, **kw: client.open(
        path, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)


@pytest.mark.parametrize("method,path,body", [
    ("PUT", "checklists", [1]),
    ("PUT", "checklists", {"region": "RU-BRY", "indicator": "x", "values": [1]}),
    ("POST", "runs", {"methodology": {}}),
    ("POST", "runs", [1]),
    ("POST", "", {"name": "x", "regions": 5}),
])
def test_api_bodies_of_the_wrong_shape_are_422(owner_api, live_campaign, method, path, body):
    url = f"/api/v1/campaigns/{live_campaign}/{path}" if path else "/api/v1/campaigns"
    reply = owner_api(method, url, json=body)
    assert reply.status_code == 422, reply.get_data(as_text=True)
    assert reply.get_json()["error"]["code"] == "validation_error"


def test_checklist_office_id_past_the_integer_is_not_found(owner_api, live_campaign):
    reply = owner_api("PUT", f"/api/v1/campaigns/{live_campaign}/checklists", json={
        "region": "RU-BRY", "indicator": "digital", "office_id": ID_MAX + 1, "values": {}})
    assert reply.status_code in (404, 422), reply.get_data(as_text=True)


def test_batch_when_the_database_goes_away_is_a_503_to_send_again(
        app, client, office, token_for, monkeypatch):
    """Before: a bare 500. The items stored before the database went stay, and come back
    «duplicate» when the batch is sent again."""
    from sqlalchemy.exc import OperationalError

    from cci.collection import intake

    real = intake.store_batch
    down = {"now": False}

    def goes_away(drafts, channel=None):
        if down["now"]:
            raise OperationalError("INSERT …", {}, Exception("server closed the connection"))
        down["now"] = True
        return real(drafts, channel)

    monkeypatch.setattr(intake, "store_batch", goes_away)
    token = token_for("regional_admin", "RU-BRY")
    body = {"responses": [_item(office, key) for key in ("one", "two", "three")]}
    reply = _post(client, "/api/v1/responses/batch", token, body)
    assert reply.status_code == 503 and reply.headers["Retry-After"]
    assert reply.get_json()["error"]["code"] == "unavailable"
    monkeypatch.setattr(intake, "store_batch", real)
    again = _post(client, "/api/v1/responses/batch", token, body)
    assert [i["status"] for i in again.get_json()["items"]] == ["duplicate", "created", "created"]
    assert _count_responses(app) == 3
