"""Customer journey maps: the federal templates shipped with the platform, a region's or an
office's adoption of one, editing a draft, publishing it, and where a map departs from its
template.

A version's grid is a document (``JourneyMapVersion.content``)::

    {"service": …, "trigger": …, "note": …,
     "stages": [{"key", "title", "context", "citizen_goal",
                 "touchpoints": [{"code", "title", "questions": [str], "czn_goals": [str],
                                  "metrics": [{"code", "title"}], "barriers": [str],
                                  "departments": [str], "tools": [str]}]}]}

Stages are the grid's columns in order, each touchpoint a sub-column. Touchpoint and metric
codes are stable (``contact_centre``, ``CES``): figures of the map's metrics are keyed by them.
A draft is changed in place; a published version never changes (:class:`MapError`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.foundation.models import Office
from cci.foundation.models import Region

TEMPLATES_DIR = Path(__file__).with_name("journey_templates")

#: the grid's rows, top to bottom, as the source's slides have them
ROWS = (
    ("citizen_goal", _l("Citizen's goal")),
    ("questions", _l("Citizen's questions")),
    ("czn_goals", _l("The job centre's goal")),
    ("touchpoints", _l("Touchpoints")),
    ("metrics", _l("Customer experience metrics")),
    ("barriers", _l("Barriers")),
    ("departments", _l("Responsible departments")),
    ("tools", _l("Improvement tools")),
)
#: the rows a touchpoint holds as lists of lines
TEXT_ROWS = ("questions", "czn_goals", "barriers", "departments", "tools")
ITEM_ROWS = ("metrics", *TEXT_ROWS)

#: touchpoints a map may have, by stable code: the codes CX metrics are collected and computed
#: under too (cci.methodology.cx)
TOUCHPOINTS = {
    "site": _l("Website and social networks"),
    "social_networks": _l("Social networks and messengers"),
    "contact_centre": _l("Contact centre"),
    "route": _l("The way to the job centre"),
    "office": _l("The office and its administrator"),
    "kiosk": _l("Kiosk in the office"),
    "specialist_window": _l("The job centre's specialist"),
    "testing": _l("Testing"),
    "training": _l("Trainer"),
    "notifications": _l("Notifications"),
    "feedback": _l("Feedback channels"),
}

#: what a map's metrics row may name besides the computed CX metrics (those come from the
#: installed metric plugins, see :func:`cci.index.cx_reports.map_metrics`): the sources the
#: specification names beside them (surveys, analyses; docs/cjm.md)
SOURCES = {
    "exit_survey": _l("Exit survey"),
    "call_end_survey": _l("Survey at the end of a call"),
    "call_statistics": _l("Call statistics and topics"),
    "visit_statistics": _l("Visit statistics"),
    "content_analysis": _l("Content analysis of social networks and review sites"),
    "complaints_analysis": _l("Analysis of complaints and letters"),
    "mystery_shopper": _l("Mystery shopper"),
    "contact_centre_ratings": _l("Ratings collected by the contact centre"),
}

MAX_TEXT = 2000


class MapError(Exception):
    """A change that cannot be made, in words for people."""


def owner_region(row: JourneyMap | JourneyMapVersion) -> int | None:
    """The region a map or version belongs to; None for a federal template (the mixin's
    column is typed for the regions' rows)."""
    return cast("int | None", row.region_id)


# --- templates ---------------------------------------------------------------------------


def template_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(TEMPLATES_DIR.glob("*.json"))}


def read_template_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def seed_templates() -> list[str]:
    """Load the federal templates shipped with the platform that the database lacks (run by
    ``cci maps seed``); an existing template is left as it is (its versions are its own).
    Returns the keys added."""
    added = []
    with tenancy.federal_scope("federal journey map templates"):
        for key, path in template_files().items():
            if db.scalar(select(JourneyMap.id).where(JourneyMap.key == key)) is not None:
                continue
            data = read_template_file(path)
            content = {name: data[name] for name in ("service", "trigger", "note", "stages")}
            template = JourneyMap(key=key, title=data["title"], service=data["service"],
                                  region_id=None)
            db.add(template)
            db.flush()
            version = JourneyMapVersion(map_id=template.id, number=1, status="published",
                                        content=content, region_id=None,
                                        published_at=utcnow())
            db.add(version)
            db.flush()
            audit.record("journey_map.seed", template, actor="system",
                         after={"title": template.title})
            added.append(key)
    return added


