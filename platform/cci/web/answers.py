"""Answers as people read them: each question in the wording its respondent was asked, and the
answer in words (the option chosen, «8 из 10», «да»), in the questionnaire's order; profile
answers and the comment beside them. Never a stored key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from cci.foundation.models import Response
from cci.methodology.contract import Item


@dataclass(frozen=True)
class ShownAnswer:
    question: str
    answer: str


def shown_answers(response: Response) -> list[ShownAnswer]:
    """The response's answers, then its profile, in the order its questionnaire asks them."""
    try:
        indicator_set = current_app.extensions["cci.registry"].indicator_set(
            response.methodology_key)
    except LookupError:  # its version is no longer installed: the answers as stored
        return [ShownAnswer(a.item, _stored(a.choice, a.value))
                for a in sorted(response.answers, key=lambda a: a.item)]
    given = {a.item: (a.choice, a.value) for a in response.answers}
    shown = []
    for section, values in (("question", given), ("profile", response.profile or {})):
        for item in indicator_set.items_for(response.respondent_type, section):
            if item.key in values:
                shown.append(ShownAnswer(_question(item, response.respondent_type),
                                         _answer(item, values[item.key])))
    known = {item.key for item in indicator_set.items}
    shown += [ShownAnswer(key, _stored(*value)) for key, value in sorted(given.items())
              if key not in known]
    return shown


def _question(item: Item, respondent_type: str) -> str:
    return item.for_type(respondent_type) or next(iter(item.text.values()), item.key)


def _answer(item: Item, stored: Any) -> str:
    choice, value = stored if isinstance(stored, tuple) else (None, stored)
    value = choice if choice is not None else value
    if value is None:
        return _("hard to say")
    labels = {option.key: option.label for option in item.options}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if str(value) in labels:
        return labels[str(value)]
    if item.kind == "yesno":
        return _("yes") if value in (1, True, "1", "yes") else _("no")
    if item.kind == "scale":
        return _("%(value)s of %(max)s", value=value, max=item.scale_max)
    return str(value)


def _stored(choice: Any, value: Any) -> str:
    shown = choice if choice is not None else value
    return _("hard to say") if shown is None else str(shown)
