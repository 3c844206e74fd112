"""The channel's own table: per office, the answers received through its QR code."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from cci.plugin_api import Base
from cci.plugin_api import TenantScoped


class QrFeedbackOffice(TenantScoped, Base):
    __tablename__ = "qr_feedback_offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), unique=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    last_answer_at: Mapped[dt.datetime | None]
