"""A one-time code by e-mail, the second step of a login while the account is guessed at.

When an account has had ``LOGIN_CODE_AFTER_FAILURES`` failed logins within the throttling
window, from whatever addresses, the right password alone no longer opens it from a browser
it was not used in: a six-digit code is e-mailed to the account's address, valid for
``CODE_MINUTES`` and for ``CODE_ATTEMPTS`` tries. The account is never locked: its owner logs
in as usual from a browser they logged in with before (a signed cookie says so), and from a
new one with the code. A stranger who has no password never triggers an e-mail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from flask import request
from flask_babel import gettext as _
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from werkzeug.wrappers import Response

from cci.foundation import mail
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import LoginCode
from cci.foundation.models import User

CODE_MINUTES = 10
CODE_ATTEMPTS = 5
#: the cookie naming the accounts that logged in with this browser
KNOWN_COOKIE = "cci_known"
KNOWN_SECONDS = 365 * 24 * 3600
KNOWN_MAX_ACCOUNTS = 10


def _digest(code: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="cci-known-browser")


def _known_ids() -> list[int]:
    try:
        ids = _serializer().loads(request.cookies.get(KNOWN_COOKIE, ""))
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def is_known_browser(user: User) -> bool:
    return user.id in _known_ids()


def remember_browser(response: Response, user: User) -> None:
    ids = [user.id, *(i for i in _known_ids() if i != user.id)][:KNOWN_MAX_ACCOUNTS]
    response.set_cookie(KNOWN_COOKIE, _serializer().dumps(ids), max_age=KNOWN_SECONDS,
                        httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


def needed(user: User, failures: int) -> bool:
    """Whether this login of ``user`` (the password was right) needs a code."""
    return failures >= current_app.config["LOGIN_CODE_AFTER_FAILURES"] and not (
        is_known_browser(user))


def issue(user: User) -> int:
    """E-mail a new code to ``user`` (their earlier codes end); returns the code's id, for the
    login's session. Raises :class:`cci.foundation.mail.MailError` when it cannot be sent."""
    code = f"{secrets.randbelow(10**6):06d}"
    with tenancy.federal_scope("issue a login code"):
        db.execute(delete(LoginCode).where(LoginCode.user_id == user.id))
        row = LoginCode(user_id=user.id, code_hash=_digest(code), region_id=user.region_id,
                        expires_at=utcnow() + dt.timedelta(minutes=CODE_MINUTES))
        db.add(row)
        db.commit()
    mail.send(user.email, _("Login code: %(code)s", code=code), _(
        "Someone, perhaps you, entered the right password of your account from a browser it "
        "was not used in, while the account's password was being guessed at. To log in, "
        "enter the code %(code)s; it is valid for %(n)d minutes. If it was not you, change "
        "your password.", code=code, n=CODE_MINUTES))
    return row.id


def redeem(code_id: int | None, code: str) -> User | None:
    """The user whose live code ``code_id`` is ``code``; the code is used up. A try counts
    (committed) before the code is compared, so a code allows ``CODE_ATTEMPTS`` tries at most
    however many arrive at once."""
    if code_id is None:
        return None
    with tenancy.federal_scope("redeem a login code"):
        counted = db.execute(  # type: ignore[attr-defined] # an UPDATE's CursorResult
            update(LoginCode)
            .where(LoginCode.id == code_id, LoginCode.attempts < CODE_ATTEMPTS,
                   LoginCode.expires_at > utcnow())
            .values(attempts=LoginCode.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        db.commit()
        if not counted:
            return None
        row = db.scalar(select(LoginCode).where(LoginCode.id == code_id))
        if row is None or not hmac.compare_digest(row.code_hash, _digest(code.strip())):
            return None
        user = row.user
        db.delete(row)
        return user if user.active else None
