"""The kiosk channel's own tables, on the core's declarative base and tenant rules.

``kiosks``: one row per registered device of an office. The device token and the one-time
pairing code are kept only as SHA-256 hashes; ``revoked_at`` ends a device at once. The device
reports its app version, the length of its offline queue and of its local log of refused
answers with each heartbeat.

``kiosk_rejections``: every survey a kiosk delivered that the server refused as invalid, with
the body as the device sent it, so that no answer is lost unseen (the device drops a refused
answer from its queue).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from cci.plugin_api import Base
from cci.plugin_api import JSONType
from cci.plugin_api import Office
from cci.plugin_api import TenantScoped
from cci.plugin_api import utcnow

NAME_MAX = 100
VERSION_MAX = 40
#: A refused answer's device key as received (valid keys are at most 64 characters).
CLIENT_KEY_MAX = 100
ERROR_MAX = 500
FIELD_MAX = 100


class Kiosk(TenantScoped, Base):
    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    pairing_expires_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    paired_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    app_version: Mapped[str | None] = mapped_column(String(VERSION_MAX), nullable=True)
    queue_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Entries in the device's own log of refused answers (it keeps the last 50).
    rejected_log_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    office: Mapped[Office] = relationship()


class KioskRejection(TenantScoped, Base):
    """A survey delivered by a kiosk and refused as invalid (HTTP 400): nothing of it was
    stored as a response, so this row is the only server-side trace of those answers."""

    __tablename__ = "kiosk_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    #: The device's idempotency key, when the body had one (even an invalid one).
    client_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_MAX), nullable=True)
    #: The delivered JSON as sent (bounded); the body's text when it was not JSON.
    payload: Mapped[Any] = mapped_column(JSONType, nullable=True)
    #: The refusal as the device was told it (Russian) and the field it named.
    error: Mapped[str] = mapped_column(String(ERROR_MAX))
    field: Mapped[str | None] = mapped_column(String(FIELD_MAX), nullable=True)

    kiosk: Mapped[Kiosk] = relationship()
