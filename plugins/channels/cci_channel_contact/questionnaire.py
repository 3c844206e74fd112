"""The phone questionnaire: which items to show and reading the operator's form.

The campaign's set is the questionnaire: which items are asked of the caller's type, which
follow-up after which answer, and what a value may be (``asked_items``, ``read_answer``);
nothing here names an item or reads a value its own way. This module words the set's refusals
for the operator, in Russian next to the question; intake then stores what was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Self

from flask_babel import gettext as _

from cci.plugin_api import CONDITION_UNMET
from cci.plugin_api import NOT_A_NUMBER
from cci.plugin_api import NOT_ASKED
from cci.plugin_api import NOT_WHOLE
from cci.plugin_api import NOT_YES_NO
from cci.plugin_api import OUT_OF_RANGE
from cci.plugin_api import REQUIRED
from cci.plugin_api import TEXT_MAX
from cci.plugin_api import TOO_LONG
from cci.plugin_api import UNKNOWN_ITEM
from cci.plugin_api import UNKNOWN_OPTION
from cci.plugin_api import UNKNOWN_RESPONDENT_TYPE
from cci.plugin_api import AnswerError
from cci.plugin_api import IndicatorSet
from cci.plugin_api import Item
from cci.plugin_api import read_respondent_type

NA = "na"
DECLINED = "declined"
PREFIX = "q__"
COMMENT_MAX = TEXT_MAX
SECTIONS = ("question", "profile")


class Refusal(str):
    """A field's message that keeps the questionnaire's reason (the page shows it as
    ``data-reason``), so the call form refuses an answer for the same reason as any channel."""

    reason: str | None

    def __new__(cls, message: str, reason: str | None = None) -> Self:
        refusal = super().__new__(cls, message)
        refusal.reason = reason
        return refusal


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
    if value == DECLINED:
        return value
    try:
        return read_respondent_type(value)
    except AnswerError:
        return None


def _message(item: Item, reason: str, default: str) -> str:
    if reason in (NOT_A_NUMBER, NOT_WHOLE, OUT_OF_RANGE):
        return _("Choose a score from %(low)d to %(high)d or “Don't know”.",
                 low=item.scale_min, high=item.scale_max)
    return {
        REQUIRED: _("This question needs a “Yes” or “No” answer."),
        NOT_YES_NO: _("Answer “Yes” or “No”."),
        UNKNOWN_OPTION: _("Choose one of the listed answers."),
    }.get(reason, default)


def read_value(indicator_set: IndicatorSet, item: Item,
               raw: str) -> tuple[bool, Any, Refusal | None]:
    """(answered, value, error), the value as the set reads it: a whole number for scale and
    yes/no items, an option key, None for «Затрудняюсь ответить»."""
    raw = (raw or "").strip()
    if raw == "":
        return False, None, None
    try:
        return True, indicator_set.read_answer(item, raw), None
    except AnswerError as exc:
        return True, None, Refusal(_message(item, exc.reason, exc.message), exc.reason)


def _expected_label(parent: Item, expected: Any) -> str:
    for option in parent.options:
        if str(option.key) == str(expected):
            return option.label
    if parent.kind == "yesno":
        return _("Yes") if expected in (1, "1", True) else _("No")
    return str(expected)


def shown_items(indicator_set: IndicatorSet, respondent_type: str, form,
                section: str = "question") -> list[Shown]:
    """The items of a section the set asks of this respondent type, given the answers in
    ``form`` (a follow-up appears only after its parent got the expected answer)."""
    items = indicator_set.items_for(respondent_type, section)
    values: dict[str, Any] = {}
    for item in items:
        answered, value, error = read_value(indicator_set, item, form.get(field_name(item), ""))
        if answered and error is None:
            values[item.key] = value
    asked = {item.key for item in indicator_set.asked_items(respondent_type, values, section)}
    followers: dict[str, list[str]] = {}
    for item in items:
        if item.follows:
            followers.setdefault(item.follows[0], []).append(item.key)
    return [Shown(item, number, item.for_type(respondent_type) or item.key,
                  followers.get(item.key, []))
            for number, item in enumerate(items, start=1) if item.key in asked]


def follow_up_condition(indicator_set: IndicatorSet, item: Item, respondent_type: str) -> str:
    # only a follow-up goes unasked of its type (IndicatorSet.asked_items): it has a parent
    assert item.follows is not None
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
        errors["comment"] = Refusal(_("The comment is too long: at most %(max)d characters.",
                                      max=COMMENT_MAX), TOO_LONG)
    answered_fields = {key for key, value in form.items()
                       if key.startswith(PREFIX) and (value or "").strip()}
    if indicator_set is None:
        # no campaign: only the outcome is recorded
        return Parsed(None, True, {}, {}, "", errors)
    if chosen is None:
        given = (form.get("respondent_type") or "").strip()
        errors["respondent_type"] = Refusal(_(
            "Choose who is calling (a job seeker or an employer), or mark that the caller "
            "declined the survey."), UNKNOWN_RESPONDENT_TYPE if given else None)
        return Parsed(None, False, {}, {}, comment, errors)
    if chosen == DECLINED:
        if answered_fields or comment:
            errors["respondent_type"] = _(
                "The caller declined the survey, but answers are filled in: clear them or "
                "choose who is calling.")
        return Parsed(None, True, {}, {}, "", errors)
    _unknown_fields(indicator_set, chosen, answered_fields, errors)
    answers = _read_section(indicator_set, chosen, form, "question", errors)
    profile = _read_section(indicator_set, chosen, form, "profile", errors)
    if not answers and not errors:
        errors["respondent_type"] = _(
            "Record at least one answer, or mark that the caller declined the survey.")
    return Parsed(chosen, False, answers, profile, comment, errors)


def _unknown_fields(indicator_set: IndicatorSet, chosen: str, answered_fields: set[str],
                    errors: dict[str, str]) -> None:
    known = {field_name(item)
             for section in SECTIONS for item in indicator_set.items_for(chosen, section)}
    everyone = {field_name(item) for item in indicator_set.items}
    for name in sorted(answered_fields - known):
        errors[name] = Refusal(_("Unknown question “%(key)s”.", key=name[len(PREFIX):]),
                               NOT_ASKED if name in everyone else UNKNOWN_ITEM)


def _read_section(indicator_set: IndicatorSet, chosen: str, form, section: str,
                  errors: dict[str, str]) -> dict[str, Any]:
    """The answers of a section the set reads and asks; a refusal goes into ``errors``."""
    shown = {s.item.key for s in shown_items(indicator_set, chosen, form, section)}
    target: dict[str, Any] = {}
    for item in indicator_set.items_for(chosen, section):
        name = field_name(item)
        answered, value, error = read_value(indicator_set, item, form.get(name, ""))
        if not answered:
            continue
        if error:
            errors[name] = error
        elif item.key not in shown:
            errors[name] = Refusal(follow_up_condition(indicator_set, item, chosen),
                                   CONDITION_UNMET)
        else:
            target[item.key] = value
    return target
