"""The faithful rules through a real run (database, job, stored results): the merged site
checklist of 2023 and an exact vacancy band, against numbers computed by hand."""

from __future__ import annotations

import pytest

from engine_helpers import _region
from engine_helpers import checklist
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import run_row
from engine_helpers import start
from engine_helpers import work


def test_a_run_scores_the_merged_site_checklist_and_the_exact_vacancy_band(
        app, campaign):
    bry, kya = offices(app, "RU-BRY"), offices(app, "RU-KYA")
    # RU-BRY is centralized: O-III.2 is filled once for the region. Present: addresses,
    # hours, services, not merged, current = 5 × 0.125 = 0.625
    checklist(app, campaign, "O-III.2", {
        "all_addresses": True, "working_hours": "да", "services_described": True,
        "accessible_version": False, "feedback_form": "нет", "not_merged": True,
        "current": True, "mobile_friendly": False})
    # RU-KYA is decentralized: its first office's own checklist, all 8 but the phone = 0.875
    checklist(app, campaign, "O-III.2", {
        "all_addresses": True, "working_hours": True, "services_described": True,
        "accessible_version": True, "feedback_form": True, "not_merged": True,
        "current": True, "mobile_friendly": False}, office_id=kya[0], region="RU-KYA")
    # 23.4 vacancies against 26 a year before: r = 0.9 exactly, the 0.75 band
    checklist(app, campaign, "O-II.1", {"vacancies_current": 23.4, "vacancies_last_year": 26},
              office_id=kya[0], region="RU-KYA")
    run_id, _created = start(app, campaign)
    work(app)
    assert run_row(app, run_id).status == "succeeded"
    site = results(app, run_id, metric="indicator:O-III.2")
    assert [site[office].value for office in bry] == [0.625] * len(bry)
    assert site[kya[0]].value == 0.875
    assert site[kya[1]].value is None  # not filled: not computable, never 0
    assert results(app, run_id, metric="indicator:O-II.1")[kya[0]].value == 0.75
    # no answers: one perspective of the objective indicators alone.
    # BRY: group III = 0.625 -> 62.5; KYA office 1: II = 0.75, III = 0.875 -> 81.25
    index = results(app, run_id)
    assert [index[office].value for office in bry] == [62.5] * len(bry)
    assert index[kya[0]].value == pytest.approx(81.25)  # a mean, not a band: floats do
    regions = results(app, run_id, level="region")
    assert regions[_region(app, "RU-BRY")].value == 62.5
    assert regions[_region(app, "RU-KYA")].value == pytest.approx(81.25)
