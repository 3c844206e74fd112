"""A methodology version told in words, for the people who read and revise it: each parameter's
value, each indicator (what it measures, how it is scored, for whom, at which level, what the
platform fills in where the source is silent), each questionnaire item. Numbers are written the
Russian way; no internal key, no JSON, no ``None`` reaches the text.

The methodology pages and the difference of two versions (:mod:`cci.methodology.diff`) are
written from these functions, so a value reads the same on both."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext

from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item

# the same format as the pages' numbers (cci.web.numbers), which this layer may not import
_LOCALE = "ru_RU"
_THIN_SPACE = "\u202f"
_MINUS = "\u2212"


def number(value: Any) -> str:
    """«0,125», «1 000», «−0,5»: as many decimals as the value has, no trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return str(value)
    text = format_decimal(Decimal(str(value)), format="#,##0.######", locale=_LOCALE)
    return text.replace("\xa0", _THIN_SPACE).replace("-", _MINUS)


def respondent_type(rtype: str) -> str:
    return {"job_seeker": _("job seekers"), "employer": _("employers")}.get(rtype, rtype)


def respondent(rtype: str) -> str:
    """One respondent, as a question's wording is labelled: «Соискатель»."""
    return {"job_seeker": _("Job seeker"), "employer": _("Employer")}.get(rtype, rtype)


def yes_no(value: Any) -> str:
    return _("yes") if value else _("no")


# --- parameters -----------------------------------------------------------------------------


def parameter_value(indicator_set: IndicatorSet, key: str, value: Any = None) -> str:
    """A parameter's value in words: «8–10», «5★ — от 90, …», «10 ответов». ``value``: another
    value of the same parameter (a diff's old one); by default the set's own."""
    if value is None:
        parameter = indicator_set.parameters.get(key)
        if parameter is None:
            return "—"
        value = parameter.value
    words = _PARAMETER_WORDS.get(key)
    if words is not None:
        try:
            return words(indicator_set, value)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            pass  # a value of another shape (a plugin's own): told the general way
    return plain_value(indicator_set, value)


