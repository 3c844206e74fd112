"""The drill-down in a browser: a federal analyst finds the lowest-ranked region on the federal
overview, opens it, goes down to an office and to the answers behind one of its indicators,
and exports the table (the XLSX holds the numbers the pages show); a regional user sees the
federal table and their own offices only."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from tests.browser.test_login_browser import log_in
from tests.engine_helpers import answer
from tests.engine_helpers import campaign  # noqa: F401 (a fixture)
from tests.engine_helpers import checklist
from tests.engine_helpers import offices
from tests.engine_helpers import start
from tests.engine_helpers import work

pytestmark = pytest.mark.browser

APPEARANCE = {"business_clothing": True, "corporate_element": True, "name_badge": True,
              "neat": True, "one_style": True}


@pytest.fixture
def measured(app, campaign):
    """RU-BRY high (every answer 10), RU-KYA lower: its first office's job seekers answer
    usefulness 6 × 10 and 4 × 2 (S-II.1 = 0.6)."""
    for office_id in offices(app, "RU-BRY"):
        for _ in range(10):
            answer(app, office_id, {"usefulness": 10})
    kya = offices(app, "RU-KYA")
    for value in [10] * 6 + [2] * 4:
        answer(app, kya[0], {"usefulness": value})
    for _ in range(10):
        answer(app, kya[0], {"usefulness": 9}, rtype="employer")
    checklist(app, campaign, "O-V.3", APPEARANCE, office_id=kya[0], region="RU-KYA")
    start(app, campaign)
    work(app)
    return campaign


def _number(text: str) -> float:
    return float(re.search(r"\d+,\d", text).group(0).replace(",", "."))


def test_an_analyst_drills_from_the_federation_to_the_answers_and_exports(
        page, browser_user, measured):
    log_in(page, *browser_user("federal_analyst"))
    page.goto(f"/federal/?campaign={measured}")
    page.select_option("#sort", "index")  # the lowest first
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_load_state()
    lowest = page.locator("#federal-overview tbody tr").first
    assert "Красноярский край" in lowest.inner_text()
    shown_on_overview = _number(lowest.locator("td").nth(2).inner_text())

    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    with open(download.value.path(), "rb") as saved:
        book = openpyxl.load_workbook(io.BytesIO(saved.read()))
    rows = [r for r in book.active.iter_rows(values_only=True) if "RU-KYA" in r]
    assert rows and round(rows[0][6], 1) == shown_on_overview

    lowest.get_by_role("link", name="Красноярский край").click()
    page.wait_for_url(re.compile(r"/r/RU-KYA/results"))
    headline = page.locator(".headline__value").inner_text()
    assert _number(headline) == shown_on_overview  # the region page says what the table did
    assert page.locator("#coverage-title").is_visible()

    # the reader chooses the indicator shown per office (htmx swaps the table)
    page.select_option("#metric", "indicator:S-II.1")
    page.wait_for_function("() => document.querySelector('#offices-table')"
                           ".dataset.metric === 'indicator:S-II.1'")
    office_row = page.locator("#offices-table tbody tr[data-office]").first
    assert "60\u202f%" in office_row.inner_text()
    shown_index = _number(office_row.locator("td").nth(2).inner_text())
    shown_share = office_row.locator("td").nth(3).locator(".fig").inner_text()
    # the table as shown (the indicator chosen), exported: the same numbers
    with page.expect_download() as download:
        page.locator("#office-table").get_by_role("link", name="XLSX").click()
    with open(download.value.path(), "rb") as saved:
        book = openpyxl.load_workbook(io.BytesIO(saved.read()))
    header, first, *_rest = list(book.worksheets[0].iter_rows(values_only=True))
    assert round(first[header.index("Индекс")], 1) == shown_index == 90.0
    chosen = header.index("S-II.1 Полезность обращения в ЦЗН")
    assert f"{round(first[chosen] * 100)}\u202f%" == shown_share == "80\u202f%"
    office_row.locator("td").nth(1).get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/r/RU-KYA/offices/\d+"))
    assert page.locator("#office-indicators").is_visible()

    page.locator("#office-indicators").get_by_role("link", name=re.compile("S-II.1")).click()
    page.wait_for_url(re.compile(r"/indicators/S-II\.1"))
    table = page.locator("#item-table-1")
    counts = {row.locator("th").inner_text(): [c.inner_text() for c in row.locator("td").all()]
              for row in table.locator("tbody tr").all()}
    assert counts["10"] == ["6", "0"] and counts["2"] == ["4", "0"] and counts["9"] == ["0", "10"]
    assert page.locator("figure.chart img").count() == 1


def test_a_regional_user_sees_the_federal_table_and_their_own_offices_only(
        page, browser_user, measured):
    log_in(page, *browser_user("regional_admin", "RU-BRY"))
    page.goto(f"/r/RU-BRY/federal?campaign={measured}")
    table = page.locator("#federal-overview").inner_text()
    assert "Брянская область" in table and "Красноярский край" in table
    page.goto(f"/r/RU-BRY/results?campaign={measured}")
    codes = page.locator("#offices-table tbody tr[data-office]").evaluate_all(
        "rows => rows.map(r => r.dataset.office)")
    assert codes and all(code.startswith("BRY-") for code in codes)
    assert "ЦЗН г. Красноярск" not in page.content()
    response = page.goto(f"/r/RU-KYA/results?campaign={measured}")
    assert response is not None and response.status == 404
