"""Import of responses and checklists from CSV and XLSX files as Russian offices make them:
encodings, separators, decimal commas, yes/no words; atomic, idempotent, with row errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from jsonschema import Draft202012Validator
from jsonschema import FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import imports
from cci.collection.campaigns import save_campaign
from cci.collection.imports import job as import_job
from cci.collection.imports import response_rows
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.foundation.models import Checklist
from cci.foundation.models import ImportRecord
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response

HEADER = ("response_id;office_code;respondent_type;submitted_at;prof_competence;usefulness;"
          "management_contact;management_openness;personal_consultant;preferred_channel;"
          "gender;ownership;comment")
ROWS = [
    "1;BRY-01;соискатель;05.05.2025 10:30;10;9,0;Да;8;нет;Офис ЦЗН;Женский;;"
    "\"Спасибо; всё понятно\"",
    "2;BRY-02;Работодатель;2025-05-06;;Затрудняюсь ответить;нет;;+;website;;Частная;",
    "3;bry-01;job_seeker;06.05.2025;7;10;0;;есть;;;;",
]


@pytest.fixture
def campaign(app, tenants):
    with app.app_context(), tenancy.federal_scope("test"):
        created = save_campaign(name="2025-Q2", methodology_key="cci-2023",
                                starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 6, 30),
                                region_codes=["RU-BRY", "RU-KYA"])
        db.commit()
        return created.id


@pytest.fixture
def pilot_campaign(app, tenants):
    with app.app_context(), tenancy.federal_scope("test"):
        created = save_campaign(name="2022 пилот", methodology_key="cci-2022",
                                starts_on=dt.date(2022, 4, 25), ends_on=dt.date(2022, 5, 6),
                                region_codes=["RU-BRY"])
        db.commit()
        return created.id


@pytest.fixture
def admin(client, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    return client


def work(app):
    """Run every queued job in this process with a real RQ worker against the real Redis."""
    from rq import SimpleWorker

    jobs.set_worker_app(app)
    SimpleWorker(list(jobs.QUEUES), connection=app.extensions["cci.redis"]).work(burst=True)


def csv_bytes(lines: list[str], encoding: str = "cp1251", bom: bool = False) -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def upload(client, data: bytes, campaign_id: int, filename: str = "анкеты.csv",
           kind: str = "responses", region: str = "RU-BRY"):
    return client.post(f"/r/{region}/imports/", data={
        "kind": kind, "campaign": str(campaign_id), "file": (io.BytesIO(data), filename),
    }, content_type="multipart/form-data")


def imported(app, client, data: bytes, campaign_id: int, **kw) -> ImportRecord:
    """Upload through the page, run the job, return the import record."""
    response = upload(client, data, campaign_id, **kw)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    import_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    work(app)
    return record(app, import_id)


def record(app, import_id: int) -> ImportRecord:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.get(ImportRecord, import_id)


def stored_answers(app) -> dict[str, dict[str, tuple]]:
    """client key -> {item: (value, choice)} of every stored response."""
    with app.app_context(), tenancy.federal_scope("test"):
        out: dict[str, dict[str, tuple]] = {}
        for response in db.scalars(select(Response)):
            out[response.client_key] = {a.item: (a.value, a.choice) for a in response.answers}
        return out


def count(app, model) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(model))


def error_texts(rec: ImportRecord) -> list[str]:
    return [error["text"] for error in rec.errors]


# --- reading files ------------------------------------------------------------------------


def test_cp1251_semicolon_csv_with_decimal_commas_and_russian_words(app, admin, campaign):
    rec = imported(app, admin, csv_bytes([HEADER, *ROWS]), campaign)
    assert rec.status == "succeeded", error_texts(rec)
    assert (rec.rows_total, rec.created_count, rec.existing_count) == (3, 3, 0)
    answers = stored_answers(app)
    assert set(answers) == {"import:RU-BRY:1", "import:RU-BRY:2", "import:RU-BRY:3"}
    first = answers["import:RU-BRY:1"]
    assert first["prof_competence"] == (10, None)
    assert first["usefulness"] == (9, None)  # «9,0»
    assert first["management_contact"] == (1, None)  # «Да»
    assert first["management_openness"] == (8, None)
    assert first["personal_consultant"] == (0, None)  # «нет»
    assert first["preferred_channel"] == (None, "office")  # by its label «Офис ЦЗН»
    second = answers["import:RU-BRY:2"]
    assert second["prof_competence"] == (None, None)  # empty cell: no answer
    assert second["usefulness"] == (None, None)  # «Затрудняюсь ответить»
    assert second["management_contact"] == (0, None)
    assert "management_openness" not in second  # the follow-up was not asked
    assert second["personal_consultant"] == (1, None)  # «+»
    assert second["preferred_channel"] == (None, "website")
    third = answers["import:RU-BRY:3"]
    assert third["personal_consultant"] == (1, None)  # «есть»
    assert third["preferred_channel"] == (None, None)
    with app.app_context(), tenancy.federal_scope("test"):
        by_key = {r.client_key: r for r in db.scalars(select(Response))}
        one, two = by_key["import:RU-BRY:1"], by_key["import:RU-BRY:2"]
        assert one.channel == "import" and one.respondent_type == "job_seeker"
        assert one.profile == {"gender": "female"}
        assert one.comment == "Спасибо; всё понятно"
        assert one.campaign_id == campaign and one.methodology_key == "cci-2023"
        # local (Moscow) time, stored in UTC; a date alone is taken at noon
        assert one.submitted_at.replace(tzinfo=None) == dt.datetime(2025, 5, 5, 7, 30)
        assert two.submitted_at.replace(tzinfo=None) == dt.datetime(2025, 5, 6, 9, 0)
        assert two.respondent_type == "employer" and two.profile == {"ownership": "private"}
        assert db.get(Office, by_key["import:RU-BRY:3"].office_id).code == "BRY-01"
        assert all(a.counted and a.campaign_id == campaign for a in one.answers)


@pytest.mark.parametrize("separator,encoding,bom", [
    (";", "utf-8", True), (",", "utf-8", True), ("\t", "utf-8", False), (",", "cp1251", False),
])
def test_utf8_with_bom_and_other_separators(app, admin, campaign, separator, encoding, bom):
    rows = [
        ["response_id", "office_code", "respondent_type", "submitted_at", "usefulness",
         "preferred_channel", "comment"],
        ["A-1", "BRY-01", "Соискатель", "2025-05-05T10:00:00+03:00", "10", "Госуслуги",
         "Всё хорошо, спасибо"],
        ["A-2", "BRY-02", "работодатель", "07.05.25 9:05", "8", "", ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator).writerows(rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding)
    rec = imported(app, admin, data, campaign)
    assert rec.status == "succeeded", error_texts(rec)
    answers = stored_answers(app)
    assert answers["import:RU-BRY:A-1"]["usefulness"] == (10, None)
    assert answers["import:RU-BRY:A-1"]["preferred_channel"] == (None, "gosuslugi")
    assert answers["import:RU-BRY:A-2"]["usefulness"] == (8, None)
    with app.app_context(), tenancy.federal_scope("test"):
        first = db.scalar(select(Response).where(Response.client_key == "import:RU-BRY:A-1"))
        assert first.comment == "Всё хорошо, спасибо"
        assert first.submitted_at.replace(tzinfo=None) == dt.datetime(2025, 5, 5, 7, 0)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_numbers_dates_and_booleans(app, admin, campaign):
    data = xlsx_bytes([
        ["response_id", "office_code", "respondent_type", "submitted_at", "prof_competence",
         "usefulness", "management_contact", "management_openness", "personal_consultant"],
        [101, "BRY-01", "соискатель", dt.datetime(2025, 5, 5, 10, 30), 9, 10.0, True, 7, "Нет"],
        [],  # an empty row in the middle is skipped, not an error
        [102.0, "BRY-02", "employer", dt.date(2025, 6, 30), None, "Затрудняюсь ответить",
         False, None, 1],
    ])
    rec = imported(app, admin, data, campaign, filename="анкеты.xlsx")
    assert rec.status == "succeeded", error_texts(rec)
    answers = stored_answers(app)
    assert set(answers) == {"import:RU-BRY:101", "import:RU-BRY:102"}
    assert answers["import:RU-BRY:101"]["prof_competence"] == (9, None)
    assert answers["import:RU-BRY:101"]["usefulness"] == (10, None)
    assert answers["import:RU-BRY:101"]["management_contact"] == (1, None)
    assert answers["import:RU-BRY:101"]["management_openness"] == (7, None)
    assert answers["import:RU-BRY:101"]["personal_consultant"] == (0, None)
    assert answers["import:RU-BRY:102"]["usefulness"] == (None, None)
    assert answers["import:RU-BRY:102"]["personal_consultant"] == (1, None)


# --- errors: atomic --------------------------------------------------------------------------


def test_invalid_rows_are_reported_in_russian_and_nothing_is_stored(app, admin, campaign):
    lines = [
        "response_id;office_code;respondent_type;submitted_at;usefulness;management_contact",
        "1;BRY-01;соискатель;05.05.2025;10;да",        # row 2: valid, but not stored either
        "2;BRY-01;соискатель;05.05.2025;11;да",        # row 3: out of the scale
        "3;XXX-99;соискатель;05.05.2025;10;да",        # row 4: unknown office
        "4;BRY-01;студент;05.05.2025;10;да",           # row 5: unknown respondent type
        "5;BRY-01;соискатель;31.02.2025;10;да",        # row 6: no such date
        "6;BRY-01;соискатель;01.07.2025 10:00;10;да",  # row 7: after the campaign
        "7;BRY-01;соискатель;05.05.2025;9,5;может быть",  # row 8: two errors
        "2;BRY-01;соискатель;05.05.2025;10;да",        # row 9: repeated response id
    ]
    rec = imported(app, admin, csv_bytes(lines), campaign)
    assert rec.status == "failed"
    assert error_texts(rec) == [
        "Строка 3, столбец usefulness: значение 11 вне шкалы 1–10",
        "Строка 4, столбец office_code: офис «XXX-99» не найден в регионе RU-BRY",
        "Строка 5, столбец respondent_type: неизвестный тип респондента «студент» "
        "(ожидается «соискатель» или «работодатель»)",
        "Строка 6, столбец submitted_at: дата «31.02.2025» не распознана "
        "(ожидается ДД.ММ.ГГГГ [ЧЧ:ММ] или ГГГГ-ММ-ДД)",
        "Строка 7, столбец submitted_at: дата 01.07.2025 вне кампании «2025-Q2» "
        "(01.04.2025–30.06.2025)",
        "Строка 8, столбец usefulness: значение 9,5 не целое (ожидается 1–10)",
        "Строка 8, столбец management_contact: ожидается «да» или «нет», а не «может быть»",
        "Строка 9, столбец response_id: номер анкеты «2» уже встречался в строке 3",
    ]
    assert rec.error_count == 8 and rec.created_count == 0
    assert count(app, Response) == 0 and count(app, Answer) == 0
    # the result page lists them, in Russian
    page = admin.get(f"/r/RU-BRY/imports/{rec.id}").get_data(as_text=True)
    assert "значение 11 вне шкалы 1–10" in page
    assert "Ничего не сохранено" in page
    with app.app_context(), tenancy.federal_scope("test"):
        job = db.get(JobRecord, rec.job_id)
        assert job.status == "finished" and job.result["errors"] == 8


@pytest.mark.parametrize("lines,expected", [
    (["response_id;office_code;respondent_type;submitted_at;usefulnes",
      "1;BRY-01;соискатель;05.05.2025;10"],
     ["Строка 1, столбец usefulnes: неизвестный столбец: ожидаются столбцы шаблона методики "
      "cci-2023"]),
    (["response_id;office_code;respondent_type;submitted_at;comment",
      "1;BRY-01;соискатель;05.05.2025;текст"],
     ["Строка 1: нет ни одного столбца с вопросами анкеты методики cci-2023"]),
    (["response_id;office_code;submitted_at;usefulness", "1;BRY-01;05.05.2025;10"],
     ["Строка 1: нет обязательного столбца «Тип респондента» (respondent_type)"]),
    (["response_id;office_code;respondent_type;submitted_at;usefulness;ownership",
      "1;BRY-01;соискатель;05.05.2025;10;Частная"],
     ["Строка 2, столбец ownership: этот вопрос не задаётся соискателям"]),
    (["response_id;office_code;respondent_type;submitted_at;usefulness;management_openness",
      "1;BRY-01;соискатель;05.05.2025;10;9"],
     ["Строка 2, столбец management_openness: ответ возможен, только если в столбце "
      "«Приходилось ли Вам обращаться к руководству ЦЗН?» ответ «да»"]),
    (["response_id;office_code;respondent_type;submitted_at;usefulness;preferred_channel",
      "1;BRY-01;соискатель;05.05.2025;;голубиная почта"],
     ["Строка 2, столбец preferred_channel: вариант «голубиная почта» не предусмотрен "
      "(допустимо: office, contact_center, social, website, trudvsem, gosuslugi, messengers, "
      "email)"]),
    (["response_id;office_code;respondent_type;submitted_at;usefulness;management_contact",
      "1;BRY-01;соискатель;05.05.2025;;Затрудняюсь ответить"],
     ["Строка 2, столбец management_contact: у этого вопроса нет варианта «Затрудняюсь "
      "ответить»"]),
    (["response_id;office_code;respondent_type;submitted_at;usefulness",
      "1;BRY-01;соискатель;05.05.2025;"],
     ["Строка 2: нет ни одного ответа на вопросы анкеты"]),
])
def test_file_and_row_errors(app, admin, campaign, lines, expected):
    rec = imported(app, admin, csv_bytes(lines), campaign)
    assert rec.status == "failed"
    assert error_texts(rec) == expected
    assert count(app, Response) == 0


def test_a_file_that_is_not_what_it_says(app, admin, campaign):
    rec = imported(app, admin, b"PK\x03\x04 not really a zip", campaign, filename="x.xlsx")
    assert rec.status == "failed"
    assert error_texts(rec) == ["Файл: файл не читается как XLSX (книга Excel)"]
    response = upload(admin, b"%PDF-1.4", campaign, filename="отчёт.pdf")
    assert response.status_code == 422
    assert "Импортировать можно только файлы .csv и .xlsx" in response.get_data(as_text=True)
    assert count(app, ImportRecord) == 1


def test_upload_size_is_limited(app, admin, campaign):
    app.config["MAX_CONTENT_LENGTH"], limit = 1024, app.config["MAX_CONTENT_LENGTH"]
    try:
        response = upload(admin, csv_bytes([HEADER] + ROWS * 20), campaign)
        assert response.status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert count(app, ImportRecord) == 0


# --- idempotency ----------------------------------------------------------------------------


def test_reimport_adds_nothing_and_says_how_many_were_there(app, admin, campaign):
    data = csv_bytes([HEADER, *ROWS])
    first = imported(app, admin, data, campaign)
    assert (first.created_count, first.existing_count) == (3, 0)
    again = imported(app, admin, data, campaign)
    assert again.status == "succeeded"
    assert (again.created_count, again.existing_count) == (0, 3)
    assert count(app, Response) == 3
    page = admin.get(f"/r/RU-BRY/imports/{again.id}").get_data(as_text=True)
    assert "Уже были загружены" in page
    with app.app_context(), tenancy.federal_scope("test"):
        job = db.get(JobRecord, again.job_id)
        assert "Новых строк: 0" in job.result["lines"] and job.progress == 1.0
    # one more row: only it is added
    extra = "4;BRY-02;соискатель;07.05.2025;9;10;нет;;да;;;;"
    third = imported(app, admin, csv_bytes([HEADER, *ROWS, extra]), campaign)
    assert (third.created_count, third.existing_count) == (1, 3)
    assert count(app, Response) == 4


def test_a_response_id_is_per_region(app, client, make_user, login, campaign):
    login(make_user("admin"))
    bry = imported(app, client, csv_bytes([HEADER, ROWS[0]]), campaign)
    kya_row = ROWS[0].replace("BRY-01", "KYA-01")
    kya = imported(app, client, csv_bytes([HEADER, kya_row]), campaign, region="RU-KYA")
    assert (bry.created_count, kya.created_count) == (1, 1)
    assert set(stored_answers(app)) == {"import:RU-BRY:1", "import:RU-KYA:1"}


# --- checklists -----------------------------------------------------------------------------


CHECKLIST_LINES = [
    "office_code;indicator;stop_500m;parking;disabled_parking;ramp;call_button;tactile_marks;"
    "city_signs;directions_online;vacancies_current;vacancies_last_year;all_addresses;"
    "working_hours;services_described;accessible_version;feedback_form;not_merged;current;"
    "mobile_friendly;evidence",
    "BRY-01;O-V.2;да;нет;+;-;есть;нет;1;0;;;;;;;;;;;фото 12",
    "BRY-01;О-II.1;;;;;;;;;1 234;1 000,5;;;;;;;;;",  # Cyrillic «О» in the code
    ";O-III.2;;;;;;;;;;;да;да;нет;да;да;да;нет;да;https://czn.example/site",
]


def checklists(app) -> dict[tuple, Checklist]:
    with app.app_context(), tenancy.federal_scope("test"):
        out = {}
        for row in db.scalars(select(Checklist)):
            code = db.get(Office, row.office_id).code if row.office_id else None
            out[(code, row.indicator)] = row
        return out


def test_checklists_import_with_a_region_level_row(app, admin, campaign):
    rec = imported(app, admin, csv_bytes(CHECKLIST_LINES), campaign, kind="checklists",
                   filename="чек-листы.csv")
    assert rec.status == "succeeded", error_texts(rec)
    assert (rec.created_count, rec.updated_count, rec.existing_count) == (3, 0, 0)
    rows = checklists(app)
    assert set(rows) == {("BRY-01", "O-V.2"), ("BRY-01", "O-II.1"), (None, "O-III.2")}
    assert rows[("BRY-01", "O-V.2")].values == {
        "stop_500m": True, "parking": False, "disabled_parking": True, "ramp": False,
        "call_button": True, "tactile_marks": False, "city_signs": True,
        "directions_online": False,
    }
    assert rows[("BRY-01", "O-V.2")].evidence == {"note": "фото 12"}
    assert rows[("BRY-01", "O-II.1")].values == {"vacancies_current": 1234,
                                                 "vacancies_last_year": 1000.5}
    region_row = rows[(None, "O-III.2")]
    assert region_row.office_id is None and region_row.campaign_id == campaign
    assert region_row.values["services_described"] is False
    # the same file again: nothing changes; a changed value updates that checklist only
    again = imported(app, admin, csv_bytes(CHECKLIST_LINES), campaign, kind="checklists")
    assert (again.created_count, again.updated_count, again.existing_count) == (0, 0, 3)
    changed = [*CHECKLIST_LINES[:3], CHECKLIST_LINES[3].replace("да;да;нет", "да;да;да")]
    third = imported(app, admin, csv_bytes(changed), campaign, kind="checklists")
    assert (third.created_count, third.updated_count, third.existing_count) == (0, 1, 2)
    assert checklists(app)[(None, "O-III.2")].values["services_described"] is True
    assert count(app, Checklist) == 3


def test_checklist_errors(app, admin, campaign):
    def line(office, code, transport=("",) * 8, website=("",) * 8, reception=""):
        return ";".join([office, code, *transport, *website, reception])

    yes8 = ("да",) * 8
    lines = [
        "office_code;indicator;stop_500m;parking;disabled_parking;ramp;call_button;"
        "tactile_marks;city_signs;directions_online;all_addresses;working_hours;"
        "services_described;accessible_version;feedback_form;not_merged;current;"
        "mobile_friendly;reception_days",
        line("BRY-01", "O-III.2", website=yes8),  # network level, centralized: no office
        line("", "O-V.2", yes8),                  # office level: an office is needed
        line("BRY-01", "O-V.2", yes8, ("да",) + ("",) * 7),  # another indicator's
        line("BRY-01", "O-IX.9", yes8),           # no such indicator
        line("BRY-01", "S-I.1", reception="да"),  # a subjective one has no checklist
        line("BRY-01", "O-I.1"),                  # nothing filled
        line("BRY-01", "O-V.2", ("возможно", *yes8[1:])),
        line("BRY-02", "O-V.2", (*yes8[:6], "", "")),  # incomplete
    ]
    rec = imported(app, admin, csv_bytes(lines), campaign, kind="checklists")
    assert rec.status == "failed"
    assert error_texts(rec) == [
        "Строка 2, столбец office_code: показатель O-III.2 заполняется один раз для региона "
        "(централизованная сеть): оставьте код офиса пустым",
        "Строка 3, столбец office_code: показатель O-V.2 заполняется по офисам: укажите код офиса",
        "Строка 4, столбец all_addresses: параметр не относится к показателю O-V.2",
        "Строка 5, столбец indicator: показатель «O-IX.9» не найден в методике cci-2023",
        "Строка 6, столбец indicator: у показателя S-I.1 нет чек-листа",
        "Строка 7: не заполнен ни один параметр показателя O-I.1",
        "Строка 8, столбец stop_500m: ожидается «да» или «нет», а не «возможно»",
        "Строка 9: не заполнены параметры показателя O-V.2: city_signs, directions_online",
    ]
    assert count(app, Checklist) == 0


def test_pilot_checklists_are_per_office_with_its_own_parameters(app, admin, pilot_campaign):
    data = xlsx_bytes([
        ["office_code", "indicator", "transport_routes", "stop_nearby", "parking",
         "barrier_free", "city_signs", "level", "vacancies_current", "vacancies_previous"],
        ["BRY-02", "O-V.2", True, False, "да", "нет", "+", None, None, None],
        ["BRY-02", "O-V.1", None, None, None, None, None, 2, None, None],
        ["BRY-02", "O-II.1", None, None, None, None, None, None, 812, "640,5"],
    ])
    rec = imported(app, admin, data, pilot_campaign, kind="checklists", filename="cl.xlsx")
    assert rec.status == "succeeded", error_texts(rec)
    rows = checklists(app)
    assert rows[("BRY-02", "O-V.1")].values == {"level": "2"}
    assert rows[("BRY-02", "O-V.2")].values["city_signs"] is True
    assert rows[("BRY-02", "O-II.1")].values == {"vacancies_current": 812,
                                                 "vacancies_previous": 640.5}


# --- templates ------------------------------------------------------------------------------


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def template(client, key: str, kind: str, fmt: str) -> bytes:
    response = client.get(f"/r/RU-BRY/imports/template/{key}.{fmt}?kind={kind}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_response_templates_are_headed_in_russian_from_the_methodology(app, admin, tenants):
    registry = app.extensions["cci.registry"]
    for key in ("cci-2022", "cci-2023"):
        indicator_set = registry.indicator_set(key)
        rows = _csv_rows(template(admin, key, "responses", "csv"))
        assert len(rows) == 1, "the CSV template has no example row"
        header = rows[0]
        assert header[:4] == ["Номер анкеты", "Код офиса", "Тип респондента",
                              "Дата заполнения"]
        assert len(header) == 4 + len(indicator_set.items)
        assert not {item.key for item in indicator_set.items} & set(header), \
            "no English key heads a column"
        # a question is headed by the title of the indicator it measures (the wordings of
        # the two respondent types differ; the title does not), from the methodology set
        usefulness = indicator_set.item("usefulness")
        assert usefulness.text["job_seeker"] != usefulness.text["employer"]
        assert indicator_set.indicator("S-II.1").title in header
        # an item without an indicator by its wording; one asked of one type says so
        assert indicator_set.item("management_contact").text["job_seeker"] in header
        assert "Пол (соискатели)" in header and "Форма собственности (работодатели)" in header
        workbook = openpyxl.load_workbook(io.BytesIO(template(admin, key, "responses", "xlsx")))
        assert workbook.sheetnames[:3] == ["Анкеты", "Пример", "Инструкция"]
        data = workbook["Анкеты"]
        assert workbook.active.title == "Анкеты"
        assert [c.value for c in data[1]] == header
        assert data.max_row == 1, "nothing but the header on the data sheet"
        assert data.freeze_panes == "E2" and data["A1"].font.bold
        assert data.column_dimensions["E"].width >= 20
        assert "Код столбца: prof_competence" in data["E1"].comment.text
        lists = {str(v.sqref).split(":")[0]: _offered(workbook, v)
                 for v in data.data_validations.dataValidation if v.type == "list"}
        column = header.index(indicator_set.indicator("S-I.1").title)
        letter = openpyxl.utils.get_column_letter(column + 1)
        assert lists[f"{letter}2"] == [*range(1, 11), "Затрудняюсь ответить"]
        assert lists["C2"] == ["соискатель", "работодатель"]
        assert lists["B2"] == ["BRY-01", "BRY-02"]
        assert workbook["Списки"].sheet_state == "hidden"
        instructions = [c.value for row in workbook["Инструкция"].iter_rows() for c in row]
        assert any("не загружаются" in str(text) for text in instructions)
        assert usefulness.text["employer"] in "\n".join(str(t) for t in instructions)
        example = workbook["Пример"]
        assert [c.value for c in example[2]] == header and example.max_row == 4


def _offered(workbook, validation) -> list:
    """The values a list validation offers (from the hidden lists sheet)."""
    sheet, cells = validation.formula1.split("!")
    return [row[0].value for row in workbook[sheet.strip("'")][cells.replace("$", "")]]


def test_checklist_templates_list_each_office_parameter_to_fill(app, admin, tenants):
    registry = app.extensions["cci.registry"]
    transport = {}
    for key in ("cci-2022", "cci-2023"):
        indicator_set = registry.indicator_set(key)
        header, *rows = _csv_rows(template(admin, key, "checklists", "csv"))
        assert header == ["Код офиса", "Офис", "Код показателя", "Показатель", "Параметр",
                          "Значение", "Подтверждение", "Код параметра"]
        assert all(row[5] == "" and row[6] == "" for row in rows), "nothing filled in"
        transport[key] = [row[7] for row in rows if row[0] == "BRY-01" and row[2] == "O-V.2"]
        assert [row[4] for row in rows if row[0] == "BRY-01" and row[2] == "O-V.2"] == [
            p.label for p in indicator_set.indicator("O-V.2").checklist]
        workbook = openpyxl.load_workbook(io.BytesIO(template(admin, key, "checklists",
                                                              "xlsx")))
        data = workbook["Чек-лист"]
        assert workbook.sheetnames[:3] == ["Чек-лист", "Пример", "Инструкция"]
        assert [[c.value if c.value is not None else "" for c in row]
                for row in data.iter_rows()] == [header, *rows]
        assert data.freeze_panes == "A2" and data.auto_filter.ref.startswith("A1:H")
        offered = {}
        for validation in data.data_validations.dataValidation:
            for cells in str(validation.sqref).split():
                numbers = [int(n) for n in re.findall(r"\d+", cells)]
                for number in range(numbers[0], numbers[-1] + 1):
                    offered[number] = (_offered(workbook, validation)
                                       if validation.type == "list" else validation.type)
        for number, row in enumerate(rows, start=2):
            param = next(p for p in indicator_set.indicator(row[2]).checklist
                         if p.key == row[7])
            expected = {"bool": ["да", "нет"], "number": "decimal",
                        "choice": [o.label for o in param.options]}[param.kind]
            assert offered[number] == expected, row
        assert [c.value for c in workbook["Пример"][3]][5] in ("да", "нет", 120)
    # 70 columns before; now a column per thing to read, a row per parameter
    assert (len(transport["cci-2022"]), len(transport["cci-2023"])) == (5, 8)
    assert "stop_nearby" in transport["cci-2022"] and "stop_nearby" not in transport["cci-2023"]
    assert admin.get("/r/RU-BRY/imports/template/cci-1999.csv").status_code == 404
    assert admin.get("/r/RU-BRY/imports/template/cci-2023.csv?kind=x").status_code == 404


def test_a_checklist_template_follows_the_network_type(app, tenants):
    from cci.collection.imports.templates import template_table

    indicator_set = app.extensions["cci.registry"].indicator_set("cci-2023")
    network = [i.code for i in indicator_set.indicators if i.level == "network"]
    with app.app_context(), tenancy.federal_scope("test"):
        offices = db.scalars(select(Office).join(Region).where(Region.code == "RU-KYA")
                             .order_by(Office.code)).all()
        _, decentralized = template_table(indicator_set, "checklists", offices, False)
        _, centralized = template_table(indicator_set, "checklists", offices, True)
    assert network and offices
    # decentralized: every office fills every indicator; centralized: the network-level
    # ones once, for the region, first, with no office code
    assert {row[2] for row in decentralized if row[0] == offices[0].code} >= set(network)
    assert not {row[2] for row in centralized if row[0]} & set(network)
    region_rows = [row for row in centralized if not row[0]]
    assert {row[2] for row in region_rows} == set(network)
    assert centralized[:len(region_rows)] == region_rows


@pytest.mark.parametrize("kind", ["responses", "checklists"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_untouched_template_stores_nothing(app, admin, campaign, kind, fmt):
    rec = imported(app, admin, template(admin, "cci-2023", kind, fmt), campaign, kind=kind,
                   filename=f"шаблон.{fmt}")
    assert rec.status == "failed"
    assert len(rec.errors) == 1
    assert rec.errors[0]["text"].startswith("Файл: в файле нет строк с данными")
    assert (rec.created_count, rec.updated_count) == (0, 0)
    assert count(app, Response) == 0 and count(app, Checklist) == 0
    page = admin.get(f"/r/RU-BRY/imports/{rec.id}").get_data(as_text=True)
    assert "в файле нет строк с данными" in page and "Ничего не сохранено" in page


def _fill(sheet, rows: list[dict]) -> None:
    """Type rows under a sheet's headings, as a person does (by heading, not position)."""
    columns = {cell.value: cell.column for cell in sheet[1]}
    for offset, values in enumerate(rows, start=2):
        for heading, value in values.items():
            sheet.cell(row=offset, column=columns[heading], value=value)


