"""The contact-centre channel: an operator console for surveys by phone and call outcomes,
the auditors' «mystery call» checklist, and the telephony statistics with the contact-centre
figures (AHT, ASA, abandonment, service level 80/20, FCR, escalation, transfers).

Registered through the ``cci.channels`` entry point ``contact_center``; the core knows it only as a
:class:`cci.collection.channels.Channel`. Its tables (``contact_calls``, ``telephony_stats``,
``telephony_imports``) live in :mod:`cci_channel_contact.models` on the core's declarative
base, and are created by the channel's own Alembic branch ``contact_center``
(``migrations/versions/``). Its job ``contact_center.telephony_import`` reads uploaded files.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from cci.plugin_api import AuditObject
from cci.plugin_api import AuditVocabulary
from cci.plugin_api import Channel
from cci.plugin_api import hookimpl

from cci_channel_contact import models  # noqa: F401 - registers the tables on the metadata
from cci_channel_contact import telephony
from cci_channel_contact import views
from cci_channel_contact.blueprint import URL_PREFIX
from cci_channel_contact.blueprint import bp

KEY = "contact_center"
LABEL = "Контакт-центр"
METADATA_FIELDS = ("operator_id", "call_id", "session")



def describe_source(response) -> list[tuple[str, str]]:
    """The operator who took the call, by name, and the call's number."""
    from cci.plugin_api import User
    from cci.plugin_api import db

    meta = response.meta or {}
    operator_id = meta.get("operator_id")
    operator = db.get(User, operator_id) if isinstance(operator_id, int) else None
    lines = []
    if operator is not None:
        lines.append((str(_l("Operator")), operator.full_name or operator.email))
    if meta.get("call_id"):
        lines.append((str(_l("Call")), f"№{meta['call_id']}"))
    return lines


CHANNEL = Channel(
    key=KEY,
    label=LABEL,
    describe_source=describe_source,
    blueprints=((bp, URL_PREFIX),),
    metadata_fields=METADATA_FIELDS,
    region_links=((_l("Contact centre"), "contact_center.index"),),
    description="Опрос по телефону в консоли оператора, исход звонка, «тайный звонок» и "
                "статистика телефонии",
)

__all__ = ["CHANNEL", "KEY", "views"]


@hookimpl
def register_channels():
    return [CHANNEL]


@hookimpl
def register_jobs():
    # a telephony file is read in the background, within the core's bounds
    return {telephony.JOB: telephony.import_job}


@hookimpl
def register_migrations():
    # the branch of this channel's tables (Alembic revisions inside the package)
    return Path(__file__).parent / "migrations" / "versions"


@hookimpl
def load_sample_data(region, offices, start, end, seed, staff):
    # its own tables: a quarter of calls and telephony days for `cci sample load`
    from cci_channel_contact import sample

    return sample.load(region, offices, start, end, seed, staff)


@hookimpl
def register_audit_vocabulary():
    return AuditVocabulary(
        actions={"telephony.import": _l("Telephony statistics imported")},
        objects={"TelephonyStat": AuditObject(_l("Telephony statistics file"))},
        fields={"filename": _l("File"), "unchanged": _l("Unchanged"),
                "first_day": _l("First day"), "last_day": _l("Last day")},
    )
