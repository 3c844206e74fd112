"""What an uploaded file may expand to while it is read: bombs (a small XLSX declaring or
holding a huge sheet), long lines, huge cells and broken quotes are refused with a Russian
message, quickly, storing nothing; a job refused for its input is never retried, and a retry
after a process died reading its file does not read it again."""

from __future__ import annotations

import io
import os
import signal
import time
import zipfile

import pytest
from sqlalchemy import select

from cci.collection.imports import files
from cci.collection.imports import workbook
from cci.collection.imports.bounds import BOUNDS
from cci.collection.imports.bounds import resident_bytes
from cci.collection.imports.errors import FileProblem
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ImportRecord
from cci.foundation.models import JobRecord
from cci.foundation.models import Response

from test_imports import HEADER
from test_imports import ROWS
from test_imports import admin  # noqa: F401 - a fixture
from test_imports import campaign  # noqa: F401 - a fixture
from test_imports import count
from test_imports import csv_bytes
from test_imports import error_texts
from test_imports import imported
from test_imports import upload

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{sheets}</Types>')
SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.'
              'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets>'
            '</workbook>')
WORKBOOK_SHEET = '<sheet name="Лист{n}" sheetId="{n}" r:id="rId{n}"/>'
WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
WORKBOOK_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
              'openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>')


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook_bytes(*sheets: tuple[str | None, list[str], str]) -> bytes:
    """An XLSX built by hand: each sheet is (dimension or None, its first rows' XML, and a
    row template repeated, ``{n}`` being the row's number: ``"<row r='{n}'/>"×count``)."""
    buffer = io.BytesIO()
    numbers = range(1, len(sheets) + 1)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(
            sheets="".join(SHEET_TYPE.format(n=n) for n in numbers)))
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK.format(
            sheets="".join(WORKBOOK_SHEET.format(n=n) for n in numbers)))
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(
            rels="".join(WORKBOOK_REL.format(n=n) for n in numbers)))
        for n, (dimension, first, repeated) in zip(numbers, sheets, strict=True):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as sheet:
                dim = f'<dimension ref="{dimension}"/>' if dimension else ""
                sheet.write(SHEET_HEAD.format(dimension=dim).encode())
                sheet.write("".join(first).encode())
                template, times = repeated.split("×") if repeated else ("", "0")
                start = len(first) + 1
                for block in range(start, start + int(times), 10_000):
                    stop = min(block + 10_000, start + int(times))
                    sheet.write("".join(template.format(n=i) for i in range(block, stop))
                                .encode())
                sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


HEADER_ROW = ('<row r="1">' + inline("A1", "response_id") + inline("B1", "office_code")
              + "</row>")


def job_of(app, rec: ImportRecord) -> JobRecord:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.get(JobRecord, rec.job_id)


def refused(app, client, data: bytes, campaign_id: int, filename="анкеты.xlsx",
            seconds: float = 5.0, kind: str = "responses") -> list[str]:
    """Import through the page and a real worker; the file must be refused, quickly, once."""
    started = time.monotonic()
    rec = imported(app, client, data, campaign_id, filename=filename, kind=kind)
    elapsed = time.monotonic() - started
    assert rec.status == "failed", error_texts(rec)
    assert count(app, Response) == 0
    assert job_of(app, rec).attempts == 1, "an input failure is not retried"
    assert elapsed < seconds, f"{elapsed:.1f} s"
    return error_texts(rec)


# --- XLSX bombs ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["responses", "checklists"])
def test_a_workbook_declaring_a_huge_sheet_is_refused_before_it_is_read(app, admin, campaign,
                                                                        kind):
    data = workbook_bytes(("A1:XFD1048576", [HEADER_ROW], '<row r="{n}"/>×10'))
    assert len(data) < 2000
    assert refused(app, admin, data, campaign, kind=kind) == [
        "Файл: лист объявляет размер A1:XFD1048576 (1048576 строк × 16384 столбцов), больше "
        "допустимого (100000 строк, 500 столбцов): удалите лишние строки и столбцы или "
        "сохраните файл заново"]


