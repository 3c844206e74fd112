"""Tenant isolation: the one place where a region's data is kept apart from another's.

Every request and every job runs inside a :class:`Scope`:

* a *regional* scope sees and writes the rows of one region only;
* the *federal* scope sees every region (federal analysts, the federal roll-up);
* with *no* scope, touching a tenant table is an error: a code path that forgot to say
  whose data it works on fails loudly instead of leaking.

The rules are applied by the session itself (:class:`TenantSession`), so no query can
forget them:

* ORM SELECT/UPDATE/DELETE get ``region_id = :current`` through ``with_loader_criteria``,
  wherever the entity appears (subqueries, joins, aliases, relationship loads);
* identity-map hits (``Session.get``, many-to-one lazy loads) are checked too;
* new rows are stamped with the current region, and writing another region's row raises;
  ORM bulk INSERT rows must carry the current region, bulk UPDATE by primary key is refused;
* Core or ``text()`` SQL that touches a tenant table in a regional scope must say it
  filtered by region itself (``execution_options(tenant_filtered=True)``), otherwise it raises.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import Table
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import with_loader_criteria
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.util import find_tables


class TenantIsolationError(RuntimeError):
    """A statement would cross or ignore the tenant boundary."""


@dataclass(frozen=True)
class Scope:
    region_id: int | None
    reason: str

    @property
    def federal(self) -> bool:
        return self.region_id is None


_current: ContextVar[Scope | None] = ContextVar("cci_tenant_scope", default=None)


def current_scope() -> Scope | None:
    return _current.get()


def current_region_id() -> int | None:
    scope = _current.get()
    return None if scope is None else scope.region_id


@contextlib.contextmanager
def scoped(scope: Scope) -> Iterator[Scope]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def region_scope(region_id: int,
                 reason: str = "region") -> contextlib.AbstractContextManager[Scope]:
    return scoped(Scope(region_id=region_id, reason=reason))


def federal_scope(reason: str) -> contextlib.AbstractContextManager[Scope]:
    """The deliberate escape hatch for reading across regions; ``reason`` is kept for logs."""
    return scoped(Scope(region_id=None, reason=reason))


def narrowed(region_id: int, reason: str) -> contextlib.AbstractContextManager[Scope]:
    """The region's scope inside the current one: from the federal scope (a job storing a
    batch of many regions), or the same region again; never from another region's scope."""
    scope = _current.get()
    if scope is None or not (scope.federal or scope.region_id == region_id):
        raise TenantIsolationError(
            f"Cannot work on region {region_id}'s data from "
            + ("no tenant scope" if scope is None else f"region {scope.region_id}'s scope"))
    return scoped(Scope(region_id=region_id, reason=reason))


def by_region(rows: Iterable, region_of=lambda row: row.region_id) -> dict[int, list]:
    """{region id: the rows of that region}, in their order: what a batch of many regions
    runs per region, each part in :func:`narrowed`."""
    parts: dict[int, list] = {}
    for row in rows:
        parts.setdefault(region_of(row), []).append(row)
    return parts


def enter(scope: Scope | None):
    """Set the scope for the rest of a request; returns a token for :func:`leave`."""
    return _current.set(scope)


def leave(token) -> None:
    _current.reset(token)


class TenantScoped:
    """Mixin for models whose rows belong to one region.

    ``__tenant_nullable__ = True`` allows rows without a region (federal users, federal
    jobs); such rows are visible in the federal scope only.
    """

    __tenant_nullable__ = False
    #: False for rows whose region is a copy of their parent row's, which holds the reference
    #: (answers: their response's): the column is guarded and filtered as every tenant
    #: column, without a foreign-key check and an index of its own on each of millions of rows
    __tenant_reference__ = True
    #: how many subclasses were defined: the cached names of tenant tables are then stale
    models_defined = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TenantScoped.models_defined += 1

    @declared_attr
    def region_id(cls) -> Mapped[int]:
        if not cls.__tenant_reference__:
            return mapped_column(Integer, nullable=cls.__tenant_nullable__)
        return mapped_column(
            ForeignKey("regions.id", ondelete="RESTRICT"),
            index=True,
            nullable=cls.__tenant_nullable__,
        )


def _tenant_tables() -> set[Table]:
    """The tables of every mapped TenantScoped model (walked from the mixin: this module sits
    below the declarative base and does not import it)."""
    tables: set[Table] = set()
    todo: list[type[TenantScoped]] = [TenantScoped]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if "__table__" in vars(cls):
                tables.add(vars(cls)["__table__"])
    return tables


#: (models defined, names of tenant tables): recomputed when a model is added
_tenant_names: tuple[int, frozenset[str]] = (-1, frozenset())
#: statement -> whether it reads tenant tables. Statements are immutable, and a hot path
#: runs the same prebuilt one for every request: walking it once is enough.
_verdicts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tenant_table_names() -> frozenset[str]:
    global _tenant_names
    if TenantScoped.models_defined != _tenant_names[0]:
        _tenant_names = (TenantScoped.models_defined,
                         frozenset(t.name for t in _tenant_tables()))
        _verdicts.clear()
    return _tenant_names[1]


def _statement_reads_tenant_tables(statement) -> bool:
    """Whether a tenant table appears anywhere in the statement (subqueries, joins too)."""
    if isinstance(statement, TextClause):
        return True  # opaque: cannot prove it is safe
    names = _tenant_table_names()
    verdict = _verdicts.get(statement)
    if verdict is None:
        # find_tables is annotated List[TableClause], but include_aliases adds Alias objects.
        found: Sequence[object] = find_tables(
            statement, check_columns=True, include_aliases=True, include_crud=True
        )
        verdict = _verdicts[statement] = any(
            isinstance(table, TableClause) and table.name in names for table in found
        )
    return verdict


