"""Engine, declarative base and the request/job-scoped session.

The session class is :class:`cci.foundation.tenancy.TenantSession`, so tenant isolation applies to
every ORM statement that goes through ``db``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from typing import ClassVar
from typing import Literal
from typing import overload

from flask import Flask
from flask import current_app
from flask.globals import _cv_app
from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import TypeDecorator
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import CursorResult
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

from cci.foundation.tenancy import TenantSession

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
            return value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        dt.datetime: UTCDateTime(),
    }


def rows_updated(result: Any) -> int:
    """How many rows a conditional UPDATE changed (the session types its result Result)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _app_context_id() -> int:
    # One session per application context: a request, a CLI command or an RQ job.
    return id(_cv_app.get())


# SQLAlchemy annotates the factory as a sessionmaker, but any callable returning a session
# will do (as its documentation says): this one finds the app's sessionmaker when called.
db: scoped_session[TenantSession] = scoped_session(
    lambda: current_app.extensions["cci.sessionmaker"](),  # type: ignore[arg-type]
    scopefunc=_app_context_id,
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


#: Up to this many rows :func:`append_rows` writes a multi-row INSERT on PostgreSQL too: COPY
#: costs more round trips (two per table, one more to draw the ids) and more set-up than the
#: statement, which only wins from a few tens of rows on (a single answer: 1 response, ~20
#: answers; a batch of 55 responses is cheaper by COPY, the long statement costs psycopg more).
COPY_MIN_ROWS = 30

#: The largest id the database's INTEGER holds: a larger one in a request names nothing (and
#: must not reach PostgreSQL, which refuses it with an error).
ID_MAX = 2**31 - 1


@overload
def append_rows(session, model, columns: tuple[str, ...], rows: list[tuple], *,
                return_ids: Literal[True], exact: bool = False) -> list[int]: ...


@overload
def append_rows(session, model, columns: tuple[str, ...], rows: list[tuple], *,
                return_ids: Literal[False] = False, exact: bool = False) -> None: ...


def append_rows(session, model, columns: tuple[str, ...], rows: list[tuple], *,
                return_ids: bool = False, exact: bool = False) -> list[int] | None:
    """Append many rows of ``model`` in the session's transaction, around the ORM: COPY on
    PostgreSQL (the fastest way in; ids, when asked for, drawn from the table's sequence
    first), a multi-row INSERT for a few rows and elsewhere. Returns the new ids in the order
    of ``rows`` when ``return_ids``. Tenant rows must all be of the current scope's region.

    ``exact``: every value is of its column's Python type exactly (an int for an integer, a
    float for a float, a bool, a str, a date) or None, and the columns are of those types
    only: COPY then sends them in PostgreSQL's binary format, each value packed as it is
    instead of written out and parsed again as text (a third of the time)."""
    from cci.foundation import tenancy

    if not rows:
        return [] if return_ids else None
    if issubclass(model, tenancy.TenantScoped):
        position = columns.index("region_id")
        tenancy.guard_rows(row[position] for row in rows)
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) < COPY_MIN_ROWS:
        return _insert_rows(connection, model.__table__, columns, rows, return_ids)
    return _copy_rows(connection, model.__table__, columns, rows, return_ids, exact)


def _insert_rows(connection, table, columns: tuple[str, ...], rows: list[tuple],
                 return_ids: bool) -> list[int] | None:
    """One multi-row INSERT (Core: the rows are guarded already, the ORM adds nothing)."""
    from sqlalchemy import insert

    values = [dict(zip(columns, row, strict=True)) for row in rows]
    if return_ids:
        # "insertmanyvalues": one INSERT … VALUES (…), (…) RETURNING id, ids in row order
        return list(connection.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), values
        ).scalars())
    connection.execute(insert(table), values)
    return None


#: PostgreSQL's types of the columns an ``exact`` append may hold (see :func:`append_rows`)
_BINARY_TYPES: tuple[tuple[type, str], ...] = (
    (Boolean, "bool"), (Integer, "int4"), (Float, "float8"), (String, "varchar"),
    (Date, "date"))


def _binary_types(table, columns: tuple[str, ...]) -> list[str] | None:
    """The binary COPY's type of each column, or None when one has a type not listed."""
    found = []
    for name in columns:
        kind = table.c[name].type
        pg = next((pg for base, pg in _BINARY_TYPES if isinstance(kind, base)), None)
        if pg is None or isinstance(kind, BigInteger | SmallInteger | DateTime):
            return None
        found.append(pg)
    return found


def _copy_rows(connection, table, columns: tuple[str, ...], rows: list[tuple],
               return_ids: bool, exact: bool = False) -> list[int] | None:
    from psycopg.types.json import Jsonb
    from sqlalchemy import text

    ids = None
    if return_ids:
        ids = list(connection.execute(text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        ), {"table": table.name, "n": len(rows)}).scalars())
        columns = ("id", *columns)
        rows = [(row_id, *tuple(row)) for row_id, row in zip(ids, rows, strict=True)]
    # COPY knows nothing of the model's Python-side defaults (timestamps, uuids): apply them.
    defaults = [c for c in table.c if c.name not in columns and c.default is not None
                and (c.default.is_scalar or c.default.is_callable)]
    if defaults:
        columns = columns + tuple(c.name for c in defaults)
        rows = [tuple(row) + tuple(c.default.arg if c.default.is_scalar else c.default.arg(None)
                                   for c in defaults) for row in rows]
    wrap = [isinstance(table.c[name].type, JSON) for name in columns]
    binary = _binary_types(table, columns) if exact and not any(wrap) else None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    if binary is not None:
        statement += " (FORMAT BINARY)"
    dbapi = connection.dialect.loaded_dbapi
    try:
        with (connection.connection.driver_connection.cursor() as cursor,
              cursor.copy(statement) as copy):
            if binary is not None:
                copy.set_types(binary)
            for row in rows:
                copy.write_row([Jsonb(v) if w and v is not None else v
                                for v, w in zip(row, wrap, strict=True)] if any(wrap) else row)
    except dbapi.Error as exc:
        # The same exception classes as a statement through SQLAlchemy (IntegrityError…).
        raise DBAPIError.instance(statement, None, exc, dbapi.Error) from exc
    return ids
