"""The office kiosk in a real Chromium: pairing with a one-time code, the touch survey run in
the browser, THE OFFLINE PROOF (the connection goes away in the middle of a survey, three
surveys are completed offline, the connection returns and every answer arrives exactly once,
even when the whole queue is forcibly sent again), the inactivity reset with its countdown,
the revoked screen, and an axe-core check of the kiosk screens."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Office
from cci.foundation.models import Response

from cci_channel_kiosk import devices
from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection
from tests.browser.test_web_survey_browser import assert_accessible

pytestmark = pytest.mark.browser

TABLET = {"width": 1280, "height": 800}


@pytest.fixture
def pairing_code(app, live_campaign) -> str:
    """A kiosk registered for BRY-01 (as the staff page does) and its one-time code."""
    with app.app_context(), tenancy.federal_scope("browser test"):
        office = db.scalar(select(Office).where(Office.code == "BRY-01"))
        with tenancy.region_scope(office.region_id, "browser test"):
            _kiosk, code = devices.register(office, "Холл", None)
    return devices.format_code(code)


@pytest.fixture
def kiosk(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="ru-RU", viewport=TABLET,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    try:
        yield context, context.new_page()
    finally:
        context.close()


class StoppableServer:
    """The app on its own port, stopped and started again on the same port (the same origin,
    so the kiosk keeps its localStorage and service worker), to take the server away."""

    def __init__(self, app, in_flight):
        self.app = in_flight.wrap(app)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.thread = None

    def start(self) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="kiosk-test-server")
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        self.server = None


@pytest.fixture
def own_server(app, in_flight):
    server = StoppableServer(app, in_flight)
    server.start()
    try:
        yield server
    finally:
        if server.server is not None:
            server.stop()


def pair(page, code: str, url: str = "/k/") -> None:
    page.goto("/k/pair")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/k/")
    if url != "/k/":
        page.goto(url)
    page.wait_for_selector("body[data-screen=attract]")
    assert page.locator("#kiosk-start").inner_text() == "Нажмите, чтобы начать"


def wait_until(page, expression: str, timeout: float = 15_000) -> None:
    """Poll `expression` in the page until it is true. Not wait_for_function: Playwright
    evaluates its string again while polling, and the page's CSP (no 'unsafe-eval') refuses
    that whenever the condition is not already true at the first look."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(100)


def screen(page) -> str:
    return page.get_attribute("body", "data-screen")


def answer_current_step(page) -> None:
    """Touch an answer on the step shown: the type, 8 on a scale, the first option, Next."""
    if page.locator("#kiosk-next").count():
        page.click("#kiosk-next")
    elif page.locator("[data-value=job_seeker]").count():
        page.click("[data-value=job_seeker]")
    elif page.locator(".scale__btn[data-value='8']").count():
        page.click(".scale__btn[data-value='8']")
    else:
        page.locator(".choice:not(.choice--na)").first.click()


def complete_survey(page, started: bool = False) -> None:
    if not started:
        page.click("#kiosk-start")
    for _ in range(60):
        if screen(page) == "thanks":
            return
        step = page.get_attribute("body", "data-step")
        answer_current_step(page)
        # a selector, not wait_for_function (see wait_until)
        page.wait_for_selector(f"body[data-screen=thanks], body:not([data-step='{step}'])",
                               state="attached")
    raise AssertionError("the survey did not end")


def stored(app) -> list[Response]:
    """The responses stored (a kiosk answer is stored before it is acknowledged)."""
    with app.app_context(), tenancy.federal_scope("browser test"):
        return list(db.scalars(select(Response).order_by(Response.id)))


def refused(app) -> list[KioskRejection]:
    with app.app_context(), tenancy.federal_scope("browser test"):
        return list(db.scalars(select(KioskRejection).order_by(KioskRejection.id)))


def queue(page) -> list[dict]:
    return page.evaluate("window.cciKiosk.queue()")


