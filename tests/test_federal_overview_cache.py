"""The federal overview's results are rendered once per key and kept in Redis
(cci.web.overview_cache): a newly published run is a new key and shows its own figures, a
region's page is not a federal page, a renamed region shows its new name, and what is kept is
what the next reader gets."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy import update

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import campaign_regions
from cci.web import overview_cache

from test_federal_overview import _federal_job
from test_federal_overview import _ids
from test_federal_overview import _published
from test_federal_overview import _region_row
from test_federal_overview import _rows
from test_federal_overview import earlier_run  # noqa: F401 (a fixture)
from test_federal_overview import four  # noqa: F401 (a fixture)
from test_federal_overview import hand_run  # noqa: F401 (a fixture)
from test_federal_overview import text


def _kept(app, run_id) -> list[bytes]:
    """The fragments kept for a run."""
    return sorted(app.extensions["cci.redis"].keys(
        f"{overview_cache.PREFIX}:v{overview_cache.VERSION}:run{run_id}:*"))


def _key(**changes):
    run = SimpleNamespace(id=7, input_fingerprint="abc")
    before = SimpleNamespace(id=5, input_fingerprint="def")
    args = {"run": run, "previous": before,
            "filters": {"network": "", "stars": None, "q": "", "sort": "rank"},
            "area": "federal", "region_id": None, "locale": "ru", "zone": "Europe/Moscow",
            "directory": "d1", "methodology": "cci-2023 1 0.4.0"}
    args.update(changes)
    return overview_cache.fragment_key(**args)


def test_the_key_changes_with_every_input_and_only_with_them():
    assert _key() == _key()
    assert _key().startswith(f"{overview_cache.PREFIX}:v{overview_cache.VERSION}:run7:prev5:")
    others = [
        _key(run=SimpleNamespace(id=8, input_fingerprint="abc")),  # a newer run
        _key(previous=SimpleNamespace(id=6, input_fingerprint="def")),  # newer previous run
        _key(previous=None),  # no previous campaign
        _key(filters={"network": "", "stars": 4, "q": "", "sort": "rank"}),
        _key(filters={"network": "", "stars": None, "q": "брян", "sort": "rank"}),
        _key(filters={"network": "", "stars": None, "q": "", "sort": "name"}),
        _key(area="region", region_id=3),
        _key(area="region", region_id=4),
        _key(locale="en"),
        _key(zone="Asia/Krasnoyarsk"),
        _key(directory="d2"),  # a region renamed, an office switched off
        _key(methodology="cci-2023 1 0.4.1"),  # the set's titles from a newer package
    ]
    assert len({_key(), *others}) == 1 + len(others)


def _newer_run(app, campaign_id) -> int:
    """A newer run of the same campaign: every region's index moved (BRY 40, KYA 60, LIP 90,
    ORE 20)."""
    with app.app_context(), tenancy.federal_scope("test"):
        ids = _ids(["RU-BRY", "RU-KYA", "RU-LIP", "RU-ORE"])
        run = ComputationRun(campaign_id=campaign_id, methodology_key="cci-2023",
                             status="running", input_fingerprint="f2nger", regions_total=4)
        db.add(run)
        db.flush()
        db.add_all([_region_row(run.id, ids[code], "index", value, n_valid=10)
                    for code, value in (("RU-BRY", 40.0), ("RU-KYA", 60.0), ("RU-LIP", 90.0),
                                        ("RU-ORE", 20.0))])
        db.commit()
        run_id = run.id
    _federal_job(app, run_id)
    return run_id


def test_a_newly_published_run_is_a_new_key_and_shows_its_own_figures(
        app, client, hand_run, four, make_user, login):
    names, _offices = _published(app, hand_run)
    login(make_user("federal_analyst"))
    first = text(client.get(f"/federal/?campaign={four}"))
    assert "Федеральный индекс 70,0" in first
    kept = _kept(app, hand_run)
    assert len(kept) == 1
    assert "Федеральный индекс 70,0" in text(client.get(f"/federal/?campaign={four}"))
    assert _kept(app, hand_run) == kept  # the second reader got the kept fragment

    newer = _newer_run(app, four)
    response = client.get(f"/federal/?campaign={four}")
    # (40 + 60 + 90 + 20) / 4 = 52,5
    assert "Федеральный индекс 52,5" in text(response)
    assert "70,0" not in text(response).split("Справочник регионов")[0]
    rows = _rows(response)
    assert rows[0].startswith(f"1 {names['RU-LIP']}") and "90,0" in rows[0]
    assert len(_kept(app, newer)) == 1 and _kept(app, hand_run) == kept


def test_a_newer_run_of_the_previous_campaign_changes_the_movement(
        app, client, hand_run, earlier_run, four, make_user, login):
    _published(app, hand_run)
    login(make_user("federal_analyst"))
    assert "Федеральный индекс: 61,2" in text(client.get(f"/federal/?campaign={four}"))
    with app.app_context(), tenancy.federal_scope("test"):
        earlier_campaign = db.get_one(ComputationRun, earlier_run).campaign_id
    _newer_run(app, earlier_campaign)  # the previous campaign's figures are now 52,5
    page = text(client.get(f"/federal/?campaign={four}"))
    assert "Федеральный индекс: 52,5" in page and "61,2" not in page


def test_a_regions_page_is_not_the_federal_page(app, client, hand_run, four, make_user, login):
    _published(app, hand_run)
    login(make_user("federal_analyst"))
    federal = client.get(f"/federal/?campaign={four}").get_data(as_text=True)
    assert "/r/RU-KYA/results" in federal  # the federal table links into the regions
    client.post("/logout")
    login(make_user("regional_admin", "RU-BRY"))
    regional = client.get(f"/r/RU-BRY/federal?campaign={four}").get_data(as_text=True)
    assert "/r/RU-KYA" not in regional and "/r/RU-BRY/federal.xlsx" in regional
    assert 'class="own' in regional and 'class="own' not in federal
    assert len(_kept(app, hand_run)) == 2


def test_a_renamed_region_shows_its_new_name(app, client, hand_run, four, make_user, login):
    names, _offices = _published(app, hand_run)
    login(make_user("federal_analyst"))
    assert names["RU-KYA"] in text(client.get(f"/federal/?campaign={four}"))
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(Region).where(Region.code == "RU-KYA").values(name="Енисейский край"))
        db.commit()
    response = client.get(f"/federal/?campaign={four}")
    assert _rows(response)[1].startswith("1–2 Енисейский край")
    directory = text(response).split("Справочник регионов")[1]
    assert "Енисейский край" in directory and names["RU-KYA"] not in directory


def test_what_is_kept_is_what_the_next_reader_gets(app, client, hand_run, four, make_user,
                                                   login):
    _published(app, hand_run)
    login(make_user("federal_analyst"))
    client.get(f"/federal/?campaign={four}")
    (key,) = _kept(app, hand_run)
    app.extensions["cci.redis"].set(key, '<p id="federation-figures">kept</p>')
    html = client.get(f"/federal/?campaign={four}").get_data(as_text=True)
    assert '<p id="federation-figures">kept</p>' in html
    # another filter is another fragment, rendered
    assert "kept</p>" not in client.get(
        f"/federal/?campaign={four}&stars=4").get_data(as_text=True)


def test_the_directory_fingerprint_moves_with_every_name_and_count_it_stands_for(
        app, hand_run, four):
    """Each change the overview shows beside a run's figures gives another fingerprint: an
    office switched off, a campaign renamed, a region added to a campaign, a campaign marked
    as sample data; and nothing else does (the same rows read twice)."""
    def fingerprint() -> str:
        with app.test_request_context():
            return overview_cache.directory_fingerprint(four)

    def change(statement) -> None:
        with app.app_context(), tenancy.federal_scope("test"):
            db.execute(statement)
            db.commit()

    with app.app_context(), tenancy.federal_scope("test"):
        outside = db.scalar(select(Region.id).where(Region.id.not_in(
            select(campaign_regions.c.region_id).where(campaign_regions.c.campaign_id == four))))
    seen = [fingerprint()]
    assert fingerprint() == seen[0]
    for statement in (
        update(Office).where(Office.id == select(Office.id).limit(1).scalar_subquery())
        .values(active=False),
        update(Campaign).where(Campaign.id == four).values(name="Переименованная кампания"),
        campaign_regions.insert().values(campaign_id=four, region_id=outside),
        update(Campaign).where(Campaign.id == four).values(is_sample=True),
    ):
        change(statement)
        seen.append(fingerprint())
        assert seen[-1] not in seen[:-1], statement
