"""The contact-centre figures, aggregated by the database (SUM … GROUP BY period, line).

From the telephony statistics (:class:`TelephonyStat`): AHT, ASA, abandonment rate and
service level 80/20. From the calls recorded in the console (:class:`ContactCall`): FCR,
escalation rate (ER) and transfers per call. Rates come with their n and a 95 % Wilson
interval; every figure carries its definition (the glossary of ``docs/cjm.md``), shown next to
it on the page.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement
from sqlalchemy import Integer
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import extract
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select

from cci.plugin_api import db
from cci.plugin_api import wilson

from cci_channel_contact.models import ContactCall
from cci_channel_contact.models import TelephonyStat

GROUPINGS = ("month", "day", "all")
SERVICE_LEVEL_SECONDS = 20
SERVICE_LEVEL_TARGET = 0.80


@dataclass(frozen=True)
class Definition:
    key: str
    abbr: str
    name: Any
    text: Any
    unit: str  # "s" seconds, "%" a rate, "" a mean count


DEFINITIONS: dict[str, Definition] = {d.key: d for d in (
    Definition("aht", "AHT", _l("Average handling time"),
               _l("Total handling time of the answered calls (talk, hold and after-call work) "
                  "/ answered calls, in seconds. Source: telephony statistics."), "s"),
    Definition("asa", "ASA", _l("Average speed of answer"),
               _l("Total time the answered callers waited in the queue / answered calls, in "
                  "seconds. Source: telephony statistics."), "s"),
    Definition("abandonment", "AR", _l("Abandonment rate"),
               _l("Calls the caller hung up on before an operator answered / calls offered, "
                  "in %. Source: telephony statistics."), "%"),
    Definition("service_level", "SL 80/20", _l("Service level 80/20"),
               _l("Calls answered within 20 seconds / calls offered, in %; the target is at "
                  "least 80 %. Source: telephony statistics."), "%"),
    Definition("fcr", "FCR", _l("First contact resolution"),
               _l("Contacts resolved at the first contact / all contacts, in %. Source: call "
                  "outcomes recorded in the console."), "%"),
    Definition("er", "ER", _l("Escalation rate"),
               _l("Contacts handed to a supervisor, the second line or a specialist / all "
                  "contacts, in %. Source: call outcomes recorded in the console."), "%"),
    Definition("transfers", "TpC", _l("Transfers per call"),
               _l("Transfers between operators or departments / calls recorded; lower is better "
                  "(the journey map's goal: straight to an operator, no transfers). Source: "
                  "call outcomes recorded in the console."), ""),
)}


@dataclass
class Figure:
    """One figure: a value with its n, and for a rate its positives and Wilson interval."""

    key: str
    value: float | None
    n: int
    positive: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def definition(self) -> Definition:
        return DEFINITIONS[self.key]


def rate(key: str, positive: int, n: int) -> Figure:
    low, high = wilson(positive, n)
    return Figure(key, positive / n if n else None, n, positive, low, high)


def ratio(key: str, total: float, n: int) -> Figure:
    return Figure(key, total / n if n else None, n)


@dataclass
class Row:
    """The figures of one period and one line (``line`` None: all lines together)."""

    period: tuple[int | None, int | None, int | None]
    line: str | None
    figures: dict[str, Figure] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def period_start(self) -> dt.date | None:
        year, month, day = self.period
        if year is None:
            return None
        return dt.date(year, month or 1, day or 1)


@dataclass
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    line: str | None = None
    group: str = "month"


def _period_columns(expression, group: str) -> list:
    if group == "all":
        return []
    parts = ["year", "month"] + (["day"] if group == "day" else [])
    return [cast(extract(part, expression), Integer).label(part) for part in parts]


def _period_of(row, group: str) -> tuple[int | None, int | None, int | None]:
    if group == "all":
        return (None, None, None)
    return (int(row.year), int(row.month), int(row.day) if group == "day" else None)


# --- telephony statistics -------------------------------------------------------------------


def telephony_rows(filters: Filters) -> list[Row]:
    """Per period and line, then per period over all lines: sums from the database."""
    periods = _period_columns(TelephonyStat.day, filters.group)
    sums = [
        func.count(TelephonyStat.id).label("days"),
        func.coalesce(func.sum(TelephonyStat.offered), 0).label("offered"),
        func.coalesce(func.sum(TelephonyStat.answered), 0).label("answered"),
        func.coalesce(func.sum(TelephonyStat.abandoned), 0).label("abandoned"),
        func.coalesce(func.sum(TelephonyStat.answered_within_20s), 0).label("within_20s"),
        func.coalesce(func.sum(TelephonyStat.wait_seconds_total), 0).label("wait"),
        func.coalesce(func.sum(TelephonyStat.handle_seconds_total), 0).label("handle"),
    ]
    conditions = []
    if filters.date_from:
        conditions.append(TelephonyStat.day >= filters.date_from)
    if filters.date_to:
        conditions.append(TelephonyStat.day <= filters.date_to)
    if filters.line:
        conditions.append(TelephonyStat.line == filters.line)
    rows: list[Row] = []
    for by_line in (True, False):
        keys = periods + ([TelephonyStat.line] if by_line else [])
        statement = select(*keys, *sums).where(*conditions)
        if keys:
            statement = statement.group_by(*keys).order_by(*keys)
        for found in db.execute(statement):
            if not found.days:
                continue
            row = Row(_period_of(found, filters.group), found.line if by_line else None)
            row.counts = {"days": found.days, "offered": found.offered,
                          "answered": found.answered, "abandoned": found.abandoned,
                          "within_20s": found.within_20s}
            row.figures = {
                "aht": ratio("aht", float(found.handle), found.answered),
                "asa": ratio("asa", float(found.wait), found.answered),
                "abandonment": rate("abandonment", found.abandoned, found.offered),
                "service_level": rate("service_level", found.within_20s, found.offered),
            }
            rows.append(row)
    return _ordered(rows)


# --- calls recorded in the console -------------------------------------------------------


def _local_start(expression, timezone: str, dialect: str):
    """The call's start as local wall-clock time of the region, in SQL."""
    # Inlined, not bound: PostgreSQL must see the same expression in GROUP BY and SELECT.
    if dialect == "postgresql":
        return func.timezone(literal(timezone, literal_execute=True), expression)
    # SQLite stores UTC without an offset; Russian time zones have no daylight saving time.
    offset = dt.datetime(2020, 1, 1, tzinfo=zoneinfo.ZoneInfo(timezone)).utcoffset()
    seconds = int(offset.total_seconds()) if offset else 0
    return func.datetime(expression, literal(f"{seconds:+d} seconds", literal_execute=True))


