"""Getting back in after a forgotten password: the link travels through a real SMTP server
(aiosmtpd on loopback), and the tests follow it from the message received."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import re
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy import update

from cci.foundation import background
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import PasswordReset
from cci.foundation.models import User
from conftest import PASSWORD

from mail_server import body
from mail_server import free_port
from mail_server import local_smtp

NEW_PASSWORD = "lilac-harbour-metronome"
SENT_RU = "Проверьте почту"
REFUSED_RU = "Ссылка не действует: она уже использована"
EXPIRED_RU = "Срок действия ссылки истёк: ссылка действует 60 минут. Запросите новую."
CSRF = re.compile(r'"X-CSRFToken": "[^"]*"')
LINK = re.compile(r"https?://\S+/password/reset/[A-Za-z0-9_-]+")


@pytest.fixture
def smtp(app):
    with local_smtp(app) as inbox:
        yield inbox


@pytest.fixture(autouse=True)
def _background_done(app):
    """No test leaves work running after it: the next test's empty tables stay empty."""
    yield
    assert background.wait(app, timeout=30)


def _browser(app, address: str = "198.51.100.10"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _log_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def _opens_account(client) -> bool:
    return client.get("/account/tokens").status_code == 200


def _ask(client, email: str):
    return client.post("/password/forgot", data={"email": email})


def _link_path(message) -> str:
    [link] = LINK.findall(body(message))
    return urlsplit(link).path


def _set(client, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    return client.post(path, data={"new_password": password,
                                   "new_password_again": password if again is None else again})


def _resets(app) -> list[PasswordReset]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(PasswordReset)))


def _actions(app) -> list[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_login_page_offers_forgot_password(client, tenants):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Забыли пароль?" in page
    form = client.get("/password/forgot").get_data(as_text=True)
    assert "Укажите адрес электронной почты, с которым вы входите." in form


def test_the_link_arrives_by_smtp_and_sets_a_new_password(app, make_user, smtp):
    email = make_user("regional_admin", "RU-BRY")
    old_browser = _browser(app, "198.51.100.11")
    assert _log_in(old_browser, email).status_code == 302 and _opens_account(old_browser)

    person = _browser(app)
    response = _ask(person, email.upper())  # the address as typed, in capitals
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and SENT_RU in page and email in page
    [message] = smtp.wait_for(1)
    assert message["To"] == email and smtp.recipients == [[email]]
    assert message["Subject"] == "Смена пароля на платформе ИКЦ"
    text = body(message)
    assert "Кто-то, возможно вы, запросил смену пароля учётной записи" in text
    assert "в течение 60 минут; она срабатывает один раз" in text
    [row] = _resets(app)
    path = _link_path(message)
    assert row.token_hash not in text and path.rsplit("/", 1)[1] not in row.token_hash

    form = person.get(path)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert "Новый пароль" in form.get_data(as_text=True)
    mismatch = _set(person, path, again="something-else-entirely")
    assert mismatch.status_code == 400 and "Новые пароли не совпадают" in mismatch.get_data(
        as_text=True)
    done = _set(person, path)
    assert done.status_code == 302 and urlsplit(done.headers["Location"]).path == "/login"
    assert "Новый пароль задан" in person.get("/login").get_data(as_text=True)

    assert not _opens_account(old_browser)  # every earlier session ended
    assert _log_in(_browser(app, "198.51.100.12"), email).status_code == 401  # the old password
    assert _log_in(person, email, NEW_PASSWORD).status_code == 302
    assert _opens_account(person)

    again = _browser(app, "198.51.100.13")
    used = again.get(path)  # the same link a second time
    assert used.status_code == 404 and REFUSED_RU in used.get_data(as_text=True)
    assert _set(again, path, "another-fine-passphrase").status_code == 404
    assert _log_in(_browser(app, "198.51.100.14"), email, NEW_PASSWORD).status_code == 302
    assert _resets(app) == []
    actions = _actions(app)
    assert "user.password_reset_request" in actions and "user.password_reset" in actions


def test_an_expired_link_is_refused_in_russian(app, make_user, smtp):
    email = make_user("federal_analyst")
    person = _browser(app)
    _ask(person, email)
    path = _link_path(smtp.wait_for(1)[0])
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(PasswordReset).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.commit()
    response = person.get(path)
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert EXPIRED_RU in page and 'href="/password/forgot"' in page
    assert _set(person, path).status_code == 410
    assert _log_in(person, email, NEW_PASSWORD).status_code == 401
    assert _log_in(person, email).status_code == 302  # the password stayed


def test_an_unknown_address_gets_the_same_page_and_no_mail(app, make_user, smtp):
    known = make_user("auditor", "RU-BRY")
    unknown = "nobody-here@example.ru"
    answers = [_ask(_browser(app, f"198.51.100.{20 + n}"), address)
               for n, address in enumerate((known, unknown))]
    assert [a.status_code for a in answers] == [200, 200]
    pages = [CSRF.sub("", a.get_data(as_text=True)).replace(address, "ADDRESS")
             for a, address in zip(answers, (known, unknown), strict=True)]
    assert pages[0] == pages[1]
    assert background.wait(app)
    [message] = smtp.wait_for(1)
    time.sleep(0.2)  # nothing else on its way
    assert len(smtp.messages) == 1 and message["To"] == known
    assert len(_resets(app)) == 1
    # a deactivated account is an unknown one
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(User).where(User.email == known).values(active=False))
        db.commit()
    assert _ask(_browser(app, "198.51.100.22"), known).status_code == 200
    assert background.wait(app)
    assert len(smtp.messages) == 1