def plain_value(indicator_set: IndicatorSet, value: Any) -> str:
    """Any value without a wording of its own: numbers Russian, keys as their labels."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, (int, float, Decimal)):
        return number(value)
    if isinstance(value, dict):
        return "; ".join(f"{key_label(indicator_set, k)} — {plain_value(indicator_set, v)}"
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(plain_value(indicator_set, v) for v in value)
    return key_label(indicator_set, str(value))


def _positive(indicator_set: IndicatorSet, value: Any) -> str:
    top = max((i.scale_max for i in indicator_set.items if i.kind == "scale"), default=10)
    return f"{number(value)}–{number(top)}"


def _min_sample(_set: IndicatorSet, value: Any) -> str:
    return ngettext("%(num)s valid answer", "%(num)s valid answers", int(value))


def _stars(_set: IndicatorSet, value: Any) -> str:
    bands = [_("%(stars)s★ from %(value)s", stars=stars, value=number(band))
             for stars, band in zip((5, 4, 3, 2), value, strict=False)]
    return ", ".join([*bands, _("below: 1★")])


def _comfort(_set: IndicatorSet, value: Any) -> str:
    parts = [(_("level %(level)s", level=k) if k != "none" else _("no level met"))
             + f" — {number(points)}" for k, points in value.items()]
    return ", ".join(parts)


def _weights(indicator_set: IndicatorSet, value: Any) -> str:
    return "; ".join(f"{key_label(indicator_set, group)} — {number(weight)}"
                     for group, weight in value.items())


def _vacancy_bands(_set: IndicatorSet, value: Any) -> str:
    bands = [_("r ≥ %(threshold)s: %(score)s", threshold=number(threshold), score=number(score))
             for threshold, score in value]
    return "; ".join([*bands, _("lower: 0")])


def _channels(indicator_set: IndicatorSet, value: Any) -> str:
    or_ = " " + _("or") + " "
    return "; ".join(
        f"«{_option_label(indicator_set, option)}» — "
        + or_.join(_param_label(indicator_set, c) for c in channels)
        for option, channels in value.items())


#: the parameters whose values read better than a list of numbers
_PARAMETER_WORDS = {
    "positive_min": _positive,
    "min_sample": _min_sample,
    "star_bands": _stars,
    "comfort_points": _comfort,
    "group_weights": _weights,
    "vacancy_bands": _vacancy_bands,
    "preferred_channel_offered_by": _channels,
}


def _option_label(indicator_set: IndicatorSet, key: str) -> str:
    for item in indicator_set.items:
        for option in item.options:
            if option.key == key:
                return option.label
    return _param_label(indicator_set, key)


def _param_label(indicator_set: IndicatorSet, key: str) -> str:
    for indicator in indicator_set.indicators:
        for param in indicator.checklist:
            if param.key == key:
                return param.label
    return key


def key_label(indicator_set: IndicatorSet, key: str) -> str:
    """A key as people read it: a group's name, an option's or a checklist parameter's
    label; the key itself only when nothing names it."""
    if key in indicator_set.groups:
        return f"{key}. {indicator_set.groups[key]}"
    return _option_label(indicator_set, key)


# --- indicators -----------------------------------------------------------------------------


@dataclass
class IndicatorText:
    """One indicator in words (every field is text for people)."""

    code: str
    title: str
    group: str
    #: what is measured: the questions as asked, or the checklist's parameters with points
    measures: list[str]
    #: how it is scored, with the numbers
    scoring: list[str]
    respondents: str
    level: str
    in_index: bool
    #: what the platform fills in where the source is silent
    defaults: list[str] = field(default_factory=list)


def indicator_text(indicator_set: IndicatorSet, indicator: Indicator) -> IndicatorText:
    if indicator.kind == "subjective":
        measures, scoring, respondents = _subjective(indicator_set, indicator)
        level = _("Office: the answers of the office's clients")
    else:
        measures, scoring = _objective(indicator)
        respondents = _("Job seekers and employers alike (one value for both); filled by the "
                        "region's working group (auditors)")
        level = (_("Region in a centralized network (filled once and applied to every office); "
                   "each office in a decentralized one") if indicator.level == "network"
                 else _("Each office"))
    if indicator.components:
        parts = [i for i in indicator_set.indicators if i.code in indicator.components]
        measures = [_("Its components: %(codes)s", codes=", ".join(indicator.components))]
        scoring = [_("The mean of its components that have a score.")]
        if indicator.kind == "subjective":
            respondents = _types_text([t for part in parts for key in part.items
                                       for t in _item_types(indicator_set, key)])
    if indicator.description:
        scoring.append(indicator.description)
    if not indicator.scored:
        scoring.append(_("Reported, not part of the index."))
    defaults = []
    if indicator.is_default:
        defaults.append(_("The scoring rule"))
    reconstructed = [p.label for p in indicator.checklist if p.is_default]
    if reconstructed and len(reconstructed) == len(indicator.checklist) > 1:
        defaults.append(_("What the checklist's parameters are") if indicator.is_default
                        else _("What the checklist's parameters are (their number and points "
                               "are the source's)"))
    else:
        defaults += reconstructed
    return IndicatorText(indicator.code, indicator.title, indicator.group, measures, scoring,
                         respondents, level, indicator.scored, defaults)


def indicator_texts(indicator_set: IndicatorSet) -> list[IndicatorText]:
    return [indicator_text(indicator_set, i) for i in indicator_set.indicators]


def _subjective(indicator_set: IndicatorSet, indicator: Indicator):
    measures: list[str] = []
    scoring: list[str] = []
    types: list[str] = []
    for key in indicator.items:
        try:
            item = indicator_set.item(key)
        except KeyError:
            continue
        measures += wording_lines(item)
        types += [t for t in RESPONDENT_TYPES if t in item.text and t not in types]
        scoring.append(_item_scoring(indicator_set, item, indicator.scored))
        if item.follows is not None:
            scoring.append(condition(indicator_set, item))
    distribution = not indicator.scored and any(
        indicator_set.item(key).kind == "choice" for key in indicator.items
        if key in {i.key for i in indicator_set.items})
    if not distribution and not indicator.components:
        positive = indicator_set.parameters.get("min_sample")
        if positive is not None:
            scoring.append(_("At least %(sample)s in an office, or the indicator is "
                             "«insufficient data» there and left out of every mean.",
                             sample=parameter_value(indicator_set, "min_sample")))
        if len(types) > 1:
            scoring.append(_("The office's score is the mean over the respondent types "
                             "present."))
    return measures, [s for s in scoring if s], _types_text(types)


def _item_types(indicator_set: IndicatorSet, key: str) -> list[str]:
    try:
        item = indicator_set.item(key)
    except KeyError:
        return []
    return [t for t in RESPONDENT_TYPES if t in item.text]


def _types_text(types: list[str]) -> str:
    """«Соискатели и работодатели», «Соискатели»."""
    present = [t for t in RESPONDENT_TYPES if t in types]
    if not present:
        return "—"
    return (" " + _("and") + " ").join(respondent_type(t) for t in present).capitalize()


def _item_scoring(indicator_set: IndicatorSet, item: Item, scored: bool) -> str:
    if not scored and item.kind == "choice":
        return _("The distribution of the answers.")
    if item.kind == "scale":
        return _("The share of positive answers (%(band)s on a scale of %(low)s to %(high)s) "
                 "among those who answered; «Hard to say» is not counted.",
                 band=parameter_value(indicator_set, "positive_min"),
                 low=number(item.scale_min), high=number(item.scale_max))
    if item.kind in ("yesno", "choice") and item.options:
        return _("The share of «%(option)s» among those who answered.",
                 option=item.options[0].label)
    return ""


def condition(indicator_set: IndicatorSet, item: Item) -> str:
    parent_key, expected = item.follows or ("", None)
    try:
        parent = indicator_set.item(parent_key)
    except KeyError:
        return ""
    answer = next((o.label for o in parent.options if o.key == str(expected)), str(expected))
    question = next(iter(parent.text.values()), "")
    return _("Asked only of those who answered «%(answer)s» to «%(question)s».",
             answer=answer, question=question)


def wording_lines(item: Item) -> list[str]:
    """An item's wording per respondent type: one line when both read the same."""
    texts = [(t, item.text[t]) for t in RESPONDENT_TYPES if t in item.text]
    if len({text for _t, text in texts}) == 1 and len(texts) > 1:
        return [_("Both: «%(text)s»", text=texts[0][1])]
    return [f"{respondent(t)}: «{text}»" for t, text in texts]


