"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)

#: How long /readyz waits for each dependency: a database or Redis that hangs (a frozen
#: server, a dropped network) makes the probe say so at once, rather than hold the request.
PROBE_SECONDS = 2.0


@bp.route("/healthz")
def healthz():
    """The process is alive and serving; says nothing about its dependencies."""
    return jsonify(status="ok")


class _Probe:
    """One dependency's check, run in a thread of its own with a deadline. A check still hung
    from an earlier request is not started again (hung threads would pile up): it answers
    "timeout" until that one returns."""

    def __init__(self, check: Callable[[], object]):
        self.check = check
        self.lock = threading.Lock()
        self.running: threading.Thread | None = None

    def start(self) -> Callable[[float], str]:
        """Start the check; returns ``wait(seconds)``, which gives its outcome by then."""
        outcome: list[str] = []

        def run() -> None:
            try:
                self.check()
                outcome.append("ok")
            # Any failure means not ready. Only the error's type is said: its message names
            # the server's address, which a public probe must not show.
            except Exception as exc:  # noqa: BLE001
                outcome.append(f"unavailable: {type(exc).__name__}")

        with self.lock:
            if self.running is not None and self.running.is_alive():
                return lambda _seconds: "unavailable: timeout"
            thread = self.running = threading.Thread(target=run, daemon=True,
                                                     name="readyz-probe")
            thread.start()

        def wait(seconds: float) -> str:
            thread.join(max(seconds, 0))
            return outcome[0] if outcome else "unavailable: timeout"

        return wait


def _ping_database(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _probes(app: Flask) -> dict[str, _Probe]:
    engine, redis = app.extensions["cci.engine"], app.extensions["cci.redis"]
    return {"database": _Probe(lambda: _ping_database(engine)), "redis": _Probe(redis.ping)}


@bp.route("/readyz")
def readyz():
    """Ready when the database and Redis both answer within :data:`PROBE_SECONDS`; 503 naming
    the dependency that did not (and how: an error's type, or a timeout) otherwise."""
    probes = current_app.extensions["cci.readiness"]
    timeout = current_app.config.get("READY_PROBE_SECONDS", PROBE_SECONDS)
    waits = {name: probe.start() for name, probe in probes.items()}  # side by side
    deadline = time.monotonic() + timeout
    checks = {name: wait(deadline - time.monotonic()) for name, wait in waits.items()}
    ready = all(value == "ok" for value in checks.values())
    return (jsonify(status="ready" if ready else "unavailable", checks=checks),
            200 if ready else 503)


def init_app(app: Flask) -> None:
    app.extensions["cci.readiness"] = _probes(app)
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)
