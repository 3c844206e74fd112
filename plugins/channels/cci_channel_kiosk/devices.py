"""Kiosk devices: registration, one-time pairing codes, signed device tokens, revocation.

A regional admin registers a kiosk for an office and gets a short pairing code (valid
:data:`PAIRING_HOURS` hours, usable once). Entering it on the device binds the device: it gets
a long-lived token signed with the app's secret (itsdangerous), of which the server keeps only
the SHA-256. A request from a device is trusted when the token's signature holds, its hash is
the kiosk's current one and the kiosk is not revoked. Registration, pairing and revocation are
audit-logged.

The staff pages and the /api/v1 resources manage kiosks through these functions only, so both
check, change and audit-log alike. ``by`` names the acting user where it is not the session's
(an API token's owner).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from cci.plugin_api import ID_MAX
from cci.plugin_api import Campaign
from cci.plugin_api import Office
from cci.plugin_api import OfficeKey
from cci.plugin_api import Reading
from cci.plugin_api import Region
from cci.plugin_api import db
from cci.plugin_api import federal_scope
from cci.plugin_api import open_campaign
from cci.plugin_api import record_audit
from cci.plugin_api import region_scope
from cci.plugin_api import utcnow

from cci_channel_kiosk.models import NAME_MAX
from cci_channel_kiosk.models import Kiosk

PAIRING_HOURS = 24
#: Short codes people can read and type on a touch screen: digits only, no ambiguity.
CODE_LENGTH = 8
#: The signer's namespace, not a secret (the key is the app's SECRET_KEY).
TOKEN_SALT = "cci-kiosk-device"  # noqa: S105
#: A kiosk whose last heartbeat is older than this is shown offline.
ONLINE_SECONDS = 120


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _code_hash(code: str) -> str:
    # keyed with the app secret: 10^8 codes would be quick to try against a plain hash
    return hmac.new(current_app.config["SECRET_KEY"].encode(), code.encode(),
                    hashlib.sha256).hexdigest()


def normalise_code(text: str | None) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())[:CODE_LENGTH]


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def _new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=TOKEN_SALT)


#: A kiosk's state: registered and waiting for its first pairing, bound to a device, ended.
PENDING, PAIRED, REVOKED = "pending", "paired", "revoked"
STATUSES = (PAIRED, PENDING, REVOKED)


def status(kiosk: Kiosk) -> str:
    if kiosk.revoked_at is not None:
        return REVOKED
    return PAIRED if kiosk.paired_at is not None else PENDING


def listing(office_id: int | None = None, state: str | None = None) -> list[Kiosk]:
    """The kiosks of the current scope (revoked ones last), optionally of one office or in one
    of :data:`STATUSES`."""
    query = select(Kiosk).order_by(Kiosk.revoked_at.is_not(None), Kiosk.id)
    if office_id is not None:
        query = query.where(Kiosk.office_id == office_id)
    if state == REVOKED:
        query = query.where(Kiosk.revoked_at.is_not(None))
    elif state == PAIRED:
        query = query.where(Kiosk.revoked_at.is_(None), Kiosk.paired_at.is_not(None))
    elif state == PENDING:
        query = query.where(Kiosk.revoked_at.is_(None), Kiosk.paired_at.is_(None))
    return list(db.scalars(query))


class RegistrationError(ValueError):
    """A kiosk cannot be registered so; ``field`` is "office_id" or "name"."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def office_for_kiosk(office_id: int) -> Office:
    """The active office a kiosk may be registered for; another region's office does not
    exist in a regional scope."""
    office = db.get(Office, office_id) if 0 < office_id <= ID_MAX else None
    if office is None or not office.active:
        raise RegistrationError("office_id", _("There is no such active office."))
    return office


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise RegistrationError("name", _("Give the kiosk a name."))
    if len(name) > NAME_MAX:
        raise RegistrationError("name", _("The name is too long: at most %(max)d characters.",
                                          max=NAME_MAX))
    return name


