"""The kiosk channel through the Flask client: registration and pairing (one-time, expiring
codes), the device token (revocation at once, a clear screen for a revoked or unknown device),
the delivery endpoint (idempotent by the device's key, strict validation, staff sessions
refused), the heartbeat, the staff pages' tenant isolation and the audit log."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import Response

from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection
from cci_channel_kiosk.public import TOKEN_COOKIE
from cci_channel_kiosk.public import TOKEN_HEADER

KIOSKS_URL = "/r/RU-BRY/kiosks/"
CODE_RE = re.compile(r'id="pairing-code">(\d{4}-\d{4})<')


def office_id(app, code="BRY-01"):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


def register(client, app, name="Холл") -> str:
    """Register a kiosk for BRY-01 through the staff page; returns its pairing code."""
    response = client.post(KIOSKS_URL, data={"office": office_id(app), "name": name})
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return CODE_RE.search(response.get_data(as_text=True)).group(1)


@pytest.fixture
def admin(make_user, login):
    login(make_user("regional_admin", region="RU-BRY"))


@pytest.fixture
def paired(app, client, admin, live_campaign):
    """(kiosk id, device token): a kiosk registered by the admin and paired on a device
    (the admin's session is closed first, as on a real kiosk)."""
    code = register(client, app)
    client.post("/logout")
    device = app.test_client()
    response = device.post("/k/pair", data={"code": code})
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    token = re.search(r'data-token="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert device.get_cookie(TOKEN_COOKIE, path="/k").value == token
    with app.app_context(), tenancy.federal_scope("test"):
        kiosk_id = db.scalar(select(Kiosk.id))
    return kiosk_id, token


def answers_for(app, rtype="job_seeker") -> dict:
    iset = app.extensions["cci.registry"].indicator_set("cci-2023")
    answers = {}
    for item in iset.items_for(rtype, "question"):
        if item.follows is not None:
            continue
        answers[item.key] = {"scale": "8", "yesno": "0"}.get(item.kind) or item.options[0].key
    return answers


def in_office_hours(now: dt.datetime | None = None) -> dt.datetime:
    """The last noon in the test kiosks' region (RU-BRY, Moscow time): a survey finished
    "now" would be flagged outside office hours when the suite runs in the evening."""
    moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    now = (now or utcnow()).astimezone(moscow)
    noon = dt.datetime.combine(now.date(), dt.time(12), tzinfo=moscow)
    return (noon if noon <= now else noon - dt.timedelta(days=1)).astimezone(dt.UTC)


def payload(app, key=None, **over):
    finished = in_office_hours()
    body = {"key": key or str(uuid.uuid4()), "respondent_type": "job_seeker",
            "answers": answers_for(app), "profile": {}, "comment": "",
            "started_at": (finished - dt.timedelta(minutes=3)).isoformat(),
            "finished_at": finished.isoformat(), "timings": {"usefulness": 4.2},
            "app_version": "1.0.0"}
    body.update(over)
    return body


def post(app, token, body, client=None):
    client = client or app.test_client()
    return client.post("/k/api/responses", json=body, headers={TOKEN_HEADER: token})


def count_responses(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(Response))


def audit_actions(app) -> list[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("kiosk.%"))
                               .order_by(AuditEntry.id)))


# --- registration and pairing -------------------------------------------------------------


def test_register_pair_and_audit(app, client, paired):
    kiosk_id, token = paired
    with app.app_context(), tenancy.federal_scope("test"):
        kiosk = db.get(Kiosk, kiosk_id)
        assert kiosk.paired_at is not None and kiosk.pairing_code_hash is None
        assert kiosk.token_hash and token not in kiosk.token_hash  # only the hash is kept
        assert kiosk.office.code == "BRY-01"
    assert audit_actions(app) == ["kiosk.register", "kiosk.pair"]
    device = app.test_client()
    device.set_cookie(TOKEN_COOKIE, token, path="/k")
    page = device.get("/k/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "kiosk.js" in html and 'data-state="app"' in html
    assert "/r/" not in html and "/login" not in html  # nothing leads to staff pages


def test_code_is_one_time(app, client, admin, live_campaign):
    code = register(client, app)
    client.post("/logout")
    assert app.test_client().post("/k/pair", data={"code": code}).status_code == 200
    again = app.test_client().post("/k/pair", data={"code": code})
    assert again.status_code == 400
    assert "нет такого кода" in again.get_data(as_text=True).lower() or \
        "использован" in again.get_data(as_text=True)


def test_expired_code(app, client, admin, live_campaign):
    code = register(client, app)
    client.post("/logout")
    with app.app_context(), tenancy.federal_scope("test"):
        kiosk = db.scalar(select(Kiosk))
        kiosk.pairing_expires_at = utcnow() - dt.timedelta(minutes=1)
        db.commit()
    response = app.test_client().post("/k/pair", data={"code": code})
    assert response.status_code == 400
    assert "истёк" in response.get_data(as_text=True) or "истек" in response.get_data(as_text=True)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(Kiosk)).paired_at is None


