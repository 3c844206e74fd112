"""The audit log as people read it: Russian action names, objects by name with a link,
«поле: было → стало» lines, filters by person, action, region and period, CSV and XLSX
exports of the same rows, and no other region's entries for a regional administrator."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import IMPORT_KINDS
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import User
from conftest import PASSWORD
from conftest import ROOT
from conftest import region_id

RECORD_CALL = re.compile(  # the action argument, also as «"a" if … else "b"»
    r"(?:audit\.record|record_audit)\(\s*(f?\"[^\"]*\"(?:\s+if\s[^\"]+else\s+\"[^\"]*\")?)")


def recorded_actions() -> set[str]:
    """Every action the product's code records, read from the source."""
    actions = set()
    for path in [*Path(ROOT / "platform").rglob("*.py"), *Path(ROOT / "plugins").rglob("*.py")]:
        for call in RECORD_CALL.findall(path.read_text(encoding="utf-8")):
            if call.startswith('f"import.'):
                actions |= {f"import.{kind}" for kind in IMPORT_KINDS}
            else:
                actions |= set(re.findall(r'"([a-z_]+\.[a-z_.]+)"', call))
    return actions


def test_every_recorded_action_has_words(app):
    actions = recorded_actions()
    assert {"user.create", "kiosk.revoke", "telephony.import", "import.responses"} <= actions
    named = app.extensions["cci.registry"].audit.actions
    assert sorted(actions - set(named)) == []


def _office(app, code):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


def _user_id(app, email):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User.id).where(User.email == email))


@pytest.fixture
def history(app, client, make_user, login):
    """A regional admin of RU-BRY creates and deactivates a user; RU-VLA has its own entry."""
    boss = make_user("regional_admin", "RU-BRY", email="boss@bry.example.ru")
    make_user("regional_admin", "RU-VLA", email="boss@vla.example.ru")
    login(boss)
    office = _office(app, "BRY-01")
    client.post("/r/RU-BRY/admin/users", data={
        "email": "clerk@example.ru", "role": "operator", "region": "RU-BRY",
        "office": str(office), "password": PASSWORD, "full_name": "Иванова Анна"})
    client.post(f"/r/RU-BRY/admin/users/{_user_id(app, 'clerk@example.ru')}/active",
                data={"active": "0"})
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-VLA")):
        db.add(AuditEntry(actor="boss@vla.example.ru", action="user.create",
                          object_type="User", object_id="999999",
                          after={"email": "secret-vla@example.ru"},
                          region_id=region_id(app, "RU-VLA")))
        db.commit()
    return boss


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_entries_read_as_words_with_names_links_and_changes(app, client, history):
    html = client.get("/r/RU-BRY/admin/audit").get_data(as_text=True)
    page = _text(html)
    assert "Пользователь создан" in page and "Пользователь отключён" in page
    assert "clerk@example.ru" in page
    assert "Роль: Оператор контакт-центра" in page  # a coded value in words
    assert "Офис: ЦЗН" in page  # an office's id shown as the office
    assert "Активен: да → нет" in page  # an update shows what changed, before → after
    assert "ФИО: Иванова Анна" in page
    # no keys, no JSON, no escapes
    for raw in ("user.create", "user.deactivate", '"email"', "\\u04", "office_id", "User #"):
        assert raw not in page, raw  # (an action's key may be a filter option's value)
    # the other region's entry is not there
    assert "secret-vla" not in html


def test_filters_by_person_action_and_period(app, client, history):
    only = _text(client.get("/r/RU-BRY/admin/audit?action=user.deactivate").get_data(
        as_text=True))
    assert "Пользователь отключён" in only and "1 запись" in only
    nobody = _text(client.get("/r/RU-BRY/admin/audit?person=nobody").get_data(as_text=True))
    assert "Записей нет." in nobody
    boss = _text(client.get("/r/RU-BRY/admin/audit?person=BOSS@bry").get_data(as_text=True))
    assert "2 записи" in boss
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    later = _text(client.get(f"/r/RU-BRY/admin/audit?from={tomorrow}").get_data(as_text=True))
    assert "Записей нет." in later
    bad = client.get("/r/RU-BRY/admin/audit?from=not-a-date&to=2026-02-30")
    assert bad.status_code == 200  # a wrong date is no filter, not an error


