"""Every rule of both methodology versions, checked against values computed by hand."""

from __future__ import annotations

import pytest

from methodology_helpers import all_params
from methodology_helpers import figure
from methodology_helpers import methodology
from methodology_helpers import office
from methodology_helpers import region
from methodology_helpers import scale
from methodology_helpers import yesno

JS, EMP = "job_seeker", "employer"
V22, V23 = methodology("cci-2022"), methodology("cci-2023")


def compute(indicator_set, *offices, network="decentralized", checklists=None, source=None):
    return indicator_set.compute_region(
        region(list(offices), indicator_set.key, network, checklists, source))


# --- subjective ------------------------------------------------------------------------


def test_positive_band_is_9_to_10_in_2022_and_8_to_10_in_2023():
    answers = [10, 9, 8, 7]
    r22 = compute(V22, office(answers={(JS, "usefulness"): scale(answers, 9)}))
    r23 = compute(V23, office(answers={(JS, "usefulness"): scale(answers * 3, 8)}))
    assert figure(r22, "indicator:S-II.1", JS).value == pytest.approx(2 / 4)
    assert figure(r23, "indicator:S-II.1", JS).value == pytest.approx(9 / 12)


def test_not_sure_answers_are_excluded_from_the_denominator():
    counts = scale([10, 10, None, None, 3], 9)  # 2 positive of 3 valid
    result = compute(V22, office(answers={(JS, "simplicity"): counts}))
    fig = figure(result, "indicator:S-III.5", JS)
    assert (fig.value, fig.n_valid, fig.n_positive) == (pytest.approx(2 / 3), 3, 2)


def test_yes_no_item_scores_the_share_of_yes():
    result = compute(V22, office(answers={(EMP, "personal_consultant"): yesno(3, 1)}))
    assert figure(result, "indicator:S-IV.1", EMP).value == pytest.approx(0.75)


def test_pre_registration_scores_the_share_of_yes_among_three_options():
    from cci.methodology.figures import ItemCounts

    counts = ItemCounts(choices={"yes": 2, "no": 1, "unaware": 1})
    result = compute(V22, office(answers={(JS, "pre_registration"): counts}))
    assert figure(result, "indicator:S-III.8", JS).value == pytest.approx(0.5)


def test_management_openness_scores_the_follow_up_only():
    # 5 said they contacted management, 3 of them found it easy (9-10); 20 never did.
    answers = {
        (JS, "management_contact"): yesno(5, 20),
        (JS, "management_openness"): scale([10, 9, 9, 4, 2], 9),
    }
    result = compute(V22, office(answers=answers))
    fig = figure(result, "indicator:S-I.3", JS)
    assert (fig.value, fig.n_valid) == (pytest.approx(3 / 5), 5)


def test_pooled_subjective_score_is_the_mean_of_the_respondent_types_present():
    answers = {(JS, "comfort"): scale([10, 10, 1, 1], 9), (EMP, "comfort"): scale([10], 9)}
    result = compute(V22, office(answers=answers))
    assert figure(result, "indicator:S-V.1").value == pytest.approx((0.5 + 1.0) / 2)
    assert figure(result, "indicator:S-V.1").n_valid == 5


def test_information_accessibility_is_one_indicator_in_2022_and_four_in_2023():
    answers = {
        (JS, "info_office"): scale([10, 1], 9),  # 0.5
        (JS, "info_website"): scale([10, 10], 9),  # 1.0
        (JS, "info_social"): scale([1, 1], 9),  # 0.0
        # contact centre: no answers -> left out of the mean
    }
    r22 = compute(V22, office(answers=answers))
    assert figure(r22, "indicator:S-III.1-4", JS).value == pytest.approx(0.5)
    scored22 = {i.code for i in V22.indicators if i.scored}
    assert "S-III.1-4" in scored22 and not {"S-III.1", "S-III.2"} & scored22
    answers23 = {key: scale([10, 1] * 5, 8) for key in answers}
    r23 = compute(V23, office(answers=answers23))
    for code in ("S-III.1", "S-III.2", "S-III.3"):
        assert figure(r23, f"indicator:{code}", JS).value == pytest.approx(0.5)
    assert figure(r23, "indicator:S-III.4", JS).value is None
    scored = {i.code for i in V23.indicators if i.scored}
    assert {"S-III.1", "S-III.2", "S-III.3", "S-III.4"} <= scored
    assert "S-III.1-4" not in {i.code for i in V23.indicators}


