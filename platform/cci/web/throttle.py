"""Login throttling: attempts per account from one address, and per address, in a moving window,
counted in the database before the password is checked.

Counting before the check, and committing the count before reading it back, is what makes the
limit hold under concurrency: of any number of simultaneous attempts, the k-th to commit sees
at least k attempts, so no more than the limit ever reach the password check. The attempts are
limited per account *and address*, never per account alone: a stranger who guesses a password
locks out their own address, not the account's owner, who logs in from another one. The
account's failures from every address are counted too, not to lock it but to ask for a code by
e-mail from a browser the account was not used in (cci.web.login_codes) once someone guesses at
it from many addresses. The address has a bound of its own (ten accounts' worth: an office
shares one address) against guessing many accounts from one place. The database, not Redis,
keeps the count: logging in must work while Redis is down, and a login is rare enough to afford
it. Only digests of the e-mail and the address are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import LoginAttempt

# One office often shares one address, so the per-address bound is ten accounts' worth.
ADDRESS_FACTOR = 10


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: ``wait`` seconds to wait when refused (0 when it may go on)."""

    keys: tuple[str, str, str]  # (account and address, address, account)
    ids: tuple[int, ...]
    wait: int

    @property
    def refused(self) -> bool:
        return self.wait > 0


def _key(*parts: str) -> str:
    # keyed with the secret: the digest of an address or e-mail cannot be looked up by brute
    # force over the few addresses there are without it
    secret = current_app.config["SECRET_KEY"]
    return hashlib.sha256("\x1f".join((secret, *parts)).encode()).hexdigest()


def _limits() -> tuple[int, int]:
    failures = current_app.config["LOGIN_MAX_FAILURES"]
    return failures, failures * ADDRESS_FACTOR


def _counts(keys: tuple[str, ...], since: dt.datetime) -> dict[str, tuple[int, dt.datetime]]:
    """{key: (failed attempts since ``since``, the oldest of them)}."""
    rows = db.execute(
        select(LoginAttempt.key, func.count(), func.min(LoginAttempt.at))
        .where(LoginAttempt.key.in_(keys), LoginAttempt.at >= since, LoginAttempt.failed)
        .group_by(LoginAttempt.key)
    ).all()
    return {key: (n, oldest) for key, n, oldest in rows}


def _wait(keys: tuple[str, str, str], now: dt.datetime, window: dt.timedelta,
          strict: bool) -> int:
    """Seconds until an attempt under these keys is allowed; 0 if it is. ``strict``: the
    attempt itself is among those counted (after its insert), so reaching the bound is not
    over it."""
    counts = _counts(keys[:2], now - window)
    wait = 0.0
    for key, bound in zip(keys[:2], _limits(), strict=True):
        n, oldest = counts.get(key, (0, now))
        if n > bound or (not strict and n >= bound):
            wait = max(wait, (oldest + window - now).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else 0


def begin(email: str, address: str | None) -> Attempt:
    """Count an attempt to log in as ``email`` from ``address`` (committed), before its
    password is checked; ``refused`` when over a limit. The attempt counts as failed until
    :func:`succeeded` says otherwise."""
    email = email.strip().lower()
    address = address or "-"
    keys = (_key("account+address", email, address), _key("address", address),
            _key("account", email))
    window = dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    now = utcnow()
    # Already over: refuse without counting, so a flood adds no rows.
    wait = _wait(keys, now, window, strict=False)
    if wait:
        return Attempt(keys, (), wait)
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - window))
    rows = [LoginAttempt(key=key, at=now) for key in keys]
    db.add_all(rows)
    db.commit()
    wait = _wait(keys, utcnow(), window, strict=True)
    return Attempt(keys, tuple(row.id for row in rows), wait)


def succeeded(attempt: Attempt) -> None:
    """The password was right: the account's failures from this address are forgotten and
    this attempt does not count against the address (committed by the caller)."""
    db.execute(delete(LoginAttempt).where(LoginAttempt.key == attempt.keys[0]))
    if attempt.ids:
        db.execute(update(LoginAttempt).where(LoginAttempt.id.in_(attempt.ids))
                   .values(failed=False))


def account_failures(attempt: Attempt) -> int:
    """Failed attempts on the attempt's account from any address within the window, this one
    not included: how hard the account is being guessed at."""
    window = dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    return db.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.key == attempt.keys[2], LoginAttempt.failed,
            LoginAttempt.at >= utcnow() - window, LoginAttempt.id.not_in(attempt.ids))) or 0