def test_a_small_workbook_of_a_million_empty_rows_is_refused_at_the_row_bound(
        app, admin, campaign):
    # the dimension record says A1:B2; the rows are there all the same (~20 MB unpacked)
    data = workbook_bytes(("A1:B2", [HEADER_ROW], '<row r="{n}"/>×1000000'))
    assert len(data) < 3_000_000
    (message,) = refused(app, admin, data, campaign)
    assert message == (f"Строка {BOUNDS.extent_rows + 1}: на листе больше {BOUNDS.extent_rows} "
                       f"строк (считая пустые): удалите лишние строки или разделите файл")


def test_rows_reaching_column_xfd_are_refused_at_the_first_such_cell(app, admin, campaign):
    # read naively, every row is padded to 16,384 cells (50 million here)
    data = workbook_bytes((None, [HEADER_ROW], '<row r="{n}"><c r="XFD{n}" s="1"/></row>×3000'))
    assert refused(app, admin, data, campaign, seconds=3) == [
        "Строка 2: ячейка XFD2 — дальше 500-го столбца: удалите лишние столбцы"]


def test_every_sheet_is_measured_not_only_the_first(app):
    # openpyxl parses a sheet without a dimension record whole, just to size it
    data = workbook_bytes((None, [HEADER_ROW], ""),
                          (None, [], '<row r="{n}"><c r="A{n}"/><c r="B{n}"/></row>×3000'))
    with pytest.raises(FileProblem, match="в книге больше 5000 ячеек"):
        files.read_table("x.xlsx", data, BOUNDS.replace(cells=5000))
    assert files.read_table("x.xlsx", data).headers == ["response_id", "office_code"]


def test_a_sheet_is_measured_wherever_the_workbook_keeps_it(app):
    data = workbook_bytes((None, [HEADER_ROW], '<row r="{n}"><c r="XFD{n}"/></row>×3000'))
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                target.writestr("xl/media/picture.png", content)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                target.writestr(info.filename, content.replace(b"worksheets/sheet1.xml",
                                                               b"media/picture.png"))
            else:
                target.writestr(info, content)
    with pytest.raises(FileProblem, match="ячейка XFD2 — дальше 500-го столбца"):
        files.read_table("x.xlsx", moved.getvalue())


def test_unpacked_bytes_are_bounded(app):
    data = workbook_bytes((None, [HEADER_ROW], '<row r="{n}"/>×90000'))
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()) > 2**20
    with pytest.raises(FileProblem, match="после распаковки больше 1 МБ"):
        files.read_table("x.xlsx", data, BOUNDS.replace(unpacked_bytes=2**20))
    # counted as the parts unpack, whatever the archive declares
    scan = workbook._Scan(BOUNDS.replace(unpacked_bytes=2**20))
    with zipfile.ZipFile(io.BytesIO(data)) as archive, pytest.raises(FileProblem):
        scan.part(archive, archive.getinfo("xl/worksheets/sheet1.xml"),
                  files.Guard(BOUNDS))


def test_xml_elements_and_a_dtd_are_bounded(app):
    data = workbook_bytes((None, [HEADER_ROW], '<row r="{n}"/>×2000'))
    with pytest.raises(FileProblem, match="больше 1000 элементов XML"):
        files.read_table("x.xlsx", data, BOUNDS.replace(elements=1000))
    # what openpyxl reads whole: merged cells (here after the rows), styles
    merged = "".join(f'<mergeCell ref="A{n}:B{n}"/>' for n in range(2, 2000))
    data = workbook_bytes((None, [HEADER_ROW, f"</sheetData><mergeCells>{merged}</mergeCells>"
                                              f"<sheetData>"], ""))
    with pytest.raises(FileProblem, match="в одной её части больше 1000 элементов XML вне "
                                          "строк листа"):
        files.read_table("x.xlsx", data, BOUNDS.replace(part_elements=1000))
    # one row (or one shared string) is read whole: its elements are bounded too
    runs = "".join(f"<r><t>{n}</t></r>" for n in range(60))
    data = workbook_bytes((None, [HEADER_ROW, f'<row r="2"><c r="A2" t="inlineStr"><is>{runs}'
                                              f'</is></c></row>'], ""))
    with pytest.raises(FileProblem, match="строка листа или текст ячейки слишком сложны") \
            as info:
        files.read_table("x.xlsx", data, BOUNDS.replace(row_elements=100))
    assert info.value.row == 2
    assert len(files.read_table("x.xlsx", data).rows) == 1
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
              '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/workbook.xml":
                content = laughs.encode() + content.split(b"?>", 1)[1]
            target.writestr(info, content)
    with pytest.raises(FileProblem, match="в XML есть DOCTYPE"):
        files.read_table("x.xlsx", buffer.getvalue())


