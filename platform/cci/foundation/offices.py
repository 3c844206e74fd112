"""Offices as a regional administrator keeps them in the interface: one path for adding an
office, changing it (name, address, type, opening hours, a time zone of its own) and switching
it off or on, validated and audited. The tenants files stay the operator's bulk path
(:mod:`cci.foundation.tenants_sync`); an office changed here is marked, and a sync keeps it
and says so rather than undoing the change."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from cci.foundation import audit
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import OFFICE_KINDS
from cci.foundation.models import Office
from cci.foundation.models import Region

OFFICE_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
#: what a person may change; the code names the office in files, imports and exports
EDITABLE = ("name", "address", "kind", "opens", "closes", "timezone")
AUDITED = ("code", *EDITABLE, "active")
NAME_MAX, ADDRESS_MAX = 300, 500


class OfficeError(ValueError):
    """An office that cannot be saved as asked; ``field`` names the form's field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """The editable fields, checked; raises :class:`OfficeError` naming the first bad one."""
    name = (values.get("name") or "").strip()
    if not name:
        raise OfficeError("name", _("Give the office's name."))
    if len(name) > NAME_MAX:
        raise OfficeError("name", _("At most %(max)d characters.", max=NAME_MAX))
    address = (values.get("address") or "").strip()
    if len(address) > ADDRESS_MAX:
        raise OfficeError("address", _("At most %(max)d characters.", max=ADDRESS_MAX))
    kind = values.get("kind") or "branch"
    if kind not in OFFICE_KINDS:
        raise OfficeError("kind", _("Choose the main office or a branch."))
    opens, closes = (values.get(key) or None for key in ("opens", "closes"))
    for field, clock in (("opens", opens), ("closes", closes)):
        if clock is not None and not CLOCK.match(clock):
            raise OfficeError(field, _("Give the time as hours and minutes, e.g. 08:30."))
    if (opens is None) != (closes is None):
        raise OfficeError("closes" if opens else "opens",
                          _("Give both the opening and the closing time, or neither."))
    if opens is not None and closes is not None and opens >= closes:
        raise OfficeError("closes", _("The office must close after it opens."))
    timezone = values.get("timezone") or None
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise OfficeError("timezone", _("Unknown time zone.")) from None
    return {"name": name, "address": address, "kind": kind, "opens": opens, "closes": closes,
            "timezone": timezone}


def create(region: Region, code: str, values: dict[str, Any], user: Any) -> Office:
    """Add an office to the region (audited; the caller commits)."""
    code = (code or "").strip()
    if not OFFICE_CODE.match(code):
        raise OfficeError("code", _("The code may hold Latin letters, digits and . _ - only "
                                    "(at most 40)."))
    if db.scalar(select(Office.id).where(Office.region_id == region.id,
                                         Office.code == code)) is not None:
        raise OfficeError("code", _("The region already has an office with this code."))
    office = Office(region_id=region.id, code=code, active=True, is_sample=False,
                    edited_in_interface_at=utcnow(), **clean(values))
    db.add(office)
    db.flush()
    audit.record("office.create", office, user=user, after=audit.snapshot(office, AUDITED))
    return office


def update(office: Office, values: dict[str, Any], user: Any) -> bool:
    """Change an office's editable fields (audited; the caller commits); False: nothing
    changed."""
    cleaned = clean(values)
    before = audit.snapshot(office, AUDITED)
    changed = {key: value for key, value in cleaned.items() if getattr(office, key) != value}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(office, key, value)
    office.edited_in_interface_at = utcnow()
    audit.record("office.update", office, user=user, before=before,
                 after=audit.snapshot(office, AUDITED))
    return True


def set_active(office: Office, active: bool, user: Any) -> bool:
    """Switch an office off (it takes no answers; its data and results stay) or on again."""
    if office.active == active:
        return False
    before = audit.snapshot(office, AUDITED)
    office.active = active
    office.edited_in_interface_at = utcnow()
    audit.record("office.activate" if active else "office.deactivate", office, user=user,
                 before=before, after=audit.snapshot(office, AUDITED))
    return True
