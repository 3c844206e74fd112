"""What an uploaded file may expand to while it is read, for every file parser (the core's
imports and any plugin's, through :func:`cci.collection.imports.read_table`).

A small file can unpack to gigabytes: an XLSX is a zip of XML, and a sheet may declare a
million rows or a cell in column XFD, which the reader would fill with empty cells. So the
bounds are on what reading builds and costs — rows (blank ones too), columns, cells, the
characters of a cell and of a CSV line, the unpacked bytes and XML elements of a workbook,
time and memory — each checked as the file streams, and a file beyond one is refused with a
Russian message before it costs more (:class:`Guard`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

from cci.collection.imports.errors import FileProblem


@dataclass(frozen=True)
class Bounds:
    #: rows with data (a bigger file is to be split)
    rows: int = 50_000
    #: rows a sheet or CSV may reach, blank ones included (Excel keeps formatted empty rows)
    extent_rows: int = 100_000
    #: columns of the header, and the column of any cell in a sheet
    columns: int = 500
    #: cells read, blank ones included
    cells: int = 1_500_000
    #: characters of one cell (Excel's own limit)
    cell_chars: int = 32_767
    #: characters of one CSV line (so a line of separators cannot become millions of cells)
    line_chars: int = 1_000_000
    #: bytes all parts of an XLSX unpack to, counted as they are unpacked
    unpacked_bytes: int = 256 * 1024 * 1024
    #: XML elements in all parts of an XLSX
    elements: int = 8_000_000
    #: XML elements in one sheet row or one shared string (read one at a time)
    row_elements: int = 50_000
    #: XML elements of one part outside its rows and shared strings (styles, merged cells,
    #: relations: read whole into memory)
    part_elements: int = 500_000
    #: wall-clock seconds to read a file
    seconds: float = 180.0
    #: growth of the process's resident memory while reading, in bytes
    memory_bytes: int = 1024 * 1024 * 1024

    def replace(self, **changes) -> Bounds:
        return dataclasses.replace(self, **changes)


#: the bounds every parser uses unless a test narrows them
BOUNDS = Bounds()

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """The process's resident memory now (Linux); ``None`` where it cannot be read cheaply."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class Guard:
    """Time and memory spent on one file, checked often and cheaply as it is read."""

    #: memory is read once in this many checks (reading it costs a system call)
    MEMORY_EVERY = 256

    def __init__(self, bounds: Bounds = BOUNDS):
        self.bounds = bounds
        self.deadline = time.monotonic() + bounds.seconds
        self.baseline = resident_bytes()
        self._checks = 0

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise FileProblem(f"файл не удалось прочитать за {self.bounds.seconds:g} с: он "
                              f"слишком велик или сложен — разделите его на части или сохраните "
                              f"заново как CSV")
        self._checks += 1
        if self.baseline is not None and self._checks % self.MEMORY_EVERY == 0:
            self.check_memory()

    def check_memory(self) -> None:
        now = resident_bytes()
        if self.baseline is not None and now is not None \
                and now - self.baseline > self.bounds.memory_bytes:
            raise FileProblem(f"файл при чтении занимает больше "
                              f"{self.bounds.memory_bytes // 2**20} МБ памяти: он слишком "
                              f"велик — разделите его на части")