def test_answers_taken_offline_arrive_exactly_once(kiosk, app, pairing_code):
    context, page = kiosk
    pair(page, pairing_code)

    # a respondent starts while the connection is there...
    page.click("#kiosk-start")
    answer_current_step(page)  # the respondent type
    # ...and the connection goes away in the middle of the survey
    context.set_offline(True)
    complete_survey(page, started=True)
    page.wait_for_selector("body[data-screen=attract]", timeout=20_000)  # after the thanks
    for _ in range(2):
        complete_survey(page)
        page.wait_for_selector("body[data-screen=attract]", timeout=20_000)
    pending = queue(page)
    assert len(pending) == 3
    keys = {item["key"] for item in pending}
    assert len(keys) == 3
    assert "Ожидают отправки: 3" in page.inner_text("#kiosk-net")
    assert stored(app) == []  # nothing reached the server
    # an item the server will refuse, first in the queue: it must not block the others
    page.evaluate("""() => {
        const queue = window.cciKiosk.queue();
        queue.unshift({key: crypto.randomUUID(), respondent_type: "martian", answers: {}});
        localStorage.setItem('cci_kiosk_queue', JSON.stringify(queue));
    }""")

    # the connection returns: the queue is delivered by itself
    context.set_offline(False)
    wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
    rejected = page.evaluate("window.cciKiosk.rejected()")
    assert [r["status"] for r in rejected] == [400]
    assert rejected[0]["item"]["respondent_type"] == "martian" and rejected[0]["error"]
    # the server kept the refused survey too, and the heartbeat reports the device's log
    [kept] = refused(app)
    assert kept.client_key == rejected[0]["item"]["key"] and kept.field == "respondent_type"
    assert kept.payload == rejected[0]["item"]
    page.evaluate("window.cciKiosk.heartbeat()")
    with app.app_context(), tenancy.federal_scope("browser test"):
        assert db.scalar(select(Kiosk.rejected_log_length)) == 1
    responses = stored(app)
    assert len(responses) == 3
    assert {r.client_key for r in responses} == {f"kiosk:{k}" for k in keys}
    assert all(r.channel == "kiosk" and r.meta["device_id"] for r in responses)
    assert all(r.meta["timings"] for r in responses)

    # a forced re-send of the whole queue stores nothing twice
    page.evaluate("items => localStorage.setItem('cci_kiosk_queue', JSON.stringify(items))",
                  pending)
    page.evaluate("window.cciKiosk.flush()")
    wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
    assert len(stored(app)) == 3
    statuses = [entry["status"] for entry in page.evaluate("window.cciKiosk.sent()")]
    assert statuses == [201, 201, 201, 200, 200, 200]
    assert len(page.evaluate("window.cciKiosk.rejected()")) == 1


@pytest.mark.parametrize("status", [409, 422, 500])
def test_an_answer_the_server_cannot_take_does_not_hold_the_queue(kiosk, app, pairing_code,
                                                                  status):
    """Before: only a 400 (and 403, 413, 422) let the queue move past its first answer; any
    other refusal (or a 500 on one answer) was retried at the head of the queue for ever, and
    the answers behind it never left the device. Now a 4xx but 401, 408 and 429 is refused for
    good (kept in the device's rejected log), and after a 5xx but 503 the answer waits at the
    end of the queue."""
    from test_kiosk import payload

    context, page = kiosk
    pair(page, pairing_code)
    context.set_offline(True)
    poison, good = payload(app), payload(app)
    page.evaluate("items => localStorage.setItem('cci_kiosk_queue', JSON.stringify(items))",
                  [poison, good])

    def refuse_the_poison(route, request):
        if poison["key"] in (request.post_data or ""):
            route.fulfill(status=status, content_type="application/json",
                          body='{"error": "refused", "status": "invalid"}')
        else:
            route.continue_()

    page.route("**/k/api/responses", refuse_the_poison)
    context.set_offline(False)
    page.evaluate("window.cciKiosk.flush()")
    wait_until(page, f"!window.cciKiosk.queue().some(i => i.key === '{good['key']}')",
               timeout=20_000)
    assert [r.client_key for r in stored(app)] == [f"kiosk:{good['key']}"]
    left = [item["key"] for item in queue(page)]
    rejected = page.evaluate("window.cciKiosk.rejected()")
    if status == 500:
        assert left == [poison["key"]] and rejected == []  # tried again later, not lost
    else:
        assert left == [] and [(r["item"]["key"], r["status"]) for r in rejected] == [
            (poison["key"], status)]


