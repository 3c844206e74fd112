"""The contact centre's own tables, on the core's declarative base and tenant rules.

``contact_calls``: one row per call taken in the operator console — where it was about
(office, line), who took it, the survey taken in it (a response stored through intake) and the
outcome the journey metrics read (FCR, escalation, transfers, waiting and handling times).

``telephony_stats``: the telephony platform's daily figures per line, imported from CSV; one
row per (region, date, line), so importing a file again updates instead of adding.

``telephony_imports``: an uploaded telephony file, kept for the job that reads it in the
background, and what importing it did (counts, or the errors when nothing was stored).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy import CheckConstraint
from sqlalchemy import Date
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from cci.plugin_api import Base
from cci.plugin_api import TenantScoped
from cci.plugin_api import utcnow

LINE_MAX = 40
TOPIC_MAX = 32


class ContactCall(TenantScoped, Base):
    """A call handled in the operator console. No personal data: no phone number, no name."""

    __tablename__ = "contact_calls"
    __table_args__ = (
        CheckConstraint("transfers >= 0", name="transfers"),
        CheckConstraint("waiting_seconds >= 0", name="waiting_seconds"),
        CheckConstraint("handling_seconds >= 0", name="handling_seconds"),
        Index("ix_contact_calls_region_started", "region_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True)
    #: the telephony line the call came in on (as the telephony statistics name it)
    line: Mapped[str | None] = mapped_column(String(LINE_MAX), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: set when the outcome is recorded; a call with an end is complete and read-only
    ended_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    resolved_first_contact: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    transfers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    escalated: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    waiting_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    handling_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    topic: Mapped[str | None] = mapped_column(String(TOPIC_MAX), nullable=True)
    #: the survey taken in this call, if the caller agreed to one
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TelephonyStat(TenantScoped, Base):
    """One day of one line from the telephony platform. Times are totals in seconds, so the
    figures over any period are ratios of sums (computed by the database)."""

    __tablename__ = "telephony_stats"
    __table_args__ = (
        UniqueConstraint("region_id", "day", "line"),
        CheckConstraint("offered >= 0 AND answered >= 0 AND abandoned >= 0", name="counts"),
        CheckConstraint("answered + abandoned <= offered", name="answered_abandoned"),
        CheckConstraint("answered_within_20s <= answered", name="within_20s"),
        CheckConstraint("wait_seconds_total >= 0 AND handle_seconds_total >= 0", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    line: Mapped[str] = mapped_column(String(LINE_MAX))
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    answered_within_20s: Mapped[int] = mapped_column(Integer)
    #: waiting time of the answered calls, summed (an average in the file is multiplied out)
    wait_seconds_total: Mapped[float] = mapped_column(Float)
    #: handling time (talk, hold, after-call work) of the answered calls, summed
    handle_seconds_total: Mapped[float] = mapped_column(Float)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TelephonyImport(TenantScoped, Base):
    """An uploaded telephony statistics file and its import, run as a background job: the
    file is read within the core's bounds in the job, never in the web request."""

    __tablename__ = "telephony_imports"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: the job's record (the core's ``jobs`` table), for its progress
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    #: what the import did: rows, created, updated, unchanged, first_day, last_day,
    #: error_count and errors ([{"row", "column", "message", "text"}])
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