def _saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_filled_in_response_template_imports(app, admin, campaign):
    indicator_set = app.extensions["cci.registry"].indicator_set("cci-2023")
    title = {code: indicator_set.indicator(code).title for code in ("S-I.1", "S-II.1",
                                                                    "S-I.3", "S-III.7")}
    contact = indicator_set.item("management_contact").text["job_seeker"]
    workbook = openpyxl.load_workbook(io.BytesIO(template(admin, "cci-2023", "responses",
                                                          "xlsx")))
    _fill(workbook["Анкеты"], [
        {"Номер анкеты": 501, "Код офиса": "BRY-01", "Тип респондента": "соискатель",
         "Дата заполнения": dt.datetime(2025, 5, 14, 11, 0), title["S-I.1"]: 9,
         title["S-II.1"]: "Затрудняюсь ответить", contact: "да", title["S-I.3"]: 10,
         title["S-III.7"]: "Госуслуги", "Пол (соискатели)": "Женский"},
        {"Номер анкеты": 502, "Код офиса": "BRY-02", "Тип респондента": "работодатель",
         "Дата заполнения": dt.datetime(2025, 5, 15), title["S-I.1"]: 7, contact: "нет",
         "Форма собственности (работодатели)": "Частная"},
    ])
    rec = imported(app, admin, _saved(workbook), campaign, filename="анкеты.xlsx")
    assert rec.status == "succeeded", error_texts(rec)
    assert rec.created_count == 2, "the example sheet's rows are not imported"
    answers = stored_answers(app)
    assert set(answers) == {"import:RU-BRY:501", "import:RU-BRY:502"}
    assert answers["import:RU-BRY:501"]["prof_competence"] == (9, None)
    assert answers["import:RU-BRY:501"]["usefulness"] == (None, None)
    assert answers["import:RU-BRY:501"]["management_openness"] == (10, None)
    assert answers["import:RU-BRY:501"]["preferred_channel"] == (None, "gosuslugi")
    assert answers["import:RU-BRY:502"]["management_contact"] == (0, None)
    with app.app_context(), tenancy.federal_scope("test"):
        profiles = {r.client_key: r.profile for r in db.scalars(select(Response))}
    assert profiles["import:RU-BRY:501"]["gender"] == "female"
    assert profiles["import:RU-BRY:502"]["ownership"] == "private"


