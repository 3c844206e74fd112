"""The main menu on a phone folds behind «Меню» so that a page starts on its first screen; on a
desktop it is open."""

from __future__ import annotations

import pytest

from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser


def test_the_menu_folds_on_a_phone_and_opens_with_one_tap(page, browser_user, screenshot):
    log_in(page, *browser_user("regional_admin", "RU-BRY"))
    page.goto("/r/RU-BRY/")
    menu = page.get_by_role("navigation", name="Главное меню")
    assert menu.is_visible()
    assert not page.get_by_text("Меню", exact=True).is_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    assert not menu.is_visible()
    heading = page.get_by_role("heading", level=1)
    assert heading.bounding_box()["y"] < 300  # the page starts on the first screen
    screenshot("folded")
    page.get_by_text("Меню", exact=True).click()
    assert menu.is_visible()
    screenshot("open")
    menu.get_by_role("link", name="Обращения").click()
    page.wait_for_load_state()
    assert page.url.endswith("/r/RU-BRY/cases/")