def register(office: Office, name: str, created_by_id: int | None,
             by=None) -> tuple[Kiosk, str]:
    """A new kiosk with a fresh pairing code; returns (kiosk, code). Audit-logged; commits.
    Raises :class:`RegistrationError` for an empty or too long name."""
    kiosk = Kiosk(office_id=office.id, region_id=office.region_id, name=clean_name(name),
                  created_by_id=created_by_id)
    db.add(kiosk)
    db.flush()
    code, expires_at = _set_code(kiosk)
    record_audit("kiosk.register", kiosk, user=by, after={
        "office_id": office.id, "name": kiosk.name,
        "pairing_expires_at": expires_at.isoformat()})
    db.commit()
    return kiosk, code


class KioskRevoked(ValueError):
    """A revoked kiosk takes no new pairing code: register a new one."""


def new_pairing_code(kiosk: Kiosk, by=None) -> str:
    """A fresh code for a kiosk (a replaced device, an expired code); audit-logged; commits.
    Raises :class:`KioskRevoked` for a revoked kiosk."""
    if kiosk.revoked_at is not None:
        raise KioskRevoked(kiosk.id)
    code, expires_at = _set_code(kiosk)
    record_audit("kiosk.pairing_code", kiosk, user=by, after={
        "pairing_expires_at": expires_at.isoformat()})
    db.commit()
    return code


