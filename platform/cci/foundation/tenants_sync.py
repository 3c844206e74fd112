"""Create and update regions and their offices from tenants/*.toml, idempotently.

All files are validated first and written in one transaction: a mistake in one file
changes nothing. Offices missing from a file are deactivated, never deleted (answers and
results refer to them). An office a person changed or added in the interface
(:mod:`cci.foundation.offices`) is kept as it is: the report names it and what the file says.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import NETWORK_TYPES
from cci.foundation.models import OFFICE_KINDS
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.offices import OFFICE_CODE

REGION_CODE = re.compile(r"^RU-[A-Z]{2,3}$")
REGION_FIELDS = ("name", "network_type", "timezone", "is_sample")
OFFICE_FIELDS = ("name", "address", "kind", "is_sample", "active")


class TenantFileError(ValueError):
    """A tenants file that cannot be applied; the message names the file and the field."""


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    #: offices changed in the interface that the files would change: "RU-BRY/BRY-01: name «…»"
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)

    def lines(self) -> list[str]:
        out = [f"created: {name}" for name in self.created]
        out += [f"updated: {name}" for name in self.updated]
        out += [f"deactivated: {name}" for name in self.deactivated]
        out += [f"kept as changed in the interface: {line}" for line in self.kept]
        out.append(
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.deactivated)} deactivated, {len(self.unchanged)} unchanged"
            + (f", {len(self.kept)} kept as changed in the interface" if self.kept else "")
        )
        return out


def _require(data: dict, key: str, where: str, kind: type = str) -> Any:
    if key not in data:
        raise TenantFileError(f"{where}: missing '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise TenantFileError(f"{where}: '{key}' must be {kind.__name__}")
    return value


def parse_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TenantFileError(f"{path.name}: not valid TOML: {exc}") from exc
    where = path.name
    code = _require(data, "code", where)
    if not REGION_CODE.match(code):
        raise TenantFileError(f"{where}: code {code!r} is not an ISO 3166-2:RU code like RU-BRY")
    network = _require(data, "network_type", where)
    if network not in NETWORK_TYPES:
        raise TenantFileError(f"{where}: network_type must be one of {', '.join(NETWORK_TYPES)}")
    timezone = _require(data, "timezone", where)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise TenantFileError(f"{where}: unknown time zone {timezone!r}") from None
    region = {
        "code": code,
        "name": _require(data, "name", where),
        "network_type": network,
        "timezone": timezone,
        "is_sample": bool(data.get("sample", False)),
        "offices": [],
    }
    seen: set[str] = set()
    for index, office in enumerate(data.get("offices", []), start=1):
        owhere = f"{where}, office #{index}"
        ocode = _require(office, "code", owhere)
        if not OFFICE_CODE.match(ocode):
            raise TenantFileError(f"{owhere}: code {ocode!r} may hold letters, digits, . _ - only")
        if ocode in seen:
            raise TenantFileError(f"{owhere}: office code {ocode!r} appears twice")
        seen.add(ocode)
        kind = office.get("kind", "branch")
        if kind not in OFFICE_KINDS:
            raise TenantFileError(f"{owhere}: kind must be one of {', '.join(OFFICE_KINDS)}")
        region["offices"].append(
            {
                "code": ocode,
                "name": _require(office, "name", owhere),
                "address": office.get("address", ""),
                "kind": kind,
                "is_sample": bool(office.get("sample", region["is_sample"])),
                "active": bool(office.get("active", True)),
            }
        )
    if not region["offices"]:
        raise TenantFileError(f"{where}: a region needs at least one office")
    return region


def load_directory(directory: Path) -> list[dict[str, Any]]:
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise TenantFileError(f"no *.toml files in {directory}")
    regions = [parse_file(path) for path in files]
    by_code: dict[str, list[str]] = {}
    for path, region in zip(files, regions, strict=True):
        by_code.setdefault(region["code"], []).append(path.name)
    duplicates = [
        f"{code} in {', '.join(names)}" for code, names in sorted(by_code.items()) if len(names) > 1
    ]
    if duplicates:
        raise TenantFileError(f"region defined in more than one file: {'; '.join(duplicates)}")
    return regions


def _apply(obj, values: dict, fields: tuple[str, ...]) -> dict | None:
    """Set changed fields; return the before-state if anything changed."""
    before = audit.snapshot(obj, fields)
    changed = False
    for name in fields:
        if getattr(obj, name) != values[name]:
            setattr(obj, name, values[name])
            changed = True
    return before if changed else None


def sync(directory: Path, actor: str = "system: cci tenants sync") -> SyncReport:
    """Apply the tenants files; commits once at the end, or not at all on error."""
    specs = load_directory(directory)
    report = SyncReport()
    with tenancy.federal_scope("tenants sync"):
        try:
            for spec in specs:
                _sync_region(spec, report, actor)
            db.commit()
        except Exception:
            db.rollback()
            raise
    return report


def _sync_region(spec: dict, report: SyncReport, actor: str) -> None:
    region = db.scalar(select(Region).where(Region.code == spec["code"]))
    if region is None:
        region = Region(code=spec["code"], **{k: spec[k] for k in REGION_FIELDS})
        db.add(region)
        db.flush()
        audit.record("region.create", region, region_id=region.id, actor=actor,
                     after=audit.snapshot(region, ("code", *REGION_FIELDS)))
        report.created.append(region.code)
    else:
        before = _apply(region, spec, REGION_FIELDS)
        if before is not None:
            audit.record("region.update", region, region_id=region.id, actor=actor, before=before,
                         after=audit.snapshot(region, REGION_FIELDS))
            report.updated.append(region.code)
        else:
            report.unchanged.append(region.code)
    existing = {
        o.code: o for o in db.scalars(select(Office).where(Office.region_id == region.id))
    }
    for ospec in spec["offices"]:
        label = f"{region.code}/{ospec['code']}"
        office = existing.pop(ospec["code"], None)
        if office is None:
            office = Office(region_id=region.id, code=ospec["code"],
                            **{k: ospec[k] for k in OFFICE_FIELDS})
            db.add(office)
            db.flush()
            audit.record("office.create", office, actor=actor,
                         after=audit.snapshot(office, ("code", *OFFICE_FIELDS)))
            report.created.append(label)
            continue
        if office.edited_in_interface_at is not None:
            _keep(office, ospec, label, report)
            continue
        before = _apply(office, ospec, OFFICE_FIELDS)
        if before is not None:
            audit.record("office.update", office, actor=actor, before=before,
                         after=audit.snapshot(office, OFFICE_FIELDS))
            report.updated.append(label)
        else:
            report.unchanged.append(label)
    for office in existing.values():
        if office.edited_in_interface_at is not None:
            if office.active:  # added or changed in the interface: not the file's to remove
                report.kept.append(f"{region.code}/{office.code}: not in the file")
            continue
        if office.active:
            before = audit.snapshot(office, OFFICE_FIELDS)
            office.active = False
            audit.record("office.deactivate", office, actor=actor, before=before,
                         after=audit.snapshot(office, OFFICE_FIELDS))
            report.deactivated.append(f"{region.code}/{office.code}")


def _keep(office: Office, spec: dict, label: str, report: SyncReport) -> None:
    differs = [f"{name} {spec[name]!r}" for name in OFFICE_FIELDS
               if name != "is_sample" and getattr(office, name) != spec[name]]
    if differs:
        report.kept.append(f"{label}: the file says {', '.join(differs)}")
    else:
        report.unchanged.append(label)
