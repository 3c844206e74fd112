"""Kiosks in the bearer-token API (/api/v1/kiosks…) and the surveys the server refused.

* the core's hook: a channel's ``api_blueprints`` are mounted inside /api/v1 per app, with the
  API's token authentication, JSON errors and OpenAPI check;
* the kiosk resources: register (the one-time code once), list with filters, read, new code,
  revoke; roles as on the staff pages; audit-logged with the token's owner; every response
  matches the OpenAPI document; bad input is a JSON error, never a 500;
* refused deliveries: kept on the server in their own transaction (nothing of the response),
  bounded, shown on the staff pages and in the API;
* tenant isolation: another region's kiosks and refused surveys do not exist (404).
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Blueprint
from flask import g
from flask import jsonify
from jsonschema import Draft202012Validator
from jsonschema import FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func
from sqlalchemy import select

from cci import hookimpl
from cci.collection.channels import Channel
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import Response
from cci.foundation.models import User
from cci.web.api.docs import UndocumentedRoute
from cci.web.api.docs import build_spec
from cci.web.api.docs import operation
from cci.web.api.errors import ApiError

from cci_channel_kiosk import payloads
from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection
from cci_channel_kiosk.public import TOKEN_HEADER
from test_kiosk import payload
from test_kiosk import post

SPEC_URI = "urn:cci:openapi"
CODE_RE = re.compile(r"^\d{4}-\d{4}$")


# --- helpers ------------------------------------------------------------------------------


def office_id(app, code: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


class Api:
    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params):
        return self.client.get(path, query_string=params, headers=self.headers)

    def post(self, path: str, body=None, **kwargs):
        if body is not None:
            kwargs["json"] = body
        return self.client.post(path, headers=self.headers, **kwargs)


@pytest.fixture
def api(app, client, make_user):
    """``api(role, region)`` -> an :class:`Api` with a new token of a new user; its e-mail is
    ``.email``."""

    def issue(role: str, region: str | None = None) -> Api:
        email = make_user(role, region)
        with app.app_context(), tenancy.federal_scope("test token"):
            user = db.scalar(select(User).where(User.email == email))
            _row, token = tokens.issue(user, "test")
            db.commit()
        handle = Api(client, token)
        handle.email = email
        return handle

    return issue


@pytest.fixture
def bry(api, live_campaign) -> Api:
    return api("regional_admin", "RU-BRY")


@pytest.fixture
def kya(api, live_campaign) -> Api:
    return api("regional_admin", "RU-KYA")


@pytest.fixture
def spec(client, tenants) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _validator(spec: dict, pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry,
                                format_checker=FormatChecker())


def documented(spec: dict, response, path: str, method: str = "get") -> dict:
    """Assert that ``response`` is what the OpenAPI document promises for ``method path``:
    its documented status (success, or a listed error) and a body that validates."""
    op = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in op["responses"], (path, method, status, response.get_data(True)[:300])
    body = response.get_json()
    if status.startswith("2"):
        pointer = (f"/paths/{_escape(path)}/{method}/responses/{status}"
                   "/content/application~1json/schema")
    else:
        pointer = "/components/responses/Error/content/application~1json/schema"
    errors = [e.message for e in _validator(spec, pointer).iter_errors(body)]
    assert not errors, (path, method, status, errors)
    return body


def assert_error(response, status: int, code: str, detail: str | None = None,
                 russian: bool = True) -> dict:
    """The API's JSON error. ``russian=False`` for messages new with the kiosk resources:
    Russian once the catalog has them, which tests/test_i18n.py checks."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    if russian:
        assert re.search("[а-яА-Я]", error["message"]), error
    if detail is not None:
        assert detail in error["details"], error
    return error


def register(handle: Api, office: int, name: str = "Холл") -> dict:
    response = handle.post("/api/v1/kiosks", {"office_id": office, "name": name})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    return response.get_json()


def pair(app, code: str) -> str:
    """Type the code on a device; returns the device token."""
    response = app.test_client().post("/k/pair", data={"code": code})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.search(r'data-token="([^"]+)"', response.get_data(as_text=True)).group(1)


def audit_entries(app) -> list[AuditEntry]:
    with app.app_context(), tenancy.federal_scope("test"):
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action.like("kiosk.%"))
                               .order_by(AuditEntry.id)))
        for row in rows:
            db.expunge(row)
        return rows


