"""Short work done after the response, in a thread of this process.

For work whose duration must not show in the response: a password-reset request is answered at
once, the same way for every address, and looking the address up and sending the e-mail (or
nothing) happen here. Not a job queue: the work is short, needs neither Redis nor a worker
(logging in works without them, so must getting back in), and is lost if the process stops
before it ran (the person asks again). Anything long, or that must survive a restart, is a job
(cci.foundation.jobs).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import current_app

log = logging.getLogger("cci.background")

THREADS = 2
_lock = threading.Lock()


def _executor(app: Flask) -> concurrent.futures.ThreadPoolExecutor:
    # made on first use, in the process that serves (never before gunicorn forks)
    with _lock:
        executor = app.extensions.get("cci.background")
        if executor is None:
            executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=THREADS, thread_name_prefix="cci-background")
            app.extensions["cci.background"] = executor
            app.extensions["cci.background.pending"] = set()
        return executor


def _run(app: Flask, work: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    with app.app_context():
        try:
            work(*args, **kwargs)
        except Exception:
            log.exception("background work %s failed", getattr(work, "__name__", work))


def submit(work: Callable[..., Any], *args: Any, **kwargs: Any) -> concurrent.futures.Future:
    """Run ``work(*args, **kwargs)`` soon in this app's context, in another thread; its
    failure is logged. ``work`` takes plain values (ids, strings), never ORM objects of the
    caller's session, and sets its own tenant scope."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    executor = _executor(app)
    pending: set[concurrent.futures.Future] = app.extensions["cci.background.pending"]
    future = executor.submit(_run, app, work, args, kwargs)
    with _lock:
        pending.add(future)
    future.add_done_callback(lambda done: _forget(pending, done))
    return future


def _forget(pending: set, future: concurrent.futures.Future) -> None:
    with _lock:
        pending.discard(future)


def wait(app: Flask, timeout: float = 30) -> bool:
    """Wait until the work submitted so far has run (tests, shutdown); False on timeout."""
    with _lock:
        futures = list(app.extensions.get("cci.background.pending", ()))
    _done, not_done = concurrent.futures.wait(futures, timeout=timeout)
    return not not_done
