"""The kiosk channel's own table, on the core's declarative base and tenant rules.

``kiosks``: one row per registered device of an office. The device token and the one-time
pairing code are kept only as SHA-256 hashes; ``revoked_at`` ends a device at once. The device
reports its app version and the length of its offline queue with each heartbeat.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from cci.db import Base
from cci.db import utcnow
from cci.models import Office
from cci.tenancy import TenantScoped

NAME_MAX = 100
VERSION_MAX = 40


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
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    office: Mapped[Office] = relationship()
