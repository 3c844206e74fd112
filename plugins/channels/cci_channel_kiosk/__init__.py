"""The office kiosk channel: a touch screen in an office, paired with a one-time code, that
runs the questionnaire in the browser and keeps taking answers offline, delivering each once
when the connection returns; staff pages list the kiosks (online/offline by heartbeat, queued
answers, answers the server refused) and revoke them, and show the refused answers; the same
management is in the bearer-token API under /api/v1/kiosks (:mod:`.admin_api`).

Registered through the ``cci.channels`` entry point ``kiosk``; the core knows it only as a
:class:`cci.collection.channels.Channel`. The questionnaire's steps and texts are the core's
(:mod:`cci.collection.survey`), the answers are stored through :func:`cci.collection.intake.submit`.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from cci.plugin_api import AuditObject
from cci.plugin_api import AuditVocabulary
from cci.plugin_api import Channel
from cci.plugin_api import hookimpl

from cci_channel_kiosk import devices
from cci_channel_kiosk import models  # noqa: F401 - registers the kiosks tables
from cci_channel_kiosk.admin_api import SCHEMAS
from cci_channel_kiosk.admin_api import bp as admin_api_bp
from cci_channel_kiosk.exit_poll import exit_poll as _exit_poll_view  # noqa: F401 - its routes
from cci_channel_kiosk.public import API_PREFIX
from cci_channel_kiosk.public import KEY
from cci_channel_kiosk.public import URL_PREFIX
from cci_channel_kiosk.public import api_bp
from cci_channel_kiosk.public import bp
from cci_channel_kiosk.staff import STAFF_PREFIX
from cci_channel_kiosk.staff import staff_bp

LABEL = "Киоск в офисе"
#: What a kiosk response's ``meta`` holds (see :func:`cci_channel_kiosk.public.parse_submission`).
METADATA_FIELDS = (
    "device_id",      # the kiosk's id (bursts per kiosk, office hours)
    "app_version",    # the kiosk script's version
    "timings",        # {step key: seconds spent on it}, measured on the device
    "session",        # the device-made idempotency key
    "ip_hash",        # salted SHA-256 of the delivering address
    "user_agent",
    "staff_session",  # always False: the endpoint refuses staff sessions
    "delivered_at",   # when the server received it (answers queued offline arrive later)
    "verified",       # False: a kiosk answer is not tied to a visit
)



def describe_source(response) -> list[tuple[str, str]]:
    """The kiosk that took the answer, by its name, and its app's version."""
    from cci.plugin_api import db

    from cci_channel_kiosk.models import Kiosk

    meta = response.meta or {}
    device = meta.get("device_id")
    kiosk = db.get(Kiosk, device) if isinstance(device, int) else None
    lines = [(str(_l("Kiosk")), kiosk.name if kiosk is not None else f"№{device}")]
    if meta.get("app_version"):
        lines.append((str(_l("App version")), str(meta["app_version"])))
    return lines


CHANNEL = Channel(
    key=KEY,
    label=LABEL,
    describe_source=describe_source,
    blueprints=((bp, URL_PREFIX), (api_bp, API_PREFIX), (staff_bp, STAFF_PREFIX)),
    api_blueprints=(admin_api_bp,),
    metadata_fields=METADATA_FIELDS,
    description="Сенсорный экран в офисе: привязка одноразовым кодом, работа без сети, "
                "доставка каждого ответа ровно один раз",
    region_links=((_l("Kiosks"), "kiosk_staff.index"),),
)


@hookimpl
def register_channels():
    return [CHANNEL]


@hookimpl
def register_migrations():
    # the branch of this channel's tables (Alembic revisions inside the package)
    return Path(__file__).parent / "migrations" / "versions"


@hookimpl
def register_api_schemas():
    return SCHEMAS


@hookimpl
def register_audit_vocabulary():
    from flask import url_for

    from cci_channel_kiosk.models import Kiosk

    def kiosk_url(kiosk):
        return url_for("kiosk_staff.index", region_code=kiosk.office.region.code)

    return AuditVocabulary(
        actions={"kiosk.register": _l("Kiosk registered"),
                 "kiosk.pairing_code": _l("Kiosk pairing code issued"),
                 "kiosk.pair": _l("Kiosk paired"),
                 "kiosk.revoke": _l("Kiosk revoked")},
        objects={"Kiosk": AuditObject(_l("Kiosk"), Kiosk,
                                      lambda k: f"{k.name} · {k.office.name}", kiosk_url)},
        fields={"pairing_expires_at": _l("Pairing code valid until"),
                "paired_at": _l("Paired at"), "revoked_at": _l("Revoked at")},
        # a kiosk acts as itself when it pairs (devices.pair: actor «kiosk <id>»)
        actors={"kiosk": lambda number: _l("kiosk №%(number)s", number=number)},
    )


@hookimpl
def report_metrics():
    return devices.readings()
