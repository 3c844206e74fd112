"""Per request: its id, one log line, and the request metrics.

The id comes from the ``X-Request-ID`` header when it is a sensible token (a proxy or a client
that made one), else it is generated; it is echoed in the response's ``X-Request-ID`` and is in
every log record of the request (:mod:`cci.foundation.logs`). Counts and durations by endpoint
and status are kept with prometheus_client and served by :mod:`cci.web.metrics`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask
from flask import g
from flask import request
from prometheus_client import Counter
from prometheus_client import Histogram

from cci.foundation import logs

log = logging.getLogger("cci.request")

HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# registry=None: a scrape builds its own registry (cci.web.metrics), the same way with
# gunicorn's many processes (multiprocess mode) as with one.
REQUESTS = Counter("cci_http_requests", "HTTP requests answered, by endpoint and status",
                   ["endpoint", "status"], registry=None)
REQUEST_SECONDS = Histogram(
    "cci_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint",
    ["endpoint"], registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


def _start() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _ACCEPTED.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    logs.set_request_id(g.request_id)


def _finish(response):
    request_id = g.get("request_id")
    if request_id is None:  # a response made before the request started (e.g. a routing error)
        return response
    response.headers[HEADER] = request_id
    seconds = time.perf_counter() - g.request_started
    endpoint = request.endpoint or "unmatched"  # 404s must not create a series per URL
    REQUESTS.labels(endpoint, str(response.status_code)).inc()
    REQUEST_SECONDS.labels(endpoint).observe(seconds)
    # a view whose path holds a secret (a password-reset link) logs a path without it
    log.info("%s %s %s %.1f ms", request.method, g.get("log_path") or request.path,
             response.status_code, seconds * 1000)
    return response


def _clear(_exc) -> None:
    logs.set_request_id(None)


def init_app(app: Flask) -> None:
    # First of the before-request functions: every record of the request has its id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_clear)
