"""Each role's main path in a real browser, on a desktop and on a phone, as a person reads it.

One seeded world (the newcomer's sample data, a few flagged answers, a user of each role) and one
live server serve every walk. A walk logs in, opens the landing page and every link of the menus
the role meets, does the role's main action, and checks every page it sees:

- it reads in Russian: no English interface words, no stored keys (``job_seeker``,
  ``checklist.create``), no JSON or format placeholders;
- every time is marked with its zone («МСК», «МСК+4»);
- on results pages, numbers are written the Russian way (decimal comma, a real minus);
- on a phone, the page is no wider than the screen (a wide table scrolls in its own region);
- the browser logged no error and the Content-Security-Policy refused nothing.

A screenshot of every page is saved under the test's temporary directory, or under
``$CCI_WALK_SCREENSHOTS/<test>/`` when that variable names a directory.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.browser.conftest import BROWSER_PASSWORD
from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
REGION = "RU-BRY"
ROLES = ("admin", "federal_analyst", "methodology_owner", "regional_admin", "auditor",
         "operator")
FEDERAL = {"admin", "federal_analyst", "methodology_owner"}

# --- what a page must not show ----------------------------------------------------------------

#: English interface words a Russian page never shows (whole words, case as written)
ENGLISH = ("Save", "Cancel", "Error", "None", "null", "True", "False", "undefined", "NaN",
           "Submit", "Delete", "Edit", "Search", "Loading", "Yes", "No", "Back", "Next",
           "Previous", "Show", "Details", "Status", "Page")
ENGLISH_WORD = re.compile(r"\b(?:{})\b".format("|".join(ENGLISH)))
#: any other word in Latin letters is English too, but for these names and abbreviations
LATIN_WORD = re.compile(r"(?<![\w-])(?![IVX]+\b)[A-Za-z][A-Za-z]+(?![\w-])")  # not I, IV
LATIN_ALLOWED = {"API", "CSV", "XLSX", "JPEG", "PNG", "HEIC", "QR", "URL", "PDF", "SMTP", "IP",
                 "SMS", "Excel", "Windows", "UTF", "ID", "OpenAPI", "JSON", "Bearer", "iPad",
                 "Android", "BI", "Telegram", "WhatsApp", "Viber", "VK"}
#: a stored key: snake_case, or a dotted action key
RAW_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\.[a-z_]+[a-z]\b"
                     r"|(?<![\w-])[a-z]{2,}-\d+\b")  # and a version's key, «cci-2023»
#: JSON, or a format placeholder left unfilled
MACHINE = re.compile(r"[{}]|%\(|%[sd]\b|\\u[0-9a-f]{4}")
EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+|/[\w./?=&%-]+|\S+\.(?:png|jpe?g|heic|csv|xlsx)\b",
                          re.I)  # and file names
CLOCK = re.compile(r"(?<![\d:])(\d{1,2}:\d{2})(?::\d{2})?(?![\d:])")
ZONE_AFTER = re.compile(r"(?::\d{2})?\s*МСК")
RANGE = re.compile(r"\d{1,2}:\d{2}\s*[–—-]\s*\d{1,2}:\d{2}")
DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")
DOT_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
HYPHEN_MINUS = re.compile(r"(?<![\w\-–])-\d")

# What the page shows: its text nodes (not scripts, not <code>: codes are shown as codes; not an
# <abbr> explained by its title) and the words people also read, in attributes (placeholders,
# labels, tooltips, button values).
READ_PAGE = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    // an abbreviation explained in its title (AHT, ASA in call centres) is read as such
    if (!el || el.closest("script, style, template, code, kbd, noscript, abbr[title]")) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  const attributes = [];
  for (const el of document.querySelectorAll(
      "[placeholder], [aria-label], [title], [alt], input[type=submit], input[type=button]")) {
    if (el.closest("code")) continue;
    for (const name of ["placeholder", "aria-label", "title", "alt"]) {
      const value = el.getAttribute(name);
      if (value) attributes.push(value);
    }
    if (el.matches("input[type=submit], input[type=button]") && el.value) attributes.push(el.value);
  }
  const abbreviations = [...document.querySelectorAll("abbr[title]")]
    .map((el) => el.textContent.trim());
  return {texts, attributes, abbreviations, title: document.title};
}"""