def test_2022_information_accessibility_pools_each_types_mean_of_the_components():
    """Each type's score is its mean of the four components; the office's is the mean of the
    types present (not the mean of components pooled over types, which differs when a type
    answered only some of them)."""
    answers = {
        (JS, "info_office"): scale([10], 9),  # job seekers: 1, 0, 0, 0 -> 0.25
        (JS, "info_website"): scale([1], 9),
        (JS, "info_social"): scale([1], 9),
        (JS, "info_contact_center"): scale([1], 9),
        (EMP, "info_office"): scale([10], 9),  # employers: the office only -> 1.0
    }
    r = compute(V22, office(answers=answers))
    assert figure(r, "indicator:S-III.1-4", JS).value == pytest.approx(0.25)
    assert figure(r, "indicator:S-III.1-4", EMP).value == pytest.approx(1.0)
    pooled = figure(r, "indicator:S-III.1-4")
    assert pooled.value == pytest.approx((0.25 + 1.0) / 2)
    assert pooled.ci_low <= pooled.value <= pooled.ci_high
    # the same people answer the four components: n counts people, not their answers
    assert figure(r, "indicator:S-III.1-4", JS).n_valid == 1
    assert pooled.n_valid == 2
    # a component with few answers makes the mean less certain than its n says; n stays the
    # answers, for the type and pooled alike
    r = compute(V22, office(answers={(JS, "info_office"): scale([10] * 10, 9),
                                     (JS, "info_website"): scale([10, 1], 9)}))
    for rtype in (JS, None):
        fig = figure(r, "indicator:S-III.1-4", rtype)
        assert fig.value == pytest.approx(0.75) and fig.n_valid == 10
        assert fig.detail["n_effective"] < 10


def test_a_mean_of_shares_has_the_interval_of_that_mean():
    """A pooled share is the mean of its types' shares, so its interval is that mean's: 1 of
    1 employers and 0 of 100 job seekers score 0.5, and the interval must hold 0.5 (the pooled
    count's, 1 of 101, lies near 0.01)."""
    answers = {(EMP, "comfort"): scale([10], 9), (JS, "comfort"): scale([1] * 100, 9)}
    pooled = figure(compute(V22, office(answers=answers)), "indicator:S-V.1")
    assert pooled.value == pytest.approx(0.5)
    assert (pooled.n_valid, pooled.n_positive) == (101, 1)
    assert pooled.ci_low < 0.3 and pooled.ci_high > 0.7  # one employer says little
    assert 1 < pooled.detail["n_effective"] < 101


def test_mean_interval_is_wilsons_for_one_share_and_never_narrower_than_the_counts_allow():
    from cci.methodology.figures import mean_interval
    from cci.methodology.figures import wilson

    low, high, n = mean_interval([(0.8, 10)])
    assert (low, high) == pytest.approx(wilson(8, 10)) and n == pytest.approx(10)
    # two equal halves are one sample of their sum
    low, high, n = mean_interval([(0.5, 20), (0.5, 20)])
    assert (low, high) == pytest.approx(wilson(20, 40)) and n == pytest.approx(40)
    # opposite shares: the effective n is capped at the answers counted...
    assert mean_interval([(0.02, 100), (0.98, 100)])[2] == 200
    # ...and at the largest part's for parts the same people answered
    assert mean_interval([(0.02, 100), (0.98, 100)], same_people=True)[2] == 100
    # a share of 0 in a small part still varies
    low, high, _n = mean_interval([(0.0, 5), (0.0, 200)])
    assert low == 0.0 and high > wilson(0, 205)[1]
    assert mean_interval([]) == (None, None, None)


