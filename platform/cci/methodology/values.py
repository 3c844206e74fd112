"""Values as people write them, read the same way on every path they come in by: checklist values
(the form, the API, file imports) and the cells of imported files. Numbers in the Russian way
(«1 234,5»: spaces as thousands separators, a decimal comma), yes and no in either language. A
number is finite and written out (no exponent, no «nan»); what a path does with a refusal (a form's
message, an import's row error, the API's 422) is its own."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

YES_WORDS = {"да", "д", "+", "1", "есть", "yes", "y", "true", "истина", "имеется"}
NO_WORDS = {"нет", "н", "-", "–", "—", "0", "no", "n", "false", "ложь", "отсутствует"}
#: No answer: «Затрудняюсь ответить» as the forms send it ("na") and as people write it.
NO_ANSWER_WORDS = {"", "na", "затрудняюсь ответить", "затрудняюсь", "не знаю"}

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_number(value: Any) -> float:
    """A finite number: an int or float as it is, text as people type it; raises ValueError
    (a bool is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(value)
    if isinstance(value, str):
        text = _SPACES.sub("", value).replace(",", ".")
        if not _NUMBER.fullmatch(text):
            raise ValueError(value)
        value = text
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float (JSON's 1 and 400 zeros)
        raise ValueError(value) from None
    if not math.isfinite(number):  # the same written out as text, or a float infinity
        raise ValueError(value)
    return number


def exact_number(value: Any) -> Fraction:
    """A number exactly as it was given, for the band and threshold rules of a methodology:
    «23,4» and the float 23.4 (typed as 23.4, stored as its nearest binary fraction) are both
    117/5, so 23.4 / 26 is 9/10 exactly and meets a band that starts at 0.9. A float is read
    as its shortest decimal writing (``repr``), which is how it was typed; raises ValueError
    as :func:`parse_number` does."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(value)
        return Fraction(value)
    number = parse_number(value)  # the same refusals (bools, text that is not a number, inf)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        return Fraction(_SPACES.sub("", value).replace(",", "."))
    return Fraction(repr(number))


class NegativeNumber(ValueError):
    """A count or an amount below zero."""


def parse_amount(value: Any) -> int | float:
    """A non-negative number (a count, an amount), an int when it is whole; raises
    ValueError, :class:`NegativeNumber` when it is below zero."""
    number = parse_number(value)
    if number < 0:
        raise NegativeNumber(value)
    return int(number) if number.is_integer() and number < 2**53 else number


def word(value: Any) -> str:
    """Text compared as a word: lower case, «ё» as «е», single spaces, no final full stop."""
    text = str(value).replace("\xa0", " ").strip()
    return re.sub(r"\s+", " ", text.lower().replace("ё", "е")).rstrip(".")


def parse_yes_no(value: Any) -> bool:
    """«да»/«нет» and their kin (see :data:`YES_WORDS`, :data:`NO_WORDS`); raises ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    spoken = word(value) if value is not None else ""
    if spoken in YES_WORDS:
        return True
    if spoken in NO_WORDS:
        return False
    raise ValueError(value)


def is_no_answer(value: Any) -> bool:
    """None, an empty text or «Затрудняюсь ответить» (see :data:`NO_ANSWER_WORDS`)."""
    return value is None or (isinstance(value, str) and word(value) in NO_ANSWER_WORDS)
