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
    old_codes = {i.code for i in old.indicators}
    new_codes = {i.code for i in new.indicators}
    return Diff(
        old=old, new=new,
        added=[i for i in new.indicators if i.code not in old_codes],
        removed=[i for i in old.indicators if i.code not in new_codes],
        changed=_indicator_changes(old, new), parameters=_parameter_changes(old, new),
        items_changed=_item_changes(old, new),
    )


def _indicator_changes(old: IndicatorSet, new: IndicatorSet) -> list[IndicatorChange]:
    """The indicators of both versions that differ, in the new version's order."""
    old_ind = {i.code: i for i in old.indicators}
    changed = []
    for b in new.indicators:
        a = old_ind.get(b.code)
        if a is not None and a != b:
            change = _indicator_change(a, b)
            if change is not None:
                changed.append(change)
    return changed


def _indicator_change(a: Indicator, b: Indicator) -> IndicatorChange | None:
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
        return IndicatorChange(b.code, b.title, fields, added, removed, points)
    return None


def _value(indicator_set: IndicatorSet, key: str) -> Any:
    parameter = indicator_set.parameters.get(key)
    return parameter.value if parameter is not None else None


def _parameter_changes(old: IndicatorSet, new: IndicatorSet) -> dict[str, tuple[Any, Any]]:
    parameters = {}
    for key in old.parameters.keys() | new.parameters.keys():
        # a parameter whose value is falsy compares as if absent, as it always has
        before = old.parameters.get(key) and old.parameters[key].value
        after = new.parameters.get(key) and new.parameters[key].value
        if before != after:
            parameters[key] = (_value(old, key), _value(new, key))
    return dict(sorted(parameters.items()))


def _item_changes(old: IndicatorSet, new: IndicatorSet) -> dict[str, tuple[Any, Any]]:
    old_items = {i.key: asdict(i) for i in old.items}
    new_items = {i.key: asdict(i) for i in new.items}
    items_changed = {
        key: (old_items.get(key, {}).get("text"), new_items.get(key, {}).get("text"))
        for key in old_items.keys() | new_items.keys()
        if old_items.get(key) != new_items.get(key)
    }
    return dict(sorted(items_changed.items()))
