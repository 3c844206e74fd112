"""Reading the files offices produce: Excel's CSV (``;``, ``,`` or tab; Windows-1251, UTF-8
or UTF-16) and XLSX workbooks, into a :class:`Table` of raw cells, within the
:mod:`.bounds` (the one reader of uploaded tables: the core's imports and plugins' use it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cci.collection.imports import workbook
from cci.collection.imports.bounds import BOUNDS
from cci.collection.imports.bounds import Bounds
from cci.collection.imports.bounds import Guard
from cci.collection.imports.cells import cell_text
from cci.collection.imports.cells import is_blank
from cci.collection.imports.errors import FileProblem
from cci.foundation import jobs

EXTENSIONS = ("csv", "xlsx")
#: rows with data in one file; a bigger one is refused before anything is validated
MAX_ROWS = BOUNDS.rows


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
    header = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(sep for sep in (";", "\t", ",") if counts[sep] == best)


def _lines(text: str, bounds: Bounds) -> Iterator[str]:
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > bounds.line_chars:
            raise FileProblem(f"строка {number} текста файла длиннее {bounds.line_chars} "
                              f"символов: это не похоже на таблицу")
        yield line


QUOTE_ADVICE = "Закройте кавычку или удалите её (кавычка внутри значения пишется двойной: \"\")."


class _Records:
    """The CSV's records, remembering the text line where the next one starts."""

    def __init__(self, text: str, delimiter: str, bounds: Bounds):
        # strict: a quote that closes in the middle of a value is an error, not data
        self.reader = csv.reader(_lines(text, bounds), delimiter=delimiter, strict=True)
        self.delimiter = delimiter
        self.count = 0
        self.next_line = 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        width = 0
        for record in self.reader:
            self.count += 1
            if self.count == 1:
                width = len(record)
            elif width > 1:
                self._check_swallowed(record, width)
            self.next_line = self.reader.line_num + 1
            yield self.count, record

    def _check_swallowed(self, record: list[str], width: int) -> None:
        """A quoted value whose later lines hold a whole row (as many separators as the
        header) swallowed that row: its quote was not closed where the value ended."""
        for value in record:
            if "\n" not in value and "\r" not in value:
                continue
            for line in value.splitlines()[1:]:
                if line.count(self.delimiter) >= width - 1:
                    raise FileProblem(
                        f"значение в кавычках, открытое в этой строке, захватило следующую "
                        f"строку файла целиком: кавычка не закрыта там, где кончается значение. "
                        f"{QUOTE_ADVICE}", row=self.count)


def quote_opened_at(lines: list[str], delimiter: str) -> int | None:
    """The index of the line where a quoted value opens that never closes, or closes in the
    middle of a value (``"abc"def``); ``None`` when the quotes are right."""
    quoted, opened, field_start = False, 0, True
    for index, line in enumerate(lines):
        position = 0
        while position < len(line):
            char = line[position]
            if quoted:
                if char == '"':
                    if line.startswith('"', position + 1):  # a doubled quote is a quote
                        position += 2
                        continue
                    quoted = False
                    if line[position + 1:position + 2] not in (delimiter, "\r", "\n", ""):
                        return opened
            elif char == '"' and field_start:
                quoted, opened = True, index
            field_start = not quoted and char in (delimiter, "\r", "\n")
            position += 1
    return opened if quoted else None


def _csv_problem(text: str, records: _Records, delimiter: str, exc: csv.Error,
                 bounds: Bounds) -> FileProblem:
    row, first_line = records.count + 1, records.next_line
    lines = io.StringIO(text, newline="").readlines()[first_line - 1:]
    opened = quote_opened_at(lines, delimiter)
    if opened is not None:
        line = first_line + opened
        where = "" if line == row else f" (строка {line} текста файла)"
        return FileProblem(
            f"кавычка, открытая в этой строке{where}, не закрыта там, где кончается значение: "
            f"значение поглотило бы следующие строки. {QUOTE_ADVICE}", row=row)
    if "field larger than field limit" in str(exc):
        return FileProblem(f"в ячейке больше {bounds.cell_chars} символов", row=row)
    return FileProblem(f"CSV не читается начиная с этой строки ({exc})", row=row)