class TenantSession(Session):
    """A session that refuses to return another tenant's objects from its identity map."""

    def get(self, entity, ident, **kwargs):
        obj = super().get(entity, ident, **kwargs)
        return obj if _visible(obj) else None

    def _identity_lookup(self, mapper, primary_key_identity, *args, **kwargs):
        # Session.get and many-to-one lazy loads look here before emitting SQL: an object
        # of another region counts as not loaded, so the (filtered) SELECT decides.
        obj = super()._identity_lookup(mapper, primary_key_identity, *args, **kwargs)
        if isinstance(obj, TenantScoped) and not _visible(obj):
            return None
        return obj


def _visible(obj) -> bool:
    if obj is None or not isinstance(obj, TenantScoped):
        return True
    scope = _current.get()
    if scope is None:
        raise TenantIsolationError(
            f"{type(obj).__name__} is tenant data, but no tenant scope is set"
        )
    return scope.federal or obj.region_id == scope.region_id


@event.listens_for(TenantSession, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if state.is_column_load:
        return  # refreshing attributes of an object that was loaded (and filtered) before
    if state.execution_options.get("tenant_filtered"):
        return  # the caller filtered by region itself (checked in its tests)
    scope = _current.get()
    if not state.is_orm_statement:
        _guard_core_statement(state, scope)
    elif state.is_insert:
        _guard_bulk_insert(state, scope)
    elif state.is_select or state.is_update or state.is_delete:
        _filter_orm_statement(state, scope)


def _guard_core_statement(state: ORMExecuteState, scope: Scope | None) -> None:
    """Core or text(): the session cannot add the filter, so it must be declared."""
    if (scope is None or not scope.federal) and _statement_reads_tenant_tables(state.statement):
        raise TenantIsolationError(
            "Raw SQL over tenant tables in a regional or missing scope: filter by "
            "region_id and pass execution_options(tenant_filtered=True)"
        )


def _filter_orm_statement(state: ORMExecuteState, scope: Scope | None) -> None:
    """An ORM SELECT, UPDATE or DELETE reads and writes the scope's region only."""
    tenant_mappers = [m for m in state.all_mappers if issubclass(m.class_, TenantScoped)]
    if scope is None:
        if tenant_mappers or _statement_reads_tenant_tables(state.statement):
            names = ", ".join(sorted(m.class_.__name__ for m in state.all_mappers))
            raise TenantIsolationError(f"Query on tenant data ({names}) without a tenant scope")
        return
    region_id = scope.region_id
    if region_id is None:  # the federal scope
        return
    if state.is_update and isinstance(state.parameters, list) and tenant_mappers:
        raise TenantIsolationError(
            "ORM bulk UPDATE by primary key ignores the region filter; in a regional scope "
            "update through the objects or with update(...).where(...)"
        )
    state.statement = _in_region(state.statement, region_id)


#: statement -> {region id: the statement with the region's criteria}: a prebuilt statement
#: run for every request gets its option built once per region, not once per execution
_regional: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _in_region(statement, region_id: int):
    variants = _regional.get(statement)
    if variants is None:
        variants = _regional[statement] = {}
    filtered = variants.get(region_id)
    if filtered is None:
        # Added even when no tenant entity is selected: it also filters subqueries, joins
        # and relationship loads (a lazy load's parent may come from a shared table or
        # another scope).
        filtered = variants[region_id] = statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.region_id == region_id,
                include_aliases=True,
            )
        )
    return filtered


def _guard_bulk_insert(state: ORMExecuteState, scope: Scope | None) -> None:
    """ORM bulk INSERT skips the flush: every row must name the current region itself."""
    if not any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return
    if scope is None:
        raise TenantIsolationError("Inserting tenant data without a tenant scope")
    if scope.federal:
        return
    parameters = state.parameters
    rows: Sequence[Mapping[str, Any]]
    if not parameters:
        statement = state.statement
        # an INSERT, or a select from one (both clauses): state.is_insert, the caller checked
        assert isinstance(statement, ClauseElement)
        rows = [statement.compile().params]
    elif isinstance(parameters, Mapping):  # one row: a dict or any other mapping
        rows = [parameters]
    else:
        rows = parameters
    guard_rows(row.get("region_id") for row in rows)


def guard_rows(region_ids: Iterable[int | None]) -> None:
    """Rows written around the session (a bulk insert, a COPY) must all be of the scope's
    region; a federal scope writes any."""
    scope = _current.get()
    if scope is None:
        raise TenantIsolationError("Inserting tenant data without a tenant scope")
    if scope.federal:
        return
    if any(region_id != scope.region_id for region_id in region_ids):
        raise TenantIsolationError(
            "Bulk insert of tenant rows in a regional scope: every row must carry this "
            "region's region_id"
        )


@event.listens_for(TenantSession, "before_flush")
def _stamp_and_guard_writes(session: Session, _flush_context, _instances) -> None:
    scope = _current.get()
    new = list(session.new)  # Session.new builds a fresh set on every access
    new_ids = {id(obj) for obj in new}
    for obj in new + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if scope is None:
            raise TenantIsolationError(
                f"Writing {type(obj).__name__} without a tenant scope"
            )
        if id(obj) in new_ids and obj.region_id is None and not scope.federal:
            obj.region_id = scope.region_id
        if scope.federal:
            continue
        state = sa_inspect(obj)
        history = state.attrs.region_id.history
        original = history.deleted[0] if history.deleted else None
        if obj.region_id != scope.region_id or (
            original is not None and original != scope.region_id
        ):
            raise TenantIsolationError(
                f"{type(obj).__name__} belongs to another region; refusing to write it"
            )