def stored(app, model) -> list:
    with app.app_context(), tenancy.federal_scope("test"):
        rows = list(db.scalars(select(model).order_by(model.id)))
        for row in rows:
            db.expunge(row)
        return rows


def count(app, model) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def refused(app, bry):
    """(kiosk id, device token, the refused body): a paired BRY-01 kiosk that delivered one
    survey with an answer out of range."""
    created = register(bry, office_id(app, "BRY-01"))
    token = pair(app, created["pairing_code"])
    body = payload(app)
    body["answers"] = {**body["answers"], "usefulness": "11"}
    response = post(app, token, body)
    assert response.status_code == 400 and response.json["field"] == "usefulness"
    return created["kiosk"]["id"], token, body


# --- the core's hook: Channel.api_blueprints ------------------------------------------------


def _probe_channel(blueprint: Blueprint):
    class ProbePlugin:
        @hookimpl
        def register_channels(self):
            return [Channel(key="tst-probe", label="Probe", api_blueprints=(blueprint,))]

    return ProbePlugin()


def _probe_blueprint(documented_view: bool = True) -> Blueprint:
    blueprint = Blueprint("probe", __name__, url_prefix="/probe")

    def things():
        return jsonify(user=g.api_user.email)

    def broken():
        raise ApiError(422, details={"thing": "wrong"})

    if documented_view:
        things = operation("Probe things", tags=["probe"])(things)
        broken = operation("Probe error", tags=["probe"])(broken)
    blueprint.add_url_rule("/things", "things", things)
    blueprint.add_url_rule("/broken", "broken", broken, methods=["POST"])
    return blueprint


def test_channel_api_blueprint_is_nested_in_the_api(app, build, api, monkeypatch):
    probe = build(plugins=(_probe_channel(_probe_blueprint()),))
    rules = {r.rule: r.endpoint for r in probe.url_map.iter_rules()}
    assert rules["/api/v1/probe/things"] == "api.probe.things"
    client = probe.test_client()
    # the core's bearer authentication and JSON errors apply
    assert_error(client.get("/api/v1/probe/things"), 401, "unauthorized")
    handle = api("regional_admin", "RU-BRY")
    headers = handle.headers
    ok = client.get("/api/v1/probe/things", headers=headers)
    assert ok.status_code == 200 and ok.get_json() == {"user": handle.email}
    # exempt from CSRF like the core's API (the token, not a cookie, authenticates)
    monkeypatch.setitem(probe.config, "WTF_CSRF_ENABLED", True)
    assert_error(client.post("/api/v1/probe/broken", headers=headers), 422,
                 "validation_error", "thing")
    assert "/api/v1/probe/things" in build_spec(probe)["paths"]


def test_channel_api_blueprints_are_per_app(app, build):
    """Mounted per app, not once per process: an app without the channel has no route, and
    a blocked channel's resources are not served."""
    blueprint = _probe_blueprint()
    with_probe = build(plugins=(_probe_channel(blueprint),))
    without = build()
    assert "/api/v1/probe/things" in {r.rule for r in with_probe.url_map.iter_rules()}
    assert "/api/v1/probe/things" not in {r.rule for r in without.url_map.iter_rules()}
    again = build(plugins=(_probe_channel(blueprint),))  # the same blueprint, a new app
    assert "/api/v1/probe/things" in {r.rule for r in again.url_map.iter_rules()}
    blocked = build({"PLUGINS_BLOCKED": ["kiosk"]})
    assert not [r for r in blocked.url_map.iter_rules() if r.rule.startswith("/api/v1/kiosks")]
    assert "/api/v1/kiosks" in {r.rule for r in app.url_map.iter_rules()}
    build_spec(blocked)


def test_undocumented_channel_api_route_fails_the_spec(app, build):
    probe = build(plugins=(_probe_channel(_probe_blueprint(documented_view=False)),))
    with pytest.raises(UndocumentedRoute, match=r"api\.probe\.things"):
        build_spec(probe)


# --- the kiosk resources ------------------------------------------------------------------


