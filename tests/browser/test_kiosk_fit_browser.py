"""Every kiosk screen fits a landscape tablet (1280 × 800) without scrolling, in the normal and
the large type: the pairing screens, the attract screen, every step of both questionnaires
(methodology versions cci-2022 and cci-2023) for both respondent types, the comment, the
thank-you screen, the exit poll's questions (the home screen without a campaign), the closed and
the revoked screens. On each screen, in each type size, the page is no taller and no wider than
the viewport, no element lies outside it, every touch target is at least 48 px both ways and no
text is smaller than a readable size (the large type larger than the normal one). A screenshot
of each screen is saved under test-results/kiosk-fit/.

A question with more options than fit is split into pages of options rather than shrunk: a
questionnaire with many options (a stand-in for a future methodology) proves it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Office

from cci_channel_kiosk import devices
from cci_channel_kiosk.models import Kiosk
from tests.browser.conftest import RESULTS_DIR
from tests.browser.test_kiosk_browser import kiosk  # noqa: F401 - a fixture: a tablet's browser
from tests.browser.test_web_survey_browser import assert_accessible

pytestmark = pytest.mark.browser

SHOTS = RESULTS_DIR / "kiosk-fit"
METHODOLOGIES = ["cci-2022", "cci-2023"]
MIN_TARGET = 48       # px, both ways, every button, link and field
MIN_TEXT = 16         # px, any text in the normal type
MIN_LARGE_TEXT = 20   # px, any text in the large type
LARGER = 1.2          # the large type's questions and options against the normal type's

# Measures the screen as it is: what does not fit, the touch targets too small, the smallest
# text, and the sizes of the question and of the options (for the large type's comparison).
MEASURE = """() => {
  const vw = window.innerWidth, vh = window.innerHeight, problems = [];
  const root = document.scrollingElement;
  if (root.scrollHeight > vh) problems.push('the page is ' + root.scrollHeight + ' px tall');
  if (root.scrollWidth > vw) problems.push('the page is ' + root.scrollWidth + ' px wide');
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
    ' «' + (e.textContent || '').trim().slice(0, 40) + '»';
  let minText = Infinity;
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('.visually-hidden, script')) { continue; }
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) { continue; }
    const style = getComputedStyle(e);
    if (style.visibility === 'hidden') { continue; }
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
      problems.push(name(e) + ' lies outside the screen: ' + [r.left, r.top, r.right, r.bottom]
        .map(Math.round).join(', '));
    }
    if (e.matches('button, a, input, textarea, select') &&
        (r.width < MIN_TARGET - 0.5 || r.height < MIN_TARGET - 0.5)) {
      problems.push(name(e) + ' is a touch target of ' + Math.round(r.width) + ' × ' +
        Math.round(r.height) + ' px');
    }
    if (Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) {
      minText = Math.min(minText, parseFloat(style.fontSize));
    }
  }
  const size = (selector) => {
    const found = document.querySelector(selector);
    return found ? parseFloat(getComputedStyle(found).fontSize) : null;
  };
  return { problems: problems, minText: minText === Infinity ? null : minText,
           heading: size('#step-heading, h1'), option: size('.choice, .scale__btn'),
           height: root.scrollHeight };
}""".replace("MIN_TARGET", str(MIN_TARGET))


@pytest.fixture(params=METHODOLOGIES)
def methodology_kiosk(request, app, tenants) -> tuple[str, str]:
    """(methodology key, pairing code): a campaign of that version open today in RU-BRY and a
    kiosk registered for BRY-01."""
    key = request.param
    today = dt.date.today()
    with app.app_context(), tenancy.federal_scope("browser test"):
        save_campaign(name=f"kiosk fit {key}", methodology_key=key,
                      starts_on=today - dt.timedelta(days=10),
                      ends_on=today + dt.timedelta(days=10), region_codes=["RU-BRY"])
        db.commit()
        office = db.scalar(select(Office).where(Office.code == "BRY-01"))
        with tenancy.region_scope(office.region_id, "browser test"):
            _kiosk, code = devices.register(office, "Холл", None)
    return key, devices.format_code(code)


class Screens:
    """Measures each screen in the normal and the large type and keeps a screenshot of each."""

    def __init__(self, page, prefix: str):
        self.page = page
        self.prefix = prefix
        self.failures: list[str] = []
        self.seen: list[str] = []
        SHOTS.mkdir(parents=True, exist_ok=True)

    def large_on(self) -> bool:
        return self.page.evaluate("document.documentElement.classList.contains('a11y-large')")

    def set_large(self, on: bool, switch: bool) -> None:
        if self.large_on() == on:
            return
        if switch:
            # the respondent's own switch, as a respondent would press it
            button = self.page.locator("[data-a11y=large]")
            button.click()
            assert button.get_attribute("aria-pressed") == ("true" if on else "false")
        else:  # a server screen without the switch: the same class the switch sets
            self.page.evaluate("on => document.documentElement.classList.toggle('a11y-large', on)",
                               on)
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")

    def check(self, name: str) -> None:
        """Measure the screen on show in both type sizes (the one already on first: one switch
        a screen) and save a screenshot of each."""
        self.seen.append(name)
        self.page.wait_for_load_state()  # the stylesheets too
        switch = self.page.locator("[data-a11y=large]").count() > 0
        first = self.large_on()
        measured = {}
        for large in (first, not first):
            self.set_large(large, switch)
            mode = "large" if large else "normal"
            found = self.page.evaluate(MEASURE)
            measured[mode] = found
            slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower())
            self.page.screenshot(path=str(SHOTS / f"{self.prefix}-{slug}-{mode}.png"))
            for problem in found["problems"]:
                self.failures.append(f"{name} ({mode}): {problem}")
            least = MIN_LARGE_TEXT if large else MIN_TEXT
            if found["minText"] is not None and found["minText"] < least:
                self.failures.append(f"{name} ({mode}): text of {found['minText']} px")
        # and the high contrast on top of the large type (thicker borders): measured only
        if self.large_on():
            self.page.evaluate("document.documentElement.classList.add('a11y-contrast')")
            for problem in self.page.evaluate(MEASURE)["problems"]:
                self.failures.append(f"{name} (large, high contrast): {problem}")
            self.page.evaluate("document.documentElement.classList.remove('a11y-contrast')")
        for part in ("heading", "option"):
            normal, large = measured["normal"][part], measured["large"][part]
            if normal and large and large < normal * LARGER:
                self.failures.append(f"{name}: the large type's {part} is {large} px against "
                                     f"{normal} px")

    def assert_all_fit(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def step_key(page) -> str:
    return page.get_attribute("body", "data-step") or ""


def next_screen(page, before: str) -> None:
    # a selector, not wait_for_function (see test_kiosk_browser.wait_until)
    page.wait_for_selector(f"body[data-screen=thanks], body:not([data-step='{before}'])",
                           state="attached")


def walk(page, screens: Screens, rtype: str, expected: list[str]) -> None:
    """One respondent of `rtype` from the attract screen to the thank-you screen, measuring
    every screen; the first option is chosen everywhere (so every follow-up is asked)."""
    page.wait_for_selector("body[data-screen=attract]")
    screens.check(f"{rtype}-attract")
    page.click("#kiosk-start")
    visited = []
    for _ in range(len(expected) + 2):
        if page.get_attribute("body", "data-screen") == "thanks":
            break
        key = step_key(page)
        visited.append(key)
        screens.check(f"{rtype}-{len(visited):02d}-{key}")
        if key == "respondent_type":
            page.click(f"[data-value={rtype}]")
        elif page.locator("#comment").count():
            page.fill("#comment", "Всё понравилось, спасибо сотрудникам. " * 6)
            screens.check(f"{rtype}-{len(visited):02d}-{key}-written")
            page.click("#kiosk-next")
        elif page.locator(".scale__btn").count():
            page.click(".scale__btn[data-value='8']")
        else:
            page.locator(".choice:not(.choice--na)").first.click()
        next_screen(page, key)
    assert page.get_attribute("body", "data-screen") == "thanks"
    screens.check(f"{rtype}-thanks")
    assert visited == ["respondent_type", *expected]


def all_steps(questionnaire: dict, rtype: str) -> list[str]:
    return [step["key"] for step in questionnaire["types"][rtype]]


def test_every_kiosk_screen_fits_a_landscape_tablet(kiosk, app, methodology_kiosk):
    _context, page = kiosk
    methodology, code = methodology_kiosk
    screens = Screens(page, methodology)

    # a device not paired yet, the pairing screen (and its error), the paired screen
    page.goto("/k/")
    screens.check("unknown-device")
    page.goto("/k/pair")
    screens.check("pair")
    page.fill("#code", "0000-0000")
    page.click("button[type=submit]")
    page.wait_for_selector("#code-error")
    screens.check("pair-error")
    page.fill("#code", code)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if page.locator("#kiosk-paired").count():  # it opens the kiosk after a second
        screens.check("paired")
    page.wait_for_url("**/k/")

    page.wait_for_selector("body[data-screen=attract]")
    questionnaire = page.evaluate("JSON.parse(localStorage.getItem('cci_kiosk_questionnaire'))")
    assert questionnaire["methodology"] == methodology
    for rtype in ("job_seeker", "employer"):
        walk(page, screens, rtype, all_steps(questionnaire, rtype))
        page.goto("/k/")  # not waiting out the thank-you screen

    # no campaign today: the closed screen
    def closed(route):
        body = route.fetch().json()
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"office": body["office"], "texts": body["texts"],
                                       "campaign": None}))

    page.route("**/k/api/questionnaire", closed)
    page.goto("/k/")
    # no campaign today: the exit poll is the home screen, a question at a time
    page.wait_for_selector("body[data-screen=poll]")
    for number in range(1, 4):
        key = step_key(page)
        screens.check(f"exit-poll-{number}-{key}")
        page.locator(".kiosk-poll button").last.click()
        next_screen(page, key)
    assert page.get_attribute("body", "data-screen") == "thanks"
    screens.check("exit-poll-thanks")

    # and without an exit-poll question either: the closed screen
    def no_questions(route):
        if route.request.method != "GET":
            route.continue_()
            return
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"office": "", "questions": []}))

    page.route("**/k/api/exit-poll", no_questions)
    page.goto("/k/")
    page.wait_for_selector("body[data-screen=closed]")
    screens.check("closed")
    page.unroute("**/k/api/questionnaire")
    page.unroute("**/k/api/exit-poll")

    # the device revoked by the administrator
    with app.app_context(), tenancy.federal_scope("browser test"):
        found = db.scalar(select(Kiosk))
        with tenancy.region_scope(found.region_id, "browser test"):
            devices.revoke(db.get(Kiosk, found.id))
    page.goto("/k/")
    assert page.get_attribute("body", "data-state") == "revoked"
    screens.check("revoked")

    assert len(screens.seen) > 50
    screens.assert_all_fit()


MANY = [{"value": f"option-{n}", "label": f"Вариант ответа номер {n}",
         "hint": "с пояснением в одну строку" if n % 3 == 0 else ""} for n in range(1, 25)]


def visible_options(page) -> list[str]:
    return page.eval_on_selector_all(
        ".choices .choice", "all => all.filter(b => b.offsetParent !== null)"
        ".map(b => b.dataset.value)")


@pytest.mark.parametrize("methodology_kiosk", ["cci-2023"], indirect=True)
def test_options_that_do_not_fit_are_paged_not_shrunk(kiosk, app, methodology_kiosk):
    """A question with 24 options (none of today's questionnaires has that many; a future one
    may): the options are shown a page at a time, each page fits, the type is as large as on
    any other question, every option is reachable by touch and by keyboard, and coming back to
    the question opens the page with the answer given."""
    _context, page = kiosk
    _methodology, code = methodology_kiosk

    def many_options(route):
        body = route.fetch().json()
        first = body["types"]["job_seeker"][0]
        body["types"]["job_seeker"].insert(0, {
            **first, "key": "many", "kind": "choice", "text": "Какой вариант Вам ближе?",
            "choices": MANY, "scale": None, "follows": None})
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/k/api/questionnaire", many_options)
    page.goto("/k/pair")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/k/")
    page.wait_for_selector("body[data-screen=attract]")  # after the questionnaire arrived
    page.click("#kiosk-start")
    page.click("[data-value=job_seeker]")
    page.wait_for_selector("body[data-step=many]")
    normal_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.choice'))"
                                ".fontSize) / parseFloat(getComputedStyle("
                                "document.documentElement).fontSize)")

    for large in (False, True):
        if large:
            page.click("[data-a11y=large]")  # the layout follows the switch
        screens = Screens(page, "many-options")
        seen: list[str] = []
        for number in range(1, len(MANY) + 1):
            page.wait_for_selector("body[data-step=many]", state="attached")
            measured = page.evaluate(MEASURE)
            assert measured["problems"] == [], (large, number, measured["problems"])
            page.screenshot(path=str(SHOTS / f"many-options-{'large' if large else 'normal'}"
                                              f"-page-{number}.png"))
            ratio = measured["option"] / page.evaluate(
                "parseFloat(getComputedStyle(document.documentElement).fontSize)")
            assert ratio == pytest.approx(normal_size)  # the options keep their size
            shown = visible_options(page)
            assert shown and not set(shown) & set(seen)
            seen += shown
            label = page.inner_text("#kiosk-pager-label")
            assert re.fullmatch(rf"Варианты {len(seen) - len(shown) + 1}–{len(seen)} из 24",
                                label), label
            if len(seen) == len(MANY):
                assert page.locator(".kiosk-pager__next").is_disabled()
                break
            # the next page by keyboard: the focus lands on its first option
            page.focus(".kiosk-pager__next")
            page.keyboard.press("Enter")
            page.wait_for_selector(f".choice[data-value='{MANY[len(seen)]['value']}']:focus")
        assert seen == [choice["value"] for choice in MANY]
        assert 1 < number < len(MANY)
        assert not screens.failures
    pages_large = number

    # an answer on the last page; back to the question: its page opens, the answer marked
    page.locator(".choice", has_text="Вариант ответа номер 24").click()
    page.wait_for_selector("body[data-step=prof_competence]")
    page.click(".kiosk-back")
    page.wait_for_selector("body[data-step=many]")
    assert "option-24" in visible_options(page)
    assert page.get_attribute(".choice.is-current", "data-value") == "option-24"

    # the normal type needs fewer pages than the large one
    page.click("[data-a11y=large]")
    page.wait_for_selector("html:not(.a11y-large)", state="attached")
    label = page.inner_text("#kiosk-pager-label")
    per_page = int(re.match(r"Варианты (\d+)–(\d+)", label).group(2)) - int(
        re.match(r"Варианты (\d+)", label).group(1)) + 1
    assert per_page > len(MANY) / pages_large
    assert page.evaluate(MEASURE)["problems"] == []
    assert_accessible(page, "paged options")


# Words that the layout breaks inside (a word's range drawn on more than one line), texts wider
# than their box, the page wider than the screen, the header's title over its switches and the
# screen's content under the header.
UNBROKEN = """(selector) => {
  const problems = [], vw = window.innerWidth;
  const root = document.scrollingElement;
  if (root.scrollWidth > vw) problems.push('the page is ' + root.scrollWidth + ' px wide');
  const boxes = document.querySelectorAll(selector);
  if (!boxes.length) problems.push('nothing matches ' + selector);
  for (const box of boxes) {
    if (box.scrollWidth > box.clientWidth + 0.5) {
      problems.push('«' + box.textContent.trim() + '» is wider than its box');
    }
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const words = /\\S+/g;
      for (let m = words.exec(node.textContent); m; m = words.exec(node.textContent)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
        if (lines.size > 1) problems.push('«' + m[0] + '» breaks over ' + lines.size + ' lines');
      }
    }
  }
  const header = document.querySelector('.survey-top');
  for (const e of header ? document.querySelectorAll('#kiosk-screen *') : []) {
    const r = e.getBoundingClientRect();
    if (r.height && r.top < header.getBoundingClientRect().bottom - 0.5) {
      problems.push('«' + e.textContent.trim().slice(0, 40) + '» lies under the header');
    }
  }
  const title = document.querySelector('.survey-brand');
  const switches = document.querySelector('.a11y-switch');
  if (title && switches) {
    const a = title.getBoundingClientRect(), b = switches.getBoundingClientRect();
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
      problems.push("the header's title overlaps its switches");
    }
  }
  return problems;
}"""
VIEWPORTS = [(1280, 800), (390, 844)]


@pytest.mark.parametrize("methodology_kiosk", ["cci-2023"], indirect=True)
def test_no_word_breaks_inside_and_a_phone_has_no_sideways_scroll(kiosk, app,
                                                                   methodology_kiosk):
    """The exit poll's answers («Удовлетворительно», «Хорошо») and the start screen's «3–5
    минут» keep their words whole on a tablet and on a phone, in both type sizes; on a phone
    the header wraps instead of overlapping and the page does not scroll sideways."""
    _context, page = kiosk
    _methodology, code = methodology_kiosk
    page.goto("/k/pair")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/k/")
    failures: list[str] = []

    def measure(name: str, selector: str) -> None:
        for large in (False, True):
            page.evaluate("on => document.documentElement.classList.toggle('a11y-large', on)",
                          large)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
            mode = "large" if large else "normal"
            failures.extend(f"{name} ({mode}): {problem}"
                            for problem in page.evaluate(UNBROKEN, selector))
            page.screenshot(path=str(SHOTS / f"words-{name}-{mode}.png"))
        page.evaluate("document.documentElement.classList.remove('a11y-large')")

    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/k/")
        page.wait_for_selector("body[data-screen=attract]")
        assert "3\u2060–\u20605\u00a0минут" in page.inner_text(".survey-intro")
        measure(f"{width}-attract", ".survey-intro, .a11y-switch button, #kiosk-start")

    def closed(route):
        body = route.fetch().json()
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"office": body["office"], "texts": body["texts"],
                                       "campaign": None}))

    page.route("**/k/api/questionnaire", closed)
    labelled = 0
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/k/")
        page.wait_for_selector("body[data-screen=poll]")
        while page.get_attribute("body", "data-screen") == "poll":
            key = step_key(page)
            labelled += page.locator(".kiosk-poll .choice").count()
            measure(f"{width}-poll-{key}", ".kiosk-poll button")
            page.locator(".kiosk-poll button").last.click()
            next_screen(page, key)
    assert page.locator(".kiosk-poll .choice").count() == 0 and labelled >= 10
    assert not failures, "\n".join(failures)