def test_the_answer_does_not_wait_for_the_mail_server(app, make_user):
    """The request hands the e-mail to another thread: a slow mail server (or none for an
    unknown address) does not show in how long the answer takes."""
    email = make_user("federal_analyst")
    with local_smtp(app, delay=3.0) as slow:
        started = time.monotonic()
        assert _ask(_browser(app), email).status_code == 200
        assert time.monotonic() - started < 2.0
        assert slow.wait_for(1)[0]["To"] == email


def test_a_newer_link_replaces_the_older_one(app, make_user, smtp):
    email = make_user("operator", "RU-BRY")
    person = _browser(app)
    _ask(person, email)
    smtp.wait_for(1)
    _ask(person, email)
    first, second = (_link_path(m) for m in smtp.wait_for(2))
    assert first != second
    assert person.get(first).status_code == 404
    assert _set(person, second).status_code == 302
    assert _log_in(person, email, NEW_PASSWORD).status_code == 302


def test_a_password_change_voids_the_link(app, make_user, smtp):
    email = make_user("federal_analyst")
    person = _browser(app)
    _ask(person, email)
    path = _link_path(smtp.wait_for(1)[0])
    assert _log_in(person, email).status_code == 302
    changed = person.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "quiet-orchard-lantern",
        "new_password_again": "quiet-orchard-lantern"})
    assert changed.status_code == 302
    stranger = _browser(app, "198.51.100.30")
    assert stranger.get(path).status_code == 404
    assert _set(stranger, path).status_code == 404
    assert _log_in(stranger, email, "quiet-orchard-lantern").status_code == 302


@pytest.mark.parametrize(("password", "message"), [
    ("short", "Пароль должен содержать не менее 10 символов."),
    ("password123", "Этот пароль слишком легко угадать, выберите другой."),
])
def test_the_new_password_meets_the_policy(app, make_user, smtp, password, message):
    email = make_user("federal_analyst")
    person = _browser(app)
    _ask(person, email)
    path = _link_path(smtp.wait_for(1)[0])
    refused = _set(person, path, password)
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert _set(person, path).status_code == 302  # a refusal does not use the link up


def test_requests_are_limited_per_account_whether_or_not_it_exists(app, make_user, smtp):
    known = make_user("federal_analyst")
    for address in (known, "no-account@example.ru"):
        for n in range(3):
            assert _ask(_browser(app, f"203.0.113.{n + 1}"), address).status_code == 200
        refused = _ask(_browser(app, "203.0.113.9"), address)  # any address
        assert refused.status_code == 429
        assert ("Слишком много запросов ссылки для смены пароля. Повторите через 15 минут."
                in refused.get_data(as_text=True))
    assert background.wait(app)
    assert len(smtp.wait_for(3)) == 3
    assert _ask(_browser(app, "203.0.113.9"), "someone-else@example.ru").status_code == 200