def test_kiosk_lifecycle_through_the_api(app, spec, bry):
    office = office_id(app, "BRY-01")
    response = bry.post("/api/v1/kiosks", {"office_id": office, "name": "  Холл  "})
    created = documented(spec, response, "/api/v1/kiosks", "post")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert CODE_RE.match(created["pairing_code"])
    assert created["pair_url"].endswith("/k/pair")
    kiosk = created["kiosk"]
    kiosk_id = kiosk["id"]
    assert kiosk["name"] == "Холл" and kiosk["status"] == "pending" and not kiosk["online"]
    assert kiosk["office"] == {"id": office, "code": "BRY-01", "name": kiosk["office"]["name"]}
    assert kiosk["region"] == "RU-BRY" and kiosk["rejected_count"] == 0
    assert kiosk["pairing_expires_at"] == created["pairing_expires_at"]

    listed = documented(spec, bry.get("/api/v1/kiosks"), "/api/v1/kiosks")
    assert [k["id"] for k in listed["items"]] == [kiosk_id]

    token = pair(app, created["pairing_code"])
    heartbeat = app.test_client().post(
        "/k/api/heartbeat", json={"app_version": "1.1.0", "queue_length": 3,
                                  "rejected_length": 2}, headers={TOKEN_HEADER: token})
    assert heartbeat.status_code == 200
    one = documented(spec, bry.get(f"/api/v1/kiosks/{kiosk_id}"), "/api/v1/kiosks/{kiosk_id}")
    assert one["status"] == "paired" and one["online"] is True
    assert one["app_version"] == "1.1.0" and one["queue_length"] == 3
    assert one["device_rejected_log_length"] == 2
    assert one["paired_at"] and one["pairing_expires_at"] is None

    again = bry.post(f"/api/v1/kiosks/{kiosk_id}/pairing-code")
    fresh = documented(spec, again, "/api/v1/kiosks/{kiosk_id}/pairing-code", "post")
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    assert CODE_RE.match(fresh["pairing_code"]) and fresh["kiosk"]["status"] == "paired"

    revoked = bry.post(f"/api/v1/kiosks/{kiosk_id}/revoke")
    body = documented(spec, revoked, "/api/v1/kiosks/{kiosk_id}/revoke", "post")
    assert body["status"] == "revoked" and body["online"] is False and body["revoked_at"]
    # the device stops at once, and the code issued before cannot pair it again
    assert post(app, token, payload(app)).status_code == 401
    assert app.test_client().post("/k/pair", data={"code": fresh["pairing_code"]}) \
        .status_code == 400

    entries = audit_entries(app)
    assert [e.action for e in entries] == ["kiosk.register", "kiosk.pair",
                                           "kiosk.pairing_code", "kiosk.revoke"]
    by_token = [e for e in entries if e.action != "kiosk.pair"]
    with app.app_context(), tenancy.federal_scope("test"):
        user_id = db.scalar(select(User.id).where(User.email == bry.email))
    assert {(e.actor, e.actor_id) for e in by_token} == {(bry.email, user_id)}
    assert all(e.object_id == str(kiosk_id) for e in entries)
    assert created["pairing_code"].replace("-", "") not in str([e.after for e in entries])


def test_new_code_for_a_revoked_kiosk_is_409(app, spec, bry):
    kiosk_id = register(bry, office_id(app, "BRY-01"))["kiosk"]["id"]
    assert bry.post(f"/api/v1/kiosks/{kiosk_id}/revoke").status_code == 200
    response = bry.post(f"/api/v1/kiosks/{kiosk_id}/pairing-code")
    assert_error(response, 409, "kiosk_revoked")
    documented(spec, response, "/api/v1/kiosks/{kiosk_id}/pairing-code", "post")
    # revoking again changes nothing and logs nothing more
    before = stored(app, Kiosk)[0].revoked_at
    assert bry.post(f"/api/v1/kiosks/{kiosk_id}/revoke").json["status"] == "revoked"
    assert stored(app, Kiosk)[0].revoked_at == before
    assert [e.action for e in audit_entries(app)] == ["kiosk.register", "kiosk.revoke"]


def test_list_filters(app, spec, bry):
    first = register(bry, office_id(app, "BRY-01"), "Холл")["kiosk"]["id"]
    second = register(bry, office_id(app, "BRY-02"), "Второй этаж")
    pair(app, second["pairing_code"])
    third = register(bry, office_id(app, "BRY-02"), "Старый")["kiosk"]["id"]
    bry.post(f"/api/v1/kiosks/{third}/revoke")

    def ids(**params):
        return [k["id"] for k in documented(spec, bry.get("/api/v1/kiosks", **params),
                                            "/api/v1/kiosks")["items"]]

    assert ids() == [first, second["kiosk"]["id"], third]  # revoked last
    assert ids(status="pending") == [first]
    assert ids(status="paired") == [second["kiosk"]["id"]]
    assert ids(status="revoked") == [third]
    assert ids(office_id=office_id(app, "BRY-02")) == [second["kiosk"]["id"], third]
    assert ids(office_id=office_id(app, "BRY-02"), status="revoked") == [third]
    assert ids(office_id=office_id(app, "KYA-01")) == []


