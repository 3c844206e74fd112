"""The example methodology variant (tests/example_plugins/cci_example_methodology), installed
from its own directory with pip: listed, chosen for a campaign and computed, with no change to
the core."""

from __future__ import annotations

import datetime as dt

import pytest

from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation.db import db
from conftest import PASSWORD
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import start
from engine_helpers import work

from conftest_plugins import EXAMPLES

KEY = "cci-2023-ii2"


@pytest.fixture
def variant_app(install_plugin, build, app):
    install_plugin(EXAMPLES / "cci_example_methodology")
    return build()


def test_the_variant_is_registered_from_its_distribution(variant_app):
    registry = variant_app.extensions["cci.registry"]
    variant = registry.indicator_set(KEY)
    assert (variant.package, variant.package_version) == ("cci-example-methodology", "1.0.0")
    assert variant.based_on == "cci-2023"
    assert variant.parameter("group_weights")["II"] == 0.4
    # the set it revises is untouched
    assert registry.indicator_set("cci-2023").parameter("group_weights")["II"] == 0.2
    # the formula came along with the class
    assert type(variant) is type(registry.indicator_set("cci-2023"))


def test_without_the_installation_the_variant_is_absent(build):
    assert KEY not in build().extensions["cci.registry"].indicator_sets


def test_the_variant_is_listed_with_its_change(variant_app, tenants, make_user):
    client = variant_app.test_client()
    client.post("/login", data={"email": make_user("methodology_owner"), "password": PASSWORD})
    page = client.get("/methodologies/").get_data(as_text=True)
    assert "ИКЦ-2023 (II×2)" in page
    diff = client.get(f"/methodologies/diff?old=cci-2023&new={KEY}").get_data(as_text=True)
    assert "Вес группы II в индексе перспективы удвоен" in diff
    api = client.get("/api/v1/methodologies")  # a session is not a token: 401, not a crash
    assert api.status_code == 401


def test_a_campaign_with_the_variant_computes_the_expected_figures(variant_app, tenants):
    with variant_app.app_context(), tenancy.federal_scope("test"):
        campaign = save_campaign(name="2025-Q2 II×2", methodology_key=KEY,
                                 starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 6, 30),
                                 region_codes=["RU-KYA"]).id
        db.commit()
    office = offices(variant_app, "RU-KYA")[0]
    # ten job seekers: S-I.1 (group I) positive for half of them, S-II.1 (group II) for all
    for n in range(10):
        answer(variant_app, office, {"prof_competence": 10 if n % 2 else 3, "usefulness": 9},
               when=DAY)
    run, _ = start(variant_app, campaign)
    base, _ = start(variant_app, campaign, methodology_key="cci-2023", draft=True)
    work(variant_app)
    groups = results(variant_app, run, metric="group:I", respondent_type="job_seeker")
    assert groups[office].value == pytest.approx(0.5)
    assert results(variant_app, run, metric="group:II",
                   respondent_type="job_seeker")[office].value == pytest.approx(1.0)
    # groups I and II scored: 100 × (0.2 × 0.5 + 0.4 × 1.0) / 0.6, against 0.2 each in cci-2023
    assert results(variant_app, run)[office].value == pytest.approx(100 * 0.5 / 0.6)
    assert results(variant_app, base)[office].value == pytest.approx(75.0)