def templates() -> list[JourneyMap]:
    """The federal templates: shared by every region, so read in the federal scope."""
    with tenancy.federal_scope("federal journey map templates are read by every region"):
        return list(db.scalars(select(JourneyMap).where(JourneyMap.region_id.is_(None))
                               .order_by(JourneyMap.title)))


def template_by_id(map_id: int) -> JourneyMap | None:
    with tenancy.federal_scope("federal journey map templates are read by every region"):
        row = db.get(JourneyMap, map_id)
    return row if row is not None and owner_region(row) is None else None


def version_content(version_id: int | None) -> tuple[JourneyMapVersion | None, dict]:
    """A template's version a map was based on, readable from a region's scope (templates
    belong to no region); a region's own version otherwise as the scope allows."""
    if version_id is None:
        return None, {}
    with tenancy.federal_scope("a template version a region's map is based on"):
        version = db.get(JourneyMapVersion, version_id)
        if version is None:
            return None, {}
        region_id = owner_region(version)
        if region_id is not None and not _may_read_region(region_id):
            return None, {}
        return version, version.content


def _may_read_region(region_id: int) -> bool:
    scope = tenancy.current_scope()
    return scope is None or scope.federal or scope.region_id == region_id


# --- versions ----------------------------------------------------------------------------


def versions_of(journey_map: JourneyMap) -> list[JourneyMapVersion]:
    return versions_by_map([journey_map])[journey_map.id]


def versions_by_map(maps: Sequence[JourneyMap]) -> dict[int, list[JourneyMapVersion]]:
    """Each map's versions in their order, by map id: one statement for the templates and
    one for the regions' maps, however many (a region's list has a map per office)."""
    found: dict[int, list[JourneyMapVersion]] = {m.id: [] for m in maps}
    templates = [m for m in maps if owner_region(m) is None]
    own = [m for m in maps if owner_region(m) is not None]
    for group in (templates, own):
        if not group:
            continue
        with _scope_of(group[0]):
            for version in db.scalars(
                    select(JourneyMapVersion)
                    .where(JourneyMapVersion.map_id.in_([m.id for m in group]))
                    .order_by(JourneyMapVersion.map_id, JourneyMapVersion.number)):
                found[version.map_id].append(version)
    return found


def _scope_of(journey_map: JourneyMap):
    """A template's rows are read in the federal scope; a region's in the current one."""
    if owner_region(journey_map) is None:
        return tenancy.federal_scope("a federal journey map template")
    return contextlib.nullcontext()


def latest_published(journey_map: JourneyMap) -> JourneyMapVersion | None:
    return published_in(versions_of(journey_map))


def draft_of(journey_map: JourneyMap) -> JourneyMapVersion | None:
    return draft_in(versions_of(journey_map))


def published_in(versions: Sequence[JourneyMapVersion]) -> JourneyMapVersion | None:
    """The newest published of a map's versions (in their order)."""
    published = [v for v in versions if v.status == "published"]
    return published[-1] if published else None


def draft_in(versions: Sequence[JourneyMapVersion]) -> JourneyMapVersion | None:
    return next((v for v in versions if v.status == "draft"), None)


def maps_of_region(region_id: int) -> list[JourneyMap]:
    """A region's maps and its offices' maps (the current scope must be the region's or
    federal)."""
    return list(db.scalars(select(JourneyMap).where(JourneyMap.region_id == region_id)
                           .order_by(JourneyMap.office_id.is_not(None), JourneyMap.title)))


def adopt(template: JourneyMap, region: Region, office: Office | None, user) -> JourneyMap:
    """The region (or one of its offices) takes a template's newest published version as the
    first draft of a map of its own."""
    if owner_region(template) is not None:
        raise MapError(_("Only a federal template can be adopted."))
    if office is not None and office.region_id != region.id:
        raise MapError(_("The office is not of this region."))
    base = latest_published(template)
    if base is None:
        raise MapError(_("The template has no published version yet."))
    exists = db.scalar(select(JourneyMap.id).where(
        JourneyMap.region_id == region.id, JourneyMap.template_id == template.id,
        JourneyMap.office_id.is_(None) if office is None
        else JourneyMap.office_id == office.id))
    if exists is not None:
        raise MapError(_("This template is adopted already; change its map instead."))
    journey_map = JourneyMap(title=template.title, service=template.service,
                             region_id=region.id, office_id=office.id if office else None,
                             template_id=template.id, created_by_id=user.id if user else None)
    db.add(journey_map)
    db.flush()
    db.add(JourneyMapVersion(map_id=journey_map.id, number=1, status="draft",
                             content=copy.deepcopy(base.content), based_on_id=base.id,
                             region_id=region.id, created_by_id=user.id if user else None))
    db.flush()
    audit.record("journey_map.adopt", journey_map, user=user,
                 after={"title": journey_map.title, "office_id": journey_map.office_id})
    return journey_map