@pytest.mark.parametrize("params, detail", [
    ({"status": "broken"}, "status"),
    ({"office_id": "abc"}, "office_id"),
    ({"office_id": "0"}, "office_id"),
    ({"office_id": str(10**20)}, "office_id"),
])
def test_bad_list_filters_are_422(app, spec, bry, params, detail):
    response = bry.get("/api/v1/kiosks", **params)
    assert_error(response, 422, "validation_error", detail)
    documented(spec, response, "/api/v1/kiosks")


@pytest.mark.parametrize("body, detail", [
    (None, "office_id"),
    ([1, 2], "office_id"),
    ({"name": "Холл"}, "office_id"),
    ({"office_id": "1", "name": "Холл"}, "office_id"),
    ({"office_id": True, "name": "Холл"}, "office_id"),
    ({"office_id": 10**20, "name": "Холл"}, "office_id"),
    ({"office_id": -1, "name": "Холл"}, "office_id"),
    ({"office_id": "BRY-01"}, "name"),
    ({"office_id": "BRY-01", "name": None}, "name"),
    ({"office_id": "BRY-01", "name": 5}, "name"),
    ({"office_id": "BRY-01", "name": ""}, "name"),
    ({"office_id": "BRY-01", "name": "   "}, "name"),
    ({"office_id": "BRY-01", "name": "x" * 101}, "name"),
    ({"office_id": "BRY-01", "name": "Холл", "token": "x"}, "token"),
    ({"office_id": "KYA-01", "name": "Чужой"}, "office_id"),  # another region's office
])
def test_bad_registrations_are_422_and_store_nothing(app, spec, bry, body, detail):
    if isinstance(body, dict) and isinstance(body.get("office_id"), str) and \
            body["office_id"][:3].isalpha():
        body = {**body, "office_id": office_id(app, body["office_id"])}
    response = bry.post("/api/v1/kiosks", body)
    error = assert_error(response, 422, "validation_error", detail, russian=False)
    assert set(error["details"]) == {detail} or body is None or not isinstance(body, dict)
    documented(spec, response, "/api/v1/kiosks", "post")
    assert count(app, Kiosk) == 0 and audit_entries(app) == []


@pytest.mark.parametrize("data", ["not json", "[" * 50_000, '{"office_id": 1,'])
def test_unreadable_registration_bodies_are_422(app, bry, data):
    response = bry.post("/api/v1/kiosks", data=data, content_type="application/json")
    assert_error(response, 422, "validation_error", "office_id")
    assert count(app, Kiosk) == 0


def test_inactive_office_takes_no_kiosk(app, bry):
    office = office_id(app, "BRY-02")
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(Office, office).active = False
        db.commit()
    error = assert_error(bry.post("/api/v1/kiosks", {"office_id": office, "name": "Холл"}),
                         422, "validation_error", "office_id", russian=False)
    assert error["details"]["office_id"] == error["message"]  # the reason, not a generic text
    assert count(app, Kiosk) == 0


@pytest.mark.parametrize("path, params", [
    ("/api/v1/kiosks/999999", {}),
    (f"/api/v1/kiosks/{10**20}", {}),
    ("/api/v1/kiosks/999999/rejections", {}),
])
def test_unknown_kiosk_is_404(app, spec, bry, path, params):
    response = bry.get(path, **params)
    assert_error(response, 404, "not_found")
    for url in (f"/api/v1/kiosks/{10**20}/revoke", "/api/v1/kiosks/999999/pairing-code"):
        assert_error(bry.post(url), 404, "not_found")


@pytest.mark.parametrize("params, detail", [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"offset": str(10**20)}, "offset"),
    ({"kiosk_id": "x"}, "kiosk_id"), ({"office_id": "1.5"}, "office_id"),
])
def test_bad_rejection_paging_is_422(app, spec, bry, params, detail):
    response = bry.get("/api/v1/kiosks/rejections", **params)
    assert_error(response, 422, "validation_error", detail)
    documented(spec, response, "/api/v1/kiosks/rejections")


