"""Staff login sessions kept on the server.

The session cookie holds a random key; the database keeps its SHA-256 (a copy of the table
opens no session). Ending a session deletes its row, so a copy of the cookie taken before
logging out, before "log out everywhere", before a password change or deactivation, or left
idle longer than the timeout, opens nothing any more. Kiosks are devices with tokens of their
own (the kiosk channel), not login sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import LoginSession
from cci.foundation.models import User

#: How stale ``last_seen_at`` may get before a request refreshes it: one write a minute per
#: session at most, and the idle timeout is exact to within this.
TOUCH_EVERY = dt.timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(user: User, idle: dt.timedelta) -> str:
    """Add a session of ``user`` to the transaction (the caller commits); returns its key,
    for the cookie only. The user's sessions idle past ``idle`` are deleted on the way."""
    with tenancy.federal_scope("open a login session"):
        db.execute(delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.last_seen_at < utcnow() - idle))
        key = secrets.token_urlsafe(32)
        db.add(LoginSession(user_id=user.id, key_hash=_digest(key), region_id=user.region_id))
    return key


def resolve(key: str | None, user_id: int, idle: dt.timedelta) -> User | None:
    """The active user of the live session ``key`` if it is ``user_id``'s; None otherwise. A
    session idle past ``idle`` is ended here; a live one is marked seen."""
    if not key:
        return None
    with tenancy.federal_scope("load the logged-in user"):
        # the session and its user in one round trip: this runs on every staff request
        row = db.scalar(select(LoginSession).options(joinedload(LoginSession.user))
                        .where(LoginSession.key_hash == _digest(key)))
        if row is None or row.user_id != user_id:
            return None
        now = utcnow()
        if now - row.last_seen_at > idle:
            db.delete(row)
            db.commit()
            return None
        if not row.user.active:
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            db.commit()
        return row.user


def end(key: str | None) -> None:
    """End one session (logging out); committed by the caller."""
    if key:
        with tenancy.federal_scope("end a login session"):
            db.execute(delete(LoginSession).where(LoginSession.key_hash == _digest(key)))


def end_all(user: User, keep: str | None = None) -> None:
    """End every session of ``user`` but ``keep`` (a password change keeps the session that
    made it); committed by the caller."""
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep:
        statement = statement.where(LoginSession.key_hash != _digest(keep))
    with tenancy.federal_scope("end a user's login sessions"):
        db.execute(statement)


def count(user: User, idle: dt.timedelta) -> int:
    """How many live sessions ``user`` has (this one included)."""
    with tenancy.federal_scope("count a user's login sessions"):
        return db.scalar(select(func.count()).select_from(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.last_seen_at >= utcnow() - idle)) or 0
