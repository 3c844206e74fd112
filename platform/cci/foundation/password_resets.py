"""Password-reset links: one-time, expiring, stored hashed.

A link carries a random token (256 bits); the database keeps its SHA-256, so a copy of the
table opens nothing. A link works once, for ``PASSWORD_RESET_MINUTES``, and only while the
password it was issued against is still the account's: issuing a newer link deletes the older
ones, using it deletes it, and a change of the password by any path (the account page, another
link) leaves its stamp behind. Setting the new password ends every login session of the
account. An expired link is kept a day, so its owner reads that it expired rather than that it
never existed, then deleted.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

from cci.foundation import login_sessions
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import rows_updated
from cci.foundation.db import utcnow
from cci.foundation.models import PasswordReset
from cci.foundation.models import User
from cci.foundation.passwords import hash_password

#: How long an expired link is remembered as expired (then it reads as unknown).
KEEP_EXPIRED = dt.timedelta(days=1)
#: The longest token a URL may carry (token_urlsafe(32) is 43 characters).
TOKEN_MAX_LENGTH = 64


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"  # unknown, used, replaced by a newer link, or the password changed


def new_token() -> str:
    return secrets.token_urlsafe(32)


def lifetime() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _stamp(user: User) -> str:
    """What the link is bound to: a digest of the password hash it replaces."""
    return _digest(user.password_hash)


def store(user: User, token: str) -> PasswordReset:
    """Keep ``token`` as ``user``'s one live link (committed by the caller): their earlier
    links end, and links expired longer than a day ago are deleted on the way."""
    now = utcnow()
    with tenancy.federal_scope("issue a password-reset link"):
        db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
        db.execute(delete(PasswordReset).where(PasswordReset.expires_at < now - KEEP_EXPIRED))
        row = PasswordReset(user_id=user.id, token_hash=_digest(token),
                            password_stamp=_stamp(user), region_id=user.region_id,
                            created_at=now, expires_at=now + lifetime())
        db.add(row)
    return row


def look_up(token: str) -> tuple[LinkState, User | None]:
    """What the link of ``token`` is worth now, and whose it is while it is valid."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return LinkState.INVALID, None
    with tenancy.federal_scope("read a password-reset link"):
        row = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == _digest(token)))
        if row is None:
            return LinkState.INVALID, None
        user = row.user
        if not user.active or row.password_stamp != _stamp(user):
            return LinkState.INVALID, None
        if row.expires_at <= utcnow():
            return LinkState.EXPIRED, None
        return LinkState.VALID, user


def redeem(token: str, new_password: str) -> User | None:
    """Set ``new_password`` with the link of ``token`` (committed by the caller) and end every
    login session of the account; None when the link is not valid (any more). Of any number of
    simultaneous uses of one link, exactly one sets the password: the link is deleted, and the
    deletion counted, before the password changes."""
    state, user = look_up(token)
    if state is not LinkState.VALID or user is None:
        return None
    with tenancy.federal_scope("use a password-reset link"):
        taken = rows_updated(db.execute(
            delete(PasswordReset).where(PasswordReset.token_hash == _digest(token),
                                        PasswordReset.password_stamp == _stamp(user),
                                        PasswordReset.expires_at > utcnow())
            .execution_options(synchronize_session=False)))
        if taken != 1:
            return None
        db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
        user.password_hash = hash_password(new_password)
        user.password_must_change = False
        login_sessions.end_all(user)
    return user