def test_requests_are_limited_per_address(app, make_user, smtp):
    app.config["PASSWORD_RESET_MAX_REQUESTS"] = 1  # so ten from one address
    try:
        for n in range(10):
            assert _ask(_browser(app), f"person{n}@example.ru").status_code == 200
        assert _ask(_browser(app), "person10@example.ru").status_code == 429
        assert _ask(_browser(app, "198.51.100.99"), "person10@example.ru").status_code == 200
    finally:
        app.config["PASSWORD_RESET_MAX_REQUESTS"] = 3


def test_the_guesses_before_a_reset_do_not_keep_its_owner_waiting(app, make_user, smtp):
    email = make_user("federal_analyst")
    person = _browser(app)
    for _ in range(5):
        assert _log_in(person, email, "was-it-this-one").status_code == 401
    assert _log_in(person, email).status_code == 429  # throttled from this address
    _ask(person, email)
    assert _set(person, _link_path(smtp.wait_for(1)[0])).status_code == 302
    assert _log_in(person, email, NEW_PASSWORD).status_code == 302


def test_a_bad_address_is_refused_in_russian(client, tenants):
    response = client.post("/password/forgot", data={"email": "not an address"})
    assert response.status_code == 400
    assert "Введите правильный адрес эл. почты." in response.get_data(as_text=True)
    assert client.post("/password/forgot", data={}).status_code == 400


def test_a_made_up_or_overlong_link_is_refused(client, tenants):
    for token in ("made-up", "x" * 5000):
        response = client.get(f"/password/reset/{token}")
        assert response.status_code == 404 and REFUSED_RU in response.get_data(as_text=True)


def test_without_a_mail_server_the_link_is_in_the_log(app, make_user, caplog):
    """The embedded default (no CCI_SMTP_HOST): the message goes to the log, where the
    operator of a single machine reads the link (README, «Password reset»)."""
    assert not app.config["SMTP_HOST"]
    email = make_user("federal_analyst")
    outbox = app.extensions.setdefault("cci.outbox", [])
    outbox.clear()
    with caplog.at_level(logging.WARNING):
        _ask(_browser(app), email)
        assert background.wait(app)
    [message] = outbox
    [link] = LINK.findall(message.body)
    assert link in caplog.text and email in caplog.text
    outbox.clear()


def test_public_url_sets_the_links_address(app, make_user, smtp):
    """A forged Host header cannot point the link elsewhere once CCI_PUBLIC_URL is set."""
    email = make_user("federal_analyst")
    app.config["PUBLIC_URL"] = "https://ikc.example.ru"
    try:
        _browser(app).post("/password/forgot", data={"email": email},
                           headers={"Host": "attacker.example"})
    finally:
        app.config["PUBLIC_URL"] = ""
    [link] = LINK.findall(body(smtp.wait_for(1)[0]))
    assert link.startswith("https://ikc.example.ru/password/reset/")


# --- an administrator's reset ---------------------------------------------------------------


def _user_id(app, email: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User.id).where(User.email == email))


