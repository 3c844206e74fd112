"""Logging in and out: Russian pages, where users land, throttling, redirects, CSRF, cookies."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from argon2 import Type
from argon2 import extract_parameters
from sqlalchemy import select

from cci import create_app
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import User
from conftest import PASSWORD
from conftest import TEST_CONFIG

WRONG_PASSWORD_RU = "Неверный адрес эл. почты или пароль."
THROTTLED_RU = re.compile(
    r"Слишком много неудачных попыток входа\. Повторите через (\d+) минут(?:у|ы)?\."
)


def _post_login(client, email, password, **query):
    return client.post(
        "/login", query_string=query, data={"email": email, "password": password}
    )


def _logged_in_as(client) -> str | None:
    """The e-mail shown in the header, or None when the visitor is anonymous."""
    response = client.get("/account/tokens")
    if response.status_code != 200:
        return None
    match = re.search(r'<div class="userbox">\s*<a [^>]*>([^<]+)</a>', response.get_data(True))
    return match.group(1) if match else None


def _set_active(app, email: str, active: bool) -> None:
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(User).where(User.email == email)).active = active
        db.commit()


# --- the page and where a login leads ----------------------------------------------------


def test_login_page_is_in_russian(client, tenants):
    response = client.get("/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ru">' in page
    assert "<h1>Вход</h1>" in page
    assert "Пароль" in page
    assert "Эл. почта" in page
    # no untranslated English interface text
    for english in ("Log in", "Password", "Skip to content", "Client-centricity index"):
        assert english not in page


def test_anonymous_visitor_is_sent_to_login(client, tenants):
    response = client.get("/federal/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    follow = client.get(response.headers["Location"])
    assert follow.status_code == 200
    assert "Войдите, чтобы открыть эту страницу." in follow.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "federal_analyst", "methodology_owner"])
def test_federal_user_lands_on_federal_area(client, make_user, role):
    email = make_user(role)
    response = _post_login(client, email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/federal/"
    assert client.get("/federal/").status_code == 200
    assert _logged_in_as(client) == email


@pytest.mark.parametrize(
    ("role", "region"),
    [("regional_admin", "RU-BRY"), ("operator", "RU-YAR"), ("auditor", "RU-PSK")],
)
def test_regional_user_lands_on_own_region(client, make_user, role, region):
    email = make_user(role, region)
    response = _post_login(client, email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/r/{region}/"
    assert client.get(f"/r/{region}/").status_code == 200
    # the federal area and other regions do not exist for a regional user
    assert client.get("/federal/").status_code == 404
    other = "RU-TAM"
    assert client.get(f"/r/{other}/").status_code == 404


def test_login_is_case_and_space_insensitive_for_email(client, make_user):
    email = make_user("federal_analyst")
    response = _post_login(client, f"  {email.upper()} ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/federal/"


def test_logged_in_user_visiting_login_goes_home(client, make_user, login):
    login(make_user("operator", "RU-BRY"))
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/r/RU-BRY/"


def test_login_records_last_login(app, client, make_user):
    email = make_user("federal_analyst")
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(User.last_login_at).where(User.email == email)) is None
    _post_login(client, email, PASSWORD)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(User.last_login_at).where(User.email == email)) is not None


# --- failures ----------------------------------------------------------------------------


def test_wrong_password_is_refused_in_russian(client, make_user):
    email = make_user("federal_analyst")
    response = _post_login(client, email, "not-the-password")
    assert response.status_code == 401
    assert WRONG_PASSWORD_RU in response.get_data(as_text=True)
    assert _logged_in_as(client) is None


def test_unknown_email_gets_the_same_answer(client, tenants):
    response = _post_login(client, "nobody@example.ru", PASSWORD)
    assert response.status_code == 401
    assert WRONG_PASSWORD_RU in response.get_data(as_text=True)


def test_empty_form_is_a_bad_request(client, tenants):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert _logged_in_as(client) is None


def test_inactive_user_cannot_log_in(app, client, make_user):
    email = make_user("operator", "RU-BRY")
    _set_active(app, email, False)
    response = _post_login(client, email, PASSWORD)
    assert response.status_code == 401
    assert WRONG_PASSWORD_RU in response.get_data(as_text=True)
    assert _logged_in_as(client) is None
    _set_active(app, email, True)
    assert _post_login(client, email, PASSWORD).status_code == 302


def test_deactivated_user_loses_the_open_session(app, client, make_user, login):
    email = make_user("operator", "RU-BRY")
    login(email)
    assert client.get("/r/RU-BRY/").status_code == 200
    _set_active(app, email, False)
    response = client.get("/r/RU-BRY/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


# --- throttling --------------------------------------------------------------------------


def test_throttle_locks_the_account_after_max_failures(app, client, make_user):
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    email = make_user("federal_analyst")
    for _ in range(5):
        response = _post_login(client, email, "wrong-password-123")
        assert response.status_code == 401
    # the sixth attempt is refused before the password is checked, even the right one
    response = _post_login(client, email, PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    match = THROTTLED_RU.search(page)
    assert match, page
    window_minutes = app.config["LOGIN_WINDOW_SECONDS"] // 60
    assert 1 <= int(match.group(1)) <= window_minutes
    assert f"через {window_minutes} минут." in page  # 15 → «минут»
    assert _logged_in_as(client) is None


def test_throttle_is_per_account(client, make_user):
    locked = make_user("federal_analyst")
    other = make_user("federal_analyst")
    for _ in range(5):
        _post_login(client, locked, "wrong-password-123")
    assert _post_login(client, locked, PASSWORD).status_code == 429
    assert _post_login(client, other, PASSWORD).status_code == 302


def test_throttle_counts_unknown_accounts_too(client, tenants):
    for _ in range(5):
        assert _post_login(client, "ghost@example.ru", "whatever-123").status_code == 401
    assert _post_login(client, "ghost@example.ru", "whatever-123").status_code == 429


def test_successful_login_clears_the_failures(client, make_user):
    email = make_user("federal_analyst")
    for _ in range(4):
        _post_login(client, email, "wrong-password-123")
    assert _post_login(client, email, PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _post_login(client, email, "wrong-password-123").status_code == 401
    assert _post_login(client, email, PASSWORD).status_code == 302


def test_throttle_russian_plural_forms(app):
    from flask_babel import ngettext

    with app.test_request_context():
        forms = {
            n: ngettext(
                "Too many failed attempts. Try again in %(num)d minute.",
                "Too many failed attempts. Try again in %(num)d minutes.",
                n,
            )
            for n in (1, 3, 15, 21)
        }
    assert forms[1].endswith("через 1 минуту.")
    assert forms[3].endswith("через 3 минуты.")
    assert forms[15].endswith("через 15 минут.")
    assert forms[21].endswith("через 21 минуту.")
    assert all(THROTTLED_RU.fullmatch(text) for text in forms.values())


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_simultaneous_attempts_check_no_more_passwords_than_the_limit(app, make_user,
                                                                      monkeypatch):
    """Attempts are counted before the password is checked, atomically: 30 at once from one
    address check at most 5 passwords (a slow check widens the race window)."""
    from cci.web.views import auth

    email = make_user("federal_analyst")
    checked = []
    real_verify = auth.verify_password

    def slow_verify(stored, password):
        checked.append(password)
        time.sleep(0.05)
        return real_verify(stored, password)

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    barrier = threading.Barrier(30)

    def attempt(_n):
        client = _from(app, "10.1.1.1")
        barrier.wait()
        return _post_login(client, email, "wrong-password-123").status_code

    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(attempt, range(30)))
    assert len(checked) <= app.config["LOGIN_MAX_FAILURES"], statuses
    assert statuses.count(401) == len(checked)
    assert statuses.count(429) == 30 - len(checked)


def test_a_stranger_cannot_lock_the_owner_out(app, make_user):
    email = make_user("regional_admin", "RU-BRY")
    stranger = _from(app, "203.0.113.66")
    for _ in range(5):
        assert _post_login(stranger, email, "guess-guess-guess").status_code == 401
    for _ in range(10):
        assert _post_login(stranger, email, PASSWORD).status_code == 429
    # the owner from elsewhere: not locked out; the account being guessed at, a browser it
    # was never used in takes the code sent by e-mail (tests/test_login_codes.py)
    owner = _from(app, "198.51.100.7")
    outbox = app.extensions.setdefault("cci.outbox", [])
    outbox.clear()
    response = _post_login(owner, email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    code = re.search(r"\b(\d{6})\b", outbox[-1].body)[1]
    assert owner.post("/login/code", data={"code": code}).status_code == 302
    assert _logged_in_as(owner) == email


def test_one_address_guessing_many_accounts_is_bounded(app, make_user):
    bound = app.config["LOGIN_MAX_FAILURES"] * 10
    guesser = _from(app, "203.0.113.99")
    for n in range(bound):
        assert _post_login(guesser, f"ghost{n // 4}@example.ru", "whatever-123").status_code == 401
    assert _post_login(guesser, "fresh@example.ru", "whatever-123").status_code == 429
    email = make_user("federal_analyst")
    assert _post_login(guesser, email, PASSWORD).status_code == 429
    assert _post_login(_from(app, "198.51.100.8"), email, PASSWORD).status_code == 302


def test_successful_logins_do_not_count_against_the_address(app, make_user):
    """An office shares one address: its staff logging in all morning are not failures."""
    office = _from(app, "192.0.2.10")
    emails = [make_user("operator", "RU-BRY") for _ in range(8)]
    for _ in range(7):
        for email in emails:
            assert _post_login(office, email, PASSWORD).status_code == 302
            office.post("/logout")


def test_no_e_mail_or_address_is_stored_by_the_throttle(app, make_user):
    from cci.foundation.models import LoginAttempt

    email = make_user("federal_analyst")
    _post_login(_from(app, "203.0.113.5"), email, "wrong-password-123")
    with app.app_context():
        rows = db.execute(select(LoginAttempt.__table__)).all()
    assert len(rows) == 3  # per account and address, per address, per account
    dump = repr(rows)
    assert email not in dump and "203.0.113.5" not in dump


def test_login_works_while_redis_is_down(build, make_user):
    """Redis unreachable (a port nobody listens on): logging in and out still works, and
    still throttles, on the database alone."""
    dead = build({"REDIS_URL": "redis://127.0.0.1:9/0"})
    email = make_user("regional_admin", "RU-BRY")
    client = dead.test_client()
    assert _post_login(client, email, "wrong-password-123").status_code == 401
    response = _post_login(client, email, PASSWORD)
    assert response.status_code == 302
    assert _logged_in_as(client) == email
    assert client.post("/logout").status_code == 302
    assert _logged_in_as(client) is None
    for _ in range(5):
        assert _post_login(client, email, "wrong-password-123").status_code == 401
    response = _post_login(client, email, PASSWORD)
    assert response.status_code == 429
    assert THROTTLED_RU.search(response.get_data(as_text=True))


# --- redirects after login ---------------------------------------------------------------


def test_next_within_the_site_is_followed(client, make_user):
    email = make_user("federal_analyst")
    response = _post_login(client, email, PASSWORD, next="/r/RU-BRY/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/r/RU-BRY/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "http://evil.example/r/RU-BRY/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_open_redirect_is_refused(client, make_user, target):
    email = make_user("federal_analyst")
    response = _post_login(client, email, PASSWORD, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\\" not in location and not location.startswith("//")
    resolved = urlsplit(urljoin("http://localhost/login", location))
    assert resolved.netloc == "localhost"
    assert resolved.scheme == "http"


def test_login_form_redirect_keeps_next(client, make_user):
    response = client.get("/r/RU-BRY/")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    email = make_user("regional_admin", "RU-BRY")
    response = client.post(login_url, data={"email": email, "password": PASSWORD})
    assert response.headers["Location"] == "/r/RU-BRY/"


# --- logout -------------------------------------------------------------------------------


def test_logout_only_by_post(client, make_user, login):
    email = make_user("federal_analyst")
    login(email)
    assert client.get("/logout").status_code == 405
    assert _logged_in_as(client) == email  # a link or an image cannot log anyone out
    response = client.post("/logout")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "Вы вышли из системы." in client.get("/login").get_data(as_text=True)
    assert _logged_in_as(client) is None
    assert client.get("/federal/").status_code == 302


def test_logout_requires_login(client, tenants):
    response = client.post("/logout")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


# --- CSRF ---------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app):
    """An app with CSRF protection on (the same database and Redis as ``app``)."""
    application = create_app({**TEST_CONFIG, "WTF_CSRF_ENABLED": True})
    yield application
    application.extensions["cci.engine"].dispose()


def _csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, page[:1000]
    return match.group(1)


def test_post_without_csrf_token_is_refused(csrf_app, make_user):
    email = make_user("federal_analyst")
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Форма устарела" in page
    assert _logged_in_as(client) is None


def test_post_with_a_forged_csrf_token_is_refused(csrf_app, make_user):
    email = make_user("federal_analyst")
    client = csrf_app.test_client()
    client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)


def test_post_with_the_forms_csrf_token_works(csrf_app, make_user):
    email = make_user("federal_analyst")
    client = csrf_app.test_client()
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/federal/"
    # logout is protected too: without the token the session survives
    assert client.post("/logout").status_code == 400
    assert _logged_in_as(client) == email
    page = client.get("/federal/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": _csrf_token(page)}).status_code == 302
    assert _logged_in_as(client) is None


# --- cookies and password storage --------------------------------------------------------


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.get_all("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.get_all("Set-Cookie")
    return cookies[0]


def _cookie_attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    response = _post_login(client, make_user("federal_analyst"), PASSWORD)
    attributes = _cookie_attributes(_session_cookie(response))
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # plain HTTP by default


def test_https_setting_comes_from_the_environment(monkeypatch):
    from cci.foundation import config

    monkeypatch.delenv("CCI_HTTPS", raising=False)
    plain = config.from_environment()
    assert plain["SESSION_COOKIE_SECURE"] is False
    assert plain["SESSION_COOKIE_HTTPONLY"] is True
    assert plain["SESSION_COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv("CCI_HTTPS", "1")
    https = config.from_environment()
    assert https["SESSION_COOKIE_SECURE"] is True
    assert https["REMEMBER_COOKIE_SECURE"] is True
    assert https["SESSION_COOKIE_HTTPONLY"] is True
    assert https["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert https["PREFERRED_URL_SCHEME"] == "https"


def test_session_cookie_is_secure_under_https(monkeypatch, app, make_user):
    monkeypatch.setenv("CCI_HTTPS", "1")
    application = create_app(TEST_CONFIG)
    try:
        assert application.config["SESSION_COOKIE_SECURE"] is True
        client = application.test_client()
        email = make_user("federal_analyst")
        response = client.post(
            "/login",
            data={"email": email, "password": PASSWORD},
            base_url="https://localhost",
        )
        assert response.status_code == 302
        attributes = _cookie_attributes(_session_cookie(response))
        assert {"secure", "httponly", "samesite=lax"} <= attributes
    finally:
        application.extensions["cci.engine"].dispose()


def test_passwords_are_stored_as_argon2id(app, make_user):
    email = make_user("federal_analyst")
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalar(select(User.password_hash).where(User.email == email))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert extract_parameters(stored).type is Type.ID
    assert PasswordHasher().verify(stored, PASSWORD)


def test_same_password_hashes_differently(app, make_user):
    first, second = make_user("federal_analyst"), make_user("federal_analyst")
    with app.app_context(), tenancy.federal_scope("test"):
        hashes = db.scalars(select(User.password_hash).where(User.email.in_([first, second])))
        assert len(set(hashes)) == 2  # salted