def test_the_server_goes_away_and_comes_back(browser, own_server, app, pairing_code):
    """The issue's proof: the server stops in the middle of a session, surveys are completed
    (and the kiosk page is even reloaded, from the device's cache), the server starts again,
    and every answer arrives once."""
    context = browser.new_context(base_url=own_server.url, locale="ru-RU", viewport=TABLET,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        pair(page, pairing_code)
        page.wait_for_selector("body[data-offline-ready=true]")
        page.click("#kiosk-start")
        answer_current_step(page)

        own_server.stop()
        complete_survey(page, started=True)
        page.wait_for_selector("body[data-screen=attract]", timeout=20_000)
        page.reload()  # the server is gone: the service worker serves the kiosk from the cache
        page.wait_for_selector("body[data-screen=attract]")
        for _ in range(2):
            complete_survey(page)
            page.wait_for_selector("body[data-screen=attract]", timeout=20_000)
        pending = queue(page)
        assert len({item["key"] for item in pending}) == len(pending) == 3
        assert stored(app) == []

        own_server.start()
        page.evaluate("window.cciKiosk.flush()")  # or wait for the next retry (≤ 60 s)
        wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=30_000)
        responses = stored(app)
        assert sorted(r.client_key for r in responses) == sorted(
            f"kiosk:{item['key']}" for item in pending)

        page.evaluate("items => localStorage.setItem('cci_kiosk_queue', JSON.stringify(items))",
                      pending)
        page.evaluate("window.cciKiosk.flush()")
        wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
        assert len(stored(app)) == 3
    finally:
        context.close()


def test_inactivity_resets_with_a_countdown(kiosk, app, pairing_code):
    _context, page = kiosk
    pair(page, pairing_code, url="/k/?idle=3")
    page.click("#kiosk-start")
    answer_current_step(page)
    assert screen(page) == "survey"
    page.wait_for_selector("#kiosk-countdown:not([hidden])", timeout=5_000)
    assert "начнётся заново" in page.inner_text("#kiosk-countdown")
    page.wait_for_selector("body[data-screen=attract]", timeout=6_000)
    assert page.locator("#kiosk-countdown").is_hidden()

    # and after the thank-you screen
    complete_survey(page)
    assert screen(page) == "thanks"
    page.wait_for_selector("body[data-screen=attract]", timeout=6_000)
    wait_until(page, "() => window.cciKiosk.queue().length === 0")
    assert len(stored(app)) == 1


def test_a_revoked_kiosk_shows_a_clear_screen(kiosk, app, pairing_code):
    _context, page = kiosk
    pair(page, pairing_code)
    with app.app_context(), tenancy.federal_scope("browser test"):
        found = db.scalar(select(Kiosk))
        with tenancy.region_scope(found.region_id, "browser test"):
            devices.revoke(db.get(Kiosk, found.id))
    page.reload()
    assert page.get_attribute("body", "data-state") == "revoked"
    assert "Киоск отключён" in page.inner_text("h1")
    assert page.locator("a").count() == 0  # nothing leads anywhere


def test_a_device_that_lost_its_cookie_gets_it_back(kiosk, app, pairing_code, csrf_on):
    context, page = kiosk
    pair(page, pairing_code)
    context.clear_cookies()
    page.goto("/k/")  # the unknown-device screen finds the token in localStorage
    page.wait_for_selector("body[data-screen=attract]")
    assert page.url.endswith("/k/")


def test_kiosk_screens_pass_axe(kiosk, app, pairing_code, csrf_on):
    _context, page = kiosk
    page.goto("/k/pair")
    assert_accessible(page, "pairing")
    pair(page, pairing_code)
    assert_accessible(page, "attract")
    page.click("#kiosk-start")
    assert_accessible(page, "respondent type")
    answer_current_step(page)
    assert_accessible(page, "scale question")


# --- the exit poll ----------------------------------------------------------------------------


def touchpoint_answers(app) -> list:
    from cci.foundation.models import TouchpointAnswer

    with app.app_context(), tenancy.federal_scope("browser test"):
        return list(db.scalars(select(TouchpointAnswer).order_by(TouchpointAnswer.id)))


