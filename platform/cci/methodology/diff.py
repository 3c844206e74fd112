"""Comparing two methodology versions: indicators added, removed, changed; parameters changed;
the questionnaire item by item. :func:`changes_in_words` tells each difference to people."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from cci.methodology import wording
from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item

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


# --- the difference in words ------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two versions, in words.

    ``section``: "indicator", "parameter" or "questionnaire"; ``ref``: what it is about, to
    match it with other records (an indicator's code, a parameter's key, an item's key) —
    never shown; ``subject``: what it is about, as people read it; ``what``: the aspect that
    changed, empty when it is the subject's own value; ``old`` and ``new``: the values in
    words, None when the thing was added (``old``) or removed (``new``)."""

    section: str
    ref: str
    subject: str
    what: str
    old: str | None
    new: str | None

    @property
    def text(self) -> str:
        """«Порог положительного ответа: было 9–10, стало 8–10» (``what`` is empty when the
        subject's own value changed)."""
        what = self.what or self.subject
        if self.old is None:
            return _("%(what)s — added: %(new)s", what=what, new=self.new)
        if self.new is None:
            return _("%(what)s — removed: %(old)s", what=what, old=self.old)
        return _("%(what)s: was %(old)s, now %(new)s", what=what, old=self.old, new=self.new)


def changes_in_words(old: IndicatorSet, new: IndicatorSet) -> list[Change]:
    """Every difference of ``new`` from ``old`` in words: the indicators (in the new version's
    order, then those removed), the parameters, the questionnaire item by item."""
    return [*_indicators_in_words(old, new), *_parameters_in_words(old, new),
            *_items_in_words(old, new)]


def _subject(indicator: Indicator) -> str:
    return f"{indicator.code} {indicator.title}"


def _indicators_in_words(old: IndicatorSet, new: IndicatorSet) -> list[Change]:
    before = {i.code: i for i in old.indicators}
    after = {i.code: i for i in new.indicators}
    out: list[Change] = []
    for code, b in after.items():
        a = before.get(code)
        if a is None:
            out.append(Change("indicator", code, _subject(b), _("Indicator"), None,
                              _subject(b)))
        elif a != b:
            out += _indicator_in_words(old, new, a, b)
    for code, a in before.items():
        if code not in after:
            out.append(Change("indicator", code, _subject(a), _("Indicator"), _subject(a),
                              None))
    return out


def _level(indicator: Indicator) -> str:
    return (_("once for the region in a centralized network") if indicator.level == "network"
            else _("for each office"))


def _indicator_in_words(old: IndicatorSet, new: IndicatorSet, a: Indicator,
                        b: Indicator) -> list[Change]:
    out: list[Change] = []

    def add(what: str, before: str, after: str) -> None:
        if before != after:
            out.append(Change("indicator", b.code, _subject(b), what, before or "—",
                              after or "—"))

    add(_("Name"), a.title, b.title)
    add(_("Group"), wording.key_label(old, a.group), wording.key_label(new, b.group))
    kinds = {"subjective": _("survey"), "objective": _("checklist")}
    add(_("Data"), kinds.get(a.kind, a.kind), kinds.get(b.kind, b.kind))
    add(_("Questions"), _questions(old, a), _questions(new, b))
    add(_("Filled"), _level(a), _level(b))
    add(_("In the index"), wording.yes_no(a.scored), wording.yes_no(b.scored))
    add(_("Components"), ", ".join(a.components), ", ".join(b.components))
    add(_("How it is scored"), a.description, b.description)
    add(_("Scoring rule is the platform's default"), wording.yes_no(a.is_default),
        wording.yes_no(b.is_default))
    a_params = {p.key: p for p in a.checklist}
    b_params = {p.key: p for p in b.checklist}
    for key, p in b_params.items():
        q = a_params.get(key)
        if q is None:
            out.append(Change("indicator", b.code, _subject(b), _("Checklist parameter"), None,
                              wording.checklist_line(p)))
            continue
        add(_("Wording of the checklist parameter «%(label)s»", label=q.label), q.label,
            p.label)
        if q.points != p.points:
            add(_("Points for «%(label)s»", label=p.label), wording.number(q.points or 0),
                wording.number(p.points or 0))
        if (q.kind, q.options) != (p.kind, p.options):
            add(_("Values of «%(label)s»", label=p.label), wording.checklist_line(q),
                wording.checklist_line(p))
    for key, q in a_params.items():
        if key not in b_params:
            out.append(Change("indicator", b.code, _subject(b), _("Checklist parameter"),
                              wording.checklist_line(q), None))
    return out