def test_region_share_rests_on_the_offices_that_count():
    """The region's share is the mean of the offices' that meet the minimum sample: its n is
    their answers and its interval that mean's (an office below the minimum is left out of
    both)."""
    a = office(1, answers={(JS, "comfort"): scale([10] * 10 + [1] * 10, 8)})  # 10 of 20
    b = office(2, answers={(JS, "comfort"): scale([10] * 5, 8)})  # 5: below the minimum
    c = office(3, answers={(JS, "comfort"): scale([10] * 30, 8)})  # 30 of 30
    r = compute(V23, a, b, c)
    fig = next(f for f in r.figures if f.metric == "indicator:S-V.1" and f.respondent_type == JS)
    assert fig.value == pytest.approx((0.5 + 1.0) / 2)
    assert fig.n_valid == 50 and fig.detail["offices"] == 2
    assert fig.ci_low <= fig.value <= fig.ci_high
    # one office whose share is a mean of types: the region keeps the n its interval rests on
    both = office(4, answers={(JS, "comfort"): scale([10] * 20 + [1] * 20, 8),
                              (EMP, "comfort"): scale([10] * 5 + [1] * 5, 8)})
    r = compute(V23, both)
    pooled = figure(r, "indicator:S-V.1")
    fig = next(f for f in r.figures if f.metric == "indicator:S-V.1" and f.respondent_type is None)
    assert (fig.ci_low, fig.ci_high) == (pooled.ci_low, pooled.ci_high)
    assert fig.detail["n_effective"] == pooled.detail["n_effective"] < fig.n_valid == 50
    alone = compute(V23, b)  # no office counts: the answers there are still told
    fig = next(f for f in alone.figures
               if f.metric == "indicator:S-V.1" and f.respondent_type == JS)
    assert (fig.value, fig.n_valid, fig.insufficient) == (None, 5, True)


def test_minimum_sample_leaves_small_samples_out_as_insufficient():
    nine = scale([10] * 9, 8)
    ten = scale([10] * 10, 8)
    r = compute(V23, office(answers={(JS, "comfort"): nine, (JS, "transport"): ten}))
    comfort = figure(r, "indicator:S-V.1", JS)
    assert comfort.value is None and comfort.insufficient and comfort.n_valid == 9
    assert figure(r, "indicator:S-V.2", JS).value == 1.0
    # group V then holds transport only: the insufficient indicator is not a zero
    assert figure(r, "group:V", JS).value == 1.0
    # version 2022 needs one answer
    assert figure(compute(V22, office(answers={(JS, "comfort"): scale([10], 9)})),
                  "indicator:S-V.1", JS).value == 1.0


def test_office_without_sufficient_sample_is_shown_but_not_ranked():
    r = compute(V23, office(answers={(JS, "comfort"): scale([10] * 3, 8)},
                            checklists={"O-V.3": all_params(V23, "O-V.3")}))
    assert r.offices[0].ranked is False
    assert r.offices[0].index == pytest.approx(100.0)  # objective-only perspective


def test_wilson_interval_accompanies_every_share():
    r = compute(V22, office(answers={(JS, "usefulness"): scale([10] * 8 + [1] * 2, 9)}))
    fig = figure(r, "indicator:S-II.1", JS)
    # Wilson 95% for 8/10: 0.4902 .. 0.9433
    assert fig.ci_low == pytest.approx(0.4902, abs=1e-4)
    assert fig.ci_high == pytest.approx(0.9433, abs=1e-4)


