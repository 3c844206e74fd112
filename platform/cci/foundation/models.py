"""The data model. Rows that belong to a region inherit
:class:`cci.foundation.tenancy.TenantScoped`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import Date
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from cci.foundation.db import Base
from cci.foundation.db import utcnow
from cci.foundation.roles import Role
from cci.foundation.tenancy import TenantScoped

NETWORK_TYPES = ("centralized", "decentralized")
OFFICE_KINDS = ("main", "branch")
RESPONDENT_TYPES = ("job_seeker", "employer")


class Region(Base):
    """A tenant: the employment service (СЗН) of one subject of the Russian Federation."""

    __tablename__ = "regions"
    __table_args__ = (CheckConstraint(f"network_type IN {NETWORK_TYPES}", name="network_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # ISO 3166-2:RU, e.g. RU-BRY
    name: Mapped[str] = mapped_column(String(200))
    network_type: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    offices: Mapped[list[Office]] = relationship(
        back_populates="region", order_by="Office.code", viewonly=True
    )


class Office(TenantScoped, Base):
    """A point of presence (точка присутствия) of a job centre (ЦЗН)."""

    __tablename__ = "offices"
    __table_args__ = (
        UniqueConstraint("region_id", "code"),
        CheckConstraint(f"kind IN {OFFICE_KINDS}", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(8), default="branch")
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: opening hours, «08:00»–«17:00», local time; None: the platform's default hours
    opens: Mapped[str | None] = mapped_column(String(5), nullable=True)
    closes: Mapped[str | None] = mapped_column(String(5), nullable=True)
    #: the office's time zone where it differs from its region's (a region across two zones)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: when a person last changed the office in the interface: the tenants files no longer
    #: overwrite it (a sync keeps it and says so)
    edited_in_interface_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship(back_populates="offices")


class User(TenantScoped, Base):
    __tablename__ = "users"
    __tenant_nullable__ = True  # federal roles have no region
    __table_args__ = (
        CheckConstraint(f"role IN {tuple(r.value for r in Role)}", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    #: e-mail about notifications (cci.foundation.notifications): "daily" digest or "none"
    notification_email: Mapped[str] = mapped_column(String(8), default="daily",
                                                    server_default="daily")
    #: the password was given by an administrator: it opens only the page that changes it
    password_must_change: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())

    region: Mapped[Region | None] = relationship()
    office: Mapped[Office | None] = relationship()

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The user id a session keeps; the session itself lives on the server
        (LoginSession, cci.foundation.login_sessions), so it can be ended."""
        return str(self.id)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_federal(self) -> bool:
        return self.role_enum.federal

    def has_role(self, *roles: Role) -> bool:
        return self.role_enum in roles


class ApiToken(TenantScoped, Base):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    __tenant_nullable__ = True  # a federal user's token reads every region

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship()


class LoginSession(TenantScoped, Base):
    """A staff member's login session, kept on the server so that it can be ended: the
    cookie holds a random key, only its SHA-256 is stored (cci.foundation.login_sessions)."""

    __tablename__ = "login_sessions"
    __tenant_nullable__ = True  # a federal user's sessions

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class LoginCode(TenantScoped, Base):
    """A one-time code e-mailed to a user who logs in from an unknown browser while their
    account is being guessed at (cci.web.login_codes). Only its keyed digest is stored."""

    __tablename__ = "login_codes"
    __tenant_nullable__ = True  # a federal user's code

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()

    user: Mapped[User] = relationship()


class PasswordReset(TenantScoped, Base):
    """A link to set a new password, e-mailed to its user (cci.foundation.password_resets).
    Only the SHA-256 of its token is stored, with a digest of the password it replaces: a
    newer link deletes the older ones, using it deletes it, and any change of the password
    makes it useless."""

    __tablename__ = "password_resets"
    __tenant_nullable__ = True  # a federal user's link

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    password_stamp: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One login attempt, counted before its password is checked (cci.web.throttle). The
    key is a digest of what is counted (an account, an address, or both): neither e-mails
    nor addresses are stored here."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    failed: Mapped[bool] = mapped_column(Boolean, default=True)


campaign_regions = Table(
    "campaign_regions",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="RESTRICT"), primary_key=True),
)