@pytest.mark.parametrize("role, region", [
    ("operator", "RU-BRY"), ("auditor", "RU-BRY"), ("federal_analyst", None),
    ("methodology_owner", None),
])
def test_only_managers_use_the_kiosk_resources(app, api, live_campaign, role, region):
    """The roles of the staff pages (regional administrator, platform administrator)."""
    manager = api("regional_admin", "RU-BRY")
    kiosk_id = register(manager, office_id(app, "BRY-01"))["kiosk"]["id"]
    other = api(role, region)
    for response in (other.get("/api/v1/kiosks"), other.get(f"/api/v1/kiosks/{kiosk_id}"),
                     other.get("/api/v1/kiosks/rejections"),
                     other.post("/api/v1/kiosks", {"office_id": office_id(app, "BRY-01"),
                                                   "name": "x"}),
                     other.post(f"/api/v1/kiosks/{kiosk_id}/pairing-code"),
                     other.post(f"/api/v1/kiosks/{kiosk_id}/revoke")):
        assert_error(response, 403, "forbidden")
    assert count(app, Kiosk) == 1 and stored(app, Kiosk)[0].revoked_at is None
    assert [e.action for e in audit_entries(app)] == ["kiosk.register"]


def test_kiosk_resources_need_a_token(app, client, tenants):
    for response in (client.get("/api/v1/kiosks"), client.post("/api/v1/kiosks", json={}),
                     client.get("/api/v1/kiosks/rejections"),
                     client.post("/api/v1/kiosks/1/revoke")):
        assert_error(response, 401, "unauthorized")


# --- tenant isolation ---------------------------------------------------------------------


def test_a_regional_token_cannot_reach_another_regions_kiosks(app, spec, bry, kya):
    theirs = register(kya, office_id(app, "KYA-01"), "Красноярский холл")
    their_id = theirs["kiosk"]["id"]
    device = pair(app, theirs["pairing_code"])
    bad = payload(app, respondent_type="martian")
    assert post(app, device, bad).status_code == 400
    own_id = register(bry, office_id(app, "BRY-01"))["kiosk"]["id"]
    audit_before = len(audit_entries(app))

    assert [k["id"] for k in bry.get("/api/v1/kiosks").json["items"]] == [own_id]
    for response in (bry.get(f"/api/v1/kiosks/{their_id}"),
                     bry.get(f"/api/v1/kiosks/{their_id}/rejections"),
                     bry.post(f"/api/v1/kiosks/{their_id}/pairing-code"),
                     bry.post(f"/api/v1/kiosks/{their_id}/revoke")):
        assert_error(response, 404, "not_found")
    listed = bry.get("/api/v1/kiosks/rejections").json
    assert listed["items"] == [] and listed["total"] == 0
    assert bry.get("/api/v1/kiosks/rejections", kiosk_id=their_id).json["total"] == 0
    assert bry.get("/api/v1/kiosks", office_id=office_id(app, "KYA-01")).json["items"] == []
    assert_error(bry.post("/api/v1/kiosks", {"office_id": office_id(app, "KYA-01"),
                                             "name": "Чужой"}), 422, "validation_error",
                 "office_id", russian=False)

    # nothing of theirs changed, and they still see everything of their own
    their_kiosk = next(k for k in stored(app, Kiosk) if k.id == their_id)
    assert their_kiosk.revoked_at is None and their_kiosk.token_hash
    assert len(audit_entries(app)) == audit_before
    assert app.test_client().get("/k/api/questionnaire",
                                 headers={TOKEN_HEADER: device}).status_code == 200
    assert [k["id"] for k in kya.get("/api/v1/kiosks").json["items"]] == [their_id]
    mine = documented(spec, kya.get(f"/api/v1/kiosks/{their_id}/rejections"),
                      "/api/v1/kiosks/{kiosk_id}/rejections")
    assert mine["total"] == 1 and mine["items"][0]["field"] == "respondent_type"


