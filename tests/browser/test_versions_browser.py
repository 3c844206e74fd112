"""A derived methodology version in a browser, from its draft to a campaign's results: a
methodology owner derives «ИКЦ-2023 с порогом 9» from ИКЦ-2023, previews it on the last
campaign and submits it; a second owner approves it; a campaign is created with it (campaigns
are federal: an administrator creates them), and the regional administrator's results page
names the version and its parameters."""

from __future__ import annotations

import datetime as dt

import pytest

from engine_helpers import answer
from engine_helpers import campaign  # noqa: F401 - a fixture: the last campaign, ИКЦ-2023
from engine_helpers import offices
from engine_helpers import start
from engine_helpers import work

from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser

TITLE = "ИКЦ-2023 с порогом 9"
#: usefulness answers of ten job seekers: 10 of 10 are 8–10, 7 of 10 are 9–10
ANSWERS = (8, 8, 8, 9, 9, 10, 10, 10, 10, 10)


def _page_of(browser, live_server, browser_user, role, region=None):
    context = browser.new_context(base_url=live_server, locale="ru-RU")
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, *browser_user(role, region))
    return page


def test_a_derived_version_from_draft_to_a_campaigns_results(
        app, browser, live_server, browser_user, campaign):
    office = offices(app, "RU-BRY")[0]
    for value in ANSWERS:
        answer(app, office, {"usefulness": value})
    start(app, campaign)
    work(app)

    author = _page_of(browser, live_server, browser_user, "methodology_owner")
    author.goto("/federal/")
    author.get_by_role("link", name="Версии и предложения").click()
    author.select_option("#base", label="ИКЦ-2023")
    author.get_by_role("button", name="Создать").click()
    author.get_by_label("Название версии").fill(TITLE)
    author.get_by_label("Порог положительного ответа", exact=True).fill("11")
    author.get_by_role("button", name="Сохранить черновик").click()
    assert "допустимо от 1 до 10" in author.locator("main").inner_text()
    author.get_by_label("Порог положительного ответа", exact=True).fill("9")
    author.get_by_role("button", name="Сохранить черновик").click()
    assert author.get_by_role("heading", level=1).inner_text() == TITLE
    assert "черновик" in author.locator("main").inner_text()

    # the preview on the last campaign: the office's index 100 → 70
    author.get_by_role("link", name="Предпросмотр на прошедшей кампании").click()
    author.get_by_role("button", name="Рассчитать черновик").click()
    work(app)
    author.reload()
    comparison = author.locator("#comparison").inner_text()
    assert "100,0" in comparison and "70,0" in comparison
    author.go_back()
    author.go_back()
    author.reload()
    author.get_by_role("button", name="Отправить на согласование").click()
    assert "на согласовании" in author.locator("main").inner_text()
    assert author.get_by_role("button", name="Одобрить и опубликовать").count() == 0
    version_url = author.url

    reviewer = _page_of(browser, live_server, browser_user, "methodology_owner")
    reviewer.goto(version_url)
    reviewer.get_by_role("button", name="Одобрить и опубликовать").click()
    assert "опубликована" in reviewer.locator("main").inner_text()

    admin = _page_of(browser, live_server, browser_user, "admin")
    admin.goto("/federal/campaigns/")
    admin.get_by_label("Название").fill("2025-Q3")
    admin.select_option("#methodology_key", label=TITLE)
    admin.locator("#starts_on").fill("2025-07-01")
    admin.locator("#ends_on").fill("2025-09-30")
    admin.check("input[name=regions][value=RU-BRY]")
    admin.get_by_role("button", name="Сохранить кампанию").click()
    assert "создана" in admin.locator("main").inner_text()
    new_campaign = int(admin.url.rstrip("/").rsplit("/", 1)[1])

    for value in ANSWERS:
        answer(app, office, {"usefulness": value}, when=dt.datetime(2025, 8, 5, 9, tzinfo=dt.UTC))
    start(app, new_campaign)
    work(app)

    regional = _page_of(browser, live_server, browser_user, "regional_admin", "RU-BRY")
    regional.goto(f"/r/RU-BRY/results?campaign={new_campaign}")
    facts = regional.locator(".headline .facts").inner_text()
    assert TITLE in facts and "9–10" in facts
    assert "70,0" in regional.locator(".headline__value").inner_text()
    for page in (author, reviewer, admin, regional):
        page.context.close()
