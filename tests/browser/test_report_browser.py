"""The region report in a browser: printed on A4 every table stays within the page, on a phone
the page does not scroll sideways, nothing breaks the Content-Security-Policy, and the PDF
arrives through its job's progress page."""

from __future__ import annotations

import pytest

from engine_helpers import work

from tests.browser.test_csp_browser import _watch
from tests.browser.test_login_browser import log_in
from tests.browser.test_role_walks import READ_PAGE
from tests.browser.test_role_walks import page_problems
from tests.test_region_report import computed  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

OVERFLOW = """() => {
    const edge = document.querySelector('.report').getBoundingClientRect().right + 1;
    return [...document.querySelectorAll('.report table, .report img')]
        .filter(e => e.getBoundingClientRect().right > edge)
        .map(e => (e.id || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


def test_the_report_prints_within_a4_and_reads_on_a_phone(
        app, page, browser_user, campaign, computed):
    console = _watch(page)
    log_in(page, *browser_user("regional_admin", "RU-BRY"))
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.goto(f"/r/RU-BRY/report?campaign={campaign}")
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()  # the screen's links are not printed
    assert page.evaluate(OVERFLOW) == []
    assert page.locator(".rchart img").count() == 5  # the comments section added one
    # what the role walks check on every page: Russian words, Russian numbers, zoned times
    assert page_problems(page.evaluate(READ_PAGE), results=True) == []
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("window.__csp || []") == [] and console == []


def test_the_pdf_arrives_through_its_progress_page(
        app, page, browser_user, campaign, computed):
    log_in(page, *browser_user("auditor", "RU-BRY"))
    page.goto(f"/r/RU-BRY/report?campaign={campaign}")
    page.get_by_role("link", name="PDF", exact=True).click()
    page.wait_for_load_state()
    assert "PDF готовится" in page.locator("main").inner_text()
    work(app)  # the worker makes it; the page sees it by itself
    download_link = page.get_by_role("link", name="Скачать PDF")
    download_link.wait_for(timeout=15_000)
    with page.expect_download() as download:
        download_link.click()
    with open(download.value.path(), "rb") as saved:
        assert saved.read(5) == b"%PDF-"
    assert download.value.suggested_filename.startswith("report-RU-BRY-")
