"""Properties that hold for any data (hypothesis): bounds, order invariance, monotonicity."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from cci.methodology.figures import ItemCounts
from methodology_helpers import methodology
from methodology_helpers import office
from methodology_helpers import region

SETS = [methodology("cci-2022"), methodology("cci-2023")]
SCALE_ITEMS = ["prof_competence", "usefulness", "info_office", "comfort", "transport"]
TYPES = ["job_seeker", "employer"]


@st.composite
def counts(draw):
    n_valid = draw(st.integers(0, 40))
    n_high = draw(st.integers(0, n_valid))
    return ItemCounts(n_valid, n_high, draw(st.integers(0, n_valid)))


@st.composite
def office_data(draw, office_id=1):
    answers = {
        (rtype, item): draw(counts())
        for rtype in TYPES for item in SCALE_ITEMS if draw(st.booleans())
    }
    answers[("job_seeker", "personal_consultant")] = draw(counts())
    checklists = {}
    for code in ("O-I.1", "O-V.3", "O-II.2"):
        if draw(st.booleans()):
            params = SETS[0].indicator(code).checklist
            checklists[code] = {p.key: draw(st.booleans()) for p in params}
    return office(office_id, answers=answers, checklists=checklists)


def all_figures(result):
    for office_result in result.offices:
        yield from office_result.figures
    yield from result.figures


@settings(max_examples=60, deadline=None)
@given(st.lists(office_data(), min_size=1, max_size=4), st.sampled_from(SETS))
def test_scores_are_shares_and_indices_are_percentages(offices, indicator_set):
    offices = [dataclasses.replace(o, office_id=i) for i, o in enumerate(offices)]
    result = indicator_set.compute_region(region(offices, indicator_set.key))
    for figure in all_figures(result):
        if figure.value is None:
            continue
        share = figure.metric.startswith(("indicator:", "group:", "part:"))
        top = 1.0 if share else 100.0
        assert 0.0 <= figure.value <= top, figure
        if figure.ci_low is not None:
            # an index's interval (the spread of its offices) is on the index's scale
            assert 0.0 <= figure.ci_low <= figure.ci_high <= top, figure
    if result.index is not None:
        assert 0.0 <= result.index <= 100.0


@settings(max_examples=40, deadline=None)
@given(st.lists(office_data(), min_size=2, max_size=4), st.sampled_from(SETS), st.randoms())
def test_office_order_does_not_change_the_region(offices, indicator_set, rnd):
    offices = [dataclasses.replace(o, office_id=i) for i, o in enumerate(offices)]
    shuffled = offices[:]
    rnd.shuffle(shuffled)
    first = indicator_set.compute_region(region(offices, indicator_set.key))
    second = indicator_set.compute_region(region(shuffled, indicator_set.key))
    assert (first.index is None) == (second.index is None)
    if first.index is not None:
        assert abs(first.index - second.index) < 1e-9
    by_id = {o.office_id: o.index for o in second.offices}
    for office_result in first.offices:
        assert office_result.index == by_id[office_result.office_id]


@settings(max_examples=80, deadline=None)
@given(office_data(), st.sampled_from(SETS), st.sampled_from(SCALE_ITEMS), st.sampled_from(TYPES))
def test_adding_a_positive_answer_never_lowers_a_score(data, indicator_set, item, rtype):
    """Per respondent type. (A pooled score may fall when the extra answer lifts another
    respondent type over the minimum sample: that type then enters the mean.)"""
    before = indicator_set.compute_region(region([data], indicator_set.key))
    old = data.counts(rtype, item)
    more = dict(data.answers)
    more[(rtype, item)] = ItemCounts(old.n_valid + 1, old.n_high + 1, old.n_yes)
    after = indicator_set.compute_region(
        region([dataclasses.replace(data, answers=more)], indicator_set.key))
    old_figures = {(f.metric, f.respondent_type): f.value for f in before.offices[0].figures}
    for figure in after.offices[0].figures:
        if not figure.metric.startswith("indicator:") or figure.respondent_type is None:
            continue
        previous = old_figures.get((figure.metric, figure.respondent_type))
        if previous is not None and figure.value is not None:
            assert figure.value >= previous - 1e-12, figure.metric


def test_property_strategies_are_exercised():
    # guard: the generated offices do produce computable figures sometimes
    rnd = random.Random(1)
    data = office(1, answers={("job_seeker", "usefulness"): ItemCounts(12, rnd.randint(0, 12), 0)})
    result = SETS[1].compute_region(region([data], "cci-2023"))
    assert result.index is not None


#: (the set's place in SETS, an indicator code): names, so a failing example reads short
CHECKLISTS = [(n, i.code) for n, s in enumerate(SETS) for i in s.indicators
              if i.checklist and all(p.kind == "bool" and p.points for p in i.checklist)]


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(CHECKLISTS), st.lists(st.booleans(), min_size=10, max_size=10))
def test_a_checklist_scores_the_exact_sum_of_its_points_present(checklist, flags):
    """Whatever parameters are present, the score is their points summed as decimals (ten
    channels of 0,1 are 1, eight parameters of 0,125 are 1), at most 1."""
    from decimal import Decimal

    place, code = checklist
    indicator_set = SETS[place]
    params = indicator_set.indicator(code).checklist
    present = {p.key: flag for p, flag in zip(params, flags, strict=False)}
    result = indicator_set.compute_region(
        region([office(1, checklists={code: present})], indicator_set.key))
    value = next(f.value for f in result.offices[0].figures
                 if f.metric == f"indicator:{code}" and f.respondent_type is None)
    exact = sum((Decimal(str(p.points)) for p in params if present[p.key]), Decimal(0))
    assert value == float(min(Decimal(1), exact))


@settings(max_examples=120, deadline=None)
@given(st.decimals(min_value=1, max_value=5000, places=1),
       st.decimals(min_value=0, max_value=5000, places=1), st.decimals(min_value=0, max_value=5,
                                                                    places=1))
def test_vacancy_score_never_falls_as_vacancies_grow(base, current, more):
    """More vacancies this year against the same base never score lower (2022 and 2023)."""
    for indicator_set, key in ((SETS[0], "vacancies_previous"), (SETS[1], "vacancies_last_year")):
        scores = []
        for figure in (current, current + more):
            data = office(1, checklists={"O-II.1": {"vacancies_current": float(figure),
                                                    key: f"{base}".replace(".", ",")}})
            result = indicator_set.compute_region(region([data], indicator_set.key))
            scores.append(next(f.value for f in result.offices[0].figures
                               if f.metric == "indicator:O-II.1"))
        assert scores[0] <= scores[1]
