"""A person logs in with a real browser and sees what their role allows."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def test_login_page_is_russian(page):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", level=1).inner_text() == "Вход"
    assert "Вход" in page.title()


def test_federal_analyst_logs_in_and_sees_the_13_regions(page, browser_user, screenshot):
    email, password = browser_user("federal_analyst")
    log_in(page, email, password)

    assert re.search(r"/federal/$", page.url), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Регионы"
    rows = page.locator("table tbody tr")
    assert rows.count() == 13
    codes = rows.locator("td code").all_inner_texts()
    assert len(set(codes)) == 13 and all(code.startswith("RU-") for code in codes)
    assert page.get_by_role("link", name="Брянская область").is_visible()
    assert screenshot("regions").stat().st_size > 0


def test_regional_user_sees_only_their_region(page, browser_user, screenshot):
    email, password = browser_user("regional_admin", region="RU-BRY")
    log_in(page, email, password)

    assert re.search(r"/r/RU-BRY/$", page.url), page.url
    assert "Брянская область" in page.get_by_role("heading", level=1).inner_text()
    assert page.locator("table tbody tr").count() == 2  # the region's two offices
    body = page.locator("body").inner_text()
    assert "Владимирская область" not in body
    assert page.locator("a[href^='/federal']").count() == 0
    screenshot("own-region")

    # Nothing outside the region exists for this user.
    assert page.goto("/federal/").status == 404
    assert page.goto("/r/RU-VLA/").status == 404


def test_wrong_password_is_refused_in_russian(page, browser_user):
    email, _password = browser_user("federal_analyst")
    log_in(page, email, "not-the-password")

    assert re.search(r"/login$", page.url), page.url
    assert "пароль" in page.get_by_role("alert").inner_text()
