"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

import functools

from argon2 import Parameters
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 10


def use_parameters(parameters: Parameters) -> None:
    """Change the cost of hashing (the test suite uses argon2's cheapest profile)."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)
    dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so timing reveals nothing."""
    return _hasher.hash("not-a-real-password")


def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (from leaked password sets),
    lower-cased: a password found there is guessed first."""
    return _common_passwords()


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def policy_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` may not be set (a message for people), or None. Applied wherever a
    password is set: created, changed or reset."""
    from flask_babel import gettext as _

    if len(password) < MIN_LENGTH:
        return _("The password must be at least %(n)d characters long.", n=MIN_LENGTH)
    lowered = password.lower()
    local_part = email.strip().lower().partition("@")[0]
    if lowered in common_passwords() or len(set(lowered)) < 4:
        return _("This password is too easy to guess; choose another.")
    if email and (lowered == email.strip().lower() or (len(local_part) >= 4
                                                       and local_part in lowered)):
        return _("The password must not contain the e-mail address.")
    return None