def read_csv(data: bytes, bounds: Bounds = BOUNDS, guard: Guard | None = None) -> Table:
    guard = guard or Guard(bounds)
    text = decode_csv(data)
    if "\x00" in text:
        raise FileProblem("файл не похож на CSV (двоичные данные)")
    delimiter = detect_delimiter(text)
    records = _Records(text, delimiter, bounds)
    try:
        return _table(records, bounds, guard)
    except csv.Error as exc:
        raise _csv_problem(text, records, delimiter, exc, bounds) from None


def read_xlsx(data: bytes, bounds: Bounds = BOUNDS, guard: Guard | None = None) -> Table:
    guard = guard or Guard(bounds)
    workbook.prescan(data, bounds, guard)
    try:
        return _table(workbook.sheet_rows(data), bounds, guard)
    except (FileProblem, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds for a damaged workbook
        raise FileProblem(f"файл не читается как XLSX: {str(exc)[:200]}") from None


def _table(numbered_rows: Iterable[tuple[int, Any]], bounds: Bounds, guard: Guard) -> Table:
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    cells = 0
    for number, raw in numbered_rows:
        guard.check()
        if number > bounds.extent_rows:
            raise FileProblem(f"в файле больше {bounds.extent_rows} строк (считая пустые): "
                              f"удалите лишние строки или разделите файл", row=number)
        row = list(raw)
        cells += len(row)
        if cells > bounds.cells:
            raise FileProblem(f"в файле больше {bounds.cells} ячеек (считая пустые): "
                              f"разделите его на части", row=number)
        _check_cells(number, row, bounds)
        if headers is None:
            if number > 1 and not any(not is_blank(c) for c in row):
                continue
            if number != 1:
                raise FileProblem("первая строка файла должна быть заголовком (названия столбцов)")
            headers = [cell_text(c).lstrip("\ufeff") for c in row]
            while headers and not headers[-1]:
                headers.pop()
            continue
        if all(is_blank(c) for c in row):
            continue  # empty rows (Excel keeps formatted ones) are not data
        if len(rows) >= bounds.rows:
            raise FileProblem(f"в файле больше {bounds.rows} строк: разделите его на части",
                              row=number)
        rows.append((number, row))
    if not headers:
        raise FileProblem("файл пуст: нет строки заголовка")
    guard.check_memory()
    return Table(headers, rows)


def _check_cells(number: int, row: list[Any], bounds: Bounds) -> None:
    if len(row) > bounds.columns and any(not is_blank(c) for c in row[bounds.columns:]):
        raise FileProblem(f"в строке больше {bounds.columns} столбцов", row=number)
    for cell in row:
        if isinstance(cell, str) and len(cell) > bounds.cell_chars:
            raise FileProblem(f"в ячейке больше {bounds.cell_chars} символов", row=number)


def read_table(filename: str, data: bytes, bounds: Bounds = BOUNDS) -> Table:
    """The table of an uploaded file, within the bounds; raises :class:`FileProblem`.

    In a job, a process that dies while reading (killed for memory, say) does not read the
    file again on its retry: the retry refuses it (:func:`cci.foundation.jobs.reading_input`).
    """
    try:
        with jobs.reading_input():
            if extension(filename) == "xlsx":
                return read_xlsx(data, bounds)
            return read_csv(data, bounds)
    except FileProblem:
        raise
    except jobs.InputError as exc:
        raise FileProblem(str(exc)) from None
    except MemoryError:
        raise FileProblem("файл слишком велик, чтобы прочитать его в памяти: разделите его "
                          "на части") from None