def new_draft(journey_map: JourneyMap, user) -> JourneyMapVersion:
    """The map's draft: the open one, or a new one copied from its newest published version."""
    with _scope_of(journey_map):
        draft = draft_of(journey_map)
        if draft is not None:
            return draft
        base = latest_published(journey_map)
        if base is None:
            raise MapError(_("The map has no version to start from."))
        draft = JourneyMapVersion(map_id=journey_map.id, number=base.number + 1,
                                  status="draft", content=copy.deepcopy(base.content),
                                  based_on_id=base.based_on_id, region_id=journey_map.region_id,
                                  created_by_id=user.id if user else None)
        db.add(draft)
        db.flush()
        audit.record("journey_map.new_draft", journey_map, user=user,
                     after={"version": draft.number})
        return draft


def publish(version: JourneyMapVersion, user) -> JourneyMapVersion:
    _check_draft(version)
    if not version.content.get("stages"):
        raise MapError(_("A map without stages cannot be published."))
    with _scope_of(version.map):
        version.status = "published"
        version.published_at = utcnow()
        version.published_by_id = user.id if user else None
        db.flush()
        audit.record("journey_map.publish", version.map, user=user,
                     after={"version": version.number})
    return version


def _check_draft(version: JourneyMapVersion) -> None:
    if version.status != "draft":
        raise MapError(_("A published version never changes; start a new draft to change the "
                         "map."))


# --- editing a draft ---------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise MapError(_("%(what)s cannot be empty.", what=what))
    if len(text) > MAX_TEXT:
        raise MapError(_("%(what)s is too long (at most %(n)s characters).", what=what,
                         n=MAX_TEXT))
    return text


def _int(value: Any) -> int:
    raw = str(value if value is not None else "").strip()
    if not re.fullmatch(r"-?\d{1,6}", raw):
        raise MapError(_("The map has changed meanwhile; reload the page."))
    return int(raw)


def _stage(content: dict, key: Any) -> dict:
    for stage in content["stages"]:
        if stage["key"] == key:
            return stage
    raise MapError(_("The map has changed meanwhile; reload the page."))


def _touchpoint(stage: dict, code: Any) -> dict:
    for touchpoint in stage["touchpoints"]:
        if touchpoint["code"] == code:
            return touchpoint
    raise MapError(_("The map has changed meanwhile; reload the page."))


def _move(items: list, index: int, delta: int) -> None:
    target = index + delta
    if not (0 <= index < len(items)) or delta not in (-1, 1):
        raise MapError(_("The map has changed meanwhile; reload the page."))
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def _new_stage_key(content: dict) -> str:
    taken = {stage["key"] for stage in content["stages"]}
    n = len(taken) + 1
    while f"stage-{n}" in taken:
        n += 1
    return f"stage-{n}"


def empty_touchpoint(code: str, title: str) -> dict:
    return {"code": code, "title": title, **{row: [] for row in ITEM_ROWS}}