def test_code_expires_in_24_hours(app, client, admin, live_campaign):
    register(client, app)
    with app.app_context(), tenancy.federal_scope("test"):
        kiosk = db.scalar(select(Kiosk))
        left = kiosk.pairing_expires_at - utcnow()
    assert dt.timedelta(hours=23, minutes=59) < left <= dt.timedelta(hours=24)


def test_wrong_code_and_unknown_device(app):
    assert app.test_client().post("/k/pair", data={"code": "0000-0000"}).status_code == 400
    screen = app.test_client().get("/k/")
    assert screen.status_code == 401
    html = screen.get_data(as_text=True)
    assert 'data-state="unknown"' in html and "не зарегистрировано" in html
    assert "survey-question" not in html
    forged = app.test_client()
    forged.set_cookie(TOKEN_COOKIE, "forged.token", path="/k")
    assert forged.get("/k/").status_code == 401
    api = app.test_client().get("/k/api/questionnaire", headers={TOKEN_HEADER: "nonsense"})
    assert api.status_code == 401 and api.json["status"] == "unknown"


def test_new_code_replaces_the_device(app, client, make_user, login, paired):
    """A new code (a replaced device): once it pairs, the old device's token stops working."""
    kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    login(make_user("regional_admin", region="RU-BRY"))
    response = client.post(f"{KIOSKS_URL}{kiosk_id}/code")
    assert response.status_code == 200
    code = CODE_RE.search(response.get_data(as_text=True)).group(1)
    client.post("/logout")
    assert app.test_client().get("/k/api/questionnaire",
                                 headers={TOKEN_HEADER: token}).status_code == 200
    assert app.test_client().post("/k/pair", data={"code": code}).status_code == 200
    assert app.test_client().get("/k/api/questionnaire",
                                 headers={TOKEN_HEADER: token}).status_code == 401
    refused = post(app, token, payload(app))  # the old device delivered a minute ago
    assert refused.status_code == 401 and refused.json["status"] == "unknown"
    assert count_responses(app) == 1
    assert audit_actions(app) == ["kiosk.register", "kiosk.pair", "kiosk.pairing_code",
                                  "kiosk.pair"]


# --- revocation ---------------------------------------------------------------------------


def test_revoke_works_at_once(app, client, make_user, login, paired):
    kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    login(make_user("regional_admin", region="RU-BRY"))
    response = client.post(f"{KIOSKS_URL}{kiosk_id}/revoke")
    assert response.status_code == 303
    refused = post(app, token, payload(app))
    assert refused.status_code == 401 and refused.json["status"] == "revoked"
    assert "отозван" in refused.json["error"]
    assert app.test_client().post("/k/api/heartbeat", json={},
                                  headers={TOKEN_HEADER: token}).status_code == 401
    device = app.test_client()
    device.set_cookie(TOKEN_COOKIE, token, path="/k")
    screen = device.get("/k/")
    assert screen.status_code == 401
    html = screen.get_data(as_text=True)
    assert 'data-state="revoked"' in html and "Киоск отключён" in html
    assert "kiosk.js" not in html and "survey-question" not in html
    assert count_responses(app) == 1
    assert audit_actions(app)[-1] == "kiosk.revoke"
    page = client.get(KIOSKS_URL).get_data(as_text=True)
    assert "отозван" in page


# --- delivery -------------------------------------------------------------------------------


def test_a_device_posts_without_a_csrf_token_and_staff_pages_do_not(app, client, paired,
                                                                     monkeypatch):
    """With CSRF protection on, as in production: the device's answers and heartbeat (its token
    in a header authenticates, no cookie session) are taken, a staff form without the token is
    not (the kiosk's device views are the channel's public endpoints, nothing else)."""
    _kiosk_id, token = paired
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert post(app, token, payload(app)).status_code == 201
    beat = app.test_client().post("/k/api/heartbeat", json={"app_version": "1.0.0"},
                                  headers={TOKEN_HEADER: token})
    assert beat.status_code == 200, beat.get_data(as_text=True)[:300]
    refused = client.post("/login", data={"email": "a@b.ru", "password": "x"})  # a form
    assert refused.status_code == 400 and "Форма устарела" in refused.get_data(as_text=True)


