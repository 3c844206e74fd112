"""What differs between two methodology versions, said in words for the comparison page and
its exports: per indicator (its formula, checklist, points, whether it counts), and the
set's parameters that reach it (the positive answer's threshold reaches every subjective one)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from cci.index.comparison import IndicatorVersions
from cci.methodology.diff import Diff

#: a set's parameters that change every subjective indicator's figure (the core reads them:
#: the positive answer's threshold, the answers an office needs for a figure)
SUBJECTIVE_PARAMETERS = ("positive_min", "min_sample")


def _plain(value: Any, inner: bool = False) -> str:
    """A parameter's value for people: numbers with a decimal comma, lists with «;», pairs
    within a list with «/», a mapping as «key: value»."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v, True)}" for k, v in value.items()) or "—"
    if isinstance(value, (list, tuple)):
        return (" / " if inner else "; ").join(_plain(v, True) for v in value) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if value is None:
        return "—"
    return str(value)


def parameter_words(changes: Diff) -> list[str]:
    """The set-wide parameters that differ, e.g. «Порог положительного ответа: 9 → 8»."""
    out = []
    for key, (before, after) in changes.parameters.items():
        parameter = changes.new.parameters.get(key) or changes.old.parameters.get(key)
        label = parameter.label if parameter is not None else key
        out.append(_("%(label)s: %(before)s → %(after)s", label=label, before=_plain(before),
                     after=_plain(after)))
    return out


def indicator_words(line: IndicatorVersions, changes: Diff) -> list[str]:
    """Why this indicator's figure may differ between the versions, one sentence a reason;
    empty when nothing of it differs."""
    if line.status == "added":
        return [_("Added in the second version.")]
    if line.status == "removed":
        return [_("Removed in the second version.")]
    out = []
    change = line.change
    if change is not None:
        for field, (before, after) in change.fields.items():
            out.append(_field_words(field, before, after))
        if change.checklist_added:
            out.append(_("Checklist parameters added: %(names)s.",
                         names="; ".join(change.checklist_added)))
        if change.checklist_removed:
            out.append(_("Checklist parameters removed: %(names)s.",
                         names="; ".join(change.checklist_removed)))
        labels = {p.key: p.label for p in changes.new.indicator(line.code).checklist}
        for key, (before, after) in change.points_changed.items():
            out.append(_("Points of «%(label)s»: %(before)s → %(after)s.",
                         label=labels.get(key, key), before=_plain(before), after=_plain(after)))
    if line.kind == "subjective":
        for key in SUBJECTIVE_PARAMETERS:
            if key in changes.parameters:
                before, after = changes.parameters[key]
                parameter = changes.new.parameters.get(key) or changes.old.parameters[key]
                out.append(_("%(label)s: %(before)s → %(after)s.", label=parameter.label,
                             before=_plain(before), after=_plain(after)))
    return out


def _field_words(field: str, before: Any, after: Any) -> str:
    if field == "scored":
        return (_("Now counted in the index.") if after else
                _("No longer counted in the index (reported only)."))
    if field == "level":
        return (_("Filled once for the region in a centralized network.") if after == "network"
                else _("Filled for every office."))
    if field == "components":
        return (_("Now the mean of %(parts)s.", parts=_plain(after)) if after else
                _("No longer the mean of %(parts)s.", parts=_plain(before)))
    if field == "items":
        return _("Computed from other questions: %(before)s → %(after)s.",
                 before=_plain(before), after=_plain(after))
    if field == "group":
        return _("Moved from group %(before)s to group %(after)s.", before=before, after=after)
    if field == "title":
        return _("Renamed: «%(before)s» → «%(after)s».", before=before, after=after)
    return _("Changed: %(before)s → %(after)s.", before=_plain(before), after=_plain(after))
