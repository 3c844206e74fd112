"""API tokens: random, shown once, stored as SHA-256, scoped to the owner's region or federal."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import ApiToken
from cci.foundation.models import User

PREFIX = "cci_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the token text (never stored)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip()[:100] or "token",
        prefix=token[: len(PREFIX) + 6],
        token_hash=_digest(token),
        region_id=user.region_id,
    )
    db.add(row)
    return row, token


def resolve(token: str) -> ApiToken | None:
    """The live token for this text, with its active user; None if unknown or revoked."""
    if not token.startswith(PREFIX):
        return None
    with tenancy.federal_scope("authenticate an API token"):
        row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
        if row is None or row.revoked_at is not None or not row.user.active:
            return None
        row.last_used_at = utcnow()
        db.commit()
    return row


def revoke(row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
