"""Numbers as people read them: one Russian format (decimal comma, a real minus sign, thin-space
thousands, a space before «%») through one module; the pages' figures are checked in their tests."""

from __future__ import annotations

import pytest

from cci.web.numbers import index
from cci.web.numbers import number
from cci.web.numbers import percent

MINUS, THIN = "\u2212", "\u202f"


@pytest.mark.parametrize(("args", "kwargs", "shown"), [
    ((71.6, 1), {}, "71,6"),
    ((-0.3, 1), {}, f"{MINUS}0,3"),
    ((0.3, 1), {"signed": True}, "+0,3"),
    ((-0.04, 1), {"signed": True}, "0,0"),  # never «−0,0» nor «+0,0»
    ((12345.678, 1), {}, f"12{THIN}345,7"),
    ((1234567,), {}, f"1{THIN}234{THIN}567"),
    ((-2,), {"signed": True}, f"{MINUS}2"),
    ((3,), {"signed": True}, "+3"),
    ((0.5, 2), {"trim": True}, "0,5"),
    ((2.0, 2), {"trim": True}, "2"),
    ((None,), {}, "—"),
])
def test_number(args, kwargs, shown):
    assert number(*args, **kwargs) == shown


def test_percent_and_index():
    assert percent(0.716) == f"72{THIN}%"
    assert percent(0.716, 1) == f"71,6{THIN}%"
    assert percent(-0.05, 1, signed=True) == f"{MINUS}5,0{THIN}%"
    assert percent(None) == "—"
    assert index(89.96) == "90,0" and index(None) == "—"



def test_the_fast_format_is_babels_russian_pattern():
    """number() formats by Python's format spec; Babel's Russian pattern is the reference:
    ties of rounding, groups, negative zero, trimmed zeros, large and tiny values."""
    import random

    from cci.web.numbers import _grouped
    from cci.web.numbers import babel_grouped

    rng = random.Random(17)
    values = [0.0, -0.0, 0.05, 0.15, 0.25, 2.675, 999.95, -1234.55, 1e6, 12345678.9, 1e-9,
              *(rng.uniform(-1e7, 1e7) for _ in range(2000)),
              *(rng.uniform(-2, 2) for _ in range(2000)),
              *(float(rng.randint(-100000, 100000)) for _ in range(1000))]
    for value in values:
        for decimals in (0, 1, 2, 3):
            for trim in (False, True):
                shown = round(value, decimals) + 0.0
                assert _grouped(shown, decimals, trim) == babel_grouped(shown, decimals, trim), (
                    value, decimals, trim)
