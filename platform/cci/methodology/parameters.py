"""What a derived version may change in a set, each with its type, range and unit; checking a
change; and the derived set itself (the base set with the changes applied).

A change is keyed by a string naming its place:

- ``parameter:<key>`` — a declared :class:`~cci.methodology.contract.Parameter` (``kind`` set);
- ``points:<indicator code>:<checklist parameter>`` — a checklist parameter's points, 0–1;
- ``label:<indicator code>:<checklist parameter>`` — a checklist parameter's wording;
- ``wording:<item>:<respondent type>`` — a question's wording for one respondent type;
- ``description:<indicator code>`` — an indicator's explanatory text; ``description`` — the
  set's own.

Values are JSON (a derived version is stored and sent as JSON); every number is checked
against its range, every list against its length and order, so the formula never meets a
value it was not written for.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cci.methodology.contract import IndicatorSet

#: The kinds of change, as people read them.
KIND_LABELS = {
    "integer": _l("whole number"),
    "number": _l("number"),
    "numbers": _l("numbers, highest first"),
    "weights": _l("a number for each"),
    "bands": _l("thresholds (highest first) and scores"),
    "mapping": _l("options and their channels"),
    "text": _l("text"),
}
#: The sections of a derived version's form.
SECTIONS = {
    "parameter": _l("Parameters"),
    "points": _l("Points of checklist parameters"),
    "wording": _l("Wording of questions"),
    "label": _l("Wording of checklist parameters"),
    "description": _l("Explanatory texts"),
}
RESPONDENT_LABELS = {"job_seeker": _l("job seeker"), "employer": _l("employer")}
TEXT_MAX = 2000


@dataclass(frozen=True)
class Tunable:
    """One thing a derived version may change: where (``key``), what it is called, its kind,
    its value in the set, and its bounds."""

    key: str
    section: str
    label: str
    kind: str
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    #: the keys of a "weights" value, or the options of a "mapping"
    parts: tuple[str, ...] = ()
    #: a "text" may be empty (a description) or not (a question's wording)
    required: bool = True
    #: how people read each part and each choice (a group's, an option's, a channel's name)
    words: tuple[tuple[str, str], ...] = ()

    def word(self, key: str) -> str:
        return dict(self.words).get(key, key)


def _words(indicator_set: IndicatorSet) -> dict[str, str]:
    """Names of the keys a parameter's parts and choices are: groups, options, channels."""
    words: dict[str, str] = {}
    for ind in indicator_set.indicators:
        for cp in ind.checklist:
            words.setdefault(cp.key, cp.label)
    for item in indicator_set.items:
        for option in item.options:
            words.setdefault(option.key, option.label)
    for code, title in indicator_set.groups.items():
        words[code] = f"{code}. {title}"
    return words


def tunables(indicator_set: IndicatorSet) -> list[Tunable]:
    """Everything of ``indicator_set`` a derived version may change, in the order of a form."""
    found: list[Tunable] = []
    words = _words(indicator_set)
    for p in indicator_set.parameters.values():
        if p.kind:
            parts = tuple(p.value) if p.kind in ("weights", "mapping") else ()
            named = tuple((k, words[k]) for k in (*parts, *p.choices) if k in words)
            named = (*named, *p.words)  # the parameter's own words stand (dict(): the last)
            found.append(Tunable(f"parameter:{p.key}", "parameter", p.label, p.kind, p.value,
                                 p.minimum, p.maximum, p.unit, tuple(p.choices), parts,
                                 words=named))
    for ind in indicator_set.indicators:
        for cp in ind.checklist:
            if cp.points is not None:
                found.append(Tunable(f"points:{ind.code}:{cp.key}", "points",
                                     f"{ind.code} · {cp.label}", "number", cp.points, 0, 1,
                                     str(_l("points"))))
    asked_in = {key: f"{ind.code} {ind.title}" for ind in reversed(indicator_set.indicators)
                for key in ind.items}
    for n, item in enumerate(indicator_set.items, start=1):
        for rtype, text in item.text.items():
            where = asked_in.get(item.key) or str(_l("question %(n)d", n=n))
            found.append(Tunable(f"wording:{item.key}:{rtype}", "wording",
                                 f"{where} · {RESPONDENT_LABELS.get(rtype, rtype)}", "text",
                                 text, maximum=TEXT_MAX))
    for ind in indicator_set.indicators:
        for cp in ind.checklist:
            found.append(Tunable(f"label:{ind.code}:{cp.key}", "label",
                                 f"{ind.code} · {cp.label}", "text", cp.label, maximum=TEXT_MAX))
    found.append(Tunable("description", "description", str(_l("The version's description")),
                         "text", indicator_set.description, maximum=TEXT_MAX, required=False))
    for ind in indicator_set.indicators:
        found.append(Tunable(f"description:{ind.code}", "description",
                             f"{ind.code} · {ind.title}", "text", ind.description,
                             maximum=TEXT_MAX, required=False))
    return found


class ParameterError(ValueError):
    """Changes that do not fit their declarations: ``errors`` maps a change's key to why, in
    Russian."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def check(indicator_set: IndicatorSet, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that differ from ``indicator_set``, read and checked; raises
    :class:`ParameterError` with every refusal."""
    declared = {t.key: t for t in tunables(indicator_set)}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in changes.items():
        tunable = declared.get(key)
        if tunable is None:
            errors[key] = _("This cannot be changed in a derived version.")
            continue
        try:
            value = _read(tunable, raw)
        except ValueError as exc:
            errors[key] = f"{tunable.label}: {exc}"
            continue
        if value != _read(tunable, tunable.value):  # the base's, read the same way
            clean[key] = value
    if errors:
        raise ParameterError(errors)
    return clean


