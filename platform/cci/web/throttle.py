"""Login throttling: failed attempts per account and per address in a moving window."""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cci.foundation.redis_conn import limits_storage_uri
from cci.foundation.redis_conn import redis_url

# One office often shares one address, so the per-address bound is ten accounts' worth.
ADDRESS_FACTOR = 10


def _limits() -> list[tuple[MovingWindowRateLimiter, RateLimitItemPerSecond, str]]:
    ext = current_app.extensions
    if "cci.login_limiter" not in ext:
        storage = storage_from_string(limits_storage_uri(redis_url(current_app)))
        ext["cci.login_limiter"] = MovingWindowRateLimiter(storage)
    limiter = ext["cci.login_limiter"]
    failures = current_app.config["LOGIN_MAX_FAILURES"]
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    return [
        (limiter, RateLimitItemPerSecond(failures, window), "login-account"),
        (limiter, RateLimitItemPerSecond(failures * ADDRESS_FACTOR, window), "login-address"),
    ]


def _identifiers(email: str, address: str | None) -> tuple[str, str]:
    return email.strip().lower(), address or "-"


def seconds_locked(email: str, address: str | None) -> int:
    """0 when a login may be tried; otherwise the seconds until the next try is allowed."""
    wait = 0.0
    checks = zip(_limits(), _identifiers(email, address), strict=True)
    for (limiter, item, namespace), ident in checks:
        if not limiter.test(item, namespace, ident):
            reset_at, _remaining = limiter.get_window_stats(item, namespace, ident)
            wait = max(wait, reset_at - time.time())
    return max(0, math.ceil(wait))


def record_failure(email: str, address: str | None) -> None:
    checks = zip(_limits(), _identifiers(email, address), strict=True)
    for (limiter, item, namespace), ident in checks:
        limiter.hit(item, namespace, ident)


def clear_account(email: str) -> None:
    limiter, item, namespace = _limits()[0]
    limiter.clear(item, namespace, _identifiers(email, None)[0])
