"""Security headers on pages, API answers, errors and files; HSTS only over HTTPS; no
template needs an inline script (the CSP would refuse it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cci.web.security_headers import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[1]


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def _assert_secure_headers(response) -> None:
    headers = response.headers
    policy = _directives(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert "'unsafe-inline'" not in policy["default-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", [
    "/login", "/federal/", "/r/RU-BRY/", "/r/RU-BRY/results", "/account/password",
    "/federal/admin/users", "/k/", "/k/pair", "/s/i", "/api/v1/openapi.json",
    "/no-such-page", "/static/css/app.css", "/healthz",
])
def test_every_kind_of_response_has_the_headers(client, make_user, login, path):
    login(make_user("admin"))
    response = client.get(path)
    assert response.status_code < 500
    _assert_secure_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_anonymous_pages_and_errors_have_the_headers(client, tenants):
    for path in ("/login", "/federal/", "/api/v1/me", "/r/RU-BRY/nothing"):
        _assert_secure_headers(client.get(path))


def test_hsts_over_https_only(client, tenants):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    # a forwarded scheme is not believed from a proxy that is not configured as trusted
    forged = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def test_hsts_behind_a_trusted_proxy(build, tenants):
    app = build({"CCI_BEHIND_PROXY": True})
    client = app.test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_the_policy_is_one_header_line():
    assert "\n" not in CONTENT_SECURITY_POLICY


def _templates() -> list[Path]:
    roots = [ROOT / "platform" / "cci" / "web" / "templates", ROOT / "plugins"]
    return [path for root in roots for path in root.rglob("*.html")]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
# what htmx would need eval for: hx-on, js: values, hx-vars, trigger filters ("change[…]")
HTMX_EVAL = re.compile(
    r"\bhx-on[:-]|\bhx-vals=['\"]\s*js:|\bhx-vars=|\bhx-trigger=\"[^\"]*\[", re.I)


def test_no_template_has_inline_scripts_styles_or_eval():
    templates = _templates()
    assert len(templates) > 40
    for path in templates:
        text = path.read_text()
        where = path.relative_to(ROOT)
        assert not INLINE_SCRIPT.search(text), where
        assert not INLINE_HANDLER.search(text), where
        assert "<style" not in text, where
        assert not HTMX_EVAL.search(text), where


def test_htmx_is_configured_for_the_policy(client, make_user, login):
    login(make_user("admin"))
    for path in ("/federal/", "/s/i"):
        page = client.get(path).get_data(as_text=True)
        match = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
        assert match, path
        assert '"includeIndicatorStyles": false' in match.group(1)
        assert '"allowEval": false' in match.group(1)
