"""The comments page in a browser: «show more» loads the next comments in place (htmx), on a
phone the page does not scroll sideways, and nothing is refused by the CSP."""

from __future__ import annotations

import pytest

from tests.browser.test_login_browser import log_in
from tests.test_comments import world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_show_more_on_a_phone(app, page, browser_user, world, monkeypatch):
    from cci.web.views import comments as view

    monkeypatch.setattr(view, "PER_PAGE", 2)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, *browser_user("regional_admin", "RU-BRY"))
    page.goto("/r/RU-BRY/comments")
    items = page.locator("#comments-list li.comment")
    assert items.count() == 2
    page.get_by_role("link", name="Показать ещё комментарии").click()
    page.wait_for_function("() => document.querySelectorAll('#comments-list li.comment')"
                           ".length === 3")
    assert page.locator(".comments__more").count() == 0  # the last page has no button
    assert "[телефон]" in page.locator("#comments-list").inner_text()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    assert not problems