def test_preferred_channel_is_a_distribution_not_a_score():
    from cci.methodology.figures import ItemCounts

    answers = {(JS, "preferred_channel"): ItemCounts(choices={"office": 3, "gosuslugi": 1}),
               (EMP, "preferred_channel"): ItemCounts(choices={"email": 2})}
    fig = figure(compute(V22, office(answers=answers)), "indicator:S-III.7")
    assert fig.value is None
    assert fig.detail["distribution"]["office"] == 3
    assert fig.detail["distribution"]["email"] == 2
    assert fig.n_valid == 6


@pytest.mark.parametrize("indicator_set", [V22, V23])
def test_preferred_channel_is_cross_checked_with_the_channels_offered(indicator_set):
    from cci.methodology.figures import ItemCounts

    answers = {(JS, "preferred_channel"): ItemCounts(choices={"social": 2, "messengers": 1}),
               (EMP, "preferred_channel"): ItemCounts(choices={"email": 1})}
    offers = all_params(indicator_set, "O-III.6", present={"ok", "email"})
    r = compute(indicator_set, office(1, answers=answers, checklists={"O-III.6": offers}),
                office(2, answers=answers))
    offered = figure(r, "indicator:S-III.7").detail["offered"]
    # any one of an option's channels will do (Одноклассники for social networks)
    assert offered["social"] is True and offered["email"] is True
    assert offered["messengers"] is False and offered["office"] is False
    assert "offered" not in figure(r, "indicator:S-III.7", office_index=1).detail  # not filled
    region_fig = next(f for f in r.figures if f.metric == "indicator:S-III.7")
    assert region_fig.detail["offices_checked"]["social"] == 1
    assert region_fig.detail["offered_in"]["social"] == 1
    assert region_fig.detail["offered_in"]["messengers"] == 0
    # a checklist that does not answer for a channel yet says nothing about it
    partly = compute(indicator_set, office(1, answers=answers,
                                           checklists={"O-III.6": {"email": True, "vk": False}}),
                     office(2, answers=answers, checklists={"O-III.6": offers}))
    offered = figure(partly, "indicator:S-III.7").detail["offered"]
    assert offered["email"] is True and offered["messengers"] is None
    assert offered["social"] is None  # ВКонтакте no, Одноклассники not answered
    region_fig = next(f for f in partly.figures if f.metric == "indicator:S-III.7")
    assert region_fig.detail["offices_checked"]["messengers"] == 1
    assert region_fig.detail["offices_checked"]["email"] == 2


def test_2023_cross_check_reads_the_regions_channels_in_a_centralized_network():
    from cci.methodology.figures import ItemCounts

    answers = {(JS, "preferred_channel"): ItemCounts(choices={"website": 3})}
    offers = all_params(V23, "O-III.6", present={"regional_site"})
    r = compute(V23, office(answers=answers), network="centralized",
                checklists={"O-III.6": offers})
    assert figure(r, "indicator:S-III.7").detail["offered"]["website"] is True


# --- objective -------------------------------------------------------------------------


@pytest.mark.parametrize("current,previous,expected",
                         [(120, 100, 1.0), (80, 100, 0.8), (0, 50, 0.0)])
def test_vacancy_dynamics_2022(current, previous, expected):
    r = compute(V22, office(checklists={"O-II.1": {"vacancies_current": current,
                                                   "vacancies_previous": previous}}))
    assert figure(r, "indicator:O-II.1").value == pytest.approx(expected)


@pytest.mark.parametrize("current,expected", [(120, 1.0), (100, 1.0), (95, 0.75), (90, 0.75),
                                              (85, 0.5), (75, 0.25), (69, 0.0)])
def test_vacancy_dynamics_2023_year_over_year_bands(current, expected):
    r = compute(V23, office(checklists={"O-II.1": {"vacancies_current": current,
                                                   "vacancies_last_year": 100}}))
    assert figure(r, "indicator:O-II.1").value == pytest.approx(expected)