def test_headings_and_codes_are_read_alike(app, admin, campaign):
    indicator_set = app.extensions["cci.registry"].indicator_set("cci-2023")
    simplicity = indicator_set.item("simplicity")
    lines = [
        # Russian headings retyped in another case, codes, an indicator code, a wording
        ";".join(["номер анкеты", "office_code", "ТИП РЕСПОНДЕНТА", "Дата заполнения:",
                  "S-I.1", "Полезность  обращения в ЦЗН", simplicity.text["employer"],
                  "пол", "comment"]),
        "1;BRY-01;соискатель;05.05.2025;10;9;8;женский;",
        "2;BRY-02;работодатель;06.05.2025;7;;6;;Спасибо",
    ]
    rec = imported(app, admin, csv_bytes(lines), campaign)
    assert rec.status == "succeeded", error_texts(rec)
    answers = stored_answers(app)
    assert answers["import:RU-BRY:1"]["simplicity"] == (8, None)
    assert answers["import:RU-BRY:2"]["prof_competence"] == (7, None)
    # an error names the column as the file heads it
    bad = imported(app, admin, csv_bytes([
        "Номер анкеты;Код офиса;Тип респондента;Дата заполнения;Полезность обращения в ЦЗН",
        "3;BRY-01;соискатель;05.05.2025;11"]), campaign)
    assert error_texts(bad) == ["Строка 2, столбец Полезность обращения в ЦЗН: значение 11 "
                                "вне шкалы 1–10"]


