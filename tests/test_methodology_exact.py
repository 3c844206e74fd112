"""Band and threshold rules compare exactly: the inputs as given (a decimal typed as «23,4» or
sent as the float 23.4), never their binary approximations. Every boundary of both sets is
checked with decimal inputs, at the boundary and one step below it."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from cci.methodology.figures import stars_for
from cci.methodology.values import exact_number
from methodology_helpers import all_params
from methodology_helpers import figure
from methodology_helpers import methodology
from methodology_helpers import office
from methodology_helpers import region

V22, V23 = methodology("cci-2022"), methodology("cci-2023")

#: a decimal with one or two places, as an auditor types a figure (> 0)
figures = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("100000"), places=1,
                      allow_nan=False, allow_infinity=False)


def written(value: Decimal, how: str):
    """The same figure as each path brings it: the form's float, a Russian text, an int."""
    if how == "float":
        return float(value)
    if how == "text":
        return f"{value:,}".replace(",", " ").replace(".", ",")
    return value


def vacancy_score(indicator_set, current, base):
    key = "vacancies_last_year" if indicator_set is V23 else "vacancies_previous"
    data = office(checklists={"O-II.1": {"vacancies_current": current, key: base}})
    result = indicator_set.compute_region(region([data], indicator_set.key))
    return figure(result, "indicator:O-II.1").value


def test_the_sources_case_23_4_vacancies_against_26_is_r_0_9_and_scores_its_band():
    assert 23.4 / 26 < 0.9  # what binary floating point makes of it
    for current in (23.4, "23,4", "23.4", Decimal("23.4")):
        assert vacancy_score(V23, current, 26) == 0.75, current
    assert vacancy_score(V23, "23,39", 26) == 0.5  # just below the band


@pytest.mark.parametrize("raw,expected", [
    (23.4, Fraction(117, 5)), ("23,4", Fraction(117, 5)), ("1 234,5", Fraction(2469, 2)),
    (0.1, Fraction(1, 10)), (26, Fraction(26)), (Decimal("0.9"), Fraction(9, 10)),
    ("-0,25", Fraction(-1, 4)),
])
def test_exact_number_reads_a_number_as_it_was_written(raw, expected):
    assert exact_number(raw) == expected


@pytest.mark.parametrize("raw", [True, None, "", "abc", "1e3", float("inf"), "nan",
                                 Decimal("NaN")])
def test_exact_number_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError, match=f"^{re.escape(str(raw))}$"):  # names what it read
        exact_number(raw)


BANDS_2023 = [(Decimal("1.0"), 1.0, 0.75), (Decimal("0.9"), 0.75, 0.5),
              (Decimal("0.8"), 0.5, 0.25), (Decimal("0.7"), 0.25, 0.0)]


@settings(max_examples=150, deadline=None)
@given(figures, st.sampled_from(BANDS_2023), st.sampled_from(["float", "text", "decimal"]))
def test_2023_vacancy_bands_start_exactly_at_their_threshold(last_year, band, how):
    threshold, score, below = band
    at = threshold * last_year  # two decimal places: exact as typed
    assert vacancy_score(V23, written(at, how), written(last_year, how)) == score
    step = Decimal("0.01")
    assert vacancy_score(V23, written(at - step, how), written(last_year, how)) == below


@settings(max_examples=100, deadline=None)
@given(figures, st.sampled_from(["float", "text", "decimal"]))
def test_2022_vacancy_dynamics_reaches_1_exactly_when_the_figures_are_equal(previous, how):
    assert vacancy_score(V22, written(previous, how), written(previous, how)) == 1.0
    more = previous + Decimal("0.1")
    assert vacancy_score(V22, written(more, how), written(previous, how)) == 1.0
    less = previous - Decimal("0.1")
    if less > 0:
        expected = float(Fraction(less) / Fraction(previous))
        assert vacancy_score(V22, written(less, how), written(previous, how)) == expected < 1.0


@pytest.mark.parametrize("indicator_set,code,step", [
    (V22, "O-III.6", Fraction(1, 10)), (V23, "O-III.2", Fraction(1, 8)),
    (V23, "O-V.2", Fraction(1, 8)), (V22, "O-V.2", Fraction(1, 5)),
    (V22, "O-III.8", Fraction(1, 4)), (V22, "O-III.5", Fraction(1, 4)),
])
def test_checklist_points_add_up_exactly(indicator_set, code, step):
    keys = [p.key for p in indicator_set.indicator(code).checklist]
    for present in range(len(keys) + 1):
        values = all_params(indicator_set, code, keys[:present])
        result = indicator_set.compute_region(
            region([office(checklists={code: values})], indicator_set.key))
        # every count of parameters present, the full list included, to the last bit
        assert figure(result, f"indicator:{code}").value == float(min(1, present * step))


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=0, max_value=100, places=1, allow_nan=False,
                   allow_infinity=False))
def test_stars_compare_the_index_as_shown_with_the_band_exactly(shown):
    bands = V23.parameter("star_bands")
    expected = next((stars for stars, band in zip((5, 4, 3, 2), bands, strict=False)
                     if shown >= Decimal(str(band))), 1)
    assert stars_for(float(shown), bands) == expected


@pytest.mark.parametrize("bands,index,stars", [
    ([90, 80, 70, 60], 79.95, 4),        # shown as 80,0
    ([89.9, 80, 70, 60], 89.9, 5),       # a band with a decimal, met exactly
    ([89.9, 80, 70, 60], 89.85, 4),      # shown as 89,8 (binary 89.8499…), as the page shows it
    ([89.9, 80, 70, 60], 89.84, 4),
    ([Decimal("70.3"), 70, 60, 50], 70.3, 5),  # a band given as a Decimal
    ([Decimal("70.3"), 70, 60, 50], 70.29, 5),  # shown as 70,3
    ([Decimal("70.3"), 70, 60, 50], 70.24, 4),
])
def test_star_band_boundaries_with_decimal_bands(bands, index, stars):
    assert stars_for(index, bands) == stars
