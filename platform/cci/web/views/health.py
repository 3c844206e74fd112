"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """The process is alive and serving; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready when the database and Redis both answer; 503 with the reason otherwise."""
    checks: dict[str, str] = {}
    try:
        with current_app.extensions["cci.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    # Any failure of a probe means not ready; the reason is reported, not raised.
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    try:
        current_app.extensions["cci.redis"].ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001 -- as above
        checks["redis"] = f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    ready = all(value == "ok" for value in checks.values())
    return (jsonify(status="ready" if ready else "unavailable", checks=checks),
            200 if ready else 503)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)
