"""Respondent profiles: each profile question's distribution per office and region and per
respondent type, against hand-computed values, and the page in Russian."""

from __future__ import annotations

import pytest

from cci.foundation import tenancy
from cci.index.profiles import NOT_GIVEN
from cci.index.profiles import profile_distributions
from conftest import region_id

from test_comments import world  # noqa: F401 - the same answers


def _distributions(app, campaign, office_id=None):
    registry = app.extensions["cci.registry"]
    indicator_set = registry.indicator_set("cci-2023")
    items = {t: indicator_set.items_for(t, "profile") for t in ("job_seeker", "employer")}
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY"), "test"):
        found = profile_distributions(campaign, items, region_id=region_id(app, "RU-BRY"),
                                      office_id=office_id)
    return {(d.respondent_type, d.item.key): d for d in found}


def test_distributions_against_hand_computed_values(app, world):
    found = _distributions(app, world["campaign"])
    gender = found["job_seeker", "gender"]
    # office A: 4 quality-valid job seekers, 3 women and 1 man (the excluded man not counted);
    # office B: 2 men and one who did not say
    assert gender.counts(world["a"]) == {"female": 3, "male": 1}
    assert gender.counts(world["b"]) == {"male": 2, NOT_GIVEN: 1}
    assert gender.answered() == 6 and gender.not_given() == 1
    assert gender.share("female") == pytest.approx(0.5)
    assert gender.share("female", world["a"]) == pytest.approx(0.75)
    assert gender.share("female", world["b"]) == 0
    assert found["job_seeker", "age"].counts() == {"25-34": 4, NOT_GIVEN: 3}
    headcount = found["employer", "headcount"]
    assert headcount.counts() == {"16-100": 1} and headcount.share("16-100") == 1
    assert found["employer", "ownership"].answered() == 0
    assert found["employer", "ownership"].share("state") is None
    # Russian labels in the question's order, keys never shown
    assert [label for _, label in found["employer", "headcount"].options()][:2] == \
        ["до 15", "16–100"]


def test_an_office_filter(app, world):
    found = _distributions(app, world["campaign"], office_id=world["b"])
    assert found["job_seeker", "gender"].counts() == {"male": 2, NOT_GIVEN: 1}


def test_the_page(app, world, client, login, make_user):
    login(make_user("auditor", "RU-BRY"))
    html = client.get("/r/RU-BRY/profiles").get_data(as_text=True)
    assert "Профили респондентов" in html and "Пол (соискатели)" in html
    assert "Численность сотрудников (работодатели)" in html
    assert "75,0" in html and "50,0" in html
    assert "female" not in html and "job_seeker" not in html.split("<main")[1]
    page = client.get(f"/r/RU-BRY/profiles?office={world['b']}")
    assert page.status_code == 200
    assert client.get(f"/r/RU-BRY/profiles?office={world['kya']}").status_code == 404