# The page's width against the screen's, and what sticks out (outside scrolling regions).
MEASURE_WIDTH = """(width) => {
  // inside a scrolling region, unless positioned out of it (an absolutely positioned element
  // is clipped only by a scroller that is, or is inside, its containing block)
  const scrolls = (el) => {
    let escapes = ["absolute", "fixed"].includes(getComputedStyle(el).position);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.position !== "static") escapes = false;
      if (!escapes && ["auto", "scroll", "hidden"].includes(style.overflowX)) return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0 && !scrolls(el)) {
      wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                + (el.className && typeof el.className === "string"
                   ? "." + el.className.trim().split(/\\s+/).join(".") : "")
                + " right=" + Math.round(box.right));
    }
  }
  return {scroll: document.scrollingElement.scrollWidth, width, wide: wide.slice(0, 8)};
}"""

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def page_problems(seen: dict, results: bool) -> list[str]:
    """What a person should not meet on a page whose text is ``seen`` (from READ_PAGE), each
    problem with the line it is in."""
    lines = [EMAIL_OR_URL.sub(" ", line)
             for line in [seen["title"], *seen["texts"], *seen["attributes"]]]
    found: dict[str, str] = {}  # problem -> the first line it is in
    explained = set(seen.get("abbreviations", ()))  # the page says what they stand for

    def look(pattern: re.Pattern, what: str, text: str, skip=frozenset()) -> None:
        for match in pattern.findall(text):
            if match not in skip:
                found.setdefault(f"{what} «{match}»", text)

    for line in lines:
        look(ENGLISH_WORD, "English word", line)
        look(LATIN_WORD, "Latin word", line, explained | LATIN_ALLOWED | set(ENGLISH))
        look(RAW_KEY, "stored key", line)
        look(MACHINE, "machine text", line)
        if results:
            look(DOT_DECIMAL, "number with a dot", DATE.sub(" ", line))
            if HYPHEN_MINUS.search(DATE.sub(" ", line)):
                found.setdefault("hyphen for a minus", line)
    for line in seen["texts"]:
        ranges = [m.span() for m in RANGE.finditer(line)]
        for match in CLOCK.finditer(line):
            if any(a <= match.start() < b for a, b in ranges):
                continue  # opening hours, «9:00–18:00»: a time of day, not a moment
            if not ZONE_AFTER.match(line, match.end(1)):
                found.setdefault("time without its zone", line)
                break
    return [f"{problem} in «{line[:90]}»" for problem, line in found.items()]


# --- the world every walk shares ---------------------------------------------------------------


@dataclass
class World:
    users: dict[str, str]  # role -> e-mail
    flagged: list[int]  # response ids in the review queue
    base: str
    app: object


@pytest.fixture
def _clean_state():
    """The walks share one world: the tables are emptied after the module (see ``world``)."""
    return