@pytest.mark.parametrize("indicator_set,values", [
    (V22, {"vacancies_current": 10, "vacancies_previous": 0}),
    (V23, {"vacancies_current": 10, "vacancies_last_year": 0}),
])
def test_vacancy_dynamics_division_by_zero_is_not_computable(indicator_set, values):
    r = compute(indicator_set, office(checklists={"O-II.1": values}))
    fig = figure(r, "indicator:O-II.1")
    assert fig.value is None and "ноль" in fig.reason


def test_outreach_scores_variety_not_count():
    values = all_params(V22, "O-II.2", ["job_fairs", "open_days", "mobile_office"])
    r = compute(V22, office(checklists={"O-II.2": values}))
    assert figure(r, "indicator:O-II.2").value == pytest.approx(0.6)


def test_multichannel_is_point_one_per_channel_capped_at_one():
    seven = all_params(V22, "O-III.6", ["office", "contact_center", "regional_site", "trudvsem",
                                        "gosuslugi", "vk", "telegram"])
    r = compute(V22, office(checklists={"O-III.6": seven}))
    assert figure(r, "indicator:O-III.6").value == pytest.approx(0.7)
    r = compute(V22, office(checklists={"O-III.6": all_params(V22, "O-III.6")}))
    assert figure(r, "indicator:O-III.6").value == pytest.approx(1.0)


def test_pre_registration_channels_are_a_quarter_each():
    values = all_params(V22, "O-III.8", ["regional_site", "contact_center", "gosuslugi"])
    r = compute(V22, office(checklists={"O-III.8": values}))
    assert figure(r, "indicator:O-III.8").value == pytest.approx(0.75)


@pytest.mark.parametrize("level,expected", [("1", 1.0), ("2", 0.5), ("3", 0.25), ("none", 0.0)])
def test_comfort_levels_2022(level, expected):
    r = compute(V22, office(checklists={"O-V.1": {"level": level}}))
    assert figure(r, "indicator:O-V.1").value == pytest.approx(expected)


def test_comfort_levels_2023_are_explicit_checklists_met_from_the_bottom_up():
    level2 = ["seating", "toilet", "waiting_area", "drinking_water", "info_stands"]
    r = compute(V23, office(checklists={"O-V.1": all_params(V23, "O-V.1", level2)}))
    assert figure(r, "indicator:O-V.1").value == pytest.approx(0.5)
    everything = all_params(V23, "O-V.1")
    r = compute(V23, office(checklists={"O-V.1": everything}))
    assert figure(r, "indicator:O-V.1").value == pytest.approx(1.0)
    # level-1 features without a toilet meet no level at all
    no_toilet = {**everything, "toilet": False}
    r = compute(V23, office(checklists={"O-V.1": no_toilet}))
    assert figure(r, "indicator:O-V.1").value == 0.0
    only_basic = all_params(V23, "O-V.1", ["seating", "toilet", "zoning"])
    r = compute(V23, office(checklists={"O-V.1": only_basic}))
    assert figure(r, "indicator:O-V.1").value == pytest.approx(0.25)


def test_transport_has_5_parameters_in_2022_and_8_in_2023():
    assert [p.points for p in V22.indicator("O-V.2").checklist] == [0.2] * 5
    assert [p.points for p in V23.indicator("O-V.2").checklist] == [0.125] * 8
    r22 = compute(V22, office(checklists={"O-V.2": all_params(
        V22, "O-V.2", ["stop_nearby", "parking", "city_signs"])}))
    assert figure(r22, "indicator:O-V.2").value == pytest.approx(0.6)
    r23 = compute(V23, office(checklists={"O-V.2": all_params(
        V23, "O-V.2", ["stop_500m", "parking", "ramp", "call_button", "city_signs"])}))
    assert figure(r23, "indicator:O-V.2").value == pytest.approx(0.625)