def test_a_federal_token_sees_and_manages_every_region(app, spec, api, live_campaign):
    bry = api("regional_admin", "RU-BRY")
    own = register(bry, office_id(app, "BRY-01"))
    refused_body = payload(app, key="bad key!")
    assert post(app, pair(app, own["pairing_code"]), refused_body).status_code == 400
    admin = api("admin")
    created = register(admin, office_id(app, "KYA-02"), "Федеральный")
    assert created["kiosk"]["region"] == "RU-KYA"
    listed = documented(spec, admin.get("/api/v1/kiosks"), "/api/v1/kiosks")["items"]
    assert {(k["region"], k["name"]) for k in listed} == {("RU-BRY", "Холл"),
                                                         ("RU-KYA", "Федеральный")}
    rejections = documented(spec, admin.get("/api/v1/kiosks/rejections"),
                            "/api/v1/kiosks/rejections")
    assert [(r["region"], r["field"]) for r in rejections["items"]] == [("RU-BRY", "key")]
    assert admin.post(f"/api/v1/kiosks/{own['kiosk']['id']}/revoke").json["status"] == \
        "revoked"
    with app.app_context(), tenancy.federal_scope("test"):
        kya_region = db.scalar(select(Office.region_id).where(Office.code == "KYA-02"))
    register_entry = [e for e in audit_entries(app) if e.action == "kiosk.register"][-1]
    assert register_entry.region_id == kya_region and register_entry.actor == admin.email
    # the regional token does not see the kiosk the federal token registered in RU-KYA
    assert [k["name"] for k in bry.get("/api/v1/kiosks").json["items"]] == ["Холл"]


# --- refused deliveries -------------------------------------------------------------------


def test_a_refused_delivery_is_kept_without_any_response(app, spec, bry, refused):
    kiosk_id, _token, body = refused
    assert count(app, Response) == 0 and count(app, Answer) == 0
    [row] = stored(app, KioskRejection)
    assert row.kiosk_id == kiosk_id and row.client_key == body["key"]
    assert row.payload == body  # as the device sent it
    assert row.field == "usefulness" and re.search("[а-яА-Я]", row.error)
    with app.app_context(), tenancy.federal_scope("test"):
        assert row.region_id == db.get(Kiosk, kiosk_id).region_id

    per_kiosk = documented(spec, bry.get(f"/api/v1/kiosks/{kiosk_id}/rejections"),
                           "/api/v1/kiosks/{kiosk_id}/rejections")
    assert per_kiosk["total"] == 1 and per_kiosk["limit"] == 100 and per_kiosk["offset"] == 0
    [item] = per_kiosk["items"]
    assert item["kiosk_id"] == kiosk_id and item["kiosk_name"] == "Холл"
    assert item["office"]["code"] == "BRY-01" and item["region"] == "RU-BRY"
    assert item["payload"] == body and item["client_key"] == body["key"]
    assert item["error"] == row.error and item["field"] == "usefulness"
    region = documented(spec, bry.get("/api/v1/kiosks/rejections",
                                      office_id=office_id(app, "BRY-01")),
                        "/api/v1/kiosks/rejections")
    assert [r["id"] for r in region["items"]] == [item["id"]]
    assert bry.get("/api/v1/kiosks/rejections",
                   office_id=office_id(app, "BRY-02")).json["total"] == 0
    assert bry.get(f"/api/v1/kiosks/{kiosk_id}").json["rejected_count"] == 1
    assert bry.get("/api/v1/kiosks").json["items"][0]["rejected_count"] == 1


def test_rejections_are_paged_newest_first(app, bry, refused):
    kiosk_id, token, _body = refused
    for n in range(3):
        assert post(app, token, payload(app, comment="x" * (5000 + n))).status_code == 400
    page = bry.get(f"/api/v1/kiosks/{kiosk_id}/rejections", limit=2, offset=1).json
    assert page["total"] == 4 and page["limit"] == 2 and page["offset"] == 1
    assert [len(r["payload"]["comment"]) for r in page["items"]] == [5001, 5000]
    assert [r["field"] for r in page["items"]] == ["comment", "comment"]


def test_a_repeat_of_a_stored_answer_is_not_a_rejection(app, refused):
    _kiosk_id, token, _body = refused
    good = payload(app)
    assert post(app, token, good).status_code == 201
    assert post(app, token, good).status_code == 200
    assert count(app, KioskRejection) == 1 and count(app, Response) == 1


def test_a_refusal_from_the_intake_after_parsing_is_kept_too(app, bry, refused):
    """intake.submit refuses (the office closed after the kiosk was paired): its work is
    rolled back and the refusal is kept in a transaction of its own."""
    _kiosk_id, token, _body = refused
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(Office).where(Office.code == "BRY-01")).active = False
        db.commit()
    body = payload(app)
    response = post(app, token, body)
    assert response.status_code == 400 and response.json["status"] == "invalid"
    assert count(app, Response) == 0 and count(app, Answer) == 0
    latest = stored(app, KioskRejection)[-1]
    assert latest.client_key == body["key"] and latest.error == response.json["error"]
    assert latest.field == response.json["field"]


