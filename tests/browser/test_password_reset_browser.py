"""A person who forgot their password gets back in with a real browser: the login page,
«Забыли пароль?», the e-mail (received by a real SMTP server on loopback), its link, a new
password, and logged in."""

from __future__ import annotations

import re

import pytest

from mail_server import body
from mail_server import local_smtp

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://\S+/password/reset/[A-Za-z0-9_-]+")
NEW_PASSWORD = "copper-meadow-compass"


@pytest.fixture
def smtp(app):
    with local_smtp(app) as inbox:
        yield inbox


def test_a_forgotten_password_is_replaced_through_the_emailed_link(page, browser_user, smtp,
                                                                    screenshot):
    email, old_password = browser_user("regional_admin", region="RU-BRY")

    page.goto("/login")
    page.get_by_role("link", name="Забыли пароль?").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Забыли пароль?"
    page.get_by_label("Эл. почта").fill(email)
    page.get_by_role("button", name="Отправить ссылку").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Проверьте почту"
    assert email in page.get_by_role("status").inner_text()
    screenshot("1-sent")

    [message] = smtp.wait_for(1)
    assert message["To"] == email
    [link] = LINK.findall(body(message))
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Новый пароль"
    page.get_by_label("Новый пароль", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Новый пароль ещё раз").fill(NEW_PASSWORD)
    screenshot("2-new-password")
    page.get_by_role("button", name="Задать пароль").click()

    assert re.search(r"/login$", page.url), page.url
    assert "Новый пароль задан" in page.get_by_role("status").inner_text()
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert re.search(r"/r/RU-BRY/$", page.url), page.url
    assert "Брянская область" in page.get_by_role("heading", level=1).inner_text()
    assert screenshot("3-logged-in").stat().st_size > 0

    # the link is spent; the old password opens nothing
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Ссылка не действует"
    assert old_password != NEW_PASSWORD
