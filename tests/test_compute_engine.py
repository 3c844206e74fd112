"""The compute engine end to end: answers stored through the intake, aggregated in the
database, computed by RQ jobs, published atomically, versioned by their inputs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import recompute
from cci.collection.campaigns import CampaignError
from cci.collection.campaigns import save_campaign
from cci.collection.intake import IntakeError
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.foundation.models import Region
from cci.index import compute
from engine_helpers import _region
from engine_helpers import answer
from engine_helpers import checklist
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import run_row
from engine_helpers import start
from engine_helpers import work

# --- intake ----------------------------------------------------------------------------


def test_response_outside_any_campaign_is_refused(app, campaign):
    office = offices(app, "RU-BRY")[0]
    with pytest.raises(IntakeError) as error:
        answer(app, office, {"usefulness": 10}, when=dt.datetime(2025, 7, 2, tzinfo=dt.UTC))
    assert error.value.field == "submitted_at"


def test_campaign_dates_are_read_in_the_region_time_zone(app, campaign):
    # 30 June 20:00 UTC is already 1 July in Krasnoyarsk (UTC+7): outside the campaign
    late = dt.datetime(2025, 6, 30, 20, 0, tzinfo=dt.UTC)
    with pytest.raises(IntakeError):
        answer(app, offices(app, "RU-KYA")[0], {"usefulness": 10}, when=late)
    _, created = answer(app, offices(app, "RU-BRY")[0], {"usefulness": 10}, when=late)
    assert created  # still 30 June (23:00) in Bryansk


def test_repeated_client_key_is_stored_once(app, campaign):
    office = offices(app, "RU-BRY")[0]
    first, created = answer(app, office, {"usefulness": 10}, client_key="kiosk-1-abc")
    again, created_again = answer(app, office, {"usefulness": 3}, client_key="kiosk-1-abc")
    assert (created, created_again, again) == (True, False, first)


@pytest.mark.parametrize("answers,field", [
    ({"usefulness": 11}, "usefulness"), ({"usefulness": "abc"}, "usefulness"),
    ({"nonsense": 5}, "nonsense"), ({"management_openness": 9}, "management_openness"),
    ({}, "answers"),
])
def test_invalid_answers_are_refused_and_nothing_is_stored(app, campaign, answers, field):
    with pytest.raises(IntakeError) as error:
        answer(app, offices(app, "RU-BRY")[0], answers)
    assert error.value.field == field
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.models import Response

        assert db.scalar(select(func.count()).select_from(Response)) == 0


def test_overlapping_campaigns_for_one_region_are_refused(app, campaign):
    with app.app_context(), tenancy.federal_scope("test"):
        with pytest.raises(CampaignError, match="уже идёт кампания «2025-Q2»"):
            save_campaign(name="Весна", methodology_key="cci-2023", starts_on=dt.date(2025, 6, 1),
                          ends_on=dt.date(2025, 7, 31), region_codes=["RU-KYA", "RU-VLA"])
        save_campaign(name="Весна", methodology_key="cci-2023", starts_on=dt.date(2025, 6, 1),
                      ends_on=dt.date(2025, 7, 31), region_codes=["RU-VLA"])


# --- aggregation and runs ------------------------------------------------------------------


def test_database_aggregation_counts_bands_and_skips_not_sure(app, campaign):
    office = offices(app, "RU-KYA")[0]
    for value, booked in zip((10, 9, 8, 7, None), ("yes", "yes", "no", "unaware", "yes"),
                             strict=True):
        answer(app, office, {"usefulness": value, "personal_consultant": 1 if value else 0,
                             "pre_registration": booked})
    with app.app_context(), tenancy.region_scope(office and _region(app, "RU-KYA")):
        from cci.foundation.models import Campaign

        c = db.get(Campaign, campaign)
        region = db.scalar(select(Region).where(Region.code == "RU-KYA"))
        data = compute.aggregate_region(c, region, app.extensions["cci.registry"]
                                        .indicator_set("cci-2023"))
    counts = next(o for o in data.offices if o.office_id == office).answers
    usefulness = counts[("job_seeker", "usefulness")]
    assert (usefulness.n_valid, usefulness.n_high) == (4, 3)  # 8, 9, 10 of four valid
    consultant = counts[("job_seeker", "personal_consultant")]
    assert (consultant.n_valid, consultant.n_yes) == (5, 4)
    assert counts[("job_seeker", "pre_registration")].choices == {"yes": 3, "no": 1, "unaware": 1}


def test_a_run_computes_every_office_region_and_the_federation(app, campaign):
    bry, kya = offices(app, "RU-BRY"), offices(app, "RU-KYA")
    for _ in range(10):
        answer(app, bry[0], {"usefulness": 10, "comfort": 9})
        answer(app, kya[0], {"usefulness": 10, "comfort": 2})
    run_id, created = start(app, campaign)
    assert created and run_row(app, run_id).status == "queued"
    work(app)
    run = run_row(app, run_id)
    assert (run.status, run.progress) == ("succeeded", 1.0)
    office_index = results(app, run_id)
    assert office_index[bry[0]].value == pytest.approx(100.0)
    assert office_index[kya[0]].value == pytest.approx(50.0)  # groups II = 1.0, V = 0.0
    assert office_index[bry[1]].value is None  # no data: shown, not counted
    regions = results(app, run_id, level="region")
    assert regions[_region(app, "RU-BRY")].value == pytest.approx(100.0)
    assert regions[_region(app, "RU-KYA")].stars == 1
    assert run.summary["federal_index"] == pytest.approx(75.0)
    assert run.summary["regions_counted"] == 2
    assert run.plugin_package == "cci-platform" and run.parameters["positive_min"] == 8
    with app.app_context():
        assert compute.current_run(campaign, "cci-2023").id == run_id
    usefulness = results(app, run_id, metric="indicator:S-II.1", respondent_type="job_seeker")
    assert (usefulness[bry[0]].n_valid, usefulness[bry[0]].n_positive) == (10, 10)
    assert 0.69 < usefulness[bry[0]].ci_low < 0.73  # Wilson 95% for 10/10


def test_unchanged_inputs_reuse_the_run_and_new_data_makes_a_new_one(app, campaign):
    office = offices(app, "RU-BRY")[0]
    answer(app, office, {"usefulness": 10})
    first, _ = start(app, campaign)
    work(app)
    again, created = start(app, campaign)
    assert (again, created) == (first, False)
    answer(app, office, {"usefulness": 1})
    second, created = start(app, campaign)
    assert created and second != first
    work(app)
    with app.app_context():
        assert compute.current_run(campaign, "cci-2023").id == second
    assert results(app, first)  # the old run stays readable
    checklist(app, campaign, "O-V.3", {"neat": True})
    third, created = start(app, campaign)
    assert created and third != second


def test_a_failed_region_leaves_nothing_published_and_the_retry_gives_the_same_numbers(
        app, campaign, monkeypatch):
    office = offices(app, "RU-BRY")[0]
    for value in (10, 10, 4):
        answer(app, office, {"usefulness": value})
    reference, _ = start(app, campaign, draft=True)
    work(app)
    expected = results(app, reference)[office].value

    indicator_set = app.extensions["cci.registry"].indicator_set("cci-2023")
    original = type(indicator_set).compute_region
    calls = {"n": 0}

    def flaky(self, data):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker lost")
        return original(self, data)

    monkeypatch.setattr(type(indicator_set), "compute_region", flaky)
    app.config["JOB_RETRIES"] = 0  # no retry: the run must end failed, unpublished
    try:
        failed, _ = start(app, campaign)
        work(app)
    finally:
        app.config["JOB_RETRIES"] = 3
    assert run_row(app, failed).status == "failed"
    with app.app_context():
        assert compute.current_run(campaign, "cci-2023") is None
    retried, created = start(app, campaign)  # a failed run is not reused
    assert created
    work(app)
    assert run_row(app, retried).status == "succeeded"
    assert results(app, retried)[office].value == pytest.approx(expected)


def test_draft_runs_are_never_current(app, campaign):
    answer(app, offices(app, "RU-BRY")[0], {"usefulness": 10})
    draft, _ = start(app, campaign, draft=True)
    work(app)
    assert run_row(app, draft).status == "succeeded"
    assert run_row(app, draft).published_at is None
    with app.app_context():
        assert compute.current_run(campaign, "cci-2023") is None


def test_the_current_runs_of_many_campaigns_are_each_ones_current_run(app, tenants):
    """current_runs (one statement, for trends and default campaigns) picks what current_run
    picks per campaign: the highest id among published, succeeded, non-draft runs."""
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    with app.app_context(), tenancy.federal_scope("test"):
        def campaign(name: str, key: str, quarter: int):
            starts = dt.date(2026, 3 * quarter - 2, 1)
            return save_campaign(name=name, methodology_key=key, starts_on=starts,
                                 ends_on=starts + dt.timedelta(days=80),
                                 region_codes=["RU-BRY"])

        a, b = campaign("A", "cci-2023", 1), campaign("B", "cci-2022", 2)
        c = campaign("C", "cci-2023", 3)
        db.flush()

        def run(of, key: str, status: str = "succeeded", draft: bool = False,
                published: bool = True) -> int:
            row = ComputationRun(campaign_id=of.id, methodology_key=key, status=status,
                                 is_draft=draft, published_at=now if published else None)
            db.add(row)
            db.flush()
            return row.id

        run(a, "cci-2023")
        a_current = run(a, "cci-2023")
        run(a, "cci-2023", draft=True)
        run(a, "cci-2023", status="failed", published=False)
        run(a, "cci-2023", published=False)
        a_pilot = run(a, "cci-2022")
        b_current = run(b, "cci-2023")
        b_own = run(b, "cci-2022")
        run(c, "cci-2023", draft=True, published=False)
        db.commit()
        campaigns = [c, b, a]  # newest first, as pages list them
        for key in ("cci-2023", "cci-2022"):
            each = {x.id: compute.current_run(x.id, key) for x in campaigns}
            assert compute.current_runs(campaigns, key) == {
                k: v for k, v in each.items() if v is not None}
        assert {k: r.id for k, r in compute.current_runs(campaigns, "cci-2023").items()} == {
            a.id: a_current, b.id: b_current}
        assert {k: r.id for k, r in compute.current_runs(campaigns, "cci-2022").items()} == {
            a.id: a_pilot, b.id: b_own}
        # of each campaign's own version
        assert {k: r.id for k, r in compute.current_runs(campaigns).items()} == {
            a.id: a_current, b.id: b_own}
        assert compute.current_runs([]) == {}
        assert compute.latest_with_results(campaigns) == b
        assert compute.latest_with_results([c]) is None


def test_row_order_does_not_change_the_results(app, tenants):
    values = [10, 9, 8, 3, None, 7, 10, 1, 8, 9, 10, 2]
    found = []
    for name, order, month in (("A", values, 4), ("B", list(reversed(values)), 7)):
        with app.app_context(), tenancy.federal_scope("test"):
            created = save_campaign(name=name, methodology_key="cci-2023",
                                    starts_on=dt.date(2025, month, 1),
                                    ends_on=dt.date(2025, month + 2, 28), region_codes=["RU-BRY"])
            db.commit()
            campaign_id = created.id
        office = offices(app, "RU-BRY")[0]
        for value in order:
            answer(app, office, {"usefulness": value},
                   when=dt.datetime(2025, month, 10, tzinfo=dt.UTC))
        run_id, _ = start(app, campaign_id)
        work(app)
        found.append(results(app, run_id, metric="indicator:S-II.1")[office].value)
    assert found[0] == found[1] == pytest.approx(7 / 11)


def test_new_answers_schedule_one_debounced_recompute(app, campaign):
    office = offices(app, "RU-BRY")[0]
    for value in (10, 9, 3):  # three answers arriving together: one waiting recompute
        answer(app, office, {"usefulness": value})
    with app.app_context():
        recompute.request(campaign)
        from cci.foundation.models import JobRecord

        with tenancy.federal_scope("test"):
            pending = db.scalars(select(JobRecord).where(JobRecord.name == "runs.recompute")).all()
        assert len(pending) == 1
        registry = jobs.queue("default").scheduled_job_registry
        assert registry.get_job_ids() == [pending[0].rq_id]


@pytest.mark.worker
def test_a_real_worker_process_computes_a_campaign(app, campaign):
    office = offices(app, "RU-KYA")[0]
    for value in (10,) * 7 + (1,) * 3:
        answer(app, office, {"usefulness": value})
    run_id, _ = start(app, campaign)
    env = dict(os.environ)
    done = subprocess.run([sys.executable, "-m", "cci.cli", "worker", "--burst"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    run = run_row(app, run_id)
    assert run.status == "succeeded", run.error
    assert results(app, run_id)[office].value == pytest.approx(70.0)
