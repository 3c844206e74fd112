"""Numbers as people read them, in one Russian format on every page and export a person reads:
a decimal comma, a real minus sign, thousands split by a thin no-break space, a space before
«%». Babel knows the Russian pattern; the two typographic signs it leaves plain are set here.
The API keeps JSON numbers."""

from __future__ import annotations

import functools

from babel import Locale
from babel.numbers import NumberPattern
from babel.numbers import parse_pattern

from cci.methodology.figures import INDEX_DECIMALS

LOCALE = "ru_RU"
MINUS = "\u2212"
THIN_SPACE = "\u202f"  # narrow no-break space: thousands, and before «%»
DASH = "—"  # no value
_LOCALE = Locale.parse(LOCALE)


@functools.cache
def _pattern(decimals: int, trim: bool) -> NumberPattern:
    """The parsed pattern (what format_decimal parses again, with the locale, on every call:
    a page of a few thousand figures spent most of its time there)."""
    return parse_pattern("#,##0" + ("." + ("#" if trim else "0") * decimals if decimals else ""))


def _grouped(value: float, decimals: int, trim: bool) -> str:
    """The Russian pattern's digits by Python's own format (a page formats thousands of
    numbers; Babel's pattern takes seven times as long and yields the same text, which
    tests/test_numbers.py checks against it): groups of three split by a thin space, a
    decimal comma."""
    text = f"{value:,.{decimals}f}"
    if trim and decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", THIN_SPACE).replace(".", ",")


def babel_grouped(value: float, decimals: int, trim: bool) -> str:
    """The same by Babel's Russian pattern: the reference :func:`_grouped` is held to."""
    return _pattern(decimals, trim).apply(value, _LOCALE).replace("\xa0", THIN_SPACE)


def number(value: float | int | None, decimals: int = 0, signed: bool = False,
           trim: bool = False) -> str:
    """«12 345,7», «−0,3»; with ``signed``, «+0,3» too; with ``trim``, no trailing zeros
    («0,5», «2»); «—» for no value."""
    if value is None:
        return DASH
    text = _grouped(round(value, decimals) + 0.0, decimals, trim).replace("-", MINUS)
    if text.lstrip(MINUS).strip("0,") == "":  # no «−0,0»
        text = text.lstrip(MINUS)
    elif signed and not text.startswith(MINUS):
        text = "+" + text
    return text


def percent(share: float | None, decimals: int = 0, signed: bool = False) -> str:
    """A share (0.716) as people read it: «71,6 %» (with ``decimals=1``)."""
    if share is None:
        return DASH
    return f"{number(share * 100, decimals, signed)}{THIN_SPACE}%"


def index(value: float | None) -> str:
    """An index at the precision its stars are given at: «71,6»."""
    return number(value, INDEX_DECIMALS)


def init_app(app) -> None:
    app.jinja_env.filters.update(number=number, percent=percent, index=index)