@pytest.fixture(scope="module")
def world(app, live_server):
    from cci.collection import sample_data
    from cci.collection.intake import Submission
    from cci.collection.intake import submit
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import Campaign
    from cci.foundation.models import Office
    from cci.foundation.models import Region
    from cci.foundation.models import Response
    from cci.foundation.tenants_sync import sync
    from cci.foundation.users import create_user
    from cci.index import compute
    from conftest import ROOT
    from conftest import _empty_tables
    from engine_helpers import work

    try:
        with app.app_context():
            sync(ROOT / "tenants")
            created = sample_data.load()
            users = {}
            with tenancy.federal_scope("browser walks"):
                for role in ROLES:
                    users[role] = f"walk-{role.replace('_', '-')}@example.ru"
                    create_user(email=users[role], role=role, password=BROWSER_PASSWORD,
                                region_code=None if role in FEDERAL else REGION)
                db.commit()
                for campaign in db.scalars(select(Campaign).where(Campaign.name.in_(created))):
                    compute.start_run(campaign.id)
                region = db.scalar(select(Region).where(Region.code == REGION))
                office = db.scalar(select(Office).where(Office.region_id == region.id)
                                   .order_by(Office.code))
                region_id, office_id = region.id, office.id
        work(app)
        flagged = []
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for number, comment in enumerate(["Долго ждала в очереди, но консультант помог.",
                                          "Всё понравилось, спасибо."]):
            with app.app_context():
                response, _ = submit(Submission(
                    office_id=office_id, respondent_type="job_seeker",
                    answers={"usefulness": 9, "management_contact": 1,
                             "management_openness": 4, "preferred_channel": "gosuslugi"},
                    comment=comment, client_key=f"walk-flagged-{number}", channel="web",
                    submitted_at=now - dt.timedelta(hours=number + 1),
                    meta={"staff_session": True}))
                flagged.append(response.id)
        with app.app_context(), tenancy.region_scope(region_id, "browser walks: the queue"):
            for response in db.scalars(select(Response).where(Response.id.in_(flagged))):
                response.review_status = "pending"
            db.commit()
        yield World(users=users, flagged=flagged, base=live_server, app=app)
    finally:
        _empty_tables(app)
        app.extensions["cci.redis"].flushdb()


# --- a walk ------------------------------------------------------------------------------------


@dataclass
class Walk:
    page: object
    viewport: str
    shots: Path
    console: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)

    def check(self, name: str, results: bool = False) -> None:
        """Check the page the browser shows now and save its screenshot."""
        page = self.page
        page.wait_for_load_state()
        where = f"{name} ({urlsplit(page.url).path})"
        found = page_problems(page.evaluate(READ_PAGE), results)
        if self.viewport == "phone":
            # against the screen, not innerWidth: a phone widens its layout to fit what sticks out
            width = page.evaluate(MEASURE_WIDTH, VIEWPORTS["phone"]["width"])
            if width["scroll"] > width["width"]:
                found.append(f"wider than the phone: {width['scroll']} px > {width['width']} px;"
                             f" sticking out: {width['wide']}")
        found += [f"CSP: {v}" for v in page.evaluate("window.__csp || []")]
        found += self.console
        self.console.clear()
        if found:
            self.problems[where] = found
        self.seen.append(where)
        self.paths.add(urlsplit(page.url).path)
        page.screenshot(path=str(self.shots / f"{len(self.seen):02d}-{_slug(name)}.png"),
                        full_page=True)

    def open(self, path: str, name: str | None = None, results: bool = False) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and
                                                                  response.status)
        self.check(name or path, results=results)

    def menu(self) -> list[str]:
        links = self.page.locator("nav.mainnav a, .userbox a")
        return [urlsplit(h).path for h in links.evaluate_all("els => els.map(e => e.href)")]

    def walk_menu(self, skip: set[str] = frozenset()) -> None:
        """Open every link of the menu shown now (each page once)."""
        for path in self.menu():
            if path not in skip and path not in self.paths:
                self.open(path, results=path.endswith("/results"))


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:60] or "page"


@pytest.fixture
def walk(browser, world, request, tmp_path):
    viewport = request.node.callspec.params["viewport"]
    role = request.node.callspec.params["role"]
    directory = os.environ.get("CCI_WALK_SCREENSHOTS")
    shots = Path(directory) / request.node.name if directory else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=world.base, locale="ru-RU",
                                  viewport=VIEWPORTS[viewport],
                                  is_mobile=viewport == "phone", has_touch=viewport == "phone")
    context.set_default_timeout(15_000)
    page = context.new_page()
    state = Walk(page=page, viewport=viewport, shots=shots)
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: state.console.append(
        f"console {m.type}: {m.text} ({m.location.get('url')})")
        if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: state.console.append(f"script error: {e}"))
    log_in(page, world.users[role], BROWSER_PASSWORD)
    try:
        yield state
    finally:
        context.close()


