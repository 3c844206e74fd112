"""An account guessed at from many addresses is not locked: its owner logs in from a browser
they used before as usual, and from a new one with a one-time code sent by e-mail."""

from __future__ import annotations

import datetime as dt
import re
import smtplib
from typing import ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy import update

from cci.foundation import mail
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import LoginCode
from conftest import PASSWORD

CODE_PAGE_RU = "Код из письма"
WRONG_CODE_RU = "Код неверен или больше не действует."


@pytest.fixture
def outbox(app):
    box = app.extensions.setdefault("cci.outbox", [])
    box.clear()
    yield box
    box.clear()


def _browser(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _post_login(client, email: str, password: str, **query):
    return client.post("/login", query_string=query,
                       data={"email": email, "password": password})


def _guess_from_many_addresses(app, email: str, times: int = 5) -> None:
    for n in range(times):
        response = _post_login(_browser(app, f"203.0.113.{n + 1}"), email, "guess-guess-guess")
        assert response.status_code == 401


def _code(message: mail.Message) -> str:
    return re.search(r"\b(\d{6})\b", message.body)[1]


def _logged_in(client) -> bool:
    return client.get("/account/tokens").status_code == 200


def test_no_code_while_nobody_guesses(app, make_user, outbox):
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email, times=4)  # below the threshold
    response = _post_login(_browser(app, "198.51.100.1"), email, PASSWORD)
    assert response.headers["Location"] == "/federal/"
    assert outbox == []


def test_a_new_browser_needs_the_code_while_the_account_is_guessed_at(app, make_user, outbox):
    email = make_user("regional_admin", "RU-BRY")
    _guess_from_many_addresses(app, email)
    owner = _browser(app, "198.51.100.2")
    response = _post_login(owner, email, PASSWORD, next="/r/RU-BRY/review")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not _logged_in(owner)  # the password alone opened nothing
    [message] = outbox
    assert message.to == email
    assert message.subject == f"Код для входа: {_code(message)}"
    assert "действителен 10 минут" in message.body
    page = owner.get("/login/code").get_data(as_text=True)
    assert CODE_PAGE_RU in page and 'autocomplete="one-time-code"' in page
    wrong = owner.post("/login/code", data={"code": "000000" if _code(message) != "000000"
                                            else "111111"})
    assert wrong.status_code == 400 and WRONG_CODE_RU in wrong.get_data(as_text=True)
    response = owner.post("/login/code", data={"code": _code(message)})
    assert response.status_code == 302 and response.headers["Location"] == "/r/RU-BRY/review"
    assert _logged_in(owner)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalars(select(LoginCode)).all() == []  # used up
    # that browser is known now: after logging out, the password alone will do again
    owner.post("/logout")
    assert _post_login(owner, email, PASSWORD).headers["Location"] == "/r/RU-BRY/"
    assert len(outbox) == 1


def test_a_browser_used_before_the_attack_needs_no_code(app, make_user, outbox):
    email = make_user("federal_analyst")
    owner = _browser(app, "198.51.100.3")
    assert _post_login(owner, email, PASSWORD).status_code == 302
    owner.post("/logout")
    _guess_from_many_addresses(app, email)
    assert _post_login(owner, email, PASSWORD).headers["Location"] == "/federal/"
    assert outbox == []


def test_a_known_browser_cookie_cannot_be_forged(app, make_user, outbox):
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email)
    owner = _browser(app, "198.51.100.4")
    owner.set_cookie("cci_known", "[1, 2, 3]")
    assert _post_login(owner, email, PASSWORD).headers["Location"] == "/login/code"


def test_a_code_allows_five_tries_then_none(app, make_user, outbox):
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email)
    owner = _browser(app, "198.51.100.5")
    _post_login(owner, email, PASSWORD)
    right = _code(outbox[-1])
    wrong = "123456" if right != "123456" else "654321"
    for _ in range(5):
        assert owner.post("/login/code", data={"code": wrong}).status_code == 400
    assert owner.post("/login/code", data={"code": right}).status_code == 400
    assert not _logged_in(owner)
    # logging in again sends a new code, which works
    _post_login(owner, email, PASSWORD)
    assert owner.post("/login/code", data={"code": _code(outbox[-1])}).status_code == 302
    assert _logged_in(owner)


def test_an_expired_code_is_refused(app, make_user, outbox):
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email)
    owner = _browser(app, "198.51.100.6")
    _post_login(owner, email, PASSWORD)
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(LoginCode).values(expires_at=dt.datetime.now(dt.UTC)
                                            - dt.timedelta(seconds=1)))
        db.commit()
    response = owner.post("/login/code", data={"code": _code(outbox[-1])})
    assert response.status_code == 400 and not _logged_in(owner)


def test_the_code_page_without_a_login_leads_to_login(client, tenants):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.post("/login/code", data={"code": "123456"}).status_code == 302


def test_a_wrong_password_never_sends_a_code(app, make_user, outbox):
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email, times=8)
    assert outbox == []


def test_the_code_is_stored_hashed(app, make_user, outbox):
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email)
    _post_login(_browser(app, "198.51.100.7"), email, PASSWORD)
    with app.app_context(), tenancy.federal_scope("test"):
        [row] = db.scalars(select(LoginCode)).all()
    assert _code(outbox[-1]) not in row.code_hash


class _FakeSMTP:
    sent: ClassVar[list] = []
    fail = False

    def __init__(self, host, port, timeout):
        self.address = (host, port)

    def __enter__(self):
        if _FakeSMTP.fail:
            raise ConnectionRefusedError("no server")
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        _FakeSMTP.sent.append(("starttls",))

    def login(self, user, password):
        _FakeSMTP.sent.append(("login", user, password))

    def send_message(self, message):
        _FakeSMTP.sent.append(("send", self.address, message["From"], message["To"],
                               message["Subject"]))


def test_mail_goes_through_the_configured_smtp_server(build, make_user, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent, _FakeSMTP.fail = [], False
    app = build({"SMTP_HOST": "mail.example.ru", "SMTP_PORT": 2525, "SMTP_USER": "cci",
                 "SMTP_PASSWORD": "secret", "MAIL_FROM": "cci@example.ru"})
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email)
    owner = _browser(app, "198.51.100.8")
    assert _post_login(owner, email, PASSWORD).headers["Location"] == "/login/code"
    assert _FakeSMTP.sent[0] == ("starttls",)
    assert _FakeSMTP.sent[1] == ("login", "cci", "secret")
    assert _FakeSMTP.sent[2][:4] == ("send", ("mail.example.ru", 2525), "cci@example.ru", email)
    assert app.extensions.get("cci.outbox", []) == []


def test_a_mail_server_that_fails_gives_a_clear_message(build, make_user, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent, _FakeSMTP.fail = [], True
    app = build({"SMTP_HOST": "mail.example.ru"})
    email = make_user("federal_analyst")
    _guess_from_many_addresses(app, email)
    response = _post_login(_browser(app, "198.51.100.9"), email, PASSWORD)
    assert response.status_code == 503
    assert ("Не удалось отправить код для входа по эл. почте. Повторите попытку позже."
            in response.get_data(as_text=True))
