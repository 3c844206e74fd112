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
it. Only digests of the e-mail and the address are stored. Other requests bounded per account
and address, password-reset e-mails, are counted here too, under keys of their own
(:func:`count_request`).
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


def _wait(keys: tuple[str, ...], bounds: tuple[int, ...], now: dt.datetime,
          window: dt.timedelta, strict: bool) -> int:
    """Seconds until an attempt under these keys is allowed; 0 if it is. The first keys have
    the ``bounds``, the rest none. ``strict``: the attempt itself is among those counted
    (after its insert), so reaching the bound is not over it."""
    bounded = keys[:len(bounds)]
    counts = _counts(bounded, now - window)
    wait = 0.0
    for key, bound in zip(bounded, bounds, strict=True):
        n, oldest = counts.get(key, (0, now))
        if n > bound or (not strict and n >= bound):
            wait = max(wait, (oldest + window - now).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else 0


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])


def _count(keys: tuple[str, ...], bounds: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Count one attempt under each of ``keys`` (committed) unless one is already at its
    bound (the first keys have the ``bounds``, the rest none); (the rows' ids, seconds to
    wait: 0 when the attempt may go on)."""
    window = _window()
    now = utcnow()
    # Already over: refuse without counting, so a flood adds no rows.
    wait = _wait(keys, bounds, now, window, strict=False)
    if wait:
        return (), wait
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - window))
    rows = [LoginAttempt(key=key, at=now) for key in keys]
    db.add_all(rows)
    db.commit()
    return tuple(row.id for row in rows), _wait(keys, bounds, utcnow(), window, strict=True)


def begin(email: str, address: str | None) -> Attempt:
    """Count an attempt to log in as ``email`` from ``address`` (committed), before its
    password is checked; ``refused`` when over a limit. The attempt counts as failed until
    :func:`succeeded` says otherwise."""
    email = email.strip().lower()
    address = address or "-"
    keys = (_key("account+address", email, address), _key("address", address),
            _key("account", email))
    # the account's own key is counted (for login codes) but not bounded
    ids, wait = _count(keys, _limits())
    return Attempt(keys, ids, wait)


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
    window = _window()
    return db.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.key == attempt.keys[2], LoginAttempt.failed,
            LoginAttempt.at >= utcnow() - window, LoginAttempt.id.not_in(attempt.ids))) or 0


def forget_failures(email: str, address: str | None) -> None:
    """Forget the failed logins to ``email`` from ``address`` (committed by the caller): its
    owner proved who they are another way (a password-reset link), so the guesses they made
    before it do not keep them waiting."""
    key = _key("account+address", email.strip().lower(), address or "-")
    db.execute(delete(LoginAttempt).where(LoginAttempt.key == key))


def count_request(kind: str, email: str, address: str | None, per_account: int) -> int:
    """Count a request of ``kind`` (a password-reset e-mail, say) for ``email`` from
    ``address`` (committed), whether or not such an account exists, and return the seconds
    to wait before another (0: this one may go on). Bounds within the login-throttling
    window: ``per_account`` requests for one e-mail from any addresses, ten times as many
    from one address for any e-mails."""
    email = email.strip().lower()
    keys = (_key(kind, "account", email), _key(kind, "address", address or "-"))
    _ids, wait = _count(keys, (per_account, per_account * ADDRESS_FACTOR))
    return wait