def local_bounds(filters: Filters, timezone: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The UTC moments that bound the local dates of the filter (to is inclusive)."""
    zone = zoneinfo.ZoneInfo(timezone)
    start = end = None
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time(0), zone).astimezone(dt.UTC)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(0),
                                  zone).astimezone(dt.UTC)
    return start, end


def call_rows(filters: Filters, timezone: str) -> list[Row]:
    """FCR, ER and transfers per call over the completed calls, per period and line."""
    dialect = db.get_bind().dialect.name
    local = _local_start(ContactCall.started_at, timezone, dialect)
    periods = _period_columns(local, filters.group)
    sums = [
        func.count(ContactCall.id).label("calls"),
        func.coalesce(func.sum(case((ContactCall.resolved_first_contact.is_(True), 1), else_=0)),
                      0).label("resolved"),
        func.coalesce(func.sum(case((ContactCall.escalated.is_(True), 1), else_=0)),
                      0).label("escalated"),
        func.coalesce(func.sum(ContactCall.transfers), 0).label("transfers"),
    ]
    conditions: list[ColumnElement[bool]] = [ContactCall.ended_at.is_not(None)]
    start, end = local_bounds(filters, timezone)
    if start:
        conditions.append(ContactCall.started_at >= start)
    if end:
        conditions.append(ContactCall.started_at < end)
    if filters.line:
        conditions.append(ContactCall.line == filters.line)
    line = func.coalesce(ContactCall.line, "").label("line")
    rows: list[Row] = []
    for by_line in (True, False):
        keys = periods + ([line] if by_line else [])
        statement = select(*keys, *sums).where(*conditions)
        if keys:
            statement = statement.group_by(*keys).order_by(*keys)
        for found in db.execute(statement):
            if not found.calls:
                continue
            row = Row(_period_of(found, filters.group), (found.line or "—") if by_line else None)
            row.counts = {"calls": found.calls}
            row.figures = {
                "fcr": rate("fcr", int(found.resolved), found.calls),
                "er": rate("er", int(found.escalated), found.calls),
                "transfers": ratio("transfers", float(found.transfers), found.calls),
            }
            rows.append(row)
    return _ordered(rows)


def _ordered(rows: list[Row]) -> list[Row]:
    """Periods in order; in each, its lines by name, then the all-lines row."""
    def key(row: Row):
        period = tuple(p or 0 for p in row.period)
        return (period, row.line is None, row.line or "")
    return sorted(rows, key=key)


def lines() -> list[str]:
    """The lines known from the telephony statistics and the calls, for the filters."""
    known = set(db.scalars(select(TelephonyStat.line).distinct()))
    known |= {line for line in db.scalars(select(ContactCall.line).distinct()) if line}
    return sorted(known)
