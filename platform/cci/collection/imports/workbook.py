"""Reading an XLSX workbook within the :mod:`.bounds`: its zip and XML are measured first, as
they stream, and only a workbook within every bound is handed to openpyxl (read-only).

openpyxl alone would trust the file: a sheet's rows are padded to their last cell (a cell in
column XFD makes each row 16,384 cells), missing rows are filled in, and a sheet without a
``dimension`` record is parsed whole into memory just to size it. The pre-scan (expat, in
constant memory) refuses all of that from the XML itself: a declared dimension, row numbers,
cell columns, cells and elements past their bounds (in all, in one row or shared string, and
in what openpyxl reads whole: styles, merged cells), a DTD, and the bytes actually unpacked.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from cci.collection.imports.bounds import Bounds
from cci.collection.imports.bounds import Guard
from cci.collection.imports.errors import FileProblem

CHUNK = 64 * 1024
#: the namespace of sheet cells openpyxl reads, in whatever part the workbook puts a sheet
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
_CELL_REF = re.compile(r"\$?([A-Za-z]+)\$?(\d*)")
_UNREADABLE = "файл не читается как XLSX (книга Excel)"


def column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


#: what openpyxl reads one at a time (a sheet's row, a shared string); the rest of a part
#: (styles, merged cells, relations) it reads whole
ITEMS = ("row", "si")


class _Scan:
    """Counts what a workbook's XML parts hold, refusing at the first bound passed."""

    def __init__(self, bounds: Bounds):
        self.bounds = bounds
        self.elements = 0
        self.cells = 0
        self.unpacked = 0
        self.row = self.column = 0
        self.depth = self.item_depth = self.item_elements = self.part_elements = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.elements > self.bounds.elements:
            raise FileProblem(f"книга слишком сложна: больше {self.bounds.elements} элементов "
                              f"XML — сохраните её заново или как CSV")
        local = name[len(SHEET_NS):] if name.startswith(SHEET_NS) else None
        self._count(local)
        if local == "c":
            self._cell(attrs.get("r"))
        elif local == "row":
            number = attrs.get("r")
            self.row = int(number) if number and number.isdigit() else self.row + 1
            self.column = 0
            if self.row > self.bounds.extent_rows:
                raise FileProblem(f"на листе больше {self.bounds.extent_rows} строк (считая "
                                  f"пустые): удалите лишние строки или разделите файл",
                                  row=self.bounds.extent_rows + 1)
        elif local == "dimension":
            self._dimension(attrs.get("ref") or "")

    def _count(self, local: str | None) -> None:
        if self.item_depth:
            self.item_elements += 1
            if self.item_elements > self.bounds.row_elements:
                raise FileProblem(f"строка листа или текст ячейки слишком сложны: больше "
                                  f"{self.bounds.row_elements} элементов XML — сохраните файл "
                                  f"заново или как CSV", row=self.row or None)
        elif local in ITEMS:
            self.item_depth, self.item_elements = self.depth, 1
        else:
            self.part_elements += 1
            if self.part_elements > self.bounds.part_elements:
                raise FileProblem(f"книга слишком сложна: в одной её части больше "
                                  f"{self.bounds.part_elements} элементов XML вне строк листа "
                                  f"(стили, объединения ячеек…) — сохраните её заново или как "
                                  f"CSV")

    def end(self, _name: str) -> None:
        if self.depth == self.item_depth:
            self.item_depth = 0
        self.depth -= 1

    def _cell(self, ref: str | None) -> None:
        self.cells += 1
        if self.cells > self.bounds.cells:
            raise FileProblem(f"в книге больше {self.bounds.cells} ячеек (считая пустые): "
                              f"разделите файл на части", row=self.row)
        match = _CELL_REF.match(ref or "")
        self.column = column_number(match.group(1)) if match else self.column + 1
        if self.column > self.bounds.columns:
            raise FileProblem(f"ячейка {ref or ''} — дальше {self.bounds.columns}-го столбца: "
                              f"удалите лишние столбцы", row=self.row)

    def _dimension(self, ref: str) -> None:
        match = _CELL_REF.fullmatch(ref.rpartition(":")[2])
        if not match:
            return
        columns = column_number(match.group(1))
        rows = int(match.group(2) or 0)
        if rows > self.bounds.extent_rows or columns > self.bounds.columns:
            raise FileProblem(f"лист объявляет размер {ref} ({rows} строк × {columns} "
                              f"столбцов), больше допустимого ({self.bounds.extent_rows} строк, "
                              f"{self.bounds.columns} столбцов): удалите лишние строки и "
                              f"столбцы или сохраните файл заново")

    def part(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, guard: Guard) -> None:
        """Stream one XML part through expat, counting its bytes as they unpack (any part
        may be a sheet: the workbook's relations name them, so each is measured as one)."""
        self.row = self.column = 0
        self.depth = self.item_depth = self.part_elements = 0
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.StartDoctypeDeclHandler = _no_doctype
        with archive.open(info) as stream:
            first = stream.read(CHUNK)
            if not _looks_like_xml(first):
                return  # an image or other binary part: openpyxl does not parse it
            chunk = first
            while chunk:
                self.unpacked += len(chunk)
                if self.unpacked > self.bounds.unpacked_bytes:
                    raise _too_big(self.bounds)
                guard.check()
                parser.Parse(chunk, False)
                chunk = stream.read(CHUNK)
            parser.Parse(b"", True)


