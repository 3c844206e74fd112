"""The audit log as people read it: actions in words, objects by name with a link to their
page, details as «поле: было → стало» lines, filters (person, action, region, period) and the
same rows exported to CSV and XLSX. The words come from the installed plugins' vocabularies
(``register_audit_vocabulary``); what none names is shown as recorded, never hidden."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select
from sqlalchemy import select

from cci.foundation.audit import AuditObject
from cci.foundation.audit import AuditVocabulary
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import Region
from cci.web import exports
from cci.web import moments
from cci.web import numbers

ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
EXPORT_MAX = 100_000  # rows in one export; a longer period is exported in parts


@dataclass
class Change:
    field: str
    before: str | None  # None: the entry records no earlier state (a creation)
    after: str


@dataclass
class Row:
    entry: AuditEntry
    actor: str  # in words (actor_label)
    actor_command: str | None  # the command that acted, shown as a command
    action: str
    object_kind: str
    object_name: str
    object_url: str | None
    region: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class Filters:
    person: str = ""
    action: str = ""
    region: str = ""  # a region's code (federal area only)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        return cls(person=args.get("person", "").strip()[:254],
                   action=args.get("action", "").strip()[:64],
                   region=args.get("region", "").strip()[:12],
                   date_from=_date(args.get("from")), date_to=_date(args.get("to")))

    def as_args(self) -> dict[str, str]:
        values = {"person": self.person, "action": self.action, "region": self.region,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {key: value for key, value in values.items() if value}


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def vocabulary() -> AuditVocabulary:
    return current_app.extensions["cci.registry"].audit


#: who acted when no person did, as the core records it («system: cci tenants sync»)
SYSTEM = "system"
SYSTEM_COMMAND = re.compile(r"^system: (cci [a-z -]+)$")
SYSTEM_IMPORT = re.compile(r"^system: import (\d+)$")


def actor_label(actor: str) -> tuple[str, str | None]:
    """Who acted, in words, and the command that did it (shown as a command): a person by
    their e-mail as recorded; the platform itself as «система»."""
    if actor == SYSTEM:
        return _("the system"), None
    if match := SYSTEM_COMMAND.match(actor):
        return _("the system, by the command"), match.group(1)
    if match := SYSTEM_IMPORT.match(actor):
        return _("the system, import №%(number)s", number=match.group(1)), None
    if actor == "system: tenants sync job":
        return _("the system, a background sync of the region files"), None
    kind, _space, rest = actor.partition(" ")
    if rest and (word := vocabulary().actors.get(kind)) is not None:  # a plugin's device
        return str(word(rest)), None
    return actor, None


def action_label(action: str) -> str:
    label = vocabulary().actions.get(action)
    return str(label) if label is not None else action


def query(filters: Filters) -> Select:
    """The entries the filters select, newest first (the tenant scope applies as everywhere)."""
    statement = select(AuditEntry)
    if filters.person:
        statement = statement.where(AuditEntry.actor.ilike(f"%{_like(filters.person)}%",
                                                           escape="\\"))
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.region:
        statement = statement.where(AuditEntry.region_id.in_(
            select(Region.id).where(Region.code == filters.region)))
    zone = moments.region_zone(moments.reader_region())
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time(), zone)
        statement = statement.where(AuditEntry.at >= start)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), zone)
        statement = statement.where(AuditEntry.at < end)
    return statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def rows(entries: Iterable[AuditEntry]) -> list[Row]:
    """Entries in words; the objects they name are loaded once per type (within the reader's
    scope: another region's object is named by its type and number, with no link)."""
    entries = list(entries)
    words = vocabulary()
    objects = _load_objects(entries, words)
    regions = {r.id: r.name for r in db.scalars(select(Region))}
    out = []
    for entry in entries:
        kind = words.objects.get(entry.object_type)
        found = objects.get((entry.object_type, entry.object_id))
        name, url = _object_name(kind, found, entry)
        actor, command = actor_label(entry.actor)
        out.append(Row(
            entry=entry, actor=actor, actor_command=command, action=action_label(entry.action),
            object_kind=str(kind.label) if kind else entry.object_type,
            object_name=name, object_url=url,
            region=regions.get(entry.region_id, "") if entry.region_id else "",
            changes=_changes(entry.before, entry.after, words, objects,
                             kind.words(found) if kind and kind.words and found else {})))
    return out


def _object_name(kind: AuditObject | None, found: Any, entry: AuditEntry
                 ) -> tuple[str, str | None]:
    if kind is None or found is None:
        return (f"№{entry.object_id}" if entry.object_id.isdigit() else entry.object_id), None
    return kind.name(found), kind.url(found) if kind.url else None


def _load_objects(entries: list[AuditEntry], words: AuditVocabulary) -> dict[tuple[str, str], Any]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        wanted[entry.object_type].add(entry.object_id)
        for state in (entry.before, entry.after):
            for key, value in (state or {}).items():
                if key in words.references and value is not None:
                    wanted[words.references[key]].add(str(value))
    loaded: dict[tuple[str, str], Any] = {}
    for object_type, ids in wanted.items():
        kind = words.objects.get(object_type)
        numbers_ = [int(i) for i in ids if i.isdigit() and int(i) <= 2**31 - 1]
        if kind is None or kind.model is None or not numbers_:
            continue
        model: Any = kind.model
        for obj in db.scalars(select(model).where(model.id.in_(numbers_))):
            loaded[object_type, str(obj.id)] = obj
    return loaded


def _changes(before: dict | None, after: dict | None, words: AuditVocabulary,
             objects: dict, inner: Mapping[str, str]) -> list[Change]:
    old, new = _flatten(before or {}), _flatten(after or {})
    keys = list(new) + [key for key in old if key not in new]
    changes = []
    for key in keys:
        if before is not None and old.get(key) == new.get(key):
            continue  # unchanged: an update shows what changed
        top = key.split(".", 1)[0]
        label = " · ".join([str(words.fields.get(top, top)),
                            *(str(inner.get(part, part)) for part in key.split(".")[1:])])
        shown_old = _value(top, old.get(key), words, objects) if before is not None else None
        changes.append(Change(label, shown_old, _value(top, new.get(key), words, objects)))
    return changes


def _flatten(state: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _value(field_name: str, value: Any, words: AuditVocabulary, objects: dict) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_value(field_name, item, words, objects) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field_name in words.references:
        kind = words.objects.get(words.references[field_name])
        found = objects.get((words.references[field_name], str(value)))
        if kind is not None and found is not None:
            return kind.name(found)
        return f"№{value}"
    labels = words.values.get(field_name)
    if callable(labels):
        return str(labels(value))
    if labels is not None and value in labels:
        return str(labels[value])
    if isinstance(value, int | float):
        return numbers.number(value, 3, trim=True)
    text = str(value)
    if ISO_MOMENT.match(text):
        try:
            return moments.local_time(dt.datetime.fromisoformat(text))
        except ValueError:
            return text
    if ISO_DATE.match(text):
        return dt.date.fromisoformat(text).strftime("%d.%m.%Y")
    return text


# --- exports: the rows of the page, every page of them --------------------------------------


def _export_rows(filters: Filters) -> Iterator[list[str]]:
    entries = db.scalars(query(filters).limit(EXPORT_MAX)).all()
    for start in range(0, len(entries), 500):
        for row in rows(entries[start:start + 500]):
            changes = "\n".join(f"{c.field}: {c.before} → {c.after}" if c.before is not None
                                else f"{c.field}: {c.after}" for c in row.changes)
            who = f"{row.actor} {row.actor_command}" if row.actor_command else row.actor
            yield [moments.local_time(row.entry.at), who, row.action,
                   f"{row.object_kind} {row.object_name}", row.region, changes,
                   row.entry.ip or ""]


def export_table(filters: Filters) -> exports.Table:
    """The entries the filters select as a table to export (the moments as the page shows
    them, with their zone); the filters in words on the provenance sheet."""
    chosen = [
        (_("Who"), filters.person), (_("Action"), action_label(filters.action)
                                        if filters.action else ""),
        (_("Region"), filters.region),
        (_("From"), filters.date_from.strftime("%d.%m.%Y") if filters.date_from else ""),
        (_("To"), filters.date_to.strftime("%d.%m.%Y") if filters.date_to else ""),
    ]
    return exports.Table(
        title=_("Audit log"),
        columns=[exports.Column(_("When"), width=22), exports.Column(_("Who"), width=30),
                 exports.Column(_("Action"), width=34), exports.Column(_("Object"), width=40),
                 exports.Column(_("Region"), width=24), exports.Column(_("Changes"), width=60),
                 exports.Column(_("Address"), width=16)],
        rows=list(_export_rows(filters)),
        provenance=[(_("Filters"), "; ".join(f"{label}: {value}" for label, value in chosen
                                             if value) or numbers.DASH),
                    (_("Rows"), _("at most %(num)s", num=numbers.number(EXPORT_MAX)))],
    )