def test_a_regional_admin_sends_a_link_to_a_user_of_the_region(app, make_user, smtp):
    admin = make_user("regional_admin", "RU-BRY")
    auditor = make_user("auditor", "RU-BRY")
    browser = _browser(app)
    assert _log_in(browser, admin).status_code == 302
    page = browser.get("/r/RU-BRY/admin/users").get_data(as_text=True)
    action = f"/r/RU-BRY/admin/users/{_user_id(app, auditor)}/password-reset"
    assert f'action="{action}"' in page and "Сбросить пароль" in page
    response = browser.post(action, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Ссылка для задания нового пароля отправлена на адрес {auditor}." in text
    [message] = smtp.wait_for(1)
    assert message["To"] == auditor
    assert f"Администратор {admin} запросил новый пароль" in body(message)
    path = _link_path(message)
    assert path not in text  # the administrator never sees the link
    assert "user.password_reset_send" in _actions(app)

    owner = _browser(app, "198.51.100.40")
    assert _set(owner, path).status_code == 302
    assert _log_in(owner, auditor, NEW_PASSWORD).status_code == 302


def test_another_regions_or_a_federal_user_cannot_be_reached(app, make_user, smtp):
    admin = make_user("regional_admin", "RU-BRY")
    foreign = make_user("auditor", "RU-VLA")
    federal = make_user("federal_analyst")
    browser = _browser(app)
    _log_in(browser, admin)
    for email in (foreign, federal):
        response = browser.post(f"/r/RU-BRY/admin/users/{_user_id(app, email)}/password-reset")
        assert response.status_code == 404
    assert browser.post(f"/r/RU-VLA/admin/users/{_user_id(app, foreign)}/password-reset"
                        ).status_code == 404
    assert browser.post(f"/federal/admin/users/{_user_id(app, federal)}/password-reset"
                        ).status_code == 404
    time.sleep(0.2)
    assert smtp.messages == [] and _resets(app) == []


@pytest.mark.parametrize(("role", "region"), [("auditor", "RU-BRY"), ("operator", "RU-BRY"),
                                              ("federal_analyst", None)])
def test_other_roles_cannot_send_links(app, make_user, smtp, role, region):
    target = _user_id(app, make_user("auditor", "RU-BRY"))
    browser = _browser(app)
    _log_in(browser, make_user(role, region))
    prefix = "/r/RU-BRY" if region else "/federal"
    assert browser.post(f"{prefix}/admin/users/{target}/password-reset").status_code == 403
    assert smtp.messages == []


def test_the_platform_admin_sends_a_link_to_anyone(app, make_user, smtp):
    admin = make_user("admin")
    targets = [make_user("regional_admin", "RU-VLA"), make_user("methodology_owner")]
    browser = _browser(app)
    _log_in(browser, admin)
    for email in targets:
        response = browser.post(f"/federal/admin/users/{_user_id(app, email)}/password-reset")
        assert response.status_code == 302
    assert [m["To"] for m in smtp.wait_for(2)] == targets


def test_a_deactivated_user_gets_no_link(app, make_user, smtp):
    admin = make_user("admin")
    target = make_user("auditor", "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(User).where(User.email == target).values(active=False))
        db.commit()
    browser = _browser(app)
    _log_in(browser, admin)
    response = browser.post(f"/federal/admin/users/{_user_id(app, target)}/password-reset",
                            follow_redirects=True)
    assert "отключён: включите учётную запись" in response.get_data(as_text=True)
    assert smtp.messages == []


def test_an_unreachable_mail_server_is_said_in_russian(app, make_user):
    admin = make_user("admin")
    target = make_user("auditor", "RU-BRY")
    browser = _browser(app)
    _log_in(browser, admin)
    saved = {key: app.config[key] for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    try:
        response = browser.post(f"/federal/admin/users/{_user_id(app, target)}/password-reset",
                                follow_redirects=True)
    finally:
        app.config.update(saved)
    assert response.status_code == 200
    assert ("Не удалось отправить ссылку по электронной почте. Повторите позже."
            in response.get_data(as_text=True))


def test_simultaneous_uses_of_one_link_set_one_password(app, make_user, smtp):
    """The link is deleted, and the deletion counted, before the password changes: of several
    requests at once, one sets its password and the others are refused."""
    email = make_user("federal_analyst")
    _ask(_browser(app), email)
    path = _link_path(smtp.wait_for(1)[0])
    passwords = [f"parallel-attempt-{n}-walrus" for n in range(4)]
    start = threading.Barrier(len(passwords))

    def use(password: str) -> int:
        client = _browser(app, "198.51.100.50")
        start.wait(timeout=10)
        return _set(client, path, password).status_code

    with concurrent.futures.ThreadPoolExecutor(len(passwords)) as pool:
        statuses = list(pool.map(use, passwords))
    assert sorted(statuses) == [302, 404, 404, 404], statuses
    winner = passwords[statuses.index(302)]
    assert _log_in(_browser(app, "198.51.100.51"), email, winner).status_code == 302
    for loser in passwords:
        if loser != winner:
            assert _log_in(_browser(app, "198.51.100.52"), email, loser).status_code == 401