def _looks_like_xml(start: bytes) -> bool:
    return start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") \
        or start.startswith((b"\xff\xfe", b"\xfe\xff"))


def _no_doctype(*_args) -> None:
    # spreadsheet XML never has one; a DTD is how entity bombs are declared
    raise FileProblem(f"{_UNREADABLE}: в XML есть DOCTYPE")


def _too_big(bounds: Bounds) -> FileProblem:
    return FileProblem(f"файл XLSX после распаковки больше "
                       f"{bounds.unpacked_bytes // 2**20} МБ: разделите его на части")


def prescan(data: bytes, bounds: Bounds, guard: Guard) -> None:
    """Refuse a workbook that would expand past the bounds; it is not parsed otherwise."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > bounds.unpacked_bytes:
                raise _too_big(bounds)
            scan = _Scan(bounds)
            for info in infos:
                if not info.is_dir():
                    scan.part(archive, info, guard)
    except FileProblem:
        raise
    except expat.ExpatError as exc:
        raise FileProblem(f"{_UNREADABLE}: повреждённый XML ({expat.ErrorString(exc.code)})") \
            from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError, NotImplementedError, RuntimeError):
        # a damaged, encrypted or oddly compressed archive
        raise FileProblem(_UNREADABLE) from None


#: Sheets of the import templates that hold no data: an example, instructions, the lists the
#: data validation offers. A workbook's data sheet is its first visible sheet not named so.
EXAMPLE_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET = "Пример", "Инструкция", "Списки"
HELP_SHEETS = (EXAMPLE_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET, "Справка")  # and the earlier one


def is_help_sheet(title: str) -> bool:
    return title.strip().lower().replace("ё", "е") in {name.lower() for name in HELP_SHEETS}


def data_sheet(worksheets: list) -> Any:
    """The sheet an import reads: the first visible one that is not a template's example,
    instructions or lists (so the example rows are never imported)."""
    for sheet in worksheets:
        if getattr(sheet, "sheet_state", "visible") == "visible" and not is_help_sheet(
                sheet.title):
            return sheet
    raise FileProblem("в книге нет листа с данными (листы «Пример» и «Инструкция» не "
                      "загружаются)")


def sheet_rows(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The data sheet's rows (:func:`data_sheet`), numbered as Excel numbers them (call
    :func:`prescan` first)."""
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # workbooks from other programs lack default styles; openpyxl warns about it
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise FileProblem("в книге нет листов с таблицей")
        sheet = data_sheet(workbook.worksheets)
        sheet.reset_dimensions()  # trust the cells (bounded by the pre-scan), not the record
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()