def test_a_refusal_that_cannot_be_kept_is_still_a_400(app, refused, monkeypatch, caplog):
    """The device must get its 400 (and keep the survey in its own log): a 500 would make it
    retry an answer that can never be stored."""
    from sqlalchemy.exc import OperationalError

    from cci_channel_kiosk import rejections

    def broken(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("database is gone"))

    monkeypatch.setattr(rejections, "record", broken)
    _kiosk_id, token, _body = refused
    response = post(app, token, payload(app, respondent_type="martian"))
    assert response.status_code == 400 and response.json["field"] == "respondent_type"
    assert count(app, KioskRejection) == 1 and count(app, Response) == 0
    assert "could not be kept" in caplog.text
    assert post(app, token, payload(app)).status_code == 201  # the session is usable again


@pytest.mark.parametrize("data, kept", [
    ("not json at all", "not json at all"),
    ('{"key": "abc", "answers": [1, 2', '{"key": "abc", "answers": [1, 2'),
])
def test_a_body_that_is_not_json_is_kept_as_text(app, refused, data, kept):
    _kiosk_id, token, _body = refused
    response = app.test_client().post("/k/api/responses", data=data,
                                      content_type="application/json",
                                      headers={TOKEN_HEADER: token})
    assert response.status_code == 400
    assert stored(app, KioskRejection)[-1].payload == kept


def test_absurd_bodies_are_refused_bounded_and_never_a_500(app, refused):
    _kiosk_id, token, _body = refused
    device = app.test_client()
    nested = "[" * 60_000
    response = device.post("/k/api/responses", data=nested, content_type="application/json",
                           headers={TOKEN_HEADER: token})
    assert response.status_code == 400  # not a RecursionError
    assert stored(app, KioskRejection)[-1].payload == nested[:payloads.MAX_CHARS]
    deep = {"key": str(uuid.uuid4()), "answers": {"a": [[[[[[[[[[1]]]]]]]]]]}}
    assert post(app, token, deep).status_code == 400
    kept = stored(app, KioskRejection)[-1].payload
    assert isinstance(kept, str) and kept.startswith("{")  # too deep: kept as text
    heartbeat = device.post("/k/api/heartbeat", data=nested, content_type="application/json",
                            headers={TOKEN_HEADER: token})
    assert heartbeat.status_code == 200


def test_characters_the_database_refuses_are_replaced(app, refused):
    """PostgreSQL's JSONB takes neither NUL nor NaN; the refusal is kept all the same."""
    _kiosk_id, token, _body = refused
    body = payload(app, comment="до\u0000после" + "x" * 5000)
    assert post(app, token, body).status_code == 400
    # the NUL was removed where the request was read (cci.web.inputs)
    assert stored(app, KioskRejection)[-1].payload["comment"].startswith("допосле")
    text = '{"key": "nan-key-0001", "respondent_type": "martian", "answers": {"q": NaN}}'
    response = app.test_client().post("/k/api/responses", data=text,
                                      content_type="application/json",
                                      headers={TOKEN_HEADER: token})
    assert response.status_code == 400
    latest = stored(app, KioskRejection)[-1]
    assert latest.client_key == "nan-key-0001" and latest.payload["answers"] == {"q": "nan"}


def test_heartbeat_without_the_rejected_log_leaves_it_unknown(app, bry, refused):
    kiosk_id, token, _body = refused
    device = app.test_client()
    device.post("/k/api/heartbeat", json={"rejected_length": 4}, headers={TOKEN_HEADER: token})
    assert bry.get(f"/api/v1/kiosks/{kiosk_id}").json["device_rejected_log_length"] == 4
    device.post("/k/api/heartbeat", json={"rejected_length": True},
                headers={TOKEN_HEADER: token})
    assert bry.get(f"/api/v1/kiosks/{kiosk_id}").json["device_rejected_log_length"] is None


# --- the staff pages ----------------------------------------------------------------------


@pytest.fixture
def bry_admin(make_user, login):
    login(make_user("regional_admin", region="RU-BRY"))