def _number(t: Tunable, raw: Any, *, whole: bool = False) -> float | int:
    if isinstance(raw, bool) or raw is None:
        raise ValueError(_("a number is expected"))
    if isinstance(raw, str):
        try:
            raw = float(raw.strip().replace(",", ".").replace("\u2212", "-"))
        except ValueError:
            raise ValueError(_("a number is expected")) from None
    if not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise ValueError(_("a number is expected"))
    if whole:
        if float(raw) != int(raw):
            raise ValueError(_("a whole number is expected"))
        raw = int(raw)
    if (t.minimum is not None and raw < t.minimum) or (t.maximum is not None
                                                          and raw > t.maximum):
        raise ValueError(_("must be from %(low)s to %(high)s", low=_plain(t.minimum),
                           high=_plain(t.maximum)))
    return raw


def _plain(value: float | None) -> str:
    if value is None:
        return "—"
    return (str(int(value)) if float(value).is_integer() else str(value)).replace(".", ",")


def _read(t: Tunable, raw: Any) -> Any:
    if t.kind == "integer":
        return _number(t, raw, whole=True)
    if t.kind == "number":
        return float(_number(t, raw))
    if t.kind == "numbers":
        if not isinstance(raw, list) or len(raw) != len(t.value):
            raise ValueError(_("%(n)d numbers are expected", n=len(t.value)))
        numbers = [_number(t, x) for x in raw]
        if any(a <= b for a, b in itertools.pairwise(numbers)):
            raise ValueError(_("each number must be lower than the one before"))
        return numbers
    if t.kind == "weights":
        if not isinstance(raw, dict) or set(raw) != set(t.parts):
            raise ValueError(_("a number for each of %(keys)s is expected",
                               keys=", ".join(t.parts)))
        weights = {k: float(_number(t, raw[k])) for k in t.parts}
        if not any(weights.values()):
            raise ValueError(_("at least one must be above zero"))
        return weights
    if t.kind == "bands":
        if (not isinstance(raw, list) or len(raw) != len(t.value)
                or not all(isinstance(pair, list) and len(pair) == 2 for pair in raw)):
            raise ValueError(_("%(n)d pairs of a threshold and a score are expected",
                               n=len(t.value)))
        bands = [[float(_number(t, a)), float(_number(_SCORE, b))] for a, b in raw]
        if any(a[0] <= b[0] for a, b in itertools.pairwise(bands)):
            raise ValueError(_("each threshold must be lower than the one before"))
        return bands
    if t.kind == "mapping":
        if not isinstance(raw, dict) or set(raw) != set(t.parts):
            raise ValueError(_("channels for each of %(keys)s are expected",
                               keys=", ".join(t.parts)))
        mapping = {}
        for option in t.parts:
            channels = raw[option]
            if (not isinstance(channels, list) or not channels
                    or any(c not in t.choices for c in channels)):
                raise ValueError(_("choose at least one known channel for %(option)s",
                                   option=option))
            mapping[option] = sorted(set(channels), key=t.choices.index)
        return mapping
    if t.kind == "text":
        if not isinstance(raw, str):
            raise ValueError(_("text is expected"))
        text = raw.strip()
        if t.required and not text:
            raise ValueError(_("must not be empty"))
        if len(text) > (t.maximum or TEXT_MAX):
            raise ValueError(_("at most %(n)d characters", n=int(t.maximum or TEXT_MAX)))
        return text
    raise ValueError(_("This cannot be changed in a derived version."))


_SCORE = Tunable("", "", "", "number", 0, 0, 1)


def derive(base: IndicatorSet, *, key: str, title: str, version: str,
           overrides: dict[str, Any]) -> IndicatorSet:
    """The set ``base`` with ``overrides`` (checked by :func:`check`) applied: the same formula
    (the base's class and methods), its own key, title and parameters."""
    parameters = dict(base.parameters)
    points: dict[tuple[str, str], float] = {}
    labels: dict[tuple[str, str], str] = {}
    wording: dict[tuple[str, str], str] = {}
    descriptions: dict[str, str] = {}
    description = base.description
    for place, value in overrides.items():
        kind, _sep, rest = place.partition(":")
        if kind == "parameter":
            parameters[rest] = dataclasses.replace(parameters[rest], value=value)
        elif kind == "points":
            code, _sep, param = rest.partition(":")
            points[code, param] = value
        elif kind == "label":
            code, _sep, param = rest.partition(":")
            labels[code, param] = value
        elif kind == "wording":
            item, _sep, rtype = rest.partition(":")
            wording[item, rtype] = value
        elif place == "description":
            description = value
        elif kind == "description":
            descriptions[rest] = value

    def revise_indicator(ind):
        checklist = tuple(
            dataclasses.replace(cp, points=points.get((ind.code, cp.key), cp.points),
                                label=labels.get((ind.code, cp.key), cp.label))
            for cp in ind.checklist)
        return dataclasses.replace(ind, checklist=checklist,
                                   description=descriptions.get(ind.code, ind.description))

    def revise_item(item):
        text = {rtype: wording.get((item.key, rtype), t) for rtype, t in item.text.items()}
        return dataclasses.replace(item, text=text)

    return dataclasses.replace(
        base, key=key, title=title, version=version, description=description,
        based_on=base.key, changes=[], change_log=[], derived_from=base.key,
        overrides=dict(overrides), parameters=parameters,
        indicators=[revise_indicator(i) for i in base.indicators],
        items=[revise_item(i) for i in base.items])
