"""A respondent on a phone answers the web survey in a real Chromium: big buttons, htmx steps,
back, reload, keyboard; then axe-core checks the respondent screens in the normal, large-text
and high-contrast modes; and the same survey works with JavaScript switched off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.foundation.models import Response

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = ROOT / "test-results"
OFFICE_URL = "/s/RU-BRY/BRY-01"
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _phone_context(browser, live_server, **kw):
    context = browser.new_context(base_url=live_server, locale="ru-RU", viewport=PHONE,
                                  device_scale_factor=2, is_mobile=True, has_touch=True, **kw)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def screenshot(request):
    """screenshot(page, name): test-results/<test>-<name>.png of the phone's page."""
    def take(page, name: str) -> Path:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def phone(browser, live_server):
    context = _phone_context(browser, live_server)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_without_js(browser, live_server):
    context = _phone_context(browser, live_server, java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()


def heading(page) -> str:
    return page.locator("#step-heading").inner_text().strip()


def wait_for_next(page, before: str) -> None:
    """Wait until the next step is on screen and its heading has the focus (a screen reader
    reads the new question)."""
    page.wait_for_function(
        "old => { const h = document.getElementById('step-heading');"
        " return h && h.textContent.trim() !== old && document.activeElement === h; }",
        arg=before)


def answer_current(page, scale="8", comment="Всё понравилось") -> str:
    """Answer the step on screen by tapping; returns what kind of step it was."""
    before = heading(page)
    if page.locator(".scale__btn").count():
        page.get_by_role("button", name=scale, exact=True).click()
        kind = "scale"
    elif page.locator("textarea#comment").count():
        page.locator("textarea#comment").fill(comment)
        page.get_by_role("button", name="Далее", exact=True).click()
        kind = "comment"
    else:
        page.locator(".choices .choice").first.click()
        kind = "choice"
    wait_for_next(page, before)
    return kind


def stored(app):
    with app.app_context(), tenancy.federal_scope("browser test"):
        rows = db.scalars(select(Response)).all()
        return [(r, {a.item: (a.value, a.choice)
                     for a in db.scalars(select(Answer).where(Answer.response_id == r.id))})
                for r in rows]


def test_a_phone_completes_the_survey_with_the_big_buttons(phone, app, live_campaign, csrf_on,
                                                           screenshot):
    page = phone
    page.goto(OFFICE_URL)
    assert page.evaluate("typeof htmx") == "object", "htmx is served (make install copies it)"
    assert heading(page) == "Кто вы?"
    # big touch targets on a phone
    box = page.get_by_role("button", name=re.compile("^Соискатель")).bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300
    page.get_by_role("button", name=re.compile("^Соискатель")).click()
    wait_for_next(page, "Кто вы?")
    assert re.search(r"/s/a/[\w-]+/prof_competence$", page.url), page.url  # hx-push-url
    first_question = heading(page)
    assert first_question.startswith("Сотрудники ЦЗН обладают высоким уровнем")
    assert page.evaluate("document.activeElement.id") == "step-heading"  # focus moved
    assert page.locator("progress").count() == 1
    assert page.get_by_text("1 — совершенно не согласен").is_visible()
    assert page.get_by_text("10 — полностью согласен").is_visible()
    for n in range(1, 11):
        tap = page.get_by_role("button", name=str(n), exact=True).bounding_box()
        assert tap["height"] >= 44 and tap["width"] >= 44
    screenshot(page, "scale-question")

    page.get_by_role("button", name="7", exact=True).click()
    wait_for_next(page, first_question)
    second = heading(page)
    page.get_by_role("button", name="Затрудняюсь ответить").click()
    wait_for_next(page, second)
    third = heading(page)

    # back: the previous question, with its answer shown
    page.get_by_role("link", name=re.compile("Назад")).click()
    wait_for_next(page, third)
    assert heading(page) == second
    not_sure = page.get_by_role("button", name=re.compile("Затрудняюсь"))
    assert "is-current" in not_sure.get_attribute("class")
    page.get_by_role("link", name=re.compile("Назад")).click()
    wait_for_next(page, second)
    assert heading(page) == first_question
    seven = page.locator(".scale__btn", has_text=re.compile(r"^7"))
    assert "is-current" in seven.get_attribute("class")

    # a reload keeps the draft
    page.reload()
    assert heading(page) == first_question
    page.get_by_role("link", name=re.compile("Следующий вопрос")).click()
    wait_for_next(page, first_question)
    page.get_by_role("link", name=re.compile("Следующий вопрос")).click()
    wait_for_next(page, second)
    assert heading(page) == third

    # keyboard only: Tab from the heading to «Да», Enter; the focus ring is visible
    assert third == "Приходилось ли Вам обращаться к руководству ЦЗН?"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Да"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    wait_for_next(page, third)
    follow_up = heading(page)
    assert follow_up == "Мне удалось без труда обратиться к руководству ЦЗН"  # asked after «Да»
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "5"
    page.keyboard.press("Enter")
    wait_for_next(page, follow_up)

    kinds = []
    while heading(page) != "Спасибо!":
        kinds.append(answer_current(page))
        assert len(kinds) < 40, "the survey does not end"
    assert "comment" in kinds and "choice" in kinds
    assert re.search(r"/s/a/[\w-]+/done$", page.url)
    assert page.get_by_text("Ваши ответы сохранены").is_visible()
    screenshot(page, "thanks")

    ((response, answers),) = stored(app)
    assert response.channel == "web" and response.respondent_type == "job_seeker"
    assert response.comment == "Всё понравилось"
    assert answers["prof_competence"] == (7, None)
    assert answers["comm_competence"] == (None, None)
    assert answers["management_contact"] == (1, None)
    assert answers["management_openness"] == (5, None)
    assert response.meta["staff_session"] is False
    assert "Chrome" in response.meta["user_agent"]
    assert response.meta["session"] in page.url

    # the browser's back button after the end does not answer twice
    page.go_back()
    page.wait_for_load_state()
    assert len(stored(app)) == 1


def run_axe(page) -> list[dict]:
    assert AXE.exists(), "axe-core is missing: run `npm ci` (make install does)"
    # Evaluated by the browser's debugging protocol, not added as an inline script: the
    # page's Content-Security-Policy refuses those (as it should).
    page.evaluate("() => {\n" + AXE.read_text() + "\n}")
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""", AXE_TAGS)


def assert_accessible(page, screen: str) -> None:
    bad = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{screen}: {bad}"


def test_respondent_screens_pass_axe_in_every_display_mode(phone, app, live_campaign, csrf_on,
                                                           screenshot):
    page = phone
    for mode in ("normal", "large", "contrast"):
        page.context.clear_cookies()
        page.goto(OFFICE_URL)
        if mode == "large":
            page.get_by_role("button", name="Крупный шрифт").click()
            page.wait_for_load_state()
            assert "a11y-large" in page.locator("html").get_attribute("class")
            large_font = page.get_by_role("button", name="Крупный шрифт")
            assert large_font.get_attribute("aria-pressed") == "true"
        if mode == "contrast":
            page.get_by_role("button", name="Высокая контрастность").click()
            page.wait_for_load_state()
            assert "a11y-contrast" in page.locator("html").get_attribute("class")
        assert_accessible(page, f"{mode}: respondent type")

        page.get_by_role("button", name=re.compile("^Работодатель")).click()
        wait_for_next(page, "Кто вы?")
        assert_accessible(page, f"{mode}: scale question")
        # the mode survives the next page load (a cookie, not the page)
        page.reload()
        if mode != "normal":
            assert f"a11y-{mode}" in page.locator("html").get_attribute("class")
        before = heading(page)
        page.get_by_role("button", name="Затрудняюсь ответить").click()
        wait_for_next(page, before)
        # an answer refused by the server: the message is announced, the page stays usable
        page.evaluate("""() => { const b = document.querySelector('.scale__btn');
                                 b.value = '11'; b.click(); }""")
        page.locator("#step-error").wait_for()
        assert "Выберите число от 1 до 10" in page.locator("#step-error").inner_text()
        assert_accessible(page, f"{mode}: validation message")
        screenshot(page, f"{mode}-question")

        while heading(page) != "Спасибо!":
            answer_current(page)
        assert_accessible(page, f"{mode}: thank-you")
        screenshot(page, f"{mode}-thanks")
    assert len(stored(app)) == 3


def test_the_survey_works_with_javascript_switched_off(phone_without_js, app, live_campaign,
                                                       csrf_on):
    page = phone_without_js
    page.goto("/s/RU-BRY")
    page.get_by_role("link", name=re.compile("центральный офис")).click()
    page.get_by_role("button", name=re.compile("^Соискатель")).click()
    page.wait_for_load_state()
    steps = 0
    while heading(page) != "Спасибо!":
        if page.locator(".scale__btn").count():
            page.get_by_role("button", name="9", exact=True).click()
        elif page.locator("textarea#comment").count():
            page.get_by_role("button", name="Далее", exact=True).click()
        else:
            page.locator(".choices .choice").first.click()
        page.wait_for_load_state()
        steps += 1
        assert steps < 40
    ((response, answers),) = stored(app)
    assert answers["prof_competence"] == (9, None)
    assert response.comment is None