def test_an_exit_poll_tap_taken_offline_is_stored_once(kiosk, app, pairing_code):
    context, page = kiosk
    pair(page, pairing_code)
    # a campaign runs: the survey's button, and beside it the quick rating of the visit
    assert page.locator("#kiosk-poll-start").inner_text() == "Только оценить визит"

    context.set_offline(True)
    page.click("#kiosk-poll-start")
    assert screen(page) == "poll"
    assert page.inner_text("h1") == "Насколько вы удовлетворены обслуживанием?"
    page.click("[data-value='5']")  # «Отлично»
    page.wait_for_selector("body[data-step=nps]")
    page.click("#kiosk-poll-skip")
    page.wait_for_selector("body[data-step=ces]")
    page.locator(".kiosk-poll-done").click()
    assert screen(page) == "thanks" and "Ваша оценка сохранена" in page.inner_text("main")
    [item] = queue(page)
    assert (item["kind"], item["question"], item["value"]) == ("exit_poll", "csat", 5)
    assert "Ожидают отправки: 1" in page.inner_text("#kiosk-net")
    page.wait_for_selector("body[data-screen=attract]", timeout=20_000)

    # the answer survives a reload while the server cannot be reached
    page.route("**/k/api/exit-poll", lambda route: route.abort()
               if route.request.method == "POST" else route.continue_())
    context.set_offline(False)
    page.reload()
    page.wait_for_selector("body[data-screen=attract]")
    assert [entry["key"] for entry in queue(page)] == [item["key"]]
    assert touchpoint_answers(app) == []

    # the connection really returns: delivered once, then a forced repeat stores nothing
    page.unroute("**/k/api/exit-poll")
    page.evaluate("window.cciKiosk.flush()")
    wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
    page.evaluate("items => localStorage.setItem('cci_kiosk_queue', JSON.stringify(items))",
                  [item])
    page.evaluate("window.cciKiosk.flush()")
    wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
    assert [entry["status"] for entry in page.evaluate("window.cciKiosk.sent()")] == [201, 200]
    [answer] = touchpoint_answers(app)
    assert (answer.touchpoint, answer.question, answer.value, answer.channel) == (
        "kiosk", "csat", 5, "kiosk")
    assert answer.client_key == f"kiosk-exit:{item['key']}"


def test_an_exit_poll_answer_refused_for_good_goes_to_the_rejected_log(kiosk, app,
                                                                      pairing_code):
    context, page = kiosk
    pair(page, pairing_code)
    context.set_offline(True)
    page.click("#kiosk-poll-start")
    page.click("[data-value='4']")
    # an answer the server cannot take (a question not asked at the kiosk), first in the queue
    page.evaluate("""() => {
        const queue = window.cciKiosk.queue();
        queue.unshift({kind: "exit_poll", key: crypto.randomUUID(), question: "window_rating",
                       value: 5, finished_at: new Date().toISOString()});
        localStorage.setItem('cci_kiosk_queue', JSON.stringify(queue));
    }""")
    context.set_offline(False)
    wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
    [rejected] = page.evaluate("window.cciKiosk.rejected()")
    assert rejected["status"] == 400 and rejected["item"]["question"] == "window_rating"
    assert rejected["error"]
    assert [(a.question, a.value) for a in touchpoint_answers(app)] == [("csat", 4)]


def test_without_a_campaign_the_exit_poll_is_the_home_screen(kiosk, app, tenants):
    with app.app_context(), tenancy.federal_scope("browser test"):
        office = db.scalar(select(Office).where(Office.code == "BRY-01"))
        with tenancy.region_scope(office.region_id, "browser test"):
            _kiosk, code = devices.register(office, "Выход", None)
    _context, page = kiosk
    page.goto("/k/pair")
    page.fill("#code", devices.format_code(code))
    page.click("button[type=submit]")
    page.wait_for_url("**/k/")
    page.wait_for_selector("body[data-screen=poll][data-step=csat]")
    assert page.locator("#kiosk-start").count() == 0
    page.click("[data-value='3']")
    page.wait_for_selector("body[data-step=nps]")
    assert "10 — точно да" in page.inner_text("main")
    page.click(".scale__btn[data-value='9']")
    page.wait_for_selector("body[data-step=ces]")
    page.click("[data-value='5']")  # «Легко»
    assert screen(page) == "thanks"
    wait_until(page, "() => window.cciKiosk.queue().length === 0", timeout=20_000)
    assert sorted((a.question, a.value) for a in touchpoint_answers(app)) == [
        ("ces", 5), ("csat", 3), ("nps", 9)]
    # back home after the thanks, ready for the next visitor
    page.wait_for_selector("body[data-screen=poll][data-step=csat]", timeout=20_000)