def apply_change(content: dict, op: str, params: dict[str, Any],
                 metrics: Mapping[str, str]) -> str:
    """Change ``content`` in place as ``op`` says; returns the change in words (for the audit
    log). Unknown input is a :class:`MapError`, never a half-made change: every check comes
    before the change."""
    stages = content.setdefault("stages", [])
    if op == "stage_add":
        title = _text(params.get("title"), _("The stage's name"))
        stages.append({"key": _new_stage_key(content), "title": title, "context": "",
                       "citizen_goal": " ".join(str(params.get("citizen_goal") or "").split()),
                       "touchpoints": []})
        return _("stage «%(title)s» added", title=title)
    if op == "stage_edit":
        stage = _stage(content, params.get("stage"))
        title = _text(params.get("title"), _("The stage's name"))
        goal = " ".join(str(params.get("citizen_goal") or "").split())[:MAX_TEXT]
        stage["title"], stage["citizen_goal"] = title, goal
        return _("stage «%(title)s» changed", title=title)
    if op == "stage_remove":
        stage = _stage(content, params.get("stage"))
        stages.remove(stage)
        return _("stage «%(title)s» removed", title=stage["title"])
    if op == "stage_move":
        stage = _stage(content, params.get("stage"))
        _move(stages, stages.index(stage), _int(params.get("delta")))
        return _("stage «%(title)s» moved", title=stage["title"])
    stage = _stage(content, params.get("stage"))
    if op == "touchpoint_add":
        code = params.get("code")
        if code not in TOUCHPOINTS:
            raise MapError(_("Choose a touchpoint from the list."))
        if any(t["code"] == code for t in stage["touchpoints"]):
            raise MapError(_("The stage has this touchpoint already."))
        title = " ".join(str(params.get("title") or "").split())[:300] or str(TOUCHPOINTS[code])
        stage["touchpoints"].append(empty_touchpoint(code, title))
        return _("touchpoint «%(title)s» added to stage «%(stage)s»", title=title,
                 stage=stage["title"])
    touchpoint = _touchpoint(stage, params.get("touchpoint"))
    where = {"title": touchpoint["title"], "stage": stage["title"]}
    if op == "touchpoint_remove":
        stage["touchpoints"].remove(touchpoint)
        return _("touchpoint «%(title)s» removed from stage «%(stage)s»", **where)
    if op == "touchpoint_move":
        _move(stage["touchpoints"], stage["touchpoints"].index(touchpoint),
              _int(params.get("delta")))
        return _("touchpoint «%(title)s» of stage «%(stage)s» moved", **where)
    row = params.get("row")
    if row not in ITEM_ROWS:
        raise MapError(_("The map has changed meanwhile; reload the page."))
    items = touchpoint[row]
    row_label = str(dict(ROWS)[row])
    if op == "item_add":
        if row == "metrics":
            code = params.get("code")
            if not isinstance(code, str) or code not in metrics:
                raise MapError(_("Choose a metric from the list."))
            if any(m["code"] == code for m in items):
                raise MapError(_("The touchpoint measures this metric already."))
            item: Any = {"code": code, "title": map_label(code, metrics[code])}
            said = item["title"]
        else:
            item = said = _text(params.get("text"), row_label)
        items.append(item)
        return _("«%(item)s» added to «%(row)s» of «%(title)s», stage «%(stage)s»",
                 item=said, row=row_label, **where)
    index = _int(params.get("index"))
    if not 0 <= index < len(items):
        raise MapError(_("The map has changed meanwhile; reload the page."))
    said = items[index]["title"] if row == "metrics" else items[index]
    if op == "item_remove":
        del items[index]
        return _("«%(item)s» removed from «%(row)s» of «%(title)s», stage «%(stage)s»",
                 item=said, row=row_label, **where)
    if op == "item_move":
        _move(items, index, _int(params.get("delta")))
        return _("«%(item)s» moved in «%(row)s» of «%(title)s», stage «%(stage)s»",
                 item=said, row=row_label, **where)
    if op == "item_edit" and row != "metrics":
        items[index] = _text(params.get("text"), row_label)
        return _("«%(item)s» changed in «%(row)s» of «%(title)s», stage «%(stage)s»",
                 item=items[index], row=row_label, **where)
    raise MapError(_("The map has changed meanwhile; reload the page."))


def map_label(code: str, title: str) -> str:
    """How the grid names a metric: by its code when its title spells it out in brackets
    («Лёгкость шага (CES)» is «CES», its title a tooltip), else by its title."""
    title = str(title)
    return code if title.endswith(f"({code})") else title


def edit(version: JourneyMapVersion, op: str, params: dict[str, Any], user,
         metrics: Mapping[str, str]) -> str:
    """Apply one change to a draft and record it in the audit log. ``metrics``: {code:
    title} of what the metrics row may name (the installed CX metrics and the sources)."""
    _check_draft(version)
    content = copy.deepcopy(version.content)
    said = apply_change(content, op, params, metrics)
    with _scope_of(version.map):
        version.content = content  # a new object: the JSON column sees the change
        db.flush()
        audit.record("journey_map.edit", version.map, user=user,
                     after={"version": version.number, "change": said})
    return said


# --- departures from the template --------------------------------------------------------


@dataclass(frozen=True)
class Departure:
    kind: str  # added, removed, moved, changed
    what: str  # stage, touchpoint, metric, barrier, row
    stage: str
    touchpoint: str
    detail: str