def _objective(indicator: Indicator) -> tuple[list[str], list[str]]:
    params = indicator.checklist
    measures = [checklist_line(p) for p in params]
    bools = [p for p in params if p.kind == "bool"]
    scoring: list[str] = []
    if bools and len(bools) == len(params):
        points = {p.points for p in bools}
        if len(bools) == 1:
            scoring.append(_("%(points)s if present, otherwise 0.",
                             points=number(bools[0].points or 0)))
        elif len(points) == 1:
            scoring.append(_("The sum of the points of the parameters present: %(count)s × "
                             "%(points)s, at most 1.", count=len(bools),
                             points=number(bools[0].points or 0)))
        else:
            scoring.append(_("The sum of the points of the parameters present, at most 1."))
    return measures, scoring


def checklist_line(param: ChecklistParam) -> str:
    if param.kind == "number":
        return _("%(label)s (a number)", label=param.label)
    if param.kind == "choice":
        return _("%(label)s: one of %(options)s", label=param.label,
                 options="; ".join(f"«{o.label}»" for o in param.options))
    if param.points:
        return f"{param.label} — {number(param.points)}"
    return param.label


# --- the questionnaire ----------------------------------------------------------------------


@dataclass
class ItemText:
    """One questionnaire item in words."""

    number: int
    section: str
    wording: list[str]
    answers: str
    condition: str = ""


SECTIONS = ("question", "profile", "comment")


def section_title(section: str) -> str:
    return {"question": _("Questions"), "profile": _("About the respondent"),
            "comment": _("Comment")}.get(section, section)


def item_answers(item: Item) -> str:
    """What a respondent may answer, in words."""
    if item.kind == "scale":
        text = _("a scale from %(low)s to %(high)s", low=number(item.scale_min),
                 high=number(item.scale_max))
    elif item.kind == "text":
        text = _("free text")
    else:
        text = "; ".join(f"«{o.label}»" for o in item.options)
    if item.allows_na and item.kind != "text":
        text += "; " + _("«Hard to say»")
    return text


def questionnaire(indicator_set: IndicatorSet) -> list[ItemText]:
    """The set's questionnaire, item by item, in the order asked (questions, the respondent's
    profile, the comment)."""
    items = sorted(indicator_set.items, key=lambda i: SECTIONS.index(i.section)
                   if i.section in SECTIONS else len(SECTIONS))
    out = []
    for n, item in enumerate(items, start=1):
        asked_when = condition(indicator_set, item) if item.follows else ""
        out.append(ItemText(n, item.section, wording_lines(item), item_answers(item),
                            asked_when))
    return out