def test_a_filled_in_checklist_template_imports(app, admin, campaign):
    indicator_set = app.extensions["cci.registry"].indicator_set("cci-2023")
    workbook = openpyxl.load_workbook(io.BytesIO(template(admin, "cci-2023", "checklists",
                                                          "xlsx")))
    sheet = workbook["Чек-лист"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    filled = 0
    for row in sheet.iter_rows(min_row=2):
        office = row[columns["Код офиса"] - 1].value
        code = row[columns["Код показателя"] - 1].value
        value = row[columns["Значение"] - 1]
        if (office, code) == ("BRY-01", "O-V.2"):
            value.value = "нет" if row[columns["Код параметра"] - 1].value == "ramp" else "да"
            filled += 1
        elif (office, code) == (None, "O-III.2"):
            value.value = "да"
            row[columns["Подтверждение"] - 1].value = "https://czn.example/"
            filled += 1
        elif (office, code) == ("BRY-02", "O-II.1"):
            value.value = 1500
            filled += 1
    rec = imported(app, admin, _saved(workbook), campaign, kind="checklists",
                   filename="чек-лист.xlsx")
    assert rec.status == "succeeded", error_texts(rec)
    assert (rec.rows_total, rec.created_count) == (filled, 3)
    rows = checklists(app)
    assert set(rows) == {("BRY-01", "O-V.2"), (None, "O-III.2"), ("BRY-02", "O-II.1")}
    transport = rows[("BRY-01", "O-V.2")].values
    assert set(transport) == {p.key for p in indicator_set.indicator("O-V.2").checklist}
    assert transport["ramp"] is False and transport["parking"] is True
    assert rows[(None, "O-III.2")].evidence == {"note": "https://czn.example/"}
    assert set(rows[("BRY-02", "O-II.1")].values.values()) == {1500}
    # the same rows as CSV, identified by their labels alone: recognised, nothing new
    header, *lines = _csv_rows(template(admin, "cci-2023", "checklists", "csv"))
    for line in lines:
        if (line[0], line[2]) == ("BRY-01", "O-V.2"):
            line[5] = "нет" if line[7] == "ramp" else "да"
    text = [";".join(header[:-1])] + [";".join(line[:-1]) for line in lines]
    again = imported(app, admin, csv_bytes(text), campaign, kind="checklists")
    assert again.status == "succeeded", error_texts(again)
    assert (again.created_count, again.updated_count, again.existing_count) == (0, 0, 1)


def test_a_choice_is_filled_by_the_label_its_drop_down_offers(app, admin, pilot_campaign):
    comfort = app.extensions["cci.registry"].indicator_set("cci-2022").indicator("O-V.1")
    (level,) = comfort.checklist
    header, *lines = _csv_rows(template(admin, "cci-2022", "checklists", "csv"))
    for line in lines:
        if (line[0], line[2]) == ("BRY-02", "O-V.1"):
            line[5] = level.options[1].label  # a long label, as the list offers it
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([header, *lines])
    rec = imported(app, admin, buffer.getvalue().encode("cp1251"), pilot_campaign,
                   kind="checklists")
    assert rec.status == "succeeded", error_texts(rec)
    assert checklists(app)[("BRY-02", "O-V.1")].values == {"level": level.options[1].key}


def test_checklist_rows_errors(app, admin, campaign):
    header = "Код офиса;Офис;Код показателя;Параметр;Значение;Подтверждение;Код параметра"
    lines = [
        header,
        "BRY-01;;O-V.2;;да;;stop_500m",
        "BRY-01;;O-V.2;;да;;stop_500m",                  # the same parameter again
        "BRY-01;;O-V.2;;может быть;;parking",            # not yes or no
        "BRY-01;;O-V.2;Парковка;да;;all_addresses",     # another indicator's parameter
        "BRY-01;;O-V.2;Вертолётная площадка;да;;",       # no such label
        "BRY-02;;O-II.1;;;фото 3;vacancies_current",     # evidence without a value
        "BRY-02;;O-II.1;;-5;;vacancies_last_year",       # a negative figure
        "BRY-01;;O-III.2;;да;;all_addresses",            # the region's, not an office's
        "XXX-01;;O-V.2;;да;;parking",                    # no such office
    ]
    rec = imported(app, admin, csv_bytes(lines), campaign, kind="checklists")
    assert rec.status == "failed"
    missing = [p.label for p in app.extensions["cci.registry"].indicator_set("cci-2023")
               .indicator("O-V.2").checklist if p.key != "stop_500m"]
    assert error_texts(rec) == [
        "Строка 3: параметр «" + _label(app, "O-V.2", "stop_500m") + "» показателя O-V.2 для "
        "офиса BRY-01 уже указан в строке 2",
        "Строка 4, столбец Значение: ожидается «да» или «нет», а не «может быть»",
        "Строка 5, столбец Код параметра: параметр «all_addresses» не относится к показателю "
        "O-V.2",
        "Строка 6, столбец Параметр: параметр «Вертолётная площадка» не относится к "
        "показателю O-V.2",
        "Строка 7, столбец Значение: не указано значение параметра «"
        + _label(app, "O-II.1", "vacancies_current") + "» (указано только подтверждение)",
        "Строка 8, столбец Значение: отрицательное значение -5",
        "Строка 9, столбец Код офиса: показатель O-III.2 заполняется один раз для региона "
        "(централизованная сеть): оставьте код офиса пустым",
        "Строка 10, столбец Код офиса: офис «XXX-01» не найден в регионе RU-BRY",
        "Строка 2: не заполнены параметры показателя O-V.2 для офиса BRY-01: "
        + "; ".join(missing),
    ]
    assert count(app, Checklist) == 0
    # a value column without a parameter column
    rec = imported(app, admin, csv_bytes(["Код офиса;Код показателя;Значение",
                                          "BRY-01;O-V.2;да"]), campaign, kind="checklists")
    assert error_texts(rec) == ["Строка 1: нет столбца «Параметр» или «Код параметра»"]


def _label(app, code: str, key: str) -> str:
    indicator = app.extensions["cci.registry"].indicator_set("cci-2023").indicator(code)
    return next(p.label for p in indicator.checklist if p.key == key)


def test_only_the_data_sheet_of_a_workbook_is_read(app, admin, campaign):
    workbook = openpyxl.Workbook()
    workbook.worksheets[0].title = "Инструкция"
    workbook["Инструкция"].append(["Заполните лист «Анкеты»"])
    example = workbook.create_sheet("Пример")
    example.append(HEADER.split(";"))
    example.append(ROWS[0].split(";"))
    hidden = workbook.create_sheet("Мои заметки")
    hidden.sheet_state = "hidden"
    hidden.append(["что-то ещё"])
    data = workbook.create_sheet("Анкеты")
    data.append(HEADER.split(";"))
    data.append(ROWS[2].split(";"))
    rec = imported(app, admin, _saved(workbook), campaign, filename="книга.xlsx")
    assert rec.status == "succeeded", error_texts(rec)
    assert set(stored_answers(app)) == {"import:RU-BRY:3"}
    del workbook["Анкеты"]
    rec = imported(app, admin, _saved(workbook), campaign, filename="книга.xlsx")
    assert error_texts(rec) == ["Файл: в книге нет листа с данными (листы «Пример» и "
                                "«Инструкция» не загружаются)"]


# --- access ---------------------------------------------------------------------------------


def test_a_regional_user_cannot_import_into_another_region(app, admin, campaign):
    response = upload(admin, csv_bytes([HEADER, ROWS[0].replace("BRY-01", "KYA-01")]),
                      campaign, region="RU-KYA")
    assert response.status_code == 404
    assert admin.get("/r/RU-KYA/imports/").status_code == 404
    assert admin.get("/r/RU-KYA/imports/template/cci-2023.csv").status_code == 404
    assert count(app, ImportRecord) == 0
    # nor see another region's import
    with app.app_context(), tenancy.federal_scope("test"):
        kya = db.scalar(select(Region).where(Region.code == "RU-KYA"))
        with tenancy.region_scope(kya.id):
            other = ImportRecord(region_id=kya.id, campaign_id=campaign, kind="responses",
                                 filename="x.csv", content=b"x", size=1)
            db.add(other)
            db.commit()
            other_id = other.id
    assert admin.get(f"/r/RU-BRY/imports/{other_id}").status_code == 404
    assert admin.get(f"/r/RU-KYA/imports/{other_id}").status_code == 404


def test_roles(app, client, make_user, login, campaign):
    login(make_user("auditor", "RU-BRY"))
    page = client.get("/r/RU-BRY/imports/").get_data(as_text=True)
    assert 'value="checklists"' in page and 'value="responses"' not in page
    assert upload(client, csv_bytes([HEADER, *ROWS]), campaign).status_code == 422
    assert count(app, ImportRecord) == 0
    rec = imported(app, client, csv_bytes(CHECKLIST_LINES), campaign, kind="checklists")
    assert rec.status == "succeeded"
    client.post("/logout")
    login(make_user("operator", "RU-BRY"))
    assert upload(client, csv_bytes(CHECKLIST_LINES), campaign, kind="checklists"
                  ).status_code == 403


def test_upload_page_is_russian(app, admin, campaign):
    page = admin.get("/r/RU-BRY/imports/").get_data(as_text=True)
    assert "Импорт" in page and "Шаблоны" in page
    assert "/r/RU-BRY/imports/template/cci-2023.xlsx?kind=checklists" in page


# --- the job --------------------------------------------------------------------------------


def test_the_job_reports_progress(app, admin, campaign):
    rows = [HEADER] + [f"{n};BRY-0{n % 2 + 1};соискатель;05.05.2025;{n % 10 + 1};10;нет;;да;;;;"
                       for n in range(1, 451)]
    response = upload(admin, csv_bytes(rows), campaign)
    import_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    # the page polls while the import waits for its job
    page = admin.get(f"/r/RU-BRY/imports/{import_id}").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page
    reports: list[tuple[float, str]] = []
    with app.test_request_context(), tenancy.federal_scope("test"):
        rec = db.get(ImportRecord, import_id)
        with tenancy.region_scope(rec.region_id):
            result = imports.run_import(import_id, lambda f, m="": reports.append((f, m)))
    assert result["created"] == 450
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert ("Проверено строк: 200 из 450" in [m for _, m in reports]
            and "Проверено строк: 400 из 450" in [m for _, m in reports])
    assert count(app, Answer) == 450 * 5
    # through the queue: the job record ends at 100 % with the summary as its message
    work(app)  # the queued job finds the import done and changes nothing
    with app.app_context(), tenancy.federal_scope("test"):
        rec = db.get(ImportRecord, import_id)
        job = db.get(JobRecord, rec.job_id)
        assert (job.name, job.status, job.progress) == ("imports.run", "finished", 1.0)
        assert job.result["created"] == 450 and job.region_id == rec.region_id
    assert count(app, Response) == 450
    fragment = admin.get(f"/r/RU-BRY/imports/{import_id}", headers={"HX-Request": "true"})
    assert 'id="import-status"' in fragment.get_data(as_text=True)
    assert "hx-trigger" not in fragment.get_data(as_text=True)


def test_a_successful_import_schedules_a_recompute(app, admin, campaign):
    imported(app, admin, csv_bytes([HEADER, *ROWS]), campaign)
    with app.app_context(), tenancy.federal_scope("test"):
        names = list(db.scalars(select(JobRecord.name)))
        assert "runs.recompute" in names


def test_the_import_succeeds_when_redis_is_down_for_the_recompute(app, admin, campaign,
                                                                  monkeypatch):
    from cci.collection import recompute

    def broken(campaign_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(recompute, "request", broken)
    rec = imported(app, admin, csv_bytes([HEADER, *ROWS]), campaign)
    assert rec.status == "succeeded" and count(app, Response) == 3


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def token_for(runner, make_user):
    def issue(role: str, region: str | None = None) -> str:
        email = make_user(role, region)
        result = runner.invoke(args=["tokens", "create", "--email", email])
        assert result.exit_code == 0, result.output
        return result.output.splitlines()[-1]

    return issue


def _validator(spec: dict, name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:spec", DRAFT202012.create_resource(spec))
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{name}"},
                                registry=registry, format_checker=FormatChecker())


def test_api_upload_then_status_with_errors(app, client, campaign, token_for):
    token = token_for("regional_admin", "RU-BRY")
    auth = {"Authorization": f"Bearer {token}"}
    bad = ROWS[0].replace(";10;9,0;", ";10;11;")
    response = client.post("/api/v1/regions/RU-BRY/imports", headers=auth, data={
        "kind": "responses", "campaign": str(campaign),
        "file": (io.BytesIO(csv_bytes([HEADER, bad, ROWS[1]])), "анкеты.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    spec = client.get("/api/v1/openapi.json").get_json()
    validator = _validator(spec, "Import")
    assert not [e.message for e in validator.iter_errors(body)]
    assert body["status"] == "queued" and body["job"]["name"] == "imports.run"
    assert body["region"] == "RU-BRY" and body["campaign_id"] == campaign
    work(app)
    status = client.get(f"/api/v1/imports/{body['id']}", headers=auth)
    assert status.status_code == 200
    data = status.get_json()
    assert not [e.message for e in validator.iter_errors(data)]
    assert data["status"] == "failed" and data["progress"] == 1.0
    assert data["job"]["status"] == "finished"
    assert data["errors"] == [{
        "row": 2, "column": "usefulness", "message": "значение 11 вне шкалы 1–10",
        "text": "Строка 2, столбец usefulness: значение 11 вне шкалы 1–10",
    }]
    assert count(app, Response) == 0
    # the documented operation is multipart
    upload_op = spec["paths"]["/api/v1/regions/{code}/imports"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert "202" in upload_op["responses"]


def test_api_upload_success_and_validation(app, client, campaign, token_for):
    auth = {"Authorization": f"Bearer {token_for('admin')}"}  # federal: any region
    response = client.post("/api/v1/regions/RU-BRY/imports", headers=auth, data={
        "kind": "responses", "campaign": str(campaign),
        "file": (io.BytesIO(csv_bytes([HEADER, *ROWS])), "a.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 202
    work(app)
    data = client.get(f"/api/v1/imports/{response.get_json()['id']}", headers=auth).get_json()
    assert (data["status"], data["created"], data["existing"]) == ("succeeded", 3, 0)
    for form, field in (({"kind": "responses", "campaign": str(campaign)}, "file"),
                        ({"kind": "nonsense", "campaign": str(campaign),
                          "file": (io.BytesIO(b"x"), "a.csv")}, "kind"),
                        ({"kind": "responses", "campaign": "999",
                          "file": (io.BytesIO(b"x"), "a.csv")}, "campaign"),
                        ({"kind": "responses", "campaign": str(campaign),
                          "file": (io.BytesIO(b"x"), "a.txt")}, "file")):
        bad = client.post("/api/v1/regions/RU-BRY/imports", headers=auth, data=form,
                          content_type="multipart/form-data")
        assert bad.status_code == 422, form
        assert field in bad.get_json()["error"]["details"]
        assert re.search("[а-яА-Я]", bad.get_json()["error"]["message"])


def test_api_regional_token_cannot_import_into_another_region(app, client, campaign,
                                                               token_for):
    auth = {"Authorization": f"Bearer {token_for('regional_admin', 'RU-BRY')}"}
    response = client.post("/api/v1/regions/RU-KYA/imports", headers=auth, data={
        "kind": "responses", "campaign": str(campaign),
        "file": (io.BytesIO(csv_bytes([HEADER, ROWS[0]])), "a.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert count(app, ImportRecord) == 0
    kya_token = token_for("regional_admin", "RU-KYA")
    created = client.post("/api/v1/regions/RU-KYA/imports",
                          headers={"Authorization": f"Bearer {kya_token}"}, data={
                              "kind": "responses", "campaign": str(campaign),
                              "file": (io.BytesIO(csv_bytes([HEADER])), "a.csv")},
                          content_type="multipart/form-data")
    assert created.status_code == 202
    assert client.get(f"/api/v1/imports/{created.get_json()['id']}",
                      headers=auth).status_code == 404
    operator = {"Authorization": f"Bearer {token_for('operator', 'RU-BRY')}"}
    denied = client.post("/api/v1/regions/RU-BRY/imports", headers=operator, data={
        "kind": "responses", "campaign": str(campaign),
        "file": (io.BytesIO(csv_bytes([HEADER, ROWS[0]])), "a.csv")},
        content_type="multipart/form-data")
    assert denied.status_code == 403


# --- parsing details --------------------------------------------------------------------------


def test_decoding_and_separators():
    assert imports.decode_csv("да;нет".encode("cp1251")) == "да;нет"
    assert imports.decode_csv("да;нет".encode()) == "да;нет"
    assert imports.decode_csv(b"\xef\xbb\xbf" + "да".encode()) == "да"
    assert imports.decode_csv("a\tб".encode("utf-16")) == "a\tб"
    assert imports.detect_delimiter("a;b;c\n1,5;2;3") == ";"
    assert imports.detect_delimiter("a,b,c\n") == ","
    assert imports.detect_delimiter("a\tb\n") == "\t"


@pytest.mark.parametrize("text,number", [
    ("9", 9.0), ("9,0", 9.0), ("1 234,5", 1234.5), ("1\xa0234", 1234.0), (" 7 ", 7.0),
    (3, 3.0), (2.5, 2.5), ("1\u202f234", 1234.0), ("-2", -2.0), ("+.5", 0.5),
])
def test_numbers(text, number):
    assert imports.parse_number(text) == number


@pytest.mark.parametrize("text", ["abc", "1,2,3", "", True, "9 баллов", "nan", "inf", "1e5",
                                  "1" + "0" * 400, float("nan"), float("inf"), None, [1]])
def test_not_numbers(text):
    # the error names the value as given
    with pytest.raises(ValueError, match=f"^{re.escape(str(text))}$"):
        imports.parse_number(text)


@pytest.mark.parametrize("text,expected", [
    ("05.05.2025", dt.datetime(2025, 5, 5, 9, 0)),
    ("5.5.2025 9:05", dt.datetime(2025, 5, 5, 6, 5)),
    ("05.05.2025 10:30:15", dt.datetime(2025, 5, 5, 7, 30, 15)),
    ("2025-05-05", dt.datetime(2025, 5, 5, 9, 0)),
    ("2025-05-05T10:30", dt.datetime(2025, 5, 5, 7, 30)),
    ("2025-05-05T10:30:00Z", dt.datetime(2025, 5, 5, 10, 30)),
    (dt.datetime(2025, 5, 5, 10, 30), dt.datetime(2025, 5, 5, 7, 30)),
    (45782, dt.datetime(2025, 5, 5, 0, 0) - dt.timedelta(hours=3)),
])
def test_moments_are_local_to_the_region(text, expected):
    moment = imports.parse_moment(text, "Europe/Moscow")
    assert moment.tzinfo is not None
    assert moment.replace(tzinfo=None) == expected


@pytest.mark.parametrize("word,value", [
    ("да", True), ("Да", True), ("ДА", True), ("+", True), ("1", True), ("есть", True),
    ("ИСТИНА", True), ("нет", False), ("Нет", False), ("-", False), ("0", False),
    (False, False), ("Отсутствует.", False), ("ИМЕЕТСЯ", True), (1, True), (0.0, False),
])
def test_yes_no_words(word, value):
    assert imports.parse_yes_no(word) is value


def test_an_indicator_code_may_head_its_item_column(app, admin, campaign):
    lines = ["response_id;office_code;respondent_type;submitted_at;S-II.1;s-i.1",
             "1;BRY-01;соискатель;05.05.2025;8;7"]
    rec = imported(app, admin, csv_bytes(lines), campaign)
    assert rec.status == "succeeded", error_texts(rec)
    answers = stored_answers(app)["import:RU-BRY:1"]
    assert answers["usefulness"] == (8, None) and answers["prof_competence"] == (7, None)


# --- quality rules over an import ----------------------------------------------------------

DUP_HEADER = ("response_id;office_code;respondent_type;submitted_at;prof_competence;"
              "comm_competence;usefulness;simplicity;responsiveness;comfort;transport;appearance;"
              "info_office;info_website")


def _flags(app) -> dict[str, tuple[set[str], bool, set[bool]]]:
    """client key -> (rules that flagged it, counted, counted of its answers)."""
    with app.app_context(), tenancy.federal_scope("test"):
        return {r.client_key: ({f.rule for f in r.flags}, r.counted, {a.counted for a in r.answers})
                for r in db.scalars(select(Response))}


def test_near_duplicates_within_an_import_and_with_stored_answers_are_flagged(
        app, admin, campaign):
    from engine_helpers import answer
    from engine_helpers import offices

    stored, _ = answer(app, offices(app, "RU-BRY")[0],
                       {"prof_competence": 3, "comm_competence": 4, "usefulness": 5,
                        "simplicity": 6, "responsiveness": 7, "comfort": 8, "transport": 9,
                        "appearance": 2, "info_office": 5, "info_website": 5},
                       when=dt.datetime(2025, 5, 5, 7, 0, tzinfo=dt.UTC),
                       client_key="kiosk-original")
    rec = imported(app, admin, csv_bytes([
        DUP_HEADER,
        "a;BRY-01;соискатель;05.05.2025 10:10;3;4;5;6;7;8;9;2;5;5",   # the stored one again
        "b;BRY-02;соискатель;05.05.2025 12:00;10;9;8;7;6;5;4;3;2;1",
        "c;BRY-02;соискатель;05.05.2025 12:20;10;9;8;7;6;5;4;3;2;9",  # 9 of 10 like b
        "d;BRY-02;соискатель;05.05.2025 12:25;10;9;8;7;6;5;4;3;7;8",  # 8 of 10 like b and c
        "e;BRY-02;соискатель;05.05.2025 13:30;10;9;8;7;6;5;4;3;2;1",  # like b, 90 min later
    ]), campaign)
    assert rec.status == "succeeded", error_texts(rec)
    flags = _flags(app)
    for key in ("kiosk-original", "import:RU-BRY:a", "import:RU-BRY:b", "import:RU-BRY:c"):
        assert flags[key] == ({"near_duplicate"}, False, {False}), key
    for key in ("import:RU-BRY:d", "import:RU-BRY:e"):
        assert flags[key] == (set(), True, {True}), key
    with app.app_context(), tenancy.federal_scope("test"):
        copy = db.scalar(select(Response).where(Response.client_key == "import:RU-BRY:a"))
        assert f"№{stored}" in copy.flags[0].reason
        assert copy.review_status == "pending"
        assert copy.quality_flags[0]["rule"] == "near_duplicate"


def test_a_large_import_is_written_in_steps_and_stays_atomic(app, admin, campaign, monkeypatch):
    monkeypatch.setattr(import_job, "WRITE_CHUNK", 2)
    lines = [DUP_HEADER] + [
        f"{n};BRY-0{1 + n % 2};соискатель;0{1 + n % 5}.05.2025 1{n % 8}:00;"
        + ";".join(str(1 + (n * k) % 10) for k in range(1, 11)) for n in range(7)]
    rec = imported(app, admin, csv_bytes(lines), campaign)
    assert (rec.status, rec.created_count) == ("succeeded", 7), error_texts(rec)
    assert count(app, Response) == 7 and count(app, Answer) == 70
    # a clash found in the last step rolls the earlier steps back too
    with app.app_context(), tenancy.federal_scope("test"):
        db.add(Response(client_key="import:RU-BRY:x6", region_id=1, office_id=1,
                        campaign_id=campaign, methodology_key="cci-2023", channel="test",
                        respondent_type="job_seeker",
                        submitted_at=dt.datetime(2025, 5, 5, tzinfo=dt.UTC)))
        db.commit()
    real_existing = response_rows.existing_keys
    monkeypatch.setattr(response_rows, "existing_keys", lambda keys: set())  # raced in unseen
    again = imported(app, admin, csv_bytes([lines[0]] + [f"x{line}" for line in lines[1:]]),
                     campaign)
    monkeypatch.setattr(response_rows, "existing_keys", real_existing)
    assert again.status == "failed" and "другим импортом" in error_texts(again)[0]
    assert count(app, Response) == 8 and count(app, Answer) == 70
