"""Offices kept in the interface: a regional administrator adds, changes (name, address, type,
opening hours, a time zone of its own) and switches off offices, audited and refused with a
clear message when wrong; another region's office cannot be reached; a sync of the tenants
files keeps what the interface changed and says so; the kiosk's office-hours rule follows the
office's own hours and zone."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from conftest import ROOT
from engine_helpers import answer

FORM = {"name": "ЦЗН г. Клинцы", "address": "г. Клинцы, ул. Мира, д. 5", "kind": "branch",
        "opens": "09:00", "closes": "18:00", "timezone": ""}


def office_by_code(app, code: str) -> Office | None:
    with app.app_context(), tenancy.federal_scope("test"):
        found = db.scalar(select(Office).where(Office.code == code))
        if found is not None:
            db.expunge(found)
        return found


def audit_actions(app, office_id: int) -> list[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "Office", AuditEntry.object_id == str(office_id))
            .order_by(AuditEntry.id)))


@pytest.fixture
def bry_admin(client, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))


def test_add_change_and_switch_off_an_office(app, client, bry_admin):
    home = client.get("/r/RU-BRY/").get_data(as_text=True)
    assert "Добавить офис" in home
    reply = client.post("/r/RU-BRY/offices/new", data={**FORM, "code": "BRY-KLI"})
    assert reply.status_code == 302
    added = office_by_code(app, "BRY-KLI")
    assert (added.name, added.opens, added.closes, added.timezone, added.active) == (
        FORM["name"], "09:00", "18:00", None, True)
    assert added.edited_in_interface_at is not None

    reply = client.post(f"/r/RU-BRY/offices/{added.id}/edit",
                        data={**FORM, "name": "ЦЗН г. Клинцы (новое здание)", "kind": "main",
                              "timezone": "Europe/Samara"})
    assert reply.status_code == 302
    page = client.get(f"/r/RU-BRY/offices/{added.id}").get_data(as_text=True)
    assert "ЦЗН г. Клинцы (новое здание)" in page and "09:00–18:00" in page
    assert "МСК+1" in page and "головной офис" in page

    assert client.post(f"/r/RU-BRY/offices/{added.id}/active",
                       data={"active": "0"}).status_code == 302
    assert office_by_code(app, "BRY-KLI").active is False
    assert audit_actions(app, added.id) == ["office.create", "office.update",
                                            "office.deactivate"]
    log = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                    client.get("/r/RU-BRY/admin/audit").get_data(as_text=True)))
    assert "Название: ЦЗН г. Клинцы → ЦЗН г. Клинцы (новое здание)" in log


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"code": "БРЯ 1"}, "code", "только латинские буквы"),
    ({"code": "BRY-01"}, "code", "уже есть офис с таким кодом"),
    ({"name": "  "}, "name", "Укажите название офиса"),
    ({"opens": "9:00"}, "opens", "в часах и минутах"),
    ({"closes": ""}, "opens", "и время открытия, и время закрытия"),
    ({"opens": "18:00", "closes": "09:00"}, "closes", "закрываться позже"),
    ({"timezone": "Mars/Olympus"}, "timezone", ""),
])
def test_a_wrong_office_is_refused_with_a_message(app, client, bry_admin, change, field,
                                                  message):
    reply = client.post("/r/RU-BRY/offices/new", data={**FORM, "code": "BRY-NEW", **change})
    assert reply.status_code == 400
    assert message in reply.get_data(as_text=True)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(Office).where(Office.name == FORM["name"])) is None


def test_another_region_and_other_roles_cannot_manage_offices(app, client, make_user, login):
    login(make_user("regional_admin", "RU-VLA"))
    with app.app_context(), tenancy.federal_scope("test"):
        bry = db.scalar(select(Office.id).where(Office.code == "BRY-01"))
    assert client.get(f"/r/RU-BRY/offices/{bry}/edit").status_code == 404
    assert client.post(f"/r/RU-VLA/offices/{bry}/edit", data=FORM).status_code == 404
    assert client.post(f"/r/RU-VLA/offices/{bry}/active", data={"active": "0"}).status_code == 404
    assert office_by_code(app, "BRY-01").active is True
    client.post("/logout")
    login(make_user("auditor", "RU-BRY"))
    assert client.post("/r/RU-BRY/offices/new", data={**FORM, "code": "X"}).status_code == 403
    assert "Добавить офис" not in client.get("/r/RU-BRY/").get_data(as_text=True)


def test_a_sync_keeps_what_the_interface_changed_and_says_so(app, client, bry_admin, tmp_path):
    from cci.foundation.tenants_sync import sync

    bry = office_by_code(app, "BRY-01")
    client.post(f"/r/RU-BRY/offices/{bry.id}/edit",
                data={**FORM, "name": "Переименован в интерфейсе", "kind": bry.kind})
    client.post("/r/RU-BRY/offices/new", data={**FORM, "code": "BRY-UI"})
    files = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", files)
    with app.app_context():
        report = sync(files, actor="test")
    assert office_by_code(app, "BRY-01").name == "Переименован в интерфейсе"
    assert office_by_code(app, "BRY-UI").active is True  # not in the file, not removed
    kept = "\n".join(report.kept)
    assert "RU-BRY/BRY-01: the file says name" in kept
    assert "RU-BRY/BRY-UI: not in the file" in kept
    assert any(line.startswith("kept as changed in the interface") for line in report.lines())


def test_kiosk_hours_follow_the_office(app, campaign):
    from cci.foundation import offices

    bry = office_by_code(app, "BRY-01")
    with app.app_context(), tenancy.federal_scope("test"):
        office = db.get(Office, bry.id)
        offices.update(office, {"name": office.name, "address": office.address,
                                "kind": office.kind, "opens": "10:00", "closes": "12:00",
                                "timezone": "Asia/Yekaterinburg"}, user=None)
        db.commit()
    # 06:30 UTC = 11:30 in Yekaterinburg (open), 09:30 in Moscow (the region's zone)
    inside = dt.datetime(2025, 5, 5, 6, 30, tzinfo=dt.UTC)
    outside = dt.datetime(2025, 5, 5, 7, 30, tzinfo=dt.UTC)  # 12:30 local
    meta = {"device_id": 1}
    flagged = []
    for when in (inside, outside):
        response_id, _ = answer(app, bry.id, {"usefulness": 8}, when=when, meta=meta)
        with app.app_context(), tenancy.federal_scope("test"):
            from cci.foundation.models import ResponseFlag

            flagged.append(set(db.scalars(select(ResponseFlag.rule).where(
                ResponseFlag.response_id == response_id))))
    assert "outside_hours" not in flagged[0] and "outside_hours" in flagged[1]
