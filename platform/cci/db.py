"""Engine, declarative base and the request/job-scoped session.

The session class is :class:`cci.tenancy.TenantSession`, so tenant isolation applies to
every ORM statement that goes through ``db``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask import current_app
from flask.globals import _cv_app
from sqlalchemy import JSON
from sqlalchemy import DateTime
from sqlalchemy import MetaData
from sqlalchemy import TypeDecorator
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

from cci.tenancy import TenantSession

# Deterministic constraint names, so migrations behave the same on PostgreSQL and SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON that PostgreSQL stores as JSONB (indexable, aggregatable) and SQLite as JSON text.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on both databases, stored as UTC: SQLite hands back naive
    values, which are then marked as UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        # SQLite keeps the wall-clock time and drops the offset: store UTC everywhere.
        if value is not None and value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        dt.datetime: UTCDateTime(),
    }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _app_context_id() -> int:
    # One session per application context: a request, a CLI command or an RQ job.
    return id(_cv_app.get())


db: scoped_session[TenantSession] = scoped_session(
    lambda: current_app.extensions["cci.sessionmaker"](), scopefunc=_app_context_id
)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["cci.engine"] = engine
    app.extensions["cci.sessionmaker"] = sessionmaker(
        bind=engine, class_=TenantSession, expire_on_commit=False
    )

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.remove()


def engine() -> Engine:
    return current_app.extensions["cci.engine"]