# --- the roles' main actions -------------------------------------------------------------------


def _admin(walk: Walk, world: World) -> None:
    page = walk.page
    walk.open("/", "landing")
    walk.walk_menu()
    walk.open("/federal/admin/users", "users")
    assert page.get_by_text(world.users["auditor"]).count() >= 1
    walk.open("/federal/jobs/", "jobs")
    job = page.locator("table a[href*='/jobs/']").first
    job.click()
    page.wait_for_url(re.compile(r"/jobs/\d+"))
    walk.check("a job")
    walk.open(f"/r/{REGION}/", "a region")
    walk.walk_menu()


def _federal_analyst(walk: Walk, world: World) -> None:
    page = walk.page
    walk.open("/", "landing")
    walk.walk_menu()
    walk.open("/federal/", "regions")
    page.get_by_role("link", name="Брянская область").first.click()  # the region's results
    page.wait_for_url(re.compile(f"/r/{REGION}/"))
    walk.check("a region")
    walk.walk_menu()
    walk.open(f"/r/{REGION}/results", "results", results=True)
    assert page.locator(".fig--index").count() > 0
    walk.open(f"/r/{REGION}/contact/figures", "contact-centre figures", results=True)


def _methodology_owner(walk: Walk, world: World) -> None:
    from engine_helpers import work

    page = walk.page
    walk.open("/", "landing")
    walk.walk_menu()
    walk.open("/methodologies/", "methodologies")
    page.locator("main table a[href^='/methodologies/']").first.click()
    page.wait_for_url(re.compile(r"/methodologies/.+"))
    walk.check("a methodology")
    walk.open("/methodologies/", "methodologies")
    page.locator("a[href$='/federal/preview']").click()
    page.wait_for_url(re.compile("/federal/preview"))
    walk.check("preview")
    option = page.locator("select#campaign option", has_text="2025-Q2").get_attribute("value")
    page.locator("select#campaign").select_option(option)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url(re.compile("campaign="))
    draft = page.get_by_role("button", name=re.compile("черновик"))
    draft.first.click()
    page.wait_for_load_state()
    work(world.app)  # the worker computes the draft
    page.reload()
    page.locator("#comparison table").first.wait_for()
    walk.check("the draft compared", results=True)
    # the workbench: a derived version's generated form, the register of proposals
    walk.open("/federal/versions/new?base=cci-2023", "a derived version's form")
    walk.open("/federal/proposals/", "proposals")


def _regional_admin(walk: Walk, world: World) -> None:
    page = walk.page
    walk.open("/", "landing")
    walk.walk_menu()
    walk.open(f"/r/{REGION}/review", "review queue")
    row = page.locator(f"#review-{world.flagged[0 if walk.viewport == 'desktop' else 1]}")
    row.locator("summary").click()
    assert "Я считаю свое обращение в ЦЗН полезным" in row.inner_text()
    reason = "Ответ дан сотрудником за посетителя"
    row.locator("input[name=reason]").fill(reason)
    row.get_by_role("button", name="Оставить исключённым").click()
    page.get_by_text("Сохранено").wait_for()
    walk.check("review decision")
    walk.open(f"/r/{REGION}/admin/audit", "audit log")
    assert page.get_by_text(reason).count() >= 1


