"""Rate limits of public and integration endpoints (flask-limiter), kept in the app's Redis.

:data:`limiter` is one object for the process; the app factory binds it to the app
(:func:`init_app`). Channel plugins decorate their public endpoints with it and choose
whose requests a limit counts with a key function from here::

    from cci.web.ratelimit import limiter, per_device, per_ip

    @bp.post("/answer")
    @limiter.limit("30/minute", key_func=per_ip)
    @limiter.limit("120/hour", key_func=per_device(lambda: g.get("device_id")))
    def answer(): ...

Limits use flask-limiter's notation ("30/minute", "5 per second"); a callable returning one
reads it at request time (:func:`from_config`). Several decorators on one view all apply. A
request over a limit gets 429: JSON ``rate_limited`` under ``/api/``, the Russian error page
elsewhere, with ``Retry-After``. If Redis is unreachable the limits are skipped (and logged)
rather than refusing answers.

A hot path that needs only the verdict (a kiosk delivering its queue) calls :func:`hit`
from its view instead of decorating it (:func:`counted_in_view`): one round trip to Redis,
no ``X-RateLimit`` headers (whose figures cost a second one), and the view words its own 429.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from flask import Flask
from flask import current_app
from flask import g
from flask import has_app_context
from flask import request
from flask_limiter import Limiter
from limits import RateLimitItem
from limits import parse_many

from cci.foundation.redis_conn import limits_storage_uri
from cci.foundation.redis_conn import redis_url


def per_ip() -> str:
    """Key: the client's address (behind a proxy, as ProxyFix sets it: CCI_BEHIND_PROXY)."""
    return f"ip:{request.remote_addr or '-'}"


def per_token() -> str:
    """Key: the API token of the request (falls back to the address before authentication)."""
    token = g.get("api_token")
    return f"token:{token.id}" if token is not None else per_ip()


def per_device(device_id: Callable[[], object]) -> Callable[[], str]:
    """Key function counting per device: ``device_id()`` returns the device's identity for
    this request (e.g. a kiosk's id from its signed token); without one, per address."""

    def key() -> str:
        value = device_id()
        return f"device:{value}" if value not in (None, "") else per_ip()

    return key


def from_config(name: str) -> Callable[[], str]:
    """A limit read from the app's configuration at request time (tests and operators can
    change it without redecorating)."""
    return lambda: current_app.config[name]


class _PerAppLimiter(Limiter):
    """flask-limiter keeps one storage per Limiter; the factory may build several apps in a
    process (tools, tests), each with its own Redis, so each app keeps its own here."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.extensions["cci.limiter_backend"] = (self._storage, self._limiter)

    def _backend(self):
        if has_app_context():
            return current_app.extensions.get("cci.limiter_backend")
        return None

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        # a view that counts its own limits (the kiosk's deliveries, hundreds a second in a
        # burst) is left out of flask-limiter's checks outright (its before-request pass
        # included), where a request filter would still resolve the meta limits and
        # exemptions of every request. A method of flask-limiter's own, tested in test_kiosk
        if current_app.view_functions.get(request.endpoint) in _counted_in_view:
            return
        super()._check_request_limit(callable_name, in_middleware)

    @property
    def storage(self):
        backend = self._backend()
        return backend[0] if backend else super().storage

    @property
    def limiter(self):
        backend = self._backend()
        return backend[1] if backend else super().limiter


KEY_PREFIX = "cci-rl"
_log = logging.getLogger(__name__)

limiter = _PerAppLimiter(
    key_func=per_ip,
    key_prefix=KEY_PREFIX,
    strategy="moving-window",
    headers_enabled=True,
    swallow_errors=True,
)


#: views that count their own limits with :func:`hit` (see :func:`counted_in_view`)
_counted_in_view: set[Callable] = set()


def counted_in_view(view: Callable) -> Callable:
    """Decorator of a view that counts its limits itself with :func:`hit`: exempt from the
    decorators' limits, and skipped by flask-limiter's before-request pass altogether (which
    would otherwise resolve, on every request, the limits of a view it then finds exempt)."""
    view = limiter.exempt(view)
    _counted_in_view.add(view)
    return view


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", limits_storage_uri(redis_url(app)))
    # flask-limiter keeps "enabled" on the shared object: say it for every app explicitly.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    app.extensions["cci.limiter"] = limiter


@functools.lru_cache(maxsize=64)
def _items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


def hit(limit: str, key: str, scope: str) -> int | None:
    """Count this request against ``limit`` (flask-limiter notation; "a;b" for several) for
    ``key`` in ``scope`` (usually the endpoint), with the app's storage and strategy. Returns
    None when allowed, else the seconds until the client may try again (for ``Retry-After``).
    Unlike the decorator it writes no headers. If Redis is unreachable the limit is skipped
    (and logged), as for the decorators."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    strategy = limiter.limiter
    for item in _items(limit):
        try:
            if strategy.hit(item, KEY_PREFIX, key, scope):
                continue
            reset = strategy.get_window_stats(item, KEY_PREFIX, key, scope).reset_time
        except Exception:  # noqa: BLE001 - any storage failure: answers are not refused for it
            _log.exception("rate limit storage failed; %s skipped", limit)
            return None
        return max(1, int(reset - time.time()) + 1)
    return None
