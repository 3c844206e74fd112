"""Reading the files offices produce: Excel's CSV (``;``, ``,`` or tab; Windows-1251, UTF-8
or UTF-16) and XLSX workbooks, into a :class:`Table` of raw cells."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any

from cci.collection.imports.cells import cell_text
from cci.collection.imports.cells import is_blank
from cci.collection.imports.errors import FileProblem

EXTENSIONS = ("csv", "xlsx")
#: rows in one file; a bigger one is refused before anything is validated
MAX_ROWS = 50_000
MAX_COLUMNS = 500
#: an XLSX whose parts unpack to more than this is refused (a zip bomb)
MAX_XLSX_UNPACKED = 256 * 1024 * 1024


@dataclass
class Table:
    """The cells of a file: the header (row 1) and each later non-empty row with its number."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def decode_csv(data: bytes) -> str:
    """BOM → its encoding; otherwise strict UTF-8, else Windows-1251 (Excel's «CSV»)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's «Unicode text»
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1251"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise FileProblem(
            "не удалось определить кодировку: сохраните файл как «CSV UTF-8» или «CSV (разделители "
            "— точка с запятой)» в Windows-1251"
        ) from None


def detect_delimiter(text: str) -> str:
    """The separator of the header line: ``;`` (Russian Excel), tab or ``,``."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(sep for sep in (";", "\t", ",") if counts[sep] == best)


def read_csv(data: bytes) -> Table:
    text = decode_csv(data)
    if "\x00" in text:
        raise FileProblem("файл не похож на CSV (двоичные данные)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    try:
        return _table(enumerate(reader, start=1))
    except csv.Error as exc:
        raise FileProblem(f"CSV не читается: {exc}") from None


def read_xlsx(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise FileProblem("файл XLSX слишком велик после распаковки")
    except zipfile.BadZipFile:
        raise FileProblem("файл не читается как XLSX (книга Excel)") from None
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # workbooks from other programs lack default styles; openpyxl warns about it
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds for a damaged workbook
        raise FileProblem(f"файл не читается как XLSX: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # trust the cells, not a stale «dimension» record
        return _table(enumerate(sheet.iter_rows(values_only=True), start=1))
    finally:
        workbook.close()


def _table(numbered_rows) -> Table:
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in numbered_rows:
        cells = list(cells)
        if headers is None:
            if number > 1 and not any(not is_blank(c) for c in cells):
                continue
            if number != 1:
                raise FileProblem("первая строка файла должна быть заголовком (названия столбцов)")
            headers = [cell_text(c).lstrip("\ufeff") for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            if len(headers) > MAX_COLUMNS:
                raise FileProblem(f"слишком много столбцов (больше {MAX_COLUMNS})")
            continue
        if all(is_blank(c) for c in cells):
            continue  # empty rows (Excel keeps formatted ones) are not data
        if len(rows) >= MAX_ROWS:
            raise FileProblem(f"в файле больше {MAX_ROWS} строк: разделите его на части")
        rows.append((number, cells))
    if not headers:
        raise FileProblem("файл пуст: нет строки заголовка")
    return Table(headers, rows)


def read_table(filename: str, data: bytes) -> Table:
    if extension(filename) == "xlsx":
        return read_xlsx(data)
    return read_csv(data)
