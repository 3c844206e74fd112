"""The main pages load in a real browser under the Content-Security-Policy with no violation:
every script is a file, htmx adds no style element and evaluates nothing."""

from __future__ import annotations

import pytest

from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser

# Recorded by the page itself: the CSP's own report of anything it refused.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile
                    + ":" + e.lineNumber);
});
"""

STAFF_PAGES = [
    "/federal/", "/federal/campaigns/", "/federal/jobs/", "/federal/admin/users",
    "/federal/admin/audit", "/methodologies/", "/account/password", "/account/tokens",
    "/r/RU-BRY/", "/r/RU-BRY/results", "/r/RU-BRY/federal", "/r/RU-BRY/review",
    "/r/RU-BRY/checklists/",
    "/r/RU-BRY/imports/", "/r/RU-BRY/kiosks/", "/r/RU-BRY/survey/",
    "/r/RU-BRY/survey/invitations/", "/r/RU-BRY/contact/",
]
PUBLIC_PAGES = ["/login", "/s/i", "/s/RU-BRY", "/k/", "/k/pair"]


def _watch(page) -> list[str]:
    """Console messages that report a refusal by the policy."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script(RECORD_VIOLATIONS)
    return messages


def _visit(page, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status < 500, path
    assert "content-security-policy" in response.headers  # Playwright lower-cases names
    page.wait_for_load_state("networkidle")
    return [f"{path}: {v}" for v in page.evaluate("window.__csp || []")]


def test_public_pages_load_without_a_policy_violation(page):
    console = _watch(page)
    violations = [v for path in PUBLIC_PAGES for v in _visit(page, path)]
    assert violations == [] and console == []


def test_staff_pages_load_without_a_policy_violation(page, browser_user):
    console = _watch(page)
    email, password = browser_user("admin")
    log_in(page, email, password)
    violations = [v for path in STAFF_PAGES for v in _visit(page, path)]
    # the printable poster: its styles and its print button's script are files too
    page.goto("/r/RU-BRY/survey/")
    poster = page.locator("a[href*='/survey/poster/']").first.get_attribute("href")
    assert poster
    violations += _visit(page, poster)
    page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    page.locator("button[data-print]").click()
    assert page.evaluate("() => window.__printed") is True
    assert violations == [] and console == []


def test_an_inline_script_would_be_reported(page):
    """The watch above sees a violation when there is one (the test is not blind)."""
    console = _watch(page)
    page.goto("/login")
    page.evaluate("""() => {
        const s = document.createElement("div");
        s.innerHTML = '<img src="x" onerror="window.__ran = true">';
        document.body.append(s);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === true") is False
    assert page.evaluate("window.__csp.length") >= 1
    assert any("script-src" in message for message in console)