def test_federal_region_filter(app, history, make_user):
    client = app.test_client()  # another person's browser
    assert client.post("/login", data={"email": make_user("admin"), "password": PASSWORD}
                       ).status_code == 302
    everything = _text(client.get("/federal/admin/audit").get_data(as_text=True))
    assert "secret-vla@example.ru" in everything and "clerk@example.ru" in everything
    vla = _text(client.get("/federal/admin/audit?region=RU-VLA").get_data(as_text=True))
    assert "secret-vla@example.ru" in vla and "clerk@example.ru" not in vla


def test_exports_hold_the_same_rows_in_words(app, client, history):
    reply = client.get("/r/RU-BRY/admin/audit.csv?action=user.deactivate")
    assert reply.status_code == 200 and "attachment" in reply.headers["Content-Disposition"]
    body = reply.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel reads the UTF-8
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Когда", "Кто", "Действие", "Объект"]
    assert len(rows) == 2 and rows[1][2] == "Пользователь отключён"
    assert "Активен: да → нет" in rows[1][5]
    assert re.match(r"\d\d\.\d\d\.\d{4} \d\d:\d\d МСК", rows[1][0])

    book = load_workbook(io.BytesIO(client.get("/r/RU-BRY/admin/audit.xlsx").data))
    values = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert values[0][2] == "Действие"
    assert {"Пользователь создан", "Пользователь отключён"} <= {row[2] for row in values[1:]}
    everything = client.get("/r/RU-BRY/admin/audit.csv").get_data(as_text=True)
    assert "secret-vla" not in everything  # a region's export holds its own entries only


def test_checklist_entry_links_to_the_checklist(app, client, campaign, make_user, login):
    from engine_helpers import offices

    login(make_user("regional_admin", "RU-BRY"))
    office = offices(app, "RU-BRY")[0]
    url = f"/r/RU-BRY/checklists/{campaign}/{office}/O-V.2"
    names = set(re.findall(r'name="(value__\w+)"', client.get(url).get_data(as_text=True)))
    assert client.post(url, data=dict.fromkeys(names, "yes")).status_code == 302
    html = client.get("/r/RU-BRY/admin/audit").get_data(as_text=True)
    assert "Чек-лист заполнен" in _text(html)
    assert f'href="{url}"' in html  # the object by name, linked to its page
    assert "O-V.2 · ЦЗН" in _text(html)
    # the parameter by its label in the campaign's methodology version, not its key
    assert "Значения · Остановка общественного транспорта" in _text(html)
    assert "stop_nearby" not in _text(html)


def test_a_metric_reads_as_its_title_and_a_kiosk_as_a_kiosk(app, client, history):
    """A CX metric is shown by its definition's title (not «SL»), a kiosk that acted by
    itself as «киоск №…» (the kiosk plugin's word for its actor «kiosk <id>»)."""
    bry = region_id(app, "RU-BRY")
    with app.app_context(), tenancy.region_scope(bry):
        db.add(AuditEntry(actor="kiosk 7", action="kiosk.pair", region_id=bry,
                          object_type="Kiosk", object_id="7",
                          after={"paired_at": "2026-01-05T09:00:00+00:00"}))
        db.add(AuditEntry(actor="boss@bry.example.ru", action="cx.target", region_id=bry,
                          object_type="CxTarget", object_id="1",
                          before={"metric_code": "RATING"}, after={"metric": "SL"}))
        db.commit()
    page = _text(client.get("/r/RU-BRY/admin/audit").get_data(as_text=True))
    assert "киоск №7" in page and "kiosk 7" not in page
    assert "Метрика: — → Уровень обслуживания 80/20" in page
    assert "Метрика: Оценка в окне специалиста → —" in page
    assert "Метрика: SL" not in page and "RATING" not in page
