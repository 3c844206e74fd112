"""The methodology pages fit the screen: no table and nothing else wider than the page, on a
desktop (1280 px) and a phone (390 px)."""

from __future__ import annotations

import pytest

from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser

PAGES = ["/methodologies/", "/methodologies/cci-2022", "/methodologies/cci-2023",
         "/methodologies/diff?old=cci-2022&new=cci-2023"]

#: the page's scrolling width, and every table or element that reaches past the screen
WIDTHS = """(width) => {
  const wide = [];
  for (const el of document.body.querySelectorAll("main *")) {
    // what is hidden to the eye (a phone's card table keeps its headings for screen readers)
    const hidden = el.closest(".visually-hidden")
      || (el.closest("thead") && getComputedStyle(el.closest("thead")).position === "absolute");
    const box = el.getBoundingClientRect();
    if (!hidden && box.width > 0 && (box.right > width + 1 || box.left < -1)) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
      wide.push(name + " " + Math.round(box.right));
    }
  }
  const tables = [...document.querySelectorAll("main table")].map(
    (t) => Math.round(t.getBoundingClientRect().right));
  return {scroll: document.scrollingElement.scrollWidth, wide: wide.slice(0, 8), tables};
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_methodology_pages_fit_the_screen(page, browser_user, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, *browser_user("auditor", "RU-BRY"))
    for url in PAGES:
        page.goto(url)
        measured = page.evaluate(WIDTHS, width)
        assert measured["scroll"] <= width, (url, measured)
        assert not measured["wide"], (url, measured)
        assert all(right <= width for right in measured["tables"]), (url, measured)
        assert measured["tables"], url  # the measure saw the page's tables