def _auditor(walk: Walk, world: World) -> None:
    page = walk.page
    walk.open("/", "landing")
    walk.walk_menu()
    walk.open(f"/r/{REGION}/checklists/", "checklists")
    cells = page.locator("a.cl-cell")
    (cells.first if walk.viewport == "desktop" else cells.last).click()
    page.wait_for_url(re.compile(r"/checklists/.+"))
    checklist = page.url
    walk.check("a checklist")
    for fieldset in page.locator("fieldset.cl-param").all():
        number = fieldset.locator("input[inputmode=decimal]")
        if number.count():
            number.fill("1")
        else:
            fieldset.locator("input[type=radio]").first.check()
    photo = page.locator("fieldset.cl-param input[type=file]").first
    photo.set_input_files(files=[{"name": "вход.png", "mimeType": "image/png",
                                  "buffer": _png()}])
    page.get_by_role("button", name="Сохранить чек-лист").click()
    page.wait_for_url(re.compile(r"/checklists/(\?.*)?$"))
    assert page.locator(".flash--success").count() == 1, page.locator("main").inner_text()
    walk.check("checklists after saving")
    page.goto(checklist)
    thumbnail = page.locator(".cl-photos img").first
    thumbnail.wait_for()
    # loading="lazy": below a phone's first screen the picture loads once scrolled to
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=thumbnail.element_handle(), timeout=15_000)
    walk.check("the checklist with its photo")


def _operator(walk: Walk, world: World) -> None:
    page = walk.page
    walk.open("/", "landing")
    walk.walk_menu()
    walk.open(f"/r/{REGION}/contact/", "contact centre")
    page.get_by_role("button", name="Начать").click()
    page.wait_for_url(re.compile(r"/contact/calls/\d+"))
    walk.check("a call")
    page.locator("input[name=respondent_type][value=job_seeker]").check()
    page.locator("#item-usefulness").wait_for()
    walk.check("the call's survey")
    page.locator("#item-usefulness input[value='9']").check()
    page.locator("select[name=topic]").select_option(index=1)
    for name in ("resolved_first_contact", "escalated"):
        page.locator(f"input[name={name}]").first.check()
    page.get_by_role("button", name="Сохранить звонок").click()
    page.wait_for_url(re.compile(r"/contact/$"))
    assert page.locator(".flash--success").count() == 1, page.locator("main").inner_text()
    walk.check("the call recorded")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


MAIN_PATHS = {"admin": _admin, "federal_analyst": _federal_analyst,
              "methodology_owner": _methodology_owner, "regional_admin": _regional_admin,
              "auditor": _auditor, "operator": _operator}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("role", ROLES)
def test_a_role_walks_its_main_path(walk, world, role, viewport):
    MAIN_PATHS[role](walk, world)
    assert walk.seen
    if walk.problems:
        report = "\n".join(f"{where}:\n  " + "\n  ".join(found)
                           for where, found in walk.problems.items())
        (walk.shots / "problems.txt").write_text(report, encoding="utf-8")
        pytest.fail(f"{len(walk.problems)} of {len(walk.seen)} pages:\n{report}", pytrace=False)


def test_the_checks_see_what_they_look_for():
    """The page checks are not blind: each finds what it is for, and passes Russian text."""

    def seen(*texts: str, attributes: tuple[str, ...] = ()) -> dict:
        return {"title": "Журнал аудита · Индекс клиентоцентричности", "texts": list(texts),
                "attributes": list(attributes)}

    clean = seen("07.12.2026 11:08 МСК+1", "Индекс 71,6", "−0,3", "Часы работы 9:00–18:00",
                 "walk-admin@example.ru", "Фото: вход.png", "Раздел II", "срочная")
    assert page_problems(clean, results=True) == []
    found = page_problems(seen("Save", "Статус: None", "job_seeker", "checklist.create", "cci-2023",
                               '{"a": 1}', "Checklist", "07.12.2026 11:08", "71.6", "-0,3",
                               attributes=("Cancel",)), results=True)
    for expected in ("English word «Save»", "English word «None»", "English word «Cancel»",
                     "stored key «job_seeker»", "stored key «checklist.create»",
                     "stored key «cci-2023»",
                     "machine text «{»", "Latin word «Checklist»", "time without its zone",
                     "number with a dot «71.6»", "hyphen for a minus"):
        assert any(problem.startswith(expected) for problem in found), (expected, found)