def test_a_device_restores_its_cookie_from_its_own_page_only(app, paired, monkeypatch):
    """With CSRF protection on: the token kept in the device's storage sets the cookie again
    when the kiosk's own page posts it; a post from another origin is refused."""
    _kiosk_id, token = paired
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    device = app.test_client()
    own = device.post("/k/restore", data={"token": token},
                      headers={"Origin": "http://localhost"})
    assert own.status_code == 303 and device.get_cookie(TOKEN_COOKIE, path="/k").value == token
    stranger = app.test_client()
    foreign = stranger.post("/k/restore", data={"token": token},
                            headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 400 and stranger.get_cookie(TOKEN_COOKIE, path="/k") is None
    assert stranger.post("/k/restore", data={"token": token}).status_code == 400  # no Origin


def test_submit_is_idempotent(app, paired):
    _kiosk_id, token = paired
    body = payload(app)
    first = post(app, token, body)
    assert first.status_code == 201, first.json
    again = post(app, token, body)
    assert again.status_code == 200 and again.json["status"] == "already received"
    assert count_responses(app) == 1
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalar(select(Response))
        assert stored.client_key == f"kiosk:{body['key']}"
        assert stored.channel == "kiosk" and stored.office_id == office_id(app)
        assert stored.meta["device_id"] == _kiosk_id
        assert stored.meta["app_version"] == "1.0.0"
        assert stored.meta["timings"] == {"usefulness": 4.2}
        assert stored.meta["staff_session"] is False
        kiosk = db.get(Kiosk, _kiosk_id)
        assert kiosk.last_seen_at is not None


@pytest.mark.parametrize("change, field", [
    ({"answers": {"usefulness": "11"}}, "usefulness"),
    ({"answers": {"no_such_question": "5"}}, "no_such_question"),
    ({"respondent_type": "martian"}, "respondent_type"),
    ({"key": "bad key!"}, "key"),
    ({"comment": "x" * 5000}, "comment"),
])
def test_invalid_answers_store_nothing(app, paired, change, field):
    _kiosk_id, token = paired
    body = payload(app)
    if "answers" in change:
        body["answers"] = {**body["answers"], **change["answers"]}
    else:
        body.update(change)
    response = post(app, token, body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert re.search("[а-яА-Я]", response.json["error"])  # a message in Russian
    assert count_responses(app) == 0
    # ...but the refused survey itself is kept on the server, as the device sent it
    with app.app_context(), tenancy.federal_scope("test"):
        [kept] = db.scalars(select(KioskRejection)).all()
        assert (kept.kiosk_id, kept.field, kept.error) == (_kiosk_id, field,
                                                            response.json["error"])
        assert kept.payload == body and kept.client_key == body["key"]


def test_incomplete_survey_is_refused(app, paired):
    _kiosk_id, token = paired
    body = payload(app)
    body["answers"].pop("usefulness")
    response = post(app, token, body)
    assert response.status_code == 400 and response.json["field"] == "usefulness"
    assert count_responses(app) == 0


def test_staff_session_cannot_answer(app, client, make_user, login, paired):
    _kiosk_id, token = paired
    login(make_user("operator", region="RU-BRY"))
    response = post(app, token, payload(app), client=client)
    assert response.status_code == 403
    assert response.json["status"] == "staff_session" and "сотрудник" in response.json["error"]
    assert count_responses(app) == 0
    client.set_cookie(TOKEN_COOKIE, token, path="/k")
    screen = client.get("/k/")
    assert screen.status_code == 403 and "kiosk.js" not in screen.get_data(as_text=True)


def test_questionnaire_json(app, paired):
    _kiosk_id, token = paired
    data = app.test_client().get("/k/api/questionnaire", headers={TOKEN_HEADER: token}).json
    assert data["campaign"] and data["methodology"] == "cci-2023"
    assert [c["value"] for c in data["typeStep"]["choices"]] == ["job_seeker", "employer"]
    seeker = data["types"]["job_seeker"]
    follow = next(s for s in seeker if s["key"] == "management_openness")
    assert follow["follows"] == ["management_contact", "1"]
    usefulness = next(s for s in seeker if s["key"] == "usefulness")
    assert usefulness["scale"] == list(range(1, 11)) and usefulness["allowsNa"]
    assert data["texts"]["attractHeading"] == "Оцените качество обслуживания"


def test_heartbeat_updates_the_list(app, client, make_user, login, paired):
    kiosk_id, token = paired
    with app.app_context(), tenancy.federal_scope("test"):
        kiosk = db.get(Kiosk, kiosk_id)
        kiosk.last_seen_at = utcnow() - dt.timedelta(minutes=10)
        db.commit()
    login(make_user("regional_admin", region="RU-BRY"))
    assert "offline" in client.get(KIOSKS_URL).get_data(as_text=True) or \
        "не в сети" in client.get(KIOSKS_URL).get_data(as_text=True)
    response = app.test_client().post("/k/api/heartbeat",
                                      json={"app_version": "1.2.3", "queue_length": 7},
                                      headers={TOKEN_HEADER: token})
    assert response.status_code == 200
    with app.app_context(), tenancy.federal_scope("test"):
        kiosk = db.get(Kiosk, kiosk_id)
        assert kiosk.queue_length == 7 and kiosk.app_version == "1.2.3"
        assert (utcnow() - kiosk.last_seen_at).total_seconds() < 30
    page = client.get(KIOSKS_URL).get_data(as_text=True)
    row = page[page.index(f'data-kiosk="{kiosk_id}"'):]
    row = row[:row.index("</tr>")]
    assert "1.2.3" in row and '<td class="kiosk-queue">7</td>' in row and "в сети" in row


# --- staff pages ----------------------------------------------------------------------------


def test_staff_pages_are_region_scoped(app, client, make_user, login, paired):
    kiosk_id, _token = paired
    login(make_user("regional_admin", region="RU-KYA"))
    assert client.get(KIOSKS_URL).status_code == 404
    assert client.post(f"{KIOSKS_URL}{kiosk_id}/revoke").status_code == 404
    own = client.get("/r/RU-KYA/kiosks/")
    assert own.status_code == 200 and "Холл" not in own.get_data(as_text=True)
    assert client.post(f"/r/RU-KYA/kiosks/{kiosk_id}/revoke").status_code == 404
    assert client.post(f"/r/RU-KYA/kiosks/{kiosk_id}/code").status_code == 404
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(Kiosk, kiosk_id).revoked_at is None


def test_only_admins_manage_kiosks(app, client, make_user, login, tenants):
    login(make_user("operator", region="RU-BRY"))
    assert client.get(KIOSKS_URL).status_code == 403


def test_region_navigation_links_the_kiosks(app, client, admin):
    page = client.get("/r/RU-BRY/").get_data(as_text=True)
    assert "/r/RU-BRY/kiosks/" in page


def test_device_rate_limit(app, paired, monkeypatch):
    _kiosk_id, token = paired
    monkeypatch.setitem(app.config, "KIOSK_RATELIMIT", "2/minute")
    device = app.test_client()
    codes = [device.post("/k/api/heartbeat", json={}, headers={TOKEN_HEADER: token}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    answers = [post(app, token, payload(app)) for _ in range(3)]  # counted apart per endpoint
    assert [reply.status_code for reply in answers] == [201, 201, 429]
    limited = answers[-1]
    assert limited.get_json()["status"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 61


def test_a_device_token_is_trusted_only_with_the_secret_that_signed_it(app, paired):
    """The verified signature is remembered per secret: another app's secret (another
    deployment, a rotated key) does not inherit it, and a tampered token is refused."""
    from cci_channel_kiosk import devices

    kiosk_id, token = paired
    with app.app_context():
        assert devices.token_kiosk_id(token) == kiosk_id
        hits = devices._signed_kiosk_id.cache_info().hits
        assert devices.token_kiosk_id(token) == kiosk_id
        assert devices._signed_kiosk_id.cache_info().hits == hits + 1  # not verified again
        assert devices.token_kiosk_id(token[:-2] + ("A" if token[-2] != "A" else "B")
                                      + token[-1]) is None
    assert devices._signed_kiosk_id("another secret", token) is None


def test_a_kiosk_id_without_a_token_is_no_device(app, paired):
    """The id a caller read from a token vouches for nothing by itself: without the token
    the kiosk is unknown (not a crash on hashing a missing token)."""
    from cci_channel_kiosk import devices

    kiosk_id, token = paired
    with app.app_context():
        assert devices.device(None, kiosk_id) == (None, "unknown")
        assert devices.device("", kiosk_id) == (None, "unknown")
        found, state = devices.device(token, kiosk_id)
        assert state == "ok" and found.id == kiosk_id


def test_service_worker_is_served_for_the_kiosk_scope(app):
    response = app.test_client().get("/k/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/k/"
    assert "javascript" in response.headers["Content-Type"]