def test_a_damaged_workbook_is_a_file_problem_not_a_crash(app):
    bad_cell = workbook_bytes((None, [HEADER_ROW, '<row r="2"><c r="A2" t="s"><v>7</v></c></row>'],
                               ""))
    with pytest.raises(FileProblem, match="файл не читается как XLSX"):
        files.read_table("x.xlsx", bad_cell)  # a shared string that is not there
    with pytest.raises(FileProblem, match="повреждённый XML"):
        files.read_table("x.xlsx", workbook_bytes((None, ["<row><c>"], "")))


# --- time and memory ---------------------------------------------------------------------------


def test_time_is_bounded(app):
    data = csv_bytes([HEADER, *ROWS])
    with pytest.raises(FileProblem, match="не удалось прочитать за 0 с"):
        files.read_table("x.csv", data, BOUNDS.replace(seconds=0))
    xlsx = workbook_bytes((None, [HEADER_ROW], '<row r="{n}"/>×10'))
    with pytest.raises(FileProblem, match="не удалось прочитать за 0 с"):
        files.read_table("x.xlsx", xlsx, BOUNDS.replace(seconds=0))


@pytest.mark.skipif(resident_bytes() is None, reason="the resident memory is read on Linux")
def test_memory_is_bounded(app):
    # 40,000 rows of distinct text: tens of megabytes held in the table
    lines = [HEADER] + [f"{n};BRY-01;соискатель;05.05.2025;7;9;да;;;;;;{'к' * 200}{n}"
                        for n in range(40_000)]
    data = csv_bytes(lines, encoding="utf-8")
    with pytest.raises(FileProblem, match="больше 1 МБ памяти"):
        files.read_table("x.csv", data, BOUNDS.replace(memory_bytes=2**20))
    assert len(files.read_table("x.csv", data).rows) == 40_000


# --- CSV ---------------------------------------------------------------------------------------


def test_a_line_of_separators_is_refused_without_building_its_cells(app, admin, campaign):
    data = csv_bytes([HEADER, ROWS[0], ";" * 3_000_000])
    assert refused(app, admin, data, campaign, filename="анкеты.csv") == [
        f"Файл: строка 3 текста файла длиннее {BOUNDS.line_chars} символов: это не похоже на "
        f"таблицу"]


def test_blank_rows_count_towards_the_row_bound(app, admin, campaign):
    data = csv_bytes([HEADER, ROWS[0]] + [""] * BOUNDS.extent_rows)
    (message,) = refused(app, admin, data, campaign, filename="анкеты.csv")
    assert message.startswith(f"Строка {BOUNDS.extent_rows + 1}: в файле больше "
                              f"{BOUNDS.extent_rows} строк (считая пустые)")


def test_cells_columns_and_a_huge_cell_are_bounded(app, admin, campaign):
    huge = ROWS[2].rsplit(";", 1)[0] + ";" + "ж" * (BOUNDS.cell_chars + 1)
    assert refused(app, admin, csv_bytes([HEADER, ROWS[1], huge], encoding="utf-8"),
                   campaign, filename="анкеты.csv") == [
        f"Строка 3: в ячейке больше {BOUNDS.cell_chars} символов"]
    longer = "1;" + "ж" * 200_000  # past the csv module's own field limit too
    with pytest.raises(FileProblem, match=f"в ячейке больше {BOUNDS.cell_chars} символов"):
        files.read_table("x.csv", csv_bytes(["a;b", longer], encoding="utf-8"))
    wide = ";".join(["x"] * 600)
    with pytest.raises(FileProblem, match="в строке больше 500 столбцов") as info:
        files.read_table("x.csv", csv_bytes([HEADER, wide]))
    assert info.value.row == 2
    with pytest.raises(FileProblem, match="в файле больше 30 ячеек"):
        files.read_table("x.csv", csv_bytes([HEADER, *ROWS]), BOUNDS.replace(cells=30))


# --- quotes ------------------------------------------------------------------------------------

QUOTE_ADVICE = ("Закройте кавычку или удалите её (кавычка внутри значения пишется двойной: "
                "\"\").")


