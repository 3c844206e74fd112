"""The phone questionnaire: which items to show and reading the operator's form.

Everything comes from the campaign's plugin set (``items_for``, ``follows``, the item kinds);
nothing here names an item. Values are read into the shape :func:`cci.intake.submit` takes —
intake validates them again and is the authority — but this module checks them first, so the
operator gets a message in Russian next to the question instead of intake's terse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask_babel import gettext as _

from cci.plugin_api import RESPONDENT_TYPES
from cci.plugin_api import IndicatorSet
from cci.plugin_api import Item

NA = "na"
DECLINED = "declined"
PREFIX = "q__"
COMMENT_MAX = 4000
SECTIONS = ("question", "profile")


def field_name(item: Item) -> str:
    return f"{PREFIX}{item.key}"


@dataclass
class Shown:
    """An item as shown on the page: its number among the questions of its type."""

    item: Item
    number: int
    text: str
    followers: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    respondent_type: str | None  # None: no type chosen yet, or the survey was declined
    declined: bool
    answers: dict[str, Any]
    profile: dict[str, Any]
    comment: str
    errors: dict[str, str]


def respondent_type_of(form) -> str | None:
    value = (form.get("respondent_type") or "").strip()
    return value if value in RESPONDENT_TYPES or value == DECLINED else None


def read_value(item: Item, raw: str) -> tuple[bool, Any, str | None]:
    """(answered, value, error). ``value`` is what intake takes: a whole number for scale and
    yes/no items, an option key, None for «Затрудняюсь ответить»."""
    raw = (raw or "").strip()
    if raw == "":
        return False, None, None
    if raw == NA:
        if item.allows_na or item.kind == "text":
            return True, None, None
        return True, None, _("This question needs a “Yes” or “No” answer.")
    if item.kind == "scale":
        if raw.isascii() and raw.isdigit() and item.scale_min <= int(raw) <= item.scale_max:
            return True, int(raw), None
        return True, None, _("Choose a score from %(low)d to %(high)d or “Don't know”.",
                             low=item.scale_min, high=item.scale_max)
    if item.kind == "yesno":
        if raw in ("1", "0"):
            return True, int(raw), None
        return True, None, _("Answer “Yes” or “No”.")
    if item.kind == "choice":
        if raw in {option.key for option in item.options}:
            return True, raw, None
        return True, None, _("Choose one of the listed answers.")
    return True, raw[:COMMENT_MAX], None


def _expected_label(parent: Item, expected: Any) -> str:
    for option in parent.options:
        if str(option.key) == str(expected):
            return option.label
    if parent.kind == "yesno":
        return _("Yes") if expected in (1, "1", True) else _("No")
    return str(expected)


def shown_items(indicator_set: IndicatorSet, respondent_type: str, form,
                section: str = "question") -> list[Shown]:
    """The items of a section for this respondent type whose condition holds for the answers
    in ``form`` (a follow-up appears only after its parent got the expected answer)."""
    items = indicator_set.items_for(respondent_type, section)
    values: dict[str, Any] = {}
    for item in items:
        answered, value, error = read_value(item, form.get(field_name(item), ""))
        if answered and error is None:
            values[item.key] = value
    result: list[Shown] = []
    visible: set[str] = set()
    followers: dict[str, list[str]] = {}
    for item in items:
        if item.follows:
            followers.setdefault(item.follows[0], []).append(item.key)
    for number, item in enumerate(items, start=1):
        if item.follows:
            parent, expected = item.follows
            if parent not in visible or values.get(parent) != expected:
                continue
        visible.add(item.key)
        result.append(Shown(item, number, item.for_type(respondent_type) or item.key,
                            followers.get(item.key, [])))
    return result


def follow_up_condition(indicator_set: IndicatorSet, item: Item, respondent_type: str) -> str:
    parent_key, expected = item.follows
    parent = indicator_set.item(parent_key)
    return _("This question is asked only when the answer to “%(question)s” is “%(answer)s”.",
             question=parent.for_type(respondent_type) or parent.key,
             answer=_expected_label(parent, expected))


def parse(indicator_set: IndicatorSet | None, form) -> Parsed:
    """Read the survey part of the call form. Errors are keyed by form field name."""
    errors: dict[str, str] = {}
    chosen = respondent_type_of(form)
    comment = (form.get("comment") or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("The comment is too long: at most %(max)d characters.",
                              max=COMMENT_MAX)
    answered_fields = {key for key, value in form.items()
                       if key.startswith(PREFIX) and (value or "").strip()}
    if indicator_set is None:
        # no campaign: only the outcome is recorded
        return Parsed(None, True, {}, {}, "", errors)
    if chosen is None:
        errors["respondent_type"] = _(
            "Choose who is calling (a job seeker or an employer), or mark that the caller "
            "declined the survey.")
        return Parsed(None, False, {}, {}, comment, errors)
    if chosen == DECLINED:
        if answered_fields or comment:
            errors["respondent_type"] = _(
                "The caller declined the survey, but answers are filled in: clear them or "
                "choose who is calling.")
        return Parsed(None, True, {}, {}, "", errors)
    known = {field_name(item): item
             for section in SECTIONS for item in indicator_set.items_for(chosen, section)}
    for name in sorted(answered_fields - set(known)):
        errors[name] = _("Unknown question “%(key)s”.", key=name[len(PREFIX):])
    answers: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    for section, target in (("question", answers), ("profile", profile)):
        shown = {s.item.key for s in shown_items(indicator_set, chosen, form, section)}
        for item in indicator_set.items_for(chosen, section):
            name = field_name(item)
            answered, value, error = read_value(item, form.get(name, ""))
            if not answered:
                continue
            if error:
                errors[name] = error
            elif item.key not in shown:
                errors[name] = follow_up_condition(indicator_set, item, chosen)
            else:
                target[item.key] = value
    if not answers and not errors:
        errors["respondent_type"] = _(
            "Record at least one answer, or mark that the caller declined the survey.")
    return Parsed(chosen, False, answers, profile, comment, errors)
