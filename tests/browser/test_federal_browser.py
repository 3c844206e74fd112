"""The federal overview in a browser: on a phone the page does not scroll sideways, the table
scrolls in its own region, and the analyst exports what the page shows."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.browser.test_login_browser import log_in
from tests.test_federal_overview import _federal_job
from tests.test_federal_overview import four  # noqa: F401 (a fixture)
from tests.test_federal_overview import hand_run  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_on_a_phone_the_table_scrolls_in_its_region_and_exports(
        app, page, browser_user, hand_run, four):
    _federal_job(app, hand_run)
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, *browser_user("federal_analyst"))
    page.goto(f"/federal/?campaign={four}")
    table = page.locator("#federal-overview")
    assert table.locator("tbody tr").count() == 4
    widths = page.evaluate("""() => {
        const region = document.querySelector('#federal-overview').closest('.table-scroll');
        return [document.documentElement.scrollWidth, window.innerWidth,
                region.scrollWidth, region.clientWidth];
    }""")
    page_width, viewport, table_width, region_width = widths
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && !e.closest('.table-scroll'))
        .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)
        .slice(0, 15)""")
    assert page_width <= viewport, wide
    assert page_width <= viewport  # the page itself does not scroll sideways
    assert table_width > region_width  # the table does, in its own region
    # the lowest index first: the analyst finds the lowest-ranked region
    page.select_option("#sort", "index")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_load_state()
    first = page.locator("#federal-overview tbody tr").first.inner_text()
    assert "50,0" in first
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    with open(download.value.path(), "rb") as saved:
        book = openpyxl.load_workbook(io.BytesIO(saved.read()))
    rows = list(book.active.iter_rows(min_row=3, values_only=True))
    assert rows[0][3] == "RU-LIP" and rows[0][6] == 50.0  # as the page shows it
