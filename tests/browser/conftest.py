"""Real-browser tests: the app on a real HTTP server, driven by Chromium through Playwright.

The browser is the distribution's Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``), not one
downloaded by Playwright. Without it every test here is skipped, with the reason shown.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "test-results"
BROWSER_PASSWORD = "browser-test-password"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """``$CHROMIUM`` when set, else the distribution's Chromium; None when neither exists."""
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return None if os.environ.get("CHROMIUM") else shutil.which("chromium")


def pytest_collection_modifyitems(config, items) -> None:
    if chromium_path() is not None:
        return
    skip = pytest.mark.skip(reason="chromium not installed: apt-get install chromium")
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(skip)


class InFlight:
    """A WSGI app wrapped to count the requests it is still handling. A page's last request
    (a kiosk's delivery in the background) may still be writing when its test ends: the
    tables are emptied only once the live server is idle, or a row written after the emptying
    began breaks it. A request counts until the app has returned its response (its writes are
    done then), not while the server sends it: the server drains what is left on the socket
    until the browser lets it go."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def wrap(self, app):
        def counted(environ, start_response):
            with self.changed:
                self.count += 1
            try:
                return app(environ, start_response)
            finally:
                with self.changed:
                    self.count -= 1
                    self.changed.notify_all()

        return counted

    def wait_idle(self, timeout: float = 15) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count == 0, timeout), (
                f"the live server still handles {self.count} request(s)")


IN_FLIGHT = InFlight()


@pytest.fixture
def in_flight() -> InFlight:
    """The counter a test's own server wraps its app with (see :class:`InFlight`)."""
    return IN_FLIGHT


@pytest.fixture(autouse=True)
def _servers_idle():
    """After a test (its browser context closed, its own server stopped), wait until every
    request its app took is handled, before the tables are emptied (at once when none is)."""
    yield
    IN_FLIGHT.wait_idle()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The session's app on a real threaded HTTP server at 127.0.0.1 and a free port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, IN_FLIGHT.wrap(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    assert executable is not None  # collection skipped the tests otherwise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test; relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server, locale="ru-RU")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def browser_user(app, tenants):
    """browser_user(role, region=None) -> (e-mail, password) of a new active user."""
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.users import create_user

    counter = iter(range(1, 10_000))

    def factory(role: str, region: str | None = None) -> tuple[str, str]:
        email = f"browser-{role}{next(counter)}@example.ru"
        with app.app_context(), tenancy.federal_scope("browser test fixture"):
            create_user(email=email, role=role, password=BROWSER_PASSWORD, region_code=region)
            db.commit()
        return email, BROWSER_PASSWORD

    return factory


@pytest.fixture
def screenshot(page, request):
    """screenshot(name) saves the page as test-results/<test>-<name>.png and returns the path."""

    def take(name: str) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