def test_staff_list_counts_and_links_the_refused_answers(app, client, refused, bry_admin):
    kiosk_id, token, _body = refused
    app.test_client().post("/k/api/heartbeat", json={"rejected_length": 1},
                           headers={TOKEN_HEADER: token})
    page = client.get("/r/RU-BRY/kiosks/").get_data(as_text=True)
    row = page[page.index(f'data-kiosk="{kiosk_id}"'):]
    row = row[:row.index("</tr>")]
    cell = row[row.index('class="kiosk-rejected"'):]
    assert f'/r/RU-BRY/kiosks/rejections?kiosk={kiosk_id}">1<' in cell
    assert re.search(r'<small class="muted">[^<]*: 1</small>', cell)  # the device's own log
    assert 'href="/r/RU-BRY/kiosks/rejections"' in page


def test_staff_page_shows_the_refused_answers_readably(app, client, refused, bry_admin):
    kiosk_id, _token, body = refused
    iset = app.extensions["cci.registry"].indicator_set("cci-2023")
    question = iset.item("usefulness").for_type("job_seeker")
    response = client.get(f"/r/RU-BRY/kiosks/rejections?kiosk={kiosk_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    row = html[html.index('data-rejection="'):]
    row = row[:row.index("</tr>")]
    with app.app_context(), tenancy.federal_scope("test"):
        error = db.scalar(select(KioskRejection.error))
    assert "Холл" in row and "BRY-01" in row and error in row
    assert "соискатель" in row  # the respondent type, in words
    assert question in row  # the question as the respondent saw it
    assert "<mark>11</mark>" in row  # the refused answer, marked
    assert body["key"] in row  # the body as sent, under «as the kiosk sent it»
    scale_item = next(k for k, v in body["answers"].items() if k != "usefulness" and v == "8")
    assert iset.item(scale_item).for_type("job_seeker") in row
    everything = client.get("/r/RU-BRY/kiosks/rejections").get_data(as_text=True)
    assert 'data-rejection="' in everything and "<mark>11</mark>" in everything


def test_staff_page_escapes_what_the_device_sent(app, client, refused, bry_admin):
    _kiosk_id, token, _body = refused
    assert post(app, token, payload(app, respondent_type="<script>alert(1)</script>")) \
        .status_code == 400
    html = client.get("/r/RU-BRY/kiosks/rejections").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_staff_rejections_are_region_scoped(app, client, make_user, login, refused):
    kiosk_id, _token, _body = refused
    login(make_user("regional_admin", region="RU-KYA"))
    assert client.get("/r/RU-BRY/kiosks/rejections").status_code == 404
    assert client.get(f"/r/RU-KYA/kiosks/rejections?kiosk={kiosk_id}").status_code == 404
    own = client.get("/r/RU-KYA/kiosks/rejections")
    assert own.status_code == 200 and "data-rejection" not in own.get_data(as_text=True)
    client.post("/logout")
    login(make_user("operator", region="RU-BRY"))
    assert client.get("/r/RU-BRY/kiosks/rejections").status_code == 403


def test_staff_rejections_page_is_paged(app, client, refused, bry_admin, monkeypatch):
    from cci_channel_kiosk import staff

    _kiosk_id, token, _body = refused
    assert post(app, token, payload(app, respondent_type="martian")).status_code == 400
    monkeypatch.setattr(staff, "REJECTIONS_PAGE_SIZE", 1)
    first = client.get("/r/RU-BRY/kiosks/rejections").get_data(as_text=True)
    assert first.count("data-rejection=") == 1 and "page=2" in first
    second = client.get("/r/RU-BRY/kiosks/rejections?page=2").get_data(as_text=True)
    assert second.count("data-rejection=") == 1 and "<mark>11</mark>" in second
    assert client.get(f"/r/RU-BRY/kiosks/rejections?page={10**30}").status_code == 200


def test_staff_register_still_works_through_the_shared_functions(app, client, bry_admin,
                                                                 live_campaign):
    response = client.post("/r/RU-BRY/kiosks/", data={"office": office_id(app, "BRY-02"),
                                                      "name": "Через страницу"})
    assert response.status_code == 200 and 'id="pairing-code"' in response.get_data(True)
    [kiosk] = stored(app, Kiosk)
    assert kiosk.name == "Через страницу"
    assert client.post(f"/r/RU-BRY/kiosks/{10**20}/revoke").status_code == 404
