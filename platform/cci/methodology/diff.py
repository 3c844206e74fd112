"""Comparing two methodology versions: indicators added, removed, changed; parameters changed."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet

COMPARED_FIELDS = ("title", "group", "kind", "items", "level", "scored", "components")


@dataclass
class IndicatorChange:
    code: str
    title: str
    fields: dict[str, tuple[Any, Any]]
    checklist_added: list[str]
    checklist_removed: list[str]
    points_changed: dict[str, tuple[Any, Any]]


@dataclass
class Diff:
    old: IndicatorSet
    new: IndicatorSet
    added: list[Indicator]
    removed: list[Indicator]
    changed: list[IndicatorChange]
    parameters: dict[str, tuple[Any, Any]]
    items_changed: dict[str, tuple[Any, Any]]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.parameters
                    or self.items_changed)


def diff(old: IndicatorSet, new: IndicatorSet) -> Diff:
    old_ind = {i.code: i for i in old.indicators}
    new_ind = {i.code: i for i in new.indicators}
    changed = []
    for code in old_ind.keys() & new_ind.keys():
        a, b = old_ind[code], new_ind[code]
        if a == b:
            continue
        fields = {f: (getattr(a, f), getattr(b, f)) for f in COMPARED_FIELDS
                  if getattr(a, f) != getattr(b, f)}
        a_params = {p.key: p for p in a.checklist}
        b_params = {p.key: p for p in b.checklist}
        points = {k: (a_params[k].points, b_params[k].points)
                  for k in a_params.keys() & b_params.keys()
                  if a_params[k].points != b_params[k].points}
        added = [b_params[k].label for k in b_params if k not in a_params]
        removed = [a_params[k].label for k in a_params if k not in b_params]
        if fields or points or added or removed:
            changed.append(IndicatorChange(code, b.title, fields, added, removed, points))
    order = [i.code for i in new.indicators]
    changed.sort(key=lambda c: order.index(c.code))
    parameters = {
        key: (old.parameters[key].value if key in old.parameters else None,
              new.parameters[key].value if key in new.parameters else None)
        for key in old.parameters.keys() | new.parameters.keys()
        if (old.parameters.get(key) and old.parameters[key].value)
        != (new.parameters.get(key) and new.parameters[key].value)
    }
    old_items = {i.key: asdict(i) for i in old.items}
    new_items = {i.key: asdict(i) for i in new.items}
    items_changed = {
        key: (old_items.get(key, {}).get("text"), new_items.get(key, {}).get("text"))
        for key in old_items.keys() | new_items.keys()
        if old_items.get(key) != new_items.get(key)
    }
    return Diff(
        old=old, new=new,
        added=[i for i in new.indicators if i.code not in old_ind],
        removed=[i for i in old.indicators if i.code not in new_ind],
        changed=changed, parameters=dict(sorted(parameters.items())),
        items_changed=dict(sorted(items_changed.items())),
    )