def _set_code(kiosk: Kiosk, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A fresh pairing code on the kiosk: (the code, when it expires)."""
    code = _new_code()
    expires_at = (now or utcnow()) + dt.timedelta(hours=PAIRING_HOURS)
    kiosk.pairing_code_hash = _code_hash(code)
    kiosk.pairing_expires_at = expires_at
    return code, expires_at


class PairingError(ValueError):
    """"unknown", "expired" or "revoked"."""


def pair(code_text: str, now: dt.datetime | None = None) -> tuple[Kiosk, str]:
    """Bind the device that typed ``code_text``: returns (kiosk, device token). The code is
    used up and any token issued before stops working. Audit-logged; commits."""
    now = now or utcnow()
    code = normalise_code(code_text)
    if len(code) != CODE_LENGTH:
        raise PairingError("unknown")
    with federal_scope("find a kiosk by its pairing code"):
        kiosk = db.scalar(select(Kiosk).where(Kiosk.pairing_code_hash == _code_hash(code)))
        if kiosk is None:
            raise PairingError("unknown")
        region_id = kiosk.region_id
    with region_scope(region_id, "pair a kiosk"):
        kiosk = db.get(Kiosk, kiosk.id)
        if kiosk is None:  # deleted since the look-up a moment ago
            raise PairingError("unknown")
        if kiosk.revoked_at is not None:
            raise PairingError("revoked")
        if kiosk.pairing_expires_at is None or now >= kiosk.pairing_expires_at:
            raise PairingError("expired")
        token = _serializer(current_app.config["SECRET_KEY"]).dumps(
            {"k": kiosk.id, "n": secrets.token_urlsafe(16)})
        kiosk.token_hash = _sha256(token)
        kiosk.pairing_code_hash = None
        kiosk.pairing_expires_at = None
        kiosk.paired_at = now
        kiosk.last_seen_at = now
        record_audit("kiosk.pair", kiosk, actor=f"kiosk {kiosk.id}",
                     after={"paired_at": now.isoformat()})
        db.commit()
        return kiosk, token


def token_kiosk_id(token: str | None) -> int | None:
    """The kiosk id a correctly signed token names (not yet checked against the database)."""
    if not token or len(token) > 512:
        return None
    return _signed_kiosk_id(current_app.config["SECRET_KEY"], token)


@functools.lru_cache(maxsize=4096)
def _signed_kiosk_id(secret: str, token: str) -> int | None:
    # a device sends its token with every delivery: its signature is checked once per
    # process (a token never changes; whether it is still the kiosk's is the database's say)
    try:
        return int(_serializer(secret).loads(token)["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Device:
    """What a request of a paired kiosk needs to know of it: read with its office and region in
    one statement, without the ORM (every request of a device authenticates)."""

    id: int
    region_id: int
    office_id: int
    office_name: str
    office_active: bool
    timezone: str
    last_seen_at: dt.datetime | None

    def open_campaign(self, moment: dt.datetime) -> Campaign | None:
        """The campaign open in the kiosk's region at the moment
        (:func:`cci.collection.intake.open_campaign`)."""
        return open_campaign(self.region_id, self.timezone, moment)

    def office_key(self) -> OfficeKey:
        """The office, as :func:`cci.collection.intake.submit` takes it in ``known`` (not read
        again)."""
        return OfficeKey(self.office_id, self.region_id, self.office_active)


def _device_query():
    # built once, with a bound parameter: every request of every device runs it
    k, o, r = Kiosk.__table__, Office.__table__, Region.__table__
    return (select(k.c.id, k.c.region_id, k.c.office_id, o.c.name, o.c.active, r.c.timezone,
                   k.c.last_seen_at, k.c.revoked_at, k.c.token_hash)
            .join_from(k, o, o.c.id == k.c.office_id).join(r, r.c.id == k.c.region_id)
            .where(k.c.id == bindparam("kiosk_id")))


_DEVICE = _device_query()


def device(token: str | None, kiosk_id: int | None = None) -> tuple[Device | None, str]:
    """The kiosk a device token belongs to and its state: ("ok" | "unknown" | "revoked").
    ``kiosk_id``: what :func:`token_kiosk_id` returned for the token, if the caller has read
    it.

    Runs in the federal scope for the look-up only; the caller enters the kiosk's region."""
    if not token:  # whatever ``kiosk_id`` says, no token is no device
        return None, "unknown"
    if kiosk_id is None:
        kiosk_id = token_kiosk_id(token)
    if kiosk_id is None or not 0 < kiosk_id <= ID_MAX:
        return None, "unknown"
    with federal_scope("find a kiosk by its device token"):
        row = db.execute(_DEVICE, {"kiosk_id": kiosk_id}).first()
    if row is None:
        return None, "unknown"
    found = Device(*row[:7])
    if row.revoked_at is not None:
        return found, "revoked"
    if row.token_hash is None or not hmac.compare_digest(row.token_hash, _sha256(token)):
        return None, "unknown"  # re-paired since: the old device is no longer this kiosk
    return found, "ok"


def revoke(kiosk: Kiosk, now: dt.datetime | None = None, by=None) -> None:
    """End the kiosk at once (its token and any pending code stop working); audit-logged.
    Revoking a revoked kiosk changes and logs nothing."""
    if kiosk.revoked_at is not None:
        return
    now = now or utcnow()
    kiosk.revoked_at = now
    kiosk.pairing_code_hash = None
    kiosk.pairing_expires_at = None
    record_audit("kiosk.revoke", kiosk, user=by, after={"revoked_at": now.isoformat()})
    db.commit()


def is_online(kiosk: Kiosk, now: dt.datetime | None = None) -> bool:
    if kiosk.revoked_at is not None or kiosk.last_seen_at is None:
        return False
    return ((now or utcnow()) - kiosk.last_seen_at).total_seconds() <= ONLINE_SECONDS


def readings(now: dt.datetime | None = None) -> list[Reading]:
    """The metrics endpoint's gauges, per region: kiosks online (heard from within
    :data:`ONLINE_SECONDS`) and the answers waiting in kiosks' offline queues, as each paired
    kiosk last reported them (answers stored by the server never wait: they are stored in the
    request that delivers them)."""
    now = now or utcnow()
    k, r = Kiosk.__table__, Region.__table__
    online = func.sum(case((k.c.last_seen_at >= now - dt.timedelta(seconds=ONLINE_SECONDS), 1),
                           else_=0))
    rows = db.execute(
        select(r.c.code, online, func.coalesce(func.sum(k.c.queue_length), 0))
        .join_from(k, r, r.c.id == k.c.region_id)
        .where(k.c.revoked_at.is_(None), k.c.paired_at.is_not(None))
        .group_by(r.c.code)).all()
    out = []
    for code, count, waiting in rows:
        out.append(Reading("cci_kiosks_online",
                           f"Kiosks heard from within {ONLINE_SECONDS} s, by region",
                           int(count or 0), {"region": code}))
        out.append(Reading("cci_kiosk_answers_waiting",
                           "Answers in kiosks' offline queues as the kiosks last reported "
                           "them, by region", int(waiting or 0), {"region": code}))
    return out
