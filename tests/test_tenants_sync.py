"""`cci tenants sync`: regions and offices from tenants/*.toml, idempotent and atomic."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
import zoneinfo
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import Region
from conftest import ROOT

TENANTS = ROOT / "tenants"
#: The 13 pilot regions the methodology names (Брянская обл. … Ярославская обл.), by
#: ISO 3166-2:RU code, with their UTC offset.
PILOT = {
    "RU-BRY": ("Брянская", 3),
    "RU-VLA": ("Владимирская", 3),
    "RU-KYA": ("Красноярский", 7),
    "RU-LIP": ("Липецкая", 3),
    "RU-NIZ": ("Нижегородская", 3),
    "RU-ORE": ("Оренбургская", 5),
    "RU-PRI": ("Приморский", 10),
    "RU-PSK": ("Псковская", 3),
    "RU-TAM": ("Тамбовская", 3),
    "RU-TYU": ("Тюменская", 5),
    "RU-CHE": ("Челябинская", 5),
    "RU-YAN": ("Ямало-Ненецкий", 5),
    "RU-YAR": ("Ярославская", 3),
}


def sync(runner, directory: Path):
    return runner.invoke(args=["tenants", "sync", "--dir", str(directory)])


def state(app) -> dict:
    """Everything a sync may change, as plain values."""
    with app.app_context(), tenancy.federal_scope("test"):
        regions = {
            r.code: (r.name, r.network_type, r.timezone, r.is_sample)
            for r in db.scalars(select(Region))
        }
        offices = {
            (o.region.code, o.code): (o.name, o.address, o.kind, o.is_sample, o.active)
            for o in db.scalars(select(Office))
        }
        entries = db.scalar(select(func.count(AuditEntry.id)))
    return {"regions": regions, "offices": offices, "audit": entries}


@pytest.fixture
def tenants_dir(tmp_path):
    target = tmp_path / "tenants"
    shutil.copytree(TENANTS, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_first_sync_creates_13_regions_and_26_offices(app, runner):
    result = sync(runner, TENANTS)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "39 created, 0 updated, 0 deactivated, 0 unchanged"
    assert "created: RU-BRY" in lines
    assert "created: RU-BRY/BRY-01" in lines
    assert "created: RU-YAN/YAN-02" in lines

    now = state(app)
    assert set(now["regions"]) == set(PILOT)
    assert all(re.fullmatch(r"RU-[A-Z]{3}", code) for code in now["regions"])
    assert len(now["offices"]) == 26
    per_region = dict.fromkeys(PILOT, 0)
    for region_code, _office in now["offices"]:
        per_region[region_code] += 1
    assert set(per_region.values()) == {2}, per_region
    assert all(values[-1] for values in now["offices"].values()), "every office starts active"
    assert now["regions"]["RU-BRY"] == ("Брянская область", "centralized", "Europe/Moscow", True)


def test_second_sync_changes_nothing(app, runner):
    assert sync(runner, TENANTS).exit_code == 0
    before = state(app)
    result = sync(runner, TENANTS)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["0 created, 0 updated, 0 deactivated, 39 unchanged"]
    assert state(app) == before  # not even an audit entry


def test_sync_writes_audit_entries(app, runner):
    assert sync(runner, TENANTS).exit_code == 0
    with app.app_context(), tenancy.federal_scope("test"):
        entries = db.scalars(select(AuditEntry)).all()
        actions = [e.action for e in entries]
        assert actions.count("region.create") == 13
        assert actions.count("office.create") == 26
        assert {e.actor for e in entries} == {"system: cci tenants sync"}
        bry = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        created = db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "region.create", AuditEntry.object_id == str(bry.id)
            )
        )
        assert created.region_id == bry.id
        assert created.after["code"] == "RU-BRY"
        assert created.after["timezone"] == "Europe/Moscow"
        assert created.before is None
        office_entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "office.create"))
        assert office_entry.object_type == "Office"
        assert office_entry.region_id is not None


def test_editing_a_file_updates_and_reports_it(app, runner, tenants_dir):
    assert sync(runner, tenants_dir).exit_code == 0
    path = tenants_dir / "RU-BRY.toml"
    edit(path, 'name = "Брянская область"', 'name = "Брянская область (новое имя)"')
    edit(path, "ЦЗН Брянской области — филиал в г. Клинцы", "ЦЗН Брянской области — офис в Клинцах")
    result = sync(runner, tenants_dir)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "updated: RU-BRY" in lines
    assert "updated: RU-BRY/BRY-02" in lines
    assert lines[-1] == "0 created, 2 updated, 0 deactivated, 37 unchanged"

    now = state(app)
    assert now["regions"]["RU-BRY"][0] == "Брянская область (новое имя)"
    assert now["offices"][("RU-BRY", "BRY-02")][0] == "ЦЗН Брянской области — офис в Клинцах"
    with app.app_context(), tenancy.federal_scope("test"):
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "office.update"))
        assert entry.before["name"] == "ЦЗН Брянской области — филиал в г. Клинцы"
        assert entry.after["name"] == "ЦЗН Брянской области — офис в Клинцах"
        region_entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "region.update"))
        assert region_entry.before["name"] == "Брянская область"


def test_removing_an_office_deactivates_it(app, runner, tenants_dir):
    assert sync(runner, tenants_dir).exit_code == 0
    with app.app_context(), tenancy.federal_scope("test"):
        office_id = db.scalar(select(Office.id).where(Office.code == "BRY-02"))
    path = tenants_dir / "RU-BRY.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[[offices]]\ncode = \"BRY-02\"")], encoding="utf-8")

    result = sync(runner, tenants_dir)
    assert result.exit_code == 0, result.output
    assert "deactivated: RU-BRY/BRY-02" in result.output.splitlines()
    assert result.output.splitlines()[-1] == "0 created, 0 updated, 1 deactivated, 38 unchanged"
    with app.app_context(), tenancy.federal_scope("test"):
        office = db.get(Office, office_id)
        assert office is not None, "a removed office is kept (answers refer to it)"
        assert office.active is False
        assert db.scalar(select(func.count(Office.id))) == 26
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "office.deactivate"))
        assert entry.object_id == str(office_id)
        assert entry.before["active"] is True and entry.after["active"] is False

    # Deactivated once; the next sync leaves it alone, and putting it back reactivates it.
    again = sync(runner, tenants_dir)
    assert again.output.splitlines() == ["0 created, 0 updated, 0 deactivated, 38 unchanged"]
    shutil.copy(TENANTS / "RU-BRY.toml", path)
    back = sync(runner, tenants_dir)
    assert "updated: RU-BRY/BRY-02" in back.output.splitlines()
    assert state(app)["offices"][("RU-BRY", "BRY-02")][-1] is True


def test_adding_a_region_file_creates_it(app, runner, tenants_dir):
    assert sync(runner, tenants_dir).exit_code == 0
    (tenants_dir / "RU-MOS.toml").write_text(
        'code = "RU-MOS"\nname = "Московская область"\nnetwork_type = "decentralized"\n'
        'timezone = "Europe/Moscow"\n\n[[offices]]\ncode = "MOS-01"\nname = "ЦЗН Подольск"\n',
        encoding="utf-8",
    )
    result = sync(runner, tenants_dir)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 created, 0 updated, 0 deactivated, 39 unchanged"
    now = state(app)
    assert now["regions"]["RU-MOS"] == (
        "Московская область", "decentralized", "Europe/Moscow", False
    )
    # A region that says nothing about samples is real data; its offices inherit that.
    assert now["offices"][("RU-MOS", "MOS-01")] == ("ЦЗН Подольск", "", "branch", False, True)


BROKEN = {
    "bad region code": (
        "RU-YAR.toml",
        lambda p: edit(p, 'code = "RU-YAR"', 'code = "YAR"'),
        "RU-YAR.toml: code 'YAR' is not an ISO 3166-2:RU code",
    ),
    "unknown time zone": (
        "RU-YAR.toml",
        lambda p: edit(p, 'timezone = "Europe/Moscow"', 'timezone = "Europe/Atlantis"'),
        "RU-YAR.toml: unknown time zone 'Europe/Atlantis'",
    ),
    "duplicate office code": (
        "RU-YAR.toml",
        lambda p: edit(p, 'code = "YAR-02"', 'code = "YAR-01"'),
        "RU-YAR.toml, office #2: office code 'YAR-01' appears twice",
    ),
    "bad office code": (
        "RU-YAR.toml",
        lambda p: edit(p, 'code = "YAR-02"', 'code = "YAR 02/x"'),
        "RU-YAR.toml, office #2: code 'YAR 02/x'",
    ),
    "bad TOML": (
        "RU-YAR.toml",
        lambda p: p.write_text(p.read_text(encoding="utf-8") + "\n[[offices]\nname = \n", "utf-8"),
        "RU-YAR.toml: not valid TOML",
    ),
    "missing field": (
        "RU-YAR.toml",
        lambda p: edit(p, 'timezone = "Europe/Moscow"\n', ""),
        "RU-YAR.toml: missing 'timezone'",
    ),
    "unknown network type": (
        "RU-YAR.toml",
        lambda p: edit(p, 'network_type = "centralized"', 'network_type = "federal"'),
        "RU-YAR.toml: network_type must be one of",
    ),
    "duplicate region across files": (
        "RU-ZZZ.toml",
        lambda p: shutil.copy(p.parent / "RU-YAR.toml", p),
        "region defined in more than one file: RU-YAR in RU-YAR.toml, RU-ZZZ.toml",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_file_names_itself_and_changes_nothing(app, runner, tenants_dir, case):
    assert sync(runner, tenants_dir).exit_code == 0
    before = state(app)
    # Valid changes in an earlier file must not be applied either: all or nothing.
    bry = tenants_dir / "RU-BRY.toml"
    edit(bry, 'name = "Брянская область"', 'name = "Изменено"')
    bry.write_text(bry.read_text(encoding="utf-8").split('[[offices]]\ncode = "BRY-02"')[0],
                   encoding="utf-8")  # and BRY-02 removed
    filename, breaks, message = BROKEN[case]
    breaks(tenants_dir / filename)

    result = sync(runner, tenants_dir)
    assert result.exit_code == 1
    assert "Error: " in result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert state(app) == before


def test_a_failure_while_writing_rolls_everything_back(app, tenants_dir, monkeypatch):
    """Validation passed, but the database write fails half-way: nothing is kept."""
    from cci.foundation.tenants_sync import sync as sync_files

    with app.app_context():
        sync_files(tenants_dir)
    before = state(app)
    edit(tenants_dir / "RU-BRY.toml", 'name = "Брянская область"', 'name = "Изменено"')
    edit(tenants_dir / "RU-YAR.toml", 'name = "Ярославская область"', 'name = "Тоже изменено"')
    calls = []
    real_record = audit.record

    def failing_record(action, *args, **kwargs):
        calls.append(action)
        if action == "region.update" and len(calls) > 1:
            raise RuntimeError("disk full")
        return real_record(action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_record)
    with app.app_context(), pytest.raises(RuntimeError, match="disk full"):
        sync_files(tenants_dir)
    assert calls == ["region.update", "region.update"]
    assert state(app) == before


def test_sync_without_files_is_an_error(app, runner, tmp_path):
    result = sync(runner, tmp_path)
    assert result.exit_code == 1
    assert "no *.toml files" in result.output
    assert state(app)["regions"] == {}


def test_shipped_region_files_are_the_pilot_regions_marked_sample():
    files = sorted(TENANTS.glob("*.toml"))
    assert len(files) == 13
    seen = set()
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        code = data["code"]
        assert path.stem == code, f"{path.name} holds {code}"
        assert code in PILOT, f"{code} is not a pilot region"
        stem, utc_offset = PILOT[code]
        assert data["name"].startswith(stem), (code, data["name"])
        assert data.get("sample") is True, f"{path.name} must be marked sample = true"
        assert "SAMPLE DATA" in path.read_text(encoding="utf-8")
        zone = data["timezone"]
        assert zone in zoneinfo.available_timezones(), f"{path.name}: {zone} is not IANA"
        offset = zoneinfo.ZoneInfo(zone).utcoffset(dt.datetime(2025, 1, 15))
        assert offset.total_seconds() == utc_offset * 3600, (code, zone)
        assert data["network_type"] in ("centralized", "decentralized")
        offices = data["offices"]
        assert len(offices) == 2, code
        suffix = code.removeprefix("RU-")
        assert [o["code"] for o in offices] == [f"{suffix}-01", f"{suffix}-02"]
        assert all(o.get("sample", True) is True for o in offices)
        if data["network_type"] == "centralized":
            assert [o["kind"] for o in offices] == ["main", "branch"], code
        seen.add(code)
    assert seen == set(PILOT)
    # The methodology names exactly 13 pilot regions, and these are they.
    assert len(PILOT) == 13
