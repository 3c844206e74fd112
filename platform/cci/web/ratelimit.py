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
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask import current_app
from flask import g
from flask import has_app_context
from flask import request
from flask_limiter import Limiter

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

    @property
    def storage(self):
        backend = self._backend()
        return backend[0] if backend else super().storage

    @property
    def limiter(self):
        backend = self._backend()
        return backend[1] if backend else super().limiter


KEY_PREFIX = "cci-rl"

limiter = _PerAppLimiter(
    key_func=per_ip,
    key_prefix=KEY_PREFIX,
    strategy="moving-window",
    headers_enabled=True,
    swallow_errors=True,
)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", limits_storage_uri(redis_url(app)))
    # flask-limiter keeps "enabled" on the shared object: say it for every app explicitly.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    app.extensions["cci.limiter"] = limiter
