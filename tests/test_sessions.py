"""Staff sessions end on the server: a copy of the cookie taken before logging out, before
"log out everywhere", before deactivation or left idle opens nothing afterwards."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy import update

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import LoginSession
from cci.foundation.models import User
from conftest import PASSWORD
from conftest import Statements


def _log_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _copy(app, client):
    """Another browser holding a copy of ``client``'s session cookie (as a thief would)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _opens_account(client) -> bool:
    response = client.get("/account/tokens")
    if response.status_code == 302:
        assert urlsplit(response.headers["Location"]).path == "/login"
        return False
    assert response.status_code == 200
    return True


def _sessions(app, email: str) -> list[LoginSession]:
    with app.app_context(), tenancy.federal_scope("test"):
        user_id = db.scalar(select(User.id).where(User.email == email))
        return list(db.scalars(select(LoginSession).where(LoginSession.user_id == user_id)))


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, make_user):
    email = make_user("regional_admin", "RU-BRY")
    client = _log_in(app, email)
    thief = _copy(app, client)
    assert _opens_account(thief)  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert not _opens_account(thief)
    assert thief.get("/r/RU-BRY/").status_code == 302
    assert not _opens_account(client)
    assert _sessions(app, email) == []


def test_logout_ends_only_its_own_session(app, make_user):
    email = make_user("federal_analyst")
    office, home = _log_in(app, email), _log_in(app, email)
    office.post("/logout")
    assert not _opens_account(office)
    assert _opens_account(home)


def test_logout_everywhere_ends_every_session_of_the_account(app, make_user):
    email = make_user("operator", "RU-BRY")
    other = _log_in(app, make_user("operator", "RU-BRY"))
    here, there = _log_in(app, email), _log_in(app, email)
    copy = _copy(app, here)
    page = here.get("/account/password").get_data(as_text=True)
    assert "Выйти на всех устройствах" in page
    assert "Учётная запись открыта на 2 устройствах или в браузерах." in page
    response = here.post("/account/sessions/end")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "Вы вышли на всех устройствах." in here.get("/login").get_data(as_text=True)
    for client in (here, there, copy):
        assert not _opens_account(client)
    assert _opens_account(other)  # another account is untouched
    assert _sessions(app, email) == []
    # logging in again works
    assert _opens_account(_log_in(app, email))


def test_logout_everywhere_needs_a_post_and_a_login(app, client, make_user):
    assert client.post("/account/sessions/end").status_code == 302
    logged = _log_in(app, make_user("federal_analyst"))
    assert logged.get("/account/sessions/end").status_code == 405
    assert _opens_account(logged)


def test_an_idle_session_ends_after_the_timeout(app, make_user):
    email = make_user("auditor", "RU-BRY")
    client = _log_in(app, email)
    idle = dt.timedelta(minutes=app.config["STAFF_IDLE_MINUTES"])
    assert idle == dt.timedelta(minutes=60)

    def last_seen(ago: dt.timedelta) -> None:
        with app.app_context(), tenancy.federal_scope("test"):
            db.execute(update(LoginSession).values(
                last_seen_at=dt.datetime.now(dt.UTC) - ago))
            db.commit()

    last_seen(idle - dt.timedelta(minutes=2))
    assert _opens_account(client)  # in use: seen again now
    [row] = _sessions(app, email)
    assert dt.datetime.now(dt.UTC) - row.last_seen_at < dt.timedelta(seconds=30)
    last_seen(idle + dt.timedelta(minutes=1))
    assert not _opens_account(client)
    assert _sessions(app, email) == []


def test_the_idle_timeout_is_configurable(monkeypatch):
    from cci.foundation import config

    monkeypatch.setenv("CCI_STAFF_IDLE_MINUTES", "30")
    assert config.from_environment()["STAFF_IDLE_MINUTES"] == 30
    monkeypatch.setenv("CCI_STAFF_IDLE_MINUTES", "0")
    assert config.from_environment()["STAFF_IDLE_MINUTES"] == 1


def test_deactivation_ends_the_sessions_for_good(app, make_user):
    email = make_user("operator", "RU-BRY")
    client = _log_in(app, email)
    admin = _log_in(app, make_user("regional_admin", "RU-BRY"))
    with app.app_context(), tenancy.federal_scope("test"):
        user_id = db.scalar(select(User.id).where(User.email == email))
    assert admin.post(f"/r/RU-BRY/admin/users/{user_id}/active",
                      data={"active": "0"}).status_code == 302
    assert not _opens_account(client)
    assert admin.post(f"/r/RU-BRY/admin/users/{user_id}/active",
                      data={"active": "1"}).status_code == 302
    assert not _opens_account(client)  # reactivating does not revive the old session


def test_the_session_key_is_stored_hashed(app, make_user):
    email = make_user("federal_analyst")
    client = _log_in(app, email)
    with client.session_transaction() as session:
        key = session["login_session"]
    assert len(key) >= 40
    [row] = _sessions(app, email)
    assert key not in row.key_hash
    with app.app_context(), tenancy.federal_scope("test"):
        dump = " ".join(str(v) for v in db.execute(select(LoginSession.__table__)).one())
    assert key not in dump


def test_a_staff_request_reads_its_session_and_user_in_one_statement(app, make_user):
    """Every staff page asks who is logged in: one round trip, not one for the session and
    another for its user."""
    client = _log_in(app, make_user("regional_admin", "RU-BRY"))
    assert _opens_account(client)  # warm
    with Statements(app) as seen:
        assert _opens_account(client)
    who = [s for s in seen.sql if s.startswith(("SELECT login_sessions.id", "SELECT users.id"))]
    assert len(who) == 1, "\n".join(seen.sql)