def test_transport_2022_is_the_sources_own_list_of_five():
    params = V22.indicator("O-V.2").checklist
    assert [p.key for p in params] == [
        "transport_routes", "stop_nearby", "parking", "barrier_free", "city_signs"]
    assert [p.label.split()[0] for p in params] == [
        "Маршруты", "ЦЗН", "Парковка", "Безбарьерная", "Навигационные"]
    assert not any(p.is_default for p in params)  # the source names them
    values = all_params(V22, "O-V.2", ["transport_routes", "barrier_free"])
    r = compute(V22, office(checklists={"O-V.2": values}))
    assert figure(r, "indicator:O-V.2").value == 0.4


def test_2023_website_checklist_merges_the_regional_site_indicator():
    """Change 04: O-III.5 is not simply gone, its parameters are O-III.2's, 8 × 0.125."""
    params = V23.indicator("O-III.2").checklist
    assert [p.key for p in params] == [
        "all_addresses", "working_hours", "services_described", "accessible_version",
        "feedback_form", "not_merged", "current", "mobile_friendly"]
    assert {p.points for p in params} == {0.125}
    assert V23.indicator("O-III.2").level == "network"
    # by hand: addresses, hours, the version for the visually impaired, not merged, usable on
    # a phone = 5 × 0.125 = 0.625
    values = all_params(V23, "O-III.2", ["all_addresses", "working_hours", "accessible_version",
                                         "not_merged", "mobile_friendly"])
    r = compute(V23, office(checklists={"O-III.2": values}))
    assert figure(r, "indicator:O-III.2").value == 0.625
    # no site at all: nothing present, 0
    r = compute(V23, office(checklists={"O-III.2": all_params(V23, "O-III.2", [])}))
    assert figure(r, "indicator:O-III.2").value == 0.0
    # the 2022 checklist of five is not enough: three parameters are missing
    r = compute(V23, office(checklists={"O-III.2": all_params(V22, "O-III.2")}))
    assert figure(r, "indicator:O-III.2").value is None


def test_2023_reads_a_pilot_campaigns_site_from_its_two_checklists():
    website = all_params(V22, "O-III.2")  # five of five
    site = all_params(V22, "O-III.5", ["site_exists", "not_merged", "current"])
    r = compute(V23, office(checklists={"O-III.2": website, "O-III.5": site}),
                source="cci-2022")
    assert figure(r, "indicator:O-III.2").value == 0.875  # 7 × 0.125, not usable on a phone
    no_site = all_params(V22, "O-III.5", ["not_merged", "current", "mobile_friendly"])
    r = compute(V23, office(checklists={"O-III.2": website, "O-III.5": no_site}),
                source="cci-2022")
    assert figure(r, "indicator:O-III.2").value == 0.0  # no site at all scores 0
    r = compute(V23, office(checklists={"O-III.2": website}), source="cci-2022")
    fig = figure(r, "indicator:O-III.2")
    assert fig.value is None and "Наличие регионального сайта" in fig.reason


def test_checklist_not_filled_is_not_computable_never_zero():
    r = compute(V22, office(checklists={"O-V.3": all_params(V22, "O-V.3", [])}))
    assert figure(r, "indicator:O-V.3").value == 0.0  # filled, nothing present: a real zero
    assert figure(r, "indicator:O-I.1").value is None
    assert figure(r, "indicator:O-I.1").reason
    partial = {"business_clothing": True}
    r = compute(V22, office(checklists={"O-V.3": partial}))
    assert figure(r, "indicator:O-V.3").value is None


def test_regional_website_exists_in_2022_only():
    values = all_params(V22, "O-III.5", ["site_exists", "current", "mobile_friendly"])
    r = compute(V22, office(checklists={"O-III.5": values}))
    assert figure(r, "indicator:O-III.5").value == pytest.approx(0.75)
    assert "O-III.5" not in {i.code for i in V23.indicators}


