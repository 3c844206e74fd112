"""Shared fixtures: a migrated database (PostgreSQL when DATABASE_URL is set, else SQLite),
a real Redis (REDIS_URL, else the embedded one), the app, clients and users.

Set-up happens before the app is imported anywhere, so no test depends on import order.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ("engine_helpers", "conftest_plugins")  # campaigns, answers, runs; plugins

_tmp = Path(tempfile.mkdtemp(prefix="cci-tests-"))
os.environ.setdefault("CCI_INSTANCE_DIR", str(_tmp / "instance"))
os.environ.setdefault("SECRET_KEY", "test-secret-key")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp / 'test.sqlite3'}"
if not os.environ.get("REDIS_URL"):
    from cci.foundation.redis_conn import embedded_redis_url

    os.environ["REDIS_URL"] = embedded_redis_url(str(_tmp))

from argon2 import profiles  # noqa: E402
from sqlalchemy import Table  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy import text  # noqa: E402

from cci import create_app  # noqa: E402
from cci.foundation import tenancy  # noqa: E402
from cci.foundation.db import Base  # noqa: E402
from cci.foundation.db import db  # noqa: E402
from cci.foundation.passwords import use_parameters  # noqa: E402

# Argon2's production cost (~0.7 s a hash here) would dominate the suite; the algorithm and
# the code path stay the same, only the cost parameters drop.
use_parameters(profiles.CHEAPEST)

DATABASE_URL = os.environ["DATABASE_URL"]
IS_POSTGRES = DATABASE_URL.startswith("postgresql")
PASSWORD = "correct-horse-battery"

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,  # CSRF has its own test with protection on
    "JOB_RETRY_INTERVALS": [0, 0, 0],
}


def pytest_report_header(config):
    return [f"database: {DATABASE_URL.split('@')[-1]}", f"redis: {os.environ['REDIS_URL']}"]


def _reset_schema(app) -> None:
    """Drop everything and migrate from scratch, so tests run on the migrated schema."""
    from alembic import command

    from cci.cli import alembic_config

    engine = app.extensions["cci.engine"]
    with engine.begin() as connection:
        if IS_POSTGRES:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    with app.app_context():
        command.upgrade(alembic_config(app), "heads")


@pytest.fixture(scope="session")
def app():
    application = create_app(TEST_CONFIG)
    _reset_schema(application)
    yield application
    application.extensions["cci.engine"].dispose()


def _empty_tables(app) -> None:
    """Delete every row and restart the id sequences, as a fresh migrated database has them.

    DELETE rather than TRUNCATE: a test leaves a few rows in a few tables, and PostgreSQL's
    TRUNCATE replaces the files of every table it names (tens of milliseconds a test), where
    deleting from an empty table costs next to nothing. One round trip on PostgreSQL.
    """
    engine = app.extensions["cci.engine"]
    deletes = [f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if IS_POSTGRES:
            restart = ("SELECT setval(c.oid, 1, false) FROM pg_class c "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind = 'S' AND n.nspname = current_schema()")
            connection.exec_driver_sql("; ".join([*deletes, restart]))
        else:
            for statement in deletes:
                connection.exec_driver_sql(statement)


def _restore_rows(app, snapshot: list[tuple[Table, list[dict]]]) -> None:
    """Insert rows saved by _snapshot_rows, ids included, and move the sequences past them."""
    engine = app.extensions["cci.engine"]
    with engine.begin() as connection:
        for table, rows in snapshot:
            connection.execute(table.insert(), rows)
            column = table.autoincrement_column
            if IS_POSTGRES and column is not None:
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, :column), "
                         f"(SELECT max({column.name}) FROM {table.name}))"),
                    {"table": table.name, "column": column.name},
                )


def _snapshot_rows(app) -> list[tuple[Table, list[dict]]]:
    """Every row of every table that has any, parents first."""
    engine = app.extensions["cci.engine"]
    snapshot = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in connection.execute(table.select())]
            if rows:
                snapshot.append((table, rows))
    return snapshot


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Every test leaves empty tables and an empty Redis behind (the `tenants` fixture loads
    the 13 regions for the tests that need them)."""
    yield
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        _empty_tables(application)
        application.extensions["cci.redis"].flushdb()


# What `cci tenants sync` writes into an empty database (regions, offices, audit entries):
# synced once per run, then restored from these rows; syncing for every test took most of
# the time of many tests.
_synced_tenants: list[list[tuple[Table, list[dict]]]] = []


@pytest.fixture
def tenants(app):
    """The regions and offices of tenants/, as `cci tenants sync` leaves them."""
    from cci.foundation.tenants_sync import sync

    if _synced_tenants:
        _restore_rows(app, _synced_tenants[0])
        return app
    # Not a session fixture: modules override `app` with apps of narrower scope (same database).
    database_was_empty = not _snapshot_rows(app)
    with app.app_context():
        sync(ROOT / "tenants")
    if database_was_empty:
        _synced_tenants.append(_snapshot_rows(app))
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class CommandRunner(FlaskCliRunner):
    """Invokes the `cci` command (not the app's own `flask` group) against the test app."""

    def invoke(self, cli=None, args=None, **kwargs):
        from cci.cli import main

        return super().invoke(cli or main, args, **kwargs)


@pytest.fixture
def runner(app):
    return CommandRunner(app)


@pytest.fixture
def make_user(app, tenants):
    """make_user(role, region="RU-BRY" | None, email=None) -> the user's e-mail."""
    from cci.foundation.users import create_user

    counter = iter(range(1, 10_000))

    def factory(role: str, region: str | None = None, email: str | None = None,
                office_id: int | None = None) -> str:
        email = email or f"{role}{next(counter)}@example.ru"
        with app.app_context(), tenancy.federal_scope("test fixture"):
            create_user(email=email, role=role, password=PASSWORD, region_code=region,
                        office_id=office_id)
            db.commit()
        return email

    return factory


@pytest.fixture
def login(client):
    def do_login(email: str, password: str = PASSWORD):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do_login


@pytest.fixture
def in_scope(app):
    """Run a block in an app context and a tenant scope: ``with in_scope(region_id): ...``."""
    import contextlib

    @contextlib.contextmanager
    def enter(region_id: int | None, reason: str = "test"):
        with app.app_context(), tenancy.scoped(tenancy.Scope(region_id, reason)):
            yield db

    return enter


def region_id(app, code: str) -> int:
    from sqlalchemy import select

    from cci.foundation.models import Region

    with app.app_context():
        return db.scalar(select(Region.id).where(Region.code == code))


@pytest.fixture
def build():
    """``build(config=None, plugins=())``: an app of its own, its engine disposed after."""
    apps = []

    def do(config: dict | None = None, plugins: tuple = ()):
        application = create_app({**TEST_CONFIG, **(config or {})}, plugins=plugins)
        apps.append(application)
        return application

    yield do
    for application in apps:
        application.extensions["cci.engine"].dispose()


class Statements:
    """SQL statements and commits on the app's engine while in the block."""

    def __init__(self, app):
        self.engine = app.extensions["cci.engine"]
        self.sql: list[str] = []
        self.commits = 0

    def _statement(self, _conn, _cursor, statement, *_args) -> None:
        self.sql.append(statement.split("\n")[0][:120])

    def _commit(self, _conn) -> None:
        self.commits += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
