"""The import parsers fuzzed (hypothesis): ragged rows, quotes, encodings, formulas, merged
cells, huge cells, damaged archives and bombs. Each case is a clean table or a clear
:class:`FileProblem` — never another exception, never a hang — and an import stores all of
its rows or none. Bounded for CI: a few hundred examples in all, well under a minute."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import types
import uuid

import openpyxl
import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.imports import cells as cell_reading
from cci.collection.imports import files
from cci.collection.imports import job as import_job
from cci.collection.imports.bounds import BOUNDS
from cci.collection.imports.errors import FileProblem
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ImportRecord
from cci.foundation.models import Region
from cci.foundation.models import Response

from cci_channel_contact import telephony
from test_import_bounds import HEADER_ROW
from test_import_bounds import workbook_bytes
from test_imports import campaign  # noqa: F401 - a fixture

#: one file may take this long at most (the bounds hold far below it)
SECONDS = 3.0
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Letters as offices write them; without «Ёё», whose Windows-1251 bytes can read as UTF-8.
LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯabcXYZ0123456789"
TEXT = st.text(alphabet=LETTERS + " .,;:\t\"'=+-%\r\n\xa0", max_size=30)
HEADER_TEXT = st.text(alphabet=LETTERS + " _", min_size=1, max_size=12)


def read(filename: str, data: bytes) -> files.Table | None:
    """The table, or ``None`` for a clear refusal; any other exception fails the test."""
    started = time.monotonic()
    table: files.Table | None = None
    try:
        table, problem = files.read_table(filename, data), None
    except FileProblem as exc:
        problem = str(exc)
    assert problem is None or problem.strip(), "a refusal says why"
    assert time.monotonic() - started < SECONDS
    return table


# --- CSV ---------------------------------------------------------------------------------------


@st.composite
def csv_files(draw):
    headers = draw(st.lists(HEADER_TEXT, min_size=1, max_size=6))
    width = len(headers)
    rows = draw(st.lists(st.lists(TEXT, min_size=0, max_size=width + 2), max_size=12))
    # a header of one column has no separator to detect: Excel's «;» is assumed
    delimiter = draw(st.sampled_from([";", ",", "\t"])) if width > 1 else ";"
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([headers, *rows])
    encoding = draw(st.sampled_from(["cp1251", "utf-8", "utf-8-sig", "utf-16"]))
    # «юя»/«яю» in Windows-1251 are the bytes of a UTF-16 byte-order mark: read as UTF-16
    assume(not (encoding == "cp1251" and headers[0].startswith(("юя", "яю"))))
    return headers, rows, delimiter, buffer.getvalue().encode(encoding)


def swallow_lookalike(rows: list[list[str]], delimiter: str, width: int) -> bool:
    """A multi-line value with a whole row's worth of separators on a later line: refused
    on purpose (it is how a quote left open looks)."""
    return width > 1 and any(
        line.count(delimiter) >= width - 1
        for row in rows for value in row for line in value.splitlines()[1:])


@FUZZ
@given(csv_files())
def test_a_csv_as_excel_writes_it_reads_back_exactly(case):
    headers, rows, delimiter, data = case
    table = read("x.csv", data)
    event("refused" if table is None else "read")
    if table is None:
        assert swallow_lookalike(rows, delimiter, len(headers)), rows
        return
    expected_headers = [cell_reading.cell_text(h) for h in headers]
    while expected_headers and not expected_headers[-1]:
        expected_headers.pop()
    assert table.headers == expected_headers
    kept = [(number, row) for number, row in enumerate(rows, start=2)
            if any(cell_reading.cell_text(c) for c in row)]
    assert table.rows == kept, "no row lost, none merged into another"


@FUZZ
@given(csv_files(), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    [b'"', b'""', b"\r\n", b";", b"\x00", b"\xff", b"\xd0", b'="1+1"', b"\n\n\n"])),
    max_size=4), st.integers(0, 10**6))
def test_a_damaged_csv_is_read_or_refused_never_a_crash(case, insertions, cut):
    data = bytearray(case[3])
    for position, piece in insertions:
        at = position % (len(data) + 1)
        data[at:at] = piece
    if cut % 3 == 0:
        del data[cut % (len(data) + 1):]
    event("refused" if read("x.csv", bytes(data)) is None else "read")


@pytest.mark.parametrize("kind", ["rows", "separators", "cell", "blank", "quote"])
def test_csv_bombs_are_refused_quickly(kind):
    header = "a;b;c\r\n"
    body = {
        "rows": "1;2;3\r\n" * (BOUNDS.rows + 1),
        "separators": ";" * (BOUNDS.line_chars + 1),
        "cell": "1;2;" + "я" * (BOUNDS.cell_chars + 1) + "\r\n",
        "blank": "\r\n" * (BOUNDS.extent_rows + 1),
        "quote": '1;2;"' + "3;4;5\r\n" * 100_000,
    }[kind]
    assert read("x.csv", (header + body).encode("utf-8")) is None


# --- XLSX --------------------------------------------------------------------------------------

CELL_VALUES = st.one_of(
    TEXT, st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1)),
    st.sampled_from(["=1+1", "=SUM(A1:A3)", "=НД()", "=A1&\"x\"", "#N/A"]),
)


@st.composite
def workbooks(draw):
    book = openpyxl.Workbook()
    sheet = book.active
    headers = draw(st.lists(HEADER_TEXT, min_size=1, max_size=5))
    sheet.append(headers)
    for row in draw(st.lists(st.lists(CELL_VALUES, max_size=7), max_size=8)):
        sheet.append(row)
    for _ in range(draw(st.integers(0, 2))):
        top = draw(st.integers(1, 6))
        left = draw(st.integers(1, 5))
        sheet.merge_cells(start_row=top, start_column=left,
                          end_row=top + draw(st.integers(0, 3)),
                          end_column=left + draw(st.integers(0, 2)))
    if draw(st.booleans()):
        book.create_sheet("ещё").append(draw(st.lists(CELL_VALUES, max_size=3)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@FUZZ
@given(workbooks())
def test_any_workbook_is_a_table_or_a_clear_refusal(data):
    table = read("x.xlsx", data)
    event("refused" if table is None else "read")
    if table is not None:
        assert all(number >= 2 for number, _row in table.rows)
        assert all(len(row) <= BOUNDS.columns for _number, row in table.rows)


@FUZZ
@given(workbooks(), st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1,
                                                                            max_size=4)),
                             min_size=1, max_size=3))
def test_a_damaged_workbook_is_refused_never_a_crash(data, changes):
    data = bytearray(data)
    for position, piece in changes:
        at = 4 + position % (len(data) - 4)  # keep «PK\x03\x04»: the upload check wants it
        data[at:at + len(piece)] = piece
    event("refused" if read("x.xlsx", bytes(data)) is None else "read")


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 2_000_000), st.integers(1, 16_384), st.integers(0, 3_000),
       st.booleans())
def test_workbook_bombs_are_refused_within_the_bounds(last_row, column, wide_rows, declared):
    """Rows reaching a far column, a far last row, and a dimension that says so or not."""
    letters = openpyxl.utils.get_column_letter(column)
    last_row = max(last_row, wide_rows + 2)
    rows = [HEADER_ROW] + [f'<row r="{n}"><c r="{letters}{n}"/></row>'
                           for n in range(2, wide_rows + 2)]
    rows.append(f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>1</t></is>'
                f'</c></row>')
    data = workbook_bytes((f"A1:{letters}{last_row}" if declared else None, rows, ""))
    table = read("x.xlsx", data)
    event("refused" if table is None else "read")
    beyond = (column > BOUNDS.columns and (wide_rows > 0 or declared)) \
        or last_row > BOUNDS.extent_rows
    assert (table is None) == beyond
    if table is not None:
        assert table.rows[-1][0] == last_row


# --- an import stores all of its rows or none ------------------------------------------------

RESPONSE_HEADER = ["response_id", "office_code", "respondent_type", "submitted_at",
                   "usefulness", "management_contact", "comment"]
VALID = {"office_code": st.sampled_from(["BRY-01", "bry-02"]),
         "respondent_type": st.sampled_from(["соискатель", "работодатель", "job_seeker"]),
         "submitted_at": st.sampled_from(["05.05.2025", "2025-05-06 10:00", "06.05.2025 9:30"]),
         "usefulness": st.sampled_from(["10", "7", "Затрудняюсь ответить", "0"]),
         "management_contact": st.sampled_from(["да", "нет", "1", ""]),
         "comment": TEXT}
WRONG = st.sampled_from(["", "XXX-99", "=1+1", "11", "завтра", "\"", "да;нет", "𝟘"])


@st.composite
def response_files(draw):
    rows = []
    wrong = draw(st.sampled_from([0, 0, 1, 3]))  # in ten cells: half of the files are clean
    for number in range(draw(st.integers(1, 6))):
        row = [f"{uuid.uuid4().hex[:12]}-{number}"]
        for column in RESPONSE_HEADER[1:]:
            row.append(draw(WRONG) if draw(st.integers(0, 9)) < wrong else draw(VALID[column]))
        rows.append(row[:draw(st.integers(len(row) - 2, len(row)))])  # ragged
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([RESPONSE_HEADER, *rows])
    encoding = draw(st.sampled_from(["cp1251", "utf-8-sig"]))
    return len(rows), buffer.getvalue().encode(encoding, errors="replace")


def _responses() -> int:
    return db.scalar(select(func.count()).select_from(Response))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(response_files())
def test_an_import_stores_all_of_its_rows_or_none(app, campaign, case):
    data_rows, data = case
    with app.app_context(), tenancy.federal_scope("test"):
        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        before = _responses()
        record = ImportRecord(region_id=region.id, campaign_id=campaign, kind="responses",
                              filename="анкеты.csv", content=data, size=len(data))
        db.add(record)
        db.commit()
        with tenancy.region_scope(region.id, "fuzz"):
            result = import_job.run_import(record.id, lambda *_args: None)
        after = _responses()
    event(result["status"])
    if result["status"] == "succeeded":
        assert result["created"] == data_rows == after - before
    else:
        assert result["status"] == "failed" and result["errors"] > 0
        assert after == before, "a refused file stores nothing"


# --- the contact centre's telephony file -------------------------------------------------------

TELEPHONY_HEADER = ["Дата", "Линия", "Поступило", "Принято", "Потеряно",
                    "Среднее ожидание, с", "Обработка всего, с", "Принято за 20 с"]
NUMBERS = st.one_of(st.integers(0, 200).map(str), st.sampled_from(
    ["", "-1", "1,5", "1e9", "десять", "=A1", "\"7\"", "99999999999"]))


@st.composite
def telephony_files(draw):
    days = st.sampled_from(["01.11.2025", "2025-11-02", "03.11.2025"])
    lines = st.sampled_from(["8-800", "Линия 2", "линия 3"])
    if draw(st.booleans()):  # a file that may be clean: consistent counts
        rows = []
        for _ in range(draw(st.integers(1, 4))):
            answered, abandoned, within = draw(st.tuples(*[st.integers(0, 50)] * 3))
            rows.append([draw(days), draw(lines), str(answered + abandoned + 1), str(answered),
                         str(abandoned), "12,5" if answered else "0", str(answered * 60),
                         str(min(within, answered))])
    else:
        rows = [[draw(st.sampled_from(["01.11.2025", "31.02.2025", "", "завтра"])),
                 draw(st.sampled_from(["8-800", "", "л" * 50]))]
                + [draw(NUMBERS) for _ in range(6)] for _ in range(draw(st.integers(0, 6)))]
    width = draw(st.sampled_from([8, 8, 8, 2, 5]))
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=draw(st.sampled_from([";", ","])), lineterminator="\r\n") \
        .writerows([TELEPHONY_HEADER[:width], *rows])
    return buffer.getvalue().encode("cp1251")


@FUZZ
@given(telephony_files())
def test_a_telephony_file_is_validated_whole_never_a_crash(data):
    region = types.SimpleNamespace(timezone="Europe/Moscow")
    result, parsed = telephony.validate(region, "x.csv", data, today=dt.date(2026, 1, 1))
    event("imported" if result.ok else "refused")
    if result.ok:
        assert len(parsed) == result.rows > 0
    else:
        assert result.errors and result.error_count >= len(result.errors)
        assert all(error.text.strip() for error in result.errors)


@pytest.mark.parametrize("data", [b"PK\x03\x04", b"\xff\xfe\x00", "Дата\r\n\"".encode()])
def test_a_telephony_file_that_cannot_be_read_is_one_clear_error(data):
    region = types.SimpleNamespace(timezone="Europe/Moscow")
    name = "x.xlsx" if data.startswith(b"PK") else "x.csv"
    result, parsed = telephony.validate(region, name, data)
    assert parsed == [] and result.error_count == 1
    assert result.errors[0].text.startswith(("Файл:", "Строка"))