def test_an_unterminated_quote_is_refused_with_its_row_not_swallowing_the_next(
        app, admin, campaign):
    # read leniently, row 3 became part of row 2's comment and the import "succeeded"
    rows = [HEADER, ROWS[1].rsplit(";", 1)[0] + ';"Спасибо', ROWS[2]]
    assert refused(app, admin, csv_bytes(rows), campaign, filename="анкеты.csv") == [
        "Строка 2: кавычка, открытая в этой строке, не закрыта там, где кончается значение: "
        f"значение поглотило бы следующие строки. {QUOTE_ADVICE}"]


def test_a_quote_closed_on_a_later_line_that_swallowed_a_row_is_refused(app, admin, campaign):
    rows = [HEADER, ROWS[1].rsplit(";", 1)[0] + ';"Спасибо', ROWS[2] + '"', ROWS[0]]
    assert refused(app, admin, csv_bytes(rows), campaign, filename="анкеты.csv") == [
        "Строка 2: значение в кавычках, открытое в этой строке, захватило следующую строку "
        f"файла целиком: кавычка не закрыта там, где кончается значение. {QUOTE_ADVICE}"]
    middle = [HEADER, ROWS[1].rsplit(";", 1)[0] + ';"Спасибо', '3;"ок" да;', ROWS[0]]
    assert refused(app, admin, csv_bytes(middle), campaign, filename="анкеты.csv") == [
        "Строка 2: кавычка, открытая в этой строке, не закрыта там, где кончается значение: "
        f"значение поглотило бы следующие строки. {QUOTE_ADVICE}"]


def test_a_broken_quote_after_a_multiline_value_names_the_text_line_too(app):
    rows = [HEADER, ROWS[1].rsplit(";", 1)[0] + ';"две\nстроки"', ROWS[2] + ';"нет конца']
    with pytest.raises(FileProblem) as info:
        files.read_table("x.csv", csv_bytes(rows))
    assert info.value.row == 3
    assert str(info.value).startswith("кавычка, открытая в этой строке (строка 4 текста "
                                      "файла), не закрыта")


def test_quoted_values_as_excel_writes_them_are_read(app, admin, campaign):
    rows = [HEADER, ROWS[1].rsplit(";", 1)[0] + ';"Спасибо,\r\nвсё ""понятно"""', ROWS[2]]
    rec = imported(app, admin, csv_bytes(rows), campaign, filename="анкеты.csv")
    assert rec.status == "succeeded", error_texts(rec)
    assert rec.created_count == 2
    with app.app_context(), tenancy.federal_scope("test"):
        comments = sorted(r.comment or "" for r in db.scalars(select(Response)))
    assert comments == ["", 'Спасибо,\r\nвсё "понятно"']


# --- a process killed while reading --------------------------------------------------------------


def test_a_retry_after_the_process_died_reading_the_file_does_not_read_it_again(
        app, admin, campaign, monkeypatch, tmp_path):
    """A real forking RQ worker: the work horse is killed (as the kernel kills it for memory)
    inside the parse; RQ retries the job, and the retry refuses the file instead of reading it
    (and being killed) again."""
    from cci.foundation import worker

    attempts = tmp_path / "parses"

    def killed_while_reading(data, bounds=BOUNDS, guard=None):
        attempts.write_text(str(int(attempts.read_text()) + 1 if attempts.exists() else 1))
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(files, "read_csv", killed_while_reading)
    response = upload(admin, csv_bytes([HEADER, *ROWS]), campaign)
    assert response.status_code == 302
    import_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    jobs.set_worker_app(app)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # the platform's worker: it marks a job whose work horse was killed for its retry
        worker.build(app, list(jobs.QUEUES), simple=False).work(burst=True)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)

    assert attempts.read_text() == "1", "the file was read once"
    with app.app_context(), tenancy.federal_scope("test"):
        rec = db.get(ImportRecord, import_id)
        job = db.get(JobRecord, rec.job_id)
        assert rec.status == "failed"
        assert error_texts(rec) == [f"Файл: {jobs.INTERRUPTED}"]
        assert (job.status, job.attempts) == ("finished", 2)
    assert count(app, Response) == 0
    assert not app.extensions["cci.redis"].keys(f"{jobs.INPUT_PREFIX}*")
