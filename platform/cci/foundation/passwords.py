"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

import functools
import hashlib
import hmac

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


def session_mark(secret: str, stored_hash: str) -> str:
    """What a login session keeps of the password it was opened with: a keyed digest of the
    hash (never the hash itself, which the session cookie would expose to its bearer). A new
    password changes it, which ends every session opened with the old one."""
    return hmac.new(secret.encode(), stored_hash.encode(), hashlib.sha256).hexdigest()[:32]