def _questions(indicator_set: IndicatorSet, indicator: Indicator) -> str:
    lines = []
    for key in indicator.items:
        try:
            lines += wording.wording_lines(indicator_set.item(key))
        except KeyError:
            continue
    return "; ".join(lines)


def _parameters_in_words(old: IndicatorSet, new: IndicatorSet) -> list[Change]:
    out: list[Change] = []
    keys = [*new.parameters, *(k for k in old.parameters if k not in new.parameters)]
    for key in keys:
        a, b = old.parameters.get(key), new.parameters.get(key)
        either = b or a
        label = either.label if either is not None else key
        if a is None:
            out.append(Change("parameter", key, label, label, None,
                              wording.parameter_value(new, key)))
        elif b is None:
            out.append(Change("parameter", key, label, label,
                              wording.parameter_value(old, key), None))
        else:
            if a.value != b.value:
                out.append(Change("parameter", key, label, "",
                                  wording.parameter_value(old, key),
                                  wording.parameter_value(new, key)))
            if a.is_default != b.is_default:
                source = {True: _("the platform's default"), False: _("the methodology source")}
                out.append(Change("parameter", key, label,
                                  _("Where «%(label)s» comes from", label=label),
                                  source[a.is_default], source[b.is_default]))
    return out


def _first_wording(item: Item) -> str:
    return next(iter(item.text.values()), item.key)


def _items_in_words(old: IndicatorSet, new: IndicatorSet) -> list[Change]:
    before = {i.key: i for i in old.items}
    after = {i.key: i for i in new.items}
    out: list[Change] = []
    for key, b in after.items():
        a = before.get(key)
        subject = f"«{_first_wording(b)}»"
        if a is None:
            out.append(Change("questionnaire", key, subject, _("Question"), None,
                              "; ".join(wording.wording_lines(b))))
        elif a != b:
            out += _item_in_words(old, new, a, b, subject)
    for key, a in before.items():
        if key not in after:
            out.append(Change("questionnaire", key, f"«{_first_wording(a)}»", _("Question"),
                              "; ".join(wording.wording_lines(a)), None))
    return out


def _item_in_words(old: IndicatorSet, new: IndicatorSet, a: Item, b: Item,
                   subject: str) -> list[Change]:
    out: list[Change] = []

    def add(what: str, before: str, after: str) -> None:
        if before != after:
            out.append(Change("questionnaire", b.key, subject, what, before or "—",
                              after or "—"))

    wording_for = {"job_seeker": _("Wording for job seekers"),
                   "employer": _("Wording for employers")}
    for rtype in RESPONDENT_TYPES:
        add(wording_for.get(rtype, rtype),
            f"«{a.text[rtype]}»" if rtype in a.text else _("not asked"),
            f"«{b.text[rtype]}»" if rtype in b.text else _("not asked"))
    add(_("Answer options"), wording.item_answers(a), wording.item_answers(b))
    always = _("always")
    add(_("When it is asked"),
        wording.condition(old, a) if a.follows else always,
        wording.condition(new, b) if b.follows else always)
    add(_("Part of the questionnaire"), wording.section_title(a.section),
        wording.section_title(b.section))
    return out
