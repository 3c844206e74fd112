"""Security headers on every response: a Content-Security-Policy that allows scripts from the
site's own files only, no sniffing, no referrer outside the site, no framing, and HSTS over
HTTPS.

Scripts are files (no inline script, no inline handler, no eval: htmx is configured for it in
the templates' ``htmx-config`` meta tag). Style attributes stay allowed (``style-src-attr``:
a bar's width in the results), ``<style>`` elements do not. Whether a request is HTTPS is
``request.is_secure``: behind a proxy, ``X-Forwarded-Proto`` counts only when the proxy is
trusted (``CCI_BEHIND_PROXY``, cci.web.app's ProxyFix).
"""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

#: A year: what browsers' preload lists ask for; sent over HTTPS only.
HSTS = "max-age=31536000"


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # survey and kiosk links carry codes in their paths: never tell another site
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