def test_contact_centre_parameters_were_partly_replaced():
    keys22 = {p.key for p in V22.indicator("O-III.4").checklist}
    keys23 = {p.key for p in V23.indicator("O-III.4").checklist}
    assert keys22 & keys23 == {"complete_answer", "max_one_transfer"}
    assert {"reached_60s", "next_step_offered", "greeting_script"} <= keys23


def test_centralized_network_inherits_regional_checklists_in_2023():
    site = all_params(V23, "O-III.2", ["all_addresses", "working_hours"])  # 2 × 0.125
    own = all_params(V23, "O-III.2")  # 1.0, filled per office: ignored when centralized
    offices = [office(1, checklists={"O-III.2": own}), office(2)]
    central = compute(V23, *offices, network="centralized", checklists={"O-III.2": site})
    assert [figure(central, "indicator:O-III.2", office_index=i).value for i in (0, 1)] == [
        0.25, 0.25]
    decentral = compute(V23, *offices, network="decentralized", checklists={"O-III.2": site})
    assert figure(decentral, "indicator:O-III.2", office_index=0).value == pytest.approx(1.0)
    assert figure(decentral, "indicator:O-III.2", office_index=1).value is None
    # an office-level indicator is never inherited
    central = compute(V23, office(1), network="centralized",
                      checklists={"O-III.1": all_params(V23, "O-III.1")})
    assert figure(central, "indicator:O-III.1").value is None
    # the pilot fills everything per office, whatever the network
    central22 = compute(V22, office(1), network="centralized",
                        checklists={"O-III.2": all_params(V22, "O-III.2")})
    assert figure(central22, "indicator:O-III.2").value is None


# --- formulas --------------------------------------------------------------------------


def test_2022_index_is_the_mean_of_the_subjective_and_objective_halves():
    answers = {(JS, "usefulness"): scale([10, 10, 1, 1], 9),  # 0.5
               (JS, "comfort"): scale([10], 9)}  # 1.0 -> S = 0.75
    checklists = {"O-V.3": all_params(V22, "O-V.3", ["neat"]),  # 0.2
                  "O-I.1": all_params(V22, "O-I.1")}  # 1.0 -> O = 0.6
    r = compute(V22, office(answers=answers, checklists=checklists))
    assert r.offices[0].index == pytest.approx(100 * (0.75 + 0.6) / 2)
    only_subjective = compute(V22, office(answers=answers))
    assert only_subjective.offices[0].index == pytest.approx(75.0)
    only_objective = compute(V22, office(checklists=checklists))
    assert only_objective.offices[0].index == pytest.approx(60.0)


def test_2023_index_is_the_mean_of_the_perspective_indices():
    ten = lambda share: scale([10] * int(share * 10) + [1] * (10 - int(share * 10)), 8)  # noqa: E731
    answers = {
        (JS, "prof_competence"): ten(0.8),  # group I
        (JS, "usefulness"): ten(0.6),  # group II
        (EMP, "usefulness"): ten(1.0),  # group II
    }
    checklists = {"O-I.1": all_params(V23, "O-I.1", ["reception_days", "head_phone_public"])}  # 0.4
    r = compute(V23, office(answers=answers, checklists=checklists))
    # job seekers: G_I = mean(0.8, 0.4) = 0.6; G_II = 0.6 -> 100 * (0.2*0.6 + 0.2*0.6) / 0.4 = 60
    # employers:   G_I = 0.4 (objective only); G_II = 1.0 -> 100 * (0.4 + 1.0) / 2 = 70
    assert figure(r, "perspective", JS).value == pytest.approx(60.0)
    assert figure(r, "perspective", EMP).value == pytest.approx(70.0)
    assert r.offices[0].index == pytest.approx(65.0)


def test_2023_groups_are_renormalised_over_the_groups_that_have_a_score():
    answers = {(JS, "prof_competence"): scale([10] * 10, 8),  # G_I = 1.0
               (JS, "comfort"): scale([10] * 5 + [1] * 5, 8)}  # G_V = 0.5
    r = compute(V23, office(answers=answers))
    assert figure(r, "perspective", JS).value == pytest.approx(100 * (0.2 + 0.1) / 0.4)
    with pytest.raises(KeyError):
        figure(r, "perspective", EMP)


