"""`python -m bench.import_bounds`: what reading an uploaded file costs, bombs and the largest
files the bounds accept, each read in a forked process of its own (its time and its peak
memory above what it started with). No database: the parse alone, as the import job runs it.

Prints one line per file: its size, what the reader answered, seconds and peak memory.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import sys
import time
import zipfile

from cci.collection.imports import files
from cci.collection.imports.bounds import resident_bytes
from cci.collection.imports.errors import FileProblem

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def workbook(dimension: str | None, rows, extra: tuple[str, int] | None = None) -> bytes:
    """An XLSX written part by part: ``rows`` yields the sheet's ``<row>`` XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>'))
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                         f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                         f'</Relationships>')
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                         f'<sheet name="1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">'
                         f'<Relationship Id="rId1" Type="{REL}/worksheet" '
                         f'Target="worksheets/sheet1.xml"/></Relationships>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            dim = f'<dimension ref="{dimension}"/>' if dimension else ""
            sheet.write(f'<worksheet xmlns="{MAIN}">{dim}<sheetData>'.encode())
            for chunk in rows:
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
        if extra:
            name, size = extra
            with archive.open(name, "w", force_zip64=True) as part:
                for _ in range(size // 2**20):
                    part.write(b"\0" * 2**20)
    return buffer.getvalue()


def header(columns: int) -> str:
    cells = "".join(f'<c r="{col}1" t="inlineStr"><is><t>c{col}</t></is></c>'
                    for col in _letters(columns))
    return f'<row r="1">{cells}</row>'


def _letters(columns: int) -> list[str]:
    out = []
    for number in range(1, columns + 1):
        letters = ""
        while number:
            number, rest = divmod(number - 1, 26)
            letters = chr(65 + rest) + letters
        out.append(letters)
    return out


def repeated(template: str, start: int, count: int, block: int = 10_000):
    yield header(2)
    for first in range(start, start + count, block):
        yield "".join(template.format(n=n) for n in range(first, min(first + block,
                                                                      start + count)))


def largest_xlsx(rows: int, columns: int) -> bytes:
    letters = _letters(columns)

    def body():
        yield header(columns)
        for first in range(2, rows + 2, 1000):
            yield "".join(
                f'<row r="{n}">' + "".join(
                    f'<c r="{col}{n}"><v>{n % 11}</v></c>' if i % 2 else
                    f'<c r="{col}{n}" t="inlineStr"><is><t>т{n}</t></is></c>'
                    for i, col in enumerate(letters)) + "</row>"
                for n in range(first, min(first + 1000, rows + 2)))
    return workbook(f"A1:{letters[-1]}{rows + 1}", body())


def largest_csv(rows: int, columns: int) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([f"c{i}" for i in range(columns)])
    for n in range(rows):
        writer.writerow([n % 11 if i % 2 else f"т{n}" for i in range(columns)])
    return buffer.getvalue().encode("cp1251")


CASES = {
    "declared A1:XFD1048576 (the auditor's 6 KB kind)":
        lambda: ("x.xlsx", workbook("A1:XFD1048576", repeated('<row r="{n}"/>', 2, 100))),
    "1,000,000 empty rows, dimension A1:B2":
        lambda: ("x.xlsx", workbook("A1:B2", repeated('<row r="{n}"/>', 2, 1_000_000))),
    "20,000 rows reaching column XFD":
        lambda: ("x.xlsx", workbook(None, repeated('<row r="{n}"><c r="XFD{n}"/></row>', 2,
                                                   20_000))),
    "a part declaring 300 MB unpacked":
        lambda: ("x.xlsx", workbook(None, repeated("", 2, 0), ("xl/media/x.bin", 300 * 2**20))),
    "a CSV line of 3,000,000 separators":
        lambda: ("x.csv", b"a;b\r\n" + b";" * 3_000_000),
    "largest accepted XLSX: 50,000 rows x 13 columns":
        lambda: ("x.xlsx", largest_xlsx(50_000, 13)),
    "largest accepted CSV: 50,000 rows x 13 columns":
        lambda: ("x.csv", largest_csv(50_000, 13)),
}


def measure(name: str) -> None:
    filename, data = CASES[name]()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reads the file and reports through the pipe
        os.close(read)
        base = resident_bytes() or 0
        started = time.monotonic()
        try:
            table = files.read_table(filename, data)
            answer = f"read: {len(table.rows)} rows"
        except FileProblem as exc:
            answer = f"refused: {str(exc)[:90]}"
        seconds = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
        os.write(write, f"{answer}|{seconds:.2f}|{max(peak, 0) / 2**20:.0f}".encode())
        os._exit(0)
    os.close(write)
    answer, seconds, peak = os.read(read, 4096).decode().split("|")
    os.waitpid(pid, 0)
    print(f"{name}: {len(data) / 1024:,.0f} KB -> {answer}; {seconds} s, +{peak} MB",
          flush=True)


def main() -> None:
    for name in sys.argv[1:] or CASES:
        measure(name)


if __name__ == "__main__":
    main()