def departures(template: dict, adapted: dict) -> list[Departure]:
    """Where ``adapted`` departs from ``template``: stages, touchpoints, metrics and barriers
    added or removed, stages reordered, other rows changed."""
    out: list[Departure] = []
    base_stages = {s["key"]: s for s in template.get("stages", [])}
    own_stages = {s["key"]: s for s in adapted.get("stages", [])}
    for key, stage in base_stages.items():
        if key not in own_stages:
            out.append(Departure("removed", "stage", stage["title"], "", ""))
    common = [k for k in own_stages if k in base_stages]
    if common != [k for k in base_stages if k in own_stages]:
        out.append(Departure("moved", "stage", "", "", " → ".join(
            own_stages[k]["title"] for k in common)))
    for key, stage in own_stages.items():
        if key not in base_stages:
            out.append(Departure("added", "stage", stage["title"], "", ""))
            continue
        out.extend(_touchpoint_departures(base_stages[key], stage))
    return out


def _touchpoint_departures(base: dict, own: dict) -> list[Departure]:
    out: list[Departure] = []
    title = own["title"]
    if base["title"] != own["title"] or base.get("citizen_goal") != own.get("citizen_goal"):
        out.append(Departure("changed", "row", title, "", str(dict(ROWS)["citizen_goal"])))
    base_tps = {t["code"]: t for t in base["touchpoints"]}
    own_tps = {t["code"]: t for t in own["touchpoints"]}
    for code, tp in base_tps.items():
        if code not in own_tps:
            out.append(Departure("removed", "touchpoint", title, tp["title"], ""))
    for code, tp in own_tps.items():
        if code not in base_tps:
            out.append(Departure("added", "touchpoint", title, tp["title"], ""))
            continue
        old = base_tps[code]
        old_metrics = [m["code"] for m in old["metrics"]]
        new_metrics = [m["code"] for m in tp["metrics"]]
        for m in old["metrics"]:
            if m["code"] not in new_metrics:
                out.append(Departure("removed", "metric", title, tp["title"], m["title"]))
        for m in tp["metrics"]:
            if m["code"] not in old_metrics:
                out.append(Departure("added", "metric", title, tp["title"], m["title"]))
        for text in old["barriers"]:
            if text not in tp["barriers"]:
                out.append(Departure("removed", "barrier", title, tp["title"], text))
        for text in tp["barriers"]:
            if text not in old["barriers"]:
                out.append(Departure("added", "barrier", title, tp["title"], text))
        for row in ("questions", "czn_goals", "departments", "tools"):
            if old[row] != tp[row]:
                out.append(Departure("changed", "row", title, tp["title"],
                                     str(dict(ROWS)[row])))
    return out


def departures_by_region() -> list[tuple[JourneyMap, JourneyMapVersion | None, list[Departure]]]:
    """Every adopted map with its newest published version and its departures from the
    template version it was based on (the federal scope: across regions)."""
    out: list[tuple[JourneyMap, JourneyMapVersion | None, list[Departure]]] = []
    with tenancy.federal_scope("a federal analyst compares regions' maps with the template"):
        maps = db.scalars(select(JourneyMap).options(joinedload(JourneyMap.office))
                          .where(JourneyMap.region_id.is_not(None))
                          .order_by(JourneyMap.region_id, JourneyMap.office_id.is_not(None),
                                    JourneyMap.id)).all()
        versions = versions_by_map(maps)
        for journey_map in maps:
            version = published_in(versions[journey_map.id])
            if version is None:
                out.append((journey_map, None, []))
                continue
            _base, base_content = version_content(version.based_on_id)
            out.append((journey_map, version, departures(base_content, version.content)))
    return out


def counts(content: dict) -> dict[str, int]:
    """How many stages, touchpoints and items of each row a grid holds."""
    stages = content.get("stages", [])
    touchpoints = [t for s in stages for t in s["touchpoints"]]
    return {"stages": len(stages), "touchpoints": len(touchpoints),
            **{row: sum(len(t[row]) for t in touchpoints) for row in ITEM_ROWS}}


def grid_columns(content: dict) -> list[tuple[dict, dict | None]]:
    """The grid's columns, left to right: (stage, touchpoint) for each touchpoint of each
    stage; a stage without touchpoints still has its one column (stage, None)."""
    return [(stage, touchpoint) for stage in content.get("stages", [])
            for touchpoint in (stage["touchpoints"] or [None])]


def cell_lines(touchpoint: dict | None, row: str) -> list[str]:
    """A touchpoint's cell of a row as lines of text."""
    if touchpoint is None:
        return []
    if row == "touchpoints":
        return [touchpoint["title"]]
    if row == "metrics":
        return [m["title"] for m in touchpoint["metrics"]]
    return list(touchpoint[row])