def test_2023_office_with_no_respondents_gets_one_objective_perspective():
    checklists = {"O-V.3": all_params(V23, "O-V.3", ["neat", "name_badge"]),  # V: 0.4
                  "O-I.1": all_params(V23, "O-I.1")}  # I: 1.0
    r = compute(V23, office(checklists=checklists))
    assert figure(r, "perspective", "objective_only").value == pytest.approx(70.0)
    assert r.offices[0].index == pytest.approx(70.0)


def test_region_index_is_the_mean_of_office_indices_and_groups_are_reported():
    first = office(1, checklists={"O-I.1": all_params(V22, "O-I.1")})  # 100
    second = office(2, checklists={"O-I.1": all_params(V22, "O-I.1", ["reception_days"])})  # 20
    r = compute(V22, first, second)
    assert r.index == pytest.approx(60.0)
    assert figure(r, "group:I").value == 1.0  # groups are reported in 2022 too
    region_index = next(f for f in r.figures if f.metric == "index")
    assert region_index.value == pytest.approx(60.0) and region_index.stars == 2


@pytest.mark.parametrize("index,stars", [(95, 5), (90, 5), (89.94, 4), (80, 4), (70, 3),
                                         (60, 2), (59.9, 1), (0, 1),
                                         # the stars of the index as shown: 89.96 is «90.0»
                                         (89.96, 5), (79.951, 4), (59.949, 1)])
def test_star_bands(index, stars):
    from cci.methodology.figures import stars_for

    assert stars_for(index, V23.parameter("star_bands")) == stars


def test_federal_index_is_the_mean_of_region_indices():
    from cci.methodology.figures import RegionResult

    federal = V23.rollup_federal([RegionResult(1, [], [], 80.0, 4),
                                  RegionResult(2, [], [], 91.0, 5),
                                  RegionResult(3, [], [], None, None)])
    assert federal.index == pytest.approx(85.5)
    assert (federal.stars, federal.regions_counted) == (4, 2)


def test_every_default_is_a_visible_parameter():
    for indicator_set in (V22, V23):
        for key in ("positive_min", "min_sample", "star_bands"):
            assert key in indicator_set.parameters
    assert V22.parameters["positive_min"].is_default  # the pilot's bound is not given
    assert not V23.parameters["positive_min"].is_default  # change 03 states it
    assert V23.parameters["group_weights"].value == dict.fromkeys(
        ("I", "II", "III", "IV", "V"), 0.2)


def test_2023_lists_the_ten_changes_and_builds_on_2022():
    assert V23.based_on == "cci-2022"
    assert len(V23.changes) == 10
    unchanged = {i.code: i for i in V22.indicators}
    assert V23.indicator("O-I.1") == unchanged["O-I.1"]  # shared, not copied


# --- reading an older campaign (preview) -----------------------------------------------


def test_2023_reads_pilot_checklists_through_declared_mappings():
    checklists = {
        "O-V.1": {"level": "2"},
        "O-V.2": all_params(V22, "O-V.2"),
        "O-III.4": all_params(V22, "O-III.4"),
        "O-II.1": {"vacancies_current": 10, "vacancies_previous": 5},
        "O-I.1": all_params(V22, "O-I.1"),
    }
    r = compute(V23, office(checklists=checklists), source="cci-2022")
    assert figure(r, "indicator:O-V.1").value == pytest.approx(0.5)  # level 2 -> 1 point / 2
    assert figure(r, "indicator:O-I.1").value == 1.0  # unchanged checklist
    for code, words in (("O-V.2", "инвалидов"), ("O-III.4", "60"), ("O-II.1", "прошлого года")):
        fig = figure(r, f"indicator:{code}")
        assert fig.value is None and words in fig.reason
