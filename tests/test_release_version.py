"""Releasing a methodology version as a package: cci-2023.1, installed next to the others,
appears in the pages, the preview and the compute with no change to the core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import TEST_CONFIG
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import start
from engine_helpers import work

PACKAGES = Path(__file__).parent / "plugins"


@pytest.fixture
def released(monkeypatch, app):
    """An app built while the release package is importable, as after `pip install`."""
    monkeypatch.syspath_prepend(str(PACKAGES))
    from cci import create_app

    return create_app(TEST_CONFIG)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_release_is_discovered_through_its_entry_point(released):
    registry = released.extensions["cci.registry"]
    release = registry.indicator_set("cci-2023.1")
    assert (release.based_on, release.package, release.package_version) == (
        "cci-2023", "cci-ikc2023-1", "1.0")
    assert release.parameter("min_sample") == 5
    assert registry.indicator_set("cci-2023").parameter("min_sample") == 10


def test_the_release_appears_in_the_pages_with_its_change(released, tenants, make_user):
    from conftest import PASSWORD

    client = released.test_client()
    client.post("/login", data={"email": make_user("methodology_owner"), "password": PASSWORD})
    assert "ИКЦ-2023.1" in text(client.get("/methodologies/"))
    diff = text(client.get("/methodologies/diff?old=cci-2023&new=cci-2023.1"))
    assert "min_sample" not in diff and "снижена с 10 до 5" in diff
    assert ("Минимальная выборка на показатель в офисе Значение 10 действительных ответов "
            "5 действительных ответов") in diff


def test_preview_and_compute_pick_the_release_up(released, campaign):
    office = offices(released, "RU-KYA")[0]
    for value in (10, 10, 10, 10, 9, 1):  # six answers: enough for 2023.1, not for 2023
        answer(released, office, {"usefulness": value})
    published, _ = start(released, campaign)
    draft, _ = start(released, campaign, methodology_key="cci-2023.1", draft=True)
    work(released)
    base = results(released, published, metric="indicator:S-II.1", respondent_type="job_seeker")
    new = results(released, draft, metric="indicator:S-II.1", respondent_type="job_seeker")
    assert base[office].value is None and base[office].insufficient
    assert new[office].value == pytest.approx(5 / 6)
    assert results(released, draft)[office].detail["ranked"] is True
