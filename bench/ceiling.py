"""The ceiling of the submission path for `make bench`: ``gunicorn bench.ceiling:app``.

A bare WSGI endpoint that takes the same JSON body a kiosk posts to ``/k/api/responses``, parses it
and stores it with one INSERT into a bench-only table (``bench_ceiling``, created by
:mod:`bench.submit`), through the same engine the platform builds
(:func:`cci.foundation.db.make_engine`: psycopg 3, a SQLAlchemy connection pool with pre-ping). No
authentication, rate limit, validation, quality rules or second commit: what no submission endpoint
can beat on the same gunicorn, PostgreSQL and machine. ``GET`` answers 200 (the readiness probe).

``bench.ceiling:flask_app`` is the Flask floor: the same INSERT in a view of a bare Flask app
(no extension, no hook). What the platform's framework costs before the platform does
anything: the bench reports the platform against both.
"""

from __future__ import annotations

import json
import os

from flask import Flask
from flask import request
from sqlalchemy import text

from cci.foundation.db import make_engine

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_ceiling (
    id bigserial PRIMARY KEY,
    client_key varchar(128) NOT NULL UNIQUE,
    respondent_type varchar(16) NOT NULL,
    submitted_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    answers jsonb NOT NULL,
    profile jsonb NOT NULL,
    meta jsonb NOT NULL
)"""

INSERT = text(
    "INSERT INTO bench_ceiling (client_key, respondent_type, submitted_at, answers, profile, meta) "
    "VALUES (:key, :rtype, CAST(:finished AS timestamptz), CAST(:answers AS jsonb), "
    "CAST(:profile AS jsonb), CAST(:meta AS jsonb)) "
    "ON CONFLICT (client_key) DO NOTHING")

engine = make_engine(os.environ["DATABASE_URL"])


def _reply(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def _params(payload, prefix: str) -> dict:
    return {
        "key": f"{prefix}:{payload['key']}",
        "rtype": str(payload["respondent_type"]),
        "finished": payload.get("finished_at"),
        "answers": json.dumps(payload.get("answers") or {}),
        "profile": json.dumps(payload.get("profile") or {}),
        "meta": json.dumps({"timings": payload.get("timings") or {},
                            "app_version": payload.get("app_version"),
                            "started_at": payload.get("started_at")}),
    }


def _store(params: dict) -> bool:
    with engine.begin() as connection:
        return bool(connection.execute(INSERT, params).rowcount)


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":
        return _reply(start_response, "200 OK", {"status": "ok"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length))
        key = str(payload["key"])
        params = _params(payload, "ceiling")
    except (ValueError, KeyError, TypeError):
        return _reply(start_response, "400 Bad Request", {"status": "invalid"})
    if not _store(params):
        return _reply(start_response, "200 OK", {"status": "already received", "key": key})
    return _reply(start_response, "201 Created", {"status": "stored", "key": key})


flask_app = Flask(__name__)


@flask_app.get("/")
def ready():
    return {"status": "ok"}


@flask_app.post("/k/api/responses")
def flask_responses():
    try:
        payload = request.get_json()
        key = str(payload["key"])
        params = _params(payload, "flask")
    except (ValueError, KeyError, TypeError):
        return {"status": "invalid"}, 400
    if not _store(params):
        return {"status": "already received", "key": key}, 200
    return {"status": "stored", "key": key}, 201
