"""The table export module: one description, a CSV that Russian Excel reads as numbers and an
XLSX that is a real spreadsheet (header, frozen panes, number formats, widths, provenance)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import unquote

import openpyxl
import pytest

from cci.web import exports
from cci.web.exports import Column
from cci.web.exports import Table


def _table(**overrides) -> Table:
    values = {
        "title": "Офисы: индекс [2026/1]",
        "columns": [Column("Офис", "text"), Column("Ответов", "int"), Column("Индекс", "index"),
                    Column("Доля положительных", "share"), Column("Точная доля", "percent"),
                    Column("Дата", "date"), Column("Получено", "moment")],
        "rows": [
            ["ЦЗН Липецка", 1234, 71.64, 0.5, 0.716, dt.date(2026, 3, 1),
             dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)],
            ["Ёлки;\n«кавычки»", None, None, None, None, None, None],
        ],
        "provenance": [("Расчёт", 17), ("Отпечаток данных", "abc123")],
        "freeze_columns": 1,
        "bold_rows": frozenset({0}),
    }
    return Table(**(values | overrides))


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def test_the_xlsx_is_a_real_spreadsheet(ctx):
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(_table())))
    assert book.sheetnames == ["Офисы  индекс  2026 1", "Происхождение"]
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "B2"
    header = list(sheet[1])
    assert [c.value for c in header][:3] == ["Офис", "Ответов", "Индекс"]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DCE6F1") for c in header)
    first = list(sheet[2])
    assert [c.value for c in first[:5]] == ["ЦЗН Липецка", 1234, 71.64, 0.5, 0.716]
    assert isinstance(first[1].value, int) and isinstance(first[2].value, float)
    assert [c.number_format for c in first] == [
        "@", "#,##0", "0.0", "0%", "0.0%", "DD.MM.YYYY", "DD.MM.YYYY HH:MM"]
    assert first[5].value == dt.datetime(2026, 3, 1)  # a date cell, not text
    # 09:30 UTC as the reader's clock shows it (no region: Moscow time, UTC+3)
    assert first[6].value == dt.datetime(2026, 3, 1, 12, 30)
    assert first[0].font.b and not sheet.cell(row=3, column=1).font.b
    second = [c.value for c in sheet[3]]
    assert second == ["Ёлки;\n«кавычки»", None, None, None, None, None, None]
    assert sheet.cell(row=3, column=1).alignment.wrap_text
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFG"}
    assert 8 <= widths["B"] < widths["A"] <= 60
    about = dict(book["Происхождение"].iter_rows(values_only=True))
    assert about["Таблица"] == "Офисы: индекс [2026/1]"
    assert about["Расчёт"] == 17 and about["Отпечаток данных"] == "abc123"
    assert "Выгружено" in about


def test_xlsx_text_is_never_a_formula_a_link_or_a_guessed_number(ctx):
    """A respondent's comment may begin with «=» or hold a link: Excel must show it as
    written, never evaluate it (a spreadsheet formula injection)."""
    rows = [["=HYPERLINK(\"http://example.com\",\"x\")", "https://example.com", "007"]]
    table = _table(columns=[Column("А"), Column("Б"), Column("В")], rows=rows)
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(table))).worksheets[0]
    cells = list(sheet[2])
    assert [c.value for c in cells] == rows[0]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert not sheet._hyperlinks


def test_the_csv_reads_in_russian_excel_and_parses(ctx):
    body = exports.to_csv(_table())
    assert body.startswith("\ufeffОфис;Ответов;Индекс;")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[1] == ["ЦЗН Липецка", "1234", "71,64", "0,5", "0,716", "01.03.2026",
                       "01.03.2026 12:30"]
    assert rows[2] == ["Ёлки;\n«кавычки»", "", "", "", "", "", ""]
    assert len(rows) == 3  # nothing below the table


def test_a_row_of_the_wrong_length_and_an_unknown_kind_are_refused(ctx):
    with pytest.raises(ValueError, match="kind"):
        Column("x", "currency")
    with pytest.raises(ValueError, match="zip"):
        exports.to_csv(_table(rows=[["only one"]]))


def test_the_response_names_the_file_safely_in_both_forms(ctx):
    response = exports.response(_table(), "xlsx", 'Липецкая область "итоги"/../x')
    assert response.mimetype == exports.XLSX_MIMETYPE
    disposition = response.headers["Content-Disposition"]
    plain, utf8 = disposition.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="x.xlsx"'
    assert unquote(utf8) == 'Липецкая область "итоги"/../x.xlsx' and "/" not in utf8
    assert response.data.startswith(b"PK")
    simple = exports.response(_table(), "csv", "federal-3-run17")
    assert simple.headers["Content-Disposition"] == 'attachment; filename="federal-3-run17.csv"'
    assert simple.mimetype == "text/csv"
    with pytest.raises(ValueError, match="format"):
        exports.response(_table(), "pdf", "x")


def test_the_audit_log_exports_through_the_module(app, client, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get("/r/RU-BRY/admin/audit.xlsx?action=user.create&from=2026-01-05")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Журнал аудита", "Происхождение"]
    sheet = book["Журнал аудита"]
    assert sheet.freeze_panes == "A2" and sheet["C1"].value == "Действие" and sheet["C1"].font.b
    about = dict(book["Происхождение"].iter_rows(values_only=True))
    assert about["Фильтры"] == "Действие: Пользователь создан; С: 05.01.2026"