class Campaign(Base):
    """A measurement campaign: a named period measured with one methodology version."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    methodology_key: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    regions: Mapped[list[Region]] = relationship(secondary=campaign_regions)


def _new_uuid() -> str:
    return str(uuid.uuid4())


class Response(TenantScoped, Base):
    """One completed questionnaire, from any channel."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint(f"respondent_type IN {RESPONDENT_TYPES}", name="respondent_type"),
        # Index-only counts of a region's responses per office and type for the computation.
        Index("ix_responses_campaign_office", "campaign_id", "region_id", "office_id",
              "respondent_type", postgresql_where=text("counted"), sqlite_where=text("counted")),
        # Look-backs of the quality rules (bursts, near-duplicates) and the review queue.
        Index("ix_responses_region_submitted", "region_id", "submitted_at"),
        Index("ix_responses_office_submitted", "office_id", "submitted_at"),
        Index("ix_responses_region_review", "region_id", "review_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    # Made by the client (kiosk, integration) so that a repeated delivery is recognised.
    client_key: Mapped[str] = mapped_column(String(128), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    methodology_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    respondent_type: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Channel metadata: device, operator, session, ip hash, user agent, timings.
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quality_flags: Mapped[list[Any]] = mapped_column(default=list)
    # Whether the answer counts in the index; flagged answers are excluded until reviewed.
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    # Review of a flagged response (cci.collection.quality): None when never flagged; "pending"
    # until a regional admin decides; "confirmed" stays excluded, "restored" counts again.
    review_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    flags: Mapped[list[ResponseFlag]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="ResponseFlag.id"
    )


REVIEW_STATUSES = ("pending", "confirmed", "restored")


class ResponseFlag(TenantScoped, Base):
    """One quality rule that fired for a response, in a table so the database counts them
    (how many answers each rule excluded). Office and campaign are copied from the response."""

    __tablename__ = "response_flags"
    __table_args__ = (
        UniqueConstraint("response_id", "rule"),
        Index("ix_response_flags_campaign_rule", "campaign_id", "region_id", "rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="flags")


class Answer(TenantScoped, Base):
    """One answer to one item, in long form so the database aggregates it (GROUP BY item).

    Office, campaign, respondent type and ``counted`` are copied from the response so the index
    aggregates read one table. The copies are written with the response (by
    :func:`cci.collection.intake.store_batch` or :func:`cci.collection.intake.build_response`, from
    its own columns), whose columns hold the references: an answer row checks none but its
    response's, and region, office and campaign have no index of their own beside the aggregate one
    (a submission writes about twenty answer rows; these checks and that index were nearly half of
    what storing them cost the database).
    """

    __tablename__ = "answers"
    __tenant_reference__ = False
    __table_args__ = (
        UniqueConstraint("response_id", "item"),
        # Serves the per-region GROUP BY of the index computation as an index-only scan:
        # answers are stored in arrival order, so a region's rows are spread over the table.
        Index(
            "ix_answers_aggregate",
            "campaign_id", "region_id", "office_id", "respondent_type", "item", "choice", "value",
            postgresql_where=text("counted"), sqlite_where=text("counted"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(Integer)
    respondent_type: Mapped[str] = mapped_column(String(16))
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    item: Mapped[str] = mapped_column(String(64))
    # Scale and yes/no items: a number (yes=1, no=0); None means «Затрудняюсь ответить».
    value: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    # Single-choice items: the option key.
    choice: Mapped[str | None] = mapped_column(String(64), nullable=True)

    response: Mapped[Response] = relationship(back_populates="answers")


class Checklist(TenantScoped, Base):
    """An auditor's objective checklist for one indicator, per office or for the region."""

    __tablename__ = "checklists"
    __table_args__ = (
        UniqueConstraint("campaign_id", "region_id", "office_id", "indicator"),
        # NULLs are distinct in the constraint above: one region-level row per indicator.
        Index("uq_checklists_region_level", "campaign_id", "region_id", "indicator",
              unique=True, postgresql_where=text("office_id IS NULL"),
              sqlite_where=text("office_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    indicator: Mapped[str] = mapped_column(String(64))
    # Parameter key -> value (bool for checklist items, number for figures).
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship(viewonly=True)
    office: Mapped[Office | None] = relationship(viewonly=True)
    campaign: Mapped[Campaign] = relationship(viewonly=True)


class ComputationRun(Base):
    """One computation of the index for a campaign with a methodology version.

    Federal: a run covers every region of the campaign; its results are tenant rows.
    """

    __tablename__ = "computation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    methodology_key: Mapped[str] = mapped_column(String(64))
    plugin_package: Mapped[str] = mapped_column(String(200), default="")
    plugin_version: Mapped[str] = mapped_column(String(64), default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    input_fingerprint: Mapped[str] = mapped_column(String(64), default="", index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    regions_total: Mapped[int] = mapped_column(Integer, default=0)
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False)
    # The federal roll-up and what the run read, once it has succeeded.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class RunResult(TenantScoped, Base):
    """One figure of a run: an indicator, group or index, for an office, the region or the
    federation (level "federation": no region, so visible in the federal scope only)."""

    __tablename__ = "run_results"
    __tenant_nullable__ = True
    __table_args__ = (Index("ix_run_results_run_level", "run_id", "level", "office_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("computation_runs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(10))  # office | region | federation
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    # What the figure is: "indicator:S-I.1", "group:I", "index", ...
    metric: Mapped[str] = mapped_column(String(64))
    respondent_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_valid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_positive: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    insufficient: Mapped[bool] = mapped_column(Boolean, default=False)
    stars: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ChecklistPhoto(TenantScoped, Base):
    """A photo an auditor attached to one parameter of a checklist, as evidence: resized on
    upload (no camera metadata kept) and stored in the database, so a backup carries it."""

    __tablename__ = "checklist_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(
        ForeignKey("checklists.id", ondelete="CASCADE"), index=True)
    parameter: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    #: JPEG, the long side at most cci.collection.photos.LONG_SIDE pixels
    content: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JobRecord(TenantScoped, Base):
    """What a background job is doing, readable by the pages that started it."""

    __tablename__ = "jobs"
    __tenant_nullable__ = True  # federal jobs (roll-ups) have no region

    id: Mapped[int] = mapped_column(primary_key=True)
    rq_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    # What it takes to queue the job again when Redis lost it (cci.foundation.jobs.reconcile).
    queue: Mapped[str] = mapped_column(String(16), default="default", server_default="default")
    timeout: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    lock: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Refreshed by the process running the job; a stale one means that process died.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    region: Mapped[Region | None] = relationship(viewonly=True)


class AuditEntry(TenantScoped, Base):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_log"
    __tenant_nullable__ = True  # federal changes (campaigns, methodology) have no region

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(254))  # e-mail, or "system: <command>"
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


IMPORT_KINDS = ("responses", "checklists")


class ImportRecord(TenantScoped, Base):
    """An uploaded CSV/XLSX file of responses or checklists, kept for its import job, and
    what importing it did: counts and the row errors (all rows are stored, or none)."""

    __tablename__ = "imports"
    __table_args__ = (CheckConstraint(f"kind IN {IMPORT_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    # queued | running | succeeded | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    existing_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # [{"row": 7, "column": "usefulness", "message": "...", "text": "Строка 7, ..."}]
    errors: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    campaign: Mapped[Campaign] = relationship()
    job: Mapped[JobRecord | None] = relationship()
    region: Mapped[Region] = relationship(viewonly=True)


class SurveyDraft(TenantScoped, Base):
    """A questionnaire being filled in, kept on the server step by step, so a reload or a
    dropped connection loses nothing. Finishing it stores one :class:`Response` through intake
    (client key ``<channel>:<token>``, so finishing twice stores it once)."""

    __tablename__ = "survey_drafts"
    __table_args__ = (
        CheckConstraint(
            f"respondent_type IS NULL OR respondent_type IN {RESPONDENT_TYPES}",
            name="respondent_type",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random, unguessable; in the survey's URLs and the respondent's cookie.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    respondent_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: Question item -> normalised answer (None: «Затрудняюсь ответить»).
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Profile item -> option key (None: not given).
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: None until the comment step was passed; "" when it was left empty.
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Step key -> seconds spent on it (summed when a step is answered again).
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitations.id"), nullable=True, index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # indexed for the purge of old drafts (cci.collection.retention)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    submitted_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), nullable=True
    )

    office: Mapped[Office] = relationship()
    invitation: Mapped[SurveyInvitation | None] = relationship()


class SurveyInvitation(TenantScoped, Base):
    """A one-time survey code for a real visit (office, service, date; no personal data).

    Valid until ``expires_at``; the first response finished with it uses it up.
    """

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short and human-typeable (no 0/O, 1/I/L); unique across regions.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    service: Mapped[str] = mapped_column(String(200), default="")
    visit_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    office: Mapped[Office] = relationship()


class CommentTheme(TenantScoped, Base):
    """A theme found in a response's comment (cci.collection.comment_themes): one row per
    theme, «other» when none was found. Written once, when the comment is classified, so
    that pages count themes with a GROUP BY."""

    __tablename__ = "comment_themes"
    __tenant_reference__ = False  # the response holds the region's reference
    __table_args__ = (
        UniqueConstraint("response_id", "theme"),
        Index("ix_comment_themes_region_theme", "region_id", "theme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(32))
class MethodologyVersion(Base):
    """A methodology version's life in the platform beside its code.

    ``kind`` "derived": a version made in the interface from an installed set (``base_key``)
    by changing its declared parameters (``overrides``): a draft, submitted, returned with a
    comment, or published — then numbered, keyed and never changed again. ``kind`` "package":
    the approval of an installed package's set (``key``) for new campaigns.
    """

    __tablename__ = "methodology_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="derived")
    #: the set's key: a package's, or a derived version's once published
    key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    base_key: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    package_version: Mapped[str] = mapped_column(String(64), default="")
    review_comment: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


class MethodologyProposal(Base):
    """A proposal to change the methodology: who proposed it, what, for which indicator, the
    decision with its reason, and the version that implements it. ``source`` names a change a
    package declared (``<key>#<number>``), so seeding it twice adds nothing."""

    __tablename__ = "methodology_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), nullable=True)
    proposed_by: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str] = mapped_column(String(100), default="")
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    version_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
JOURNEY_MAP_STATUSES = ("draft", "published")


class JourneyMap(TenantScoped, Base):
    """A customer journey map of one service (cci.foundation.journey_maps): a federal template
    (no region), a region's map, or one office's map (``office_id``). Its grid lives in its
    versions; a region's or office's map names the template it was adopted from."""

    __tablename__ = "journey_maps"
    __tenant_nullable__ = True  # the federal templates belong to no region

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a template's stable key (e.g. professional_orientation); None for adopted maps
    key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    title: Mapped[str] = mapped_column(String(300))
    service: Mapped[str] = mapped_column(Text, default="")
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True,
                                                  index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("journey_maps.id"),
                                                    nullable=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    office: Mapped[Office | None] = relationship()
    versions: Mapped[list[JourneyMapVersion]] = relationship(
        back_populates="map", order_by="JourneyMapVersion.number", viewonly=True)


class JourneyMapVersion(TenantScoped, Base):
    """One version of a map's grid (stages × rows, as a document). A draft is edited in place;
    a published version never changes: a figure on the map names the version it belongs to."""

    __tablename__ = "journey_map_versions"
    __tenant_nullable__ = True  # the versions of a federal template
    __table_args__ = (
        UniqueConstraint("map_id", "number"),
        CheckConstraint(f"status IN {JOURNEY_MAP_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    map_id: Mapped[int] = mapped_column(ForeignKey("journey_maps.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the template version this one was adopted from (the departures are measured from it)
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("journey_map_versions.id"), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    map: Mapped[JourneyMap] = relationship(back_populates="versions")


ACTION_STATUSES = ("planned", "in_progress", "done", "cancelled")


class ImprovementAction(TenantScoped, Base):
    """A barrier of a map turned into work someone owns (cci.foundation.improvement_actions):
    an owner, a due date, a status, and the metric it should move to its target."""

    __tablename__ = "improvement_actions"
    __table_args__ = (
        CheckConstraint(f"status IN {ACTION_STATUSES}", name="status"),
        Index("ix_improvement_actions_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    map_version_id: Mapped[int] = mapped_column(ForeignKey("journey_map_versions.id"),
                                                index=True)
    stage_key: Mapped[str] = mapped_column(String(64))
    touchpoint_code: Mapped[str] = mapped_column(String(64))
    barrier: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    department: Mapped[str] = mapped_column(String(300), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    metric_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    map_version: Mapped[JourneyMapVersion] = relationship()
class TouchpointAnswer(TenantScoped, Base):
    """One answer of a short touchpoint survey (a CX metric's question: CES after a call, the
    kiosk's exit poll, the rating at the specialist's window, NPS after the result), stored
    through ``cci.collection.touchpoints``: quality flags as for the index survey, and an
    answer with a flag is kept but not counted."""

    __tablename__ = "touchpoint_answers"
    __table_args__ = (
        Index("ix_touchpoint_answers_region_submitted", "region_id", "submitted_at"),
        Index("ix_touchpoint_answers_office_question", "office_id", "question", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: made by the client so that a repeated delivery is recognised; unique across regions
    client_key: Mapped[str] = mapped_column(String(128), unique=True, default=_new_uuid)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    touchpoint: Mapped[str] = mapped_column(String(32))
    #: the question's key (a metric's ``CxQuestion.key``)
    question: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(SmallInteger)
    channel: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quality_flags: Mapped[list[Any]] = mapped_column(default=list)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CxCount(TenantScoped, Base):
    """A day's count from an office's (or, without office, the region's) statistics: e-queue
    visits and clients, site visits, pre-registrations, services received. Imported; one row
    per (office, touchpoint, day, kind), so importing again replaces the figure."""

    __tablename__ = "cx_counts"
    __table_args__ = (
        CheckConstraint("count >= 0", name="count"),
        Index("ix_cx_counts_region_day", "region_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    touchpoint: Mapped[str] = mapped_column(String(32))
    day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CxRun(TenantScoped, Base):
    """One computation of every installed CX metric over a period, for a region (its offices
    and the region) or, without a region, for the federation (every level). Versioned like
    index runs: a new computation of the same period is a new run; its values never change."""

    __tablename__ = "cx_runs"
    __tenant_nullable__ = True
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')",
                        name="status"),
        CheckConstraint("period_end > period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    #: the first day after the period
    period_end: Mapped[dt.date] = mapped_column(Date)
    #: the n-th run of this period and scope
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: {code: the metric's definition as computed}: what each value means, kept with it
    definitions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class CxValue(TenantScoped, Base):
    """One metric's value for a touchpoint at a level (office, region, federation) over the
    run's period (``month`` None) or one month of it, with the sums it was read from."""

    __tablename__ = "cx_values"
    __tenant_nullable__ = True
    #: a cell's region and office are copies of its source rows' (which hold the references,
    #: checked when they were stored): a federal run writes a hundred thousand cells, and a
    #: foreign-key check each on region and office was most of what storing them cost
    __tenant_reference__ = False
    __table_args__ = (Index("ix_cx_values_run_metric", "run_id", "metric", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the run's id, unchecked for the same reason: a run's cells are written once, by the
    #: run's own job in the transaction that holds the run, and runs are never deleted
    run_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(10))  # office | region | federation
    office_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    touchpoint: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(16))
    definition_version: Mapped[str] = mapped_column(String(16), default="1")
    month: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    n: Mapped[float] = mapped_column(Float, default=0.0)
    numerator: Mapped[float] = mapped_column(Float, default=0.0)
    squares: Mapped[float] = mapped_column(Float, default=0.0)
    negatives: Mapped[float] = mapped_column(Float, default=0.0)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    insufficient: Mapped[bool] = mapped_column(Boolean, default=False)


class CxTarget(TenantScoped, Base):
    """A region's target for a metric, at one touchpoint or (``touchpoint`` "") at all."""

    __tablename__ = "cx_targets"
    __table_args__ = (UniqueConstraint("region_id", "metric", "touchpoint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(16))
    touchpoint: Mapped[str] = mapped_column(String(32), default="")
    target: Mapped[float] = mapped_column(Float)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CxImport(TenantScoped, Base):
    """An uploaded CSV/XLSX of day counts (e-queue and visit statistics, site funnel counts,
    quality-checklist points) for the CX metrics, kept for the job that reads it, and what
    importing it did: counts, or the row errors when nothing was stored."""

    __tablename__ = "cx_imports"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    #: rows, created, updated, errors ([{"row", "column", "message", "text"}])
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


COMPLAINT_CHANNELS = ("book", "email", "site", "head_phone")


class CxComplaint(TenantScoped, Base):
    """A complaint registered by staff (the book of complaints, e-mail, the site, a call to the
    head) with its topic: the map's «анализ жалоб». No personal data: the gist, not the
    complainant."""

    __tablename__ = "cx_complaints"
    __table_args__ = (
        CheckConstraint(f"channel IN {COMPLAINT_CHANNELS}", name="channel"),
        Index("ix_cx_complaints_region_received", "region_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    touchpoint: Mapped[str | None] = mapped_column(String(32), nullable=True)
    topic: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationDigest(TenantScoped, Base):
    """The daily e-mail of a user's unread notifications, one per user and local day: its row
    is written before the e-mail is sent, so a second worker finds the day taken."""

    __tablename__ = "notification_digests"
    __tenant_nullable__ = True  # a federal user's digest has no region
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: the day in the user's time zone (their region's; Moscow for federal users)
    day: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Notification(TenantScoped, Base):
    """One event for one user (cci.foundation.notifications): a new case, an action due, a
    metric turned red. Of the event's region, also when its reader is a federal analyst; one
    row per user, kind and subject, so an event told twice is stored once."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "subject"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: what the event is about, the same each time it is told (an action and its due date)
    subject: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    #: the subject's page, a path within the platform
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_digests.id", ondelete="SET NULL"), nullable=True)
CASE_STATUSES = ("new", "in_progress", "answered", "closed")
CASE_SOURCES = ("response", "touchpoint")


class Case(TenantScoped, Base):
    """A respondent's comment or low rating the office owes an answer
    (cci.collection.cases): one per source row (an index survey's response, a touchpoint
    answer), with the comment and rating copied from it, its themes, who works on it, the
    answer and when it was closed."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id"),
        CheckConstraint(f"status IN {CASE_STATUSES}", name="status"),
        CheckConstraint(f"source_kind IN {CASE_SOURCES}", name="source_kind"),
        Index("ix_cases_region_status", "region_id", "status", "office_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    #: the touchpoint survey's touchpoint and question; None for the index survey
    touchpoint: Mapped[str | None] = mapped_column(String(32), nullable=True)
    question: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: the rating on the question's scale (``scale_low``..``scale_high``); None: no rating
    rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    scale_low: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    scale_high: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    #: as the respondent wrote it; masked wherever it is shown
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: when the respondent answered (the source's submission)
    received_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    #: when the answer was e-mailed to the respondent's contact (None: no contact)
    reply_sent_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    office: Mapped[Office] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class CaseTheme(TenantScoped, Base):
    """A theme of a case's comment (cci.collection.comment_themes), written with the case, so
    that the closed cases are counted by theme with a GROUP BY."""

    __tablename__ = "case_themes"
    __tenant_reference__ = False  # the case holds the region's reference
    __table_args__ = (UniqueConstraint("case_id", "theme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(32))


class CaseContact(TenantScoped, Base):
    """The e-mail address a respondent left, with explicit consent, to be answered: kept
    apart from the answers (never in answers, exports or the API), used once to send the
    office's answer, and deleted when the case closes (cci.collection.case_contacts)."""

    __tablename__ = "case_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         unique=True)
    email: Mapped[str] = mapped_column(String(254))
    #: the consent's wording as the respondent ticked it, and when
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[dt.datetime] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
class CxCommentTheme(TenantScoped, Base):
    """A theme (cci.collection.comment_themes) of a touchpoint answer's comment or of a
    complaint's topic and gist: the map's «контент-анализ» cells. Written once per source
    (its text never changes), with the office, touchpoint and day copied from it so that the
    map counts themes per touchpoint and period with one GROUP BY."""

    __tablename__ = "cx_comment_themes"
    __table_args__ = (
        UniqueConstraint("source", "source_id", "theme"),
        CheckConstraint("source IN ('answer', 'complaint')", name="source"),
        Index("ix_cx_comment_themes_region_day", "region_id", "touchpoint", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "answer" (touchpoint_answers) or "complaint" (cx_complaints)
    source: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[int] = mapped_column(Integer)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    touchpoint: Mapped[str | None] = mapped_column(String(32), nullable=True)
    day: Mapped[dt.date] = mapped_column(Date)
    theme: Mapped[str] = mapped_column(String(32))
