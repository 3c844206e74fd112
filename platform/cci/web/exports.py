"""A table of numbers as people take it away: CSV and XLSX from one description.

A table is described once — its columns (a label and a kind), its rows of plain values, a
title and where its numbers come from — and written as:

* CSV as Excel opens it in Russia: UTF-8 with a byte-order mark (so Cyrillic reads), semicolons,
  numbers with a decimal comma and full precision (so they are numbers, not text);
* XLSX (XlsxWriter, rows streamed as written): a formatted header, frozen panes, a number
  format per column kind, column widths from the content, and the provenance on a sheet of its
  own.

``response`` sends either with a file name that is safe in a header and still reads in Russian
(an ASCII fallback and the UTF-8 name of RFC 6266).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import quote

import xlsxwriter
from flask import Response
from flask_babel import gettext as _
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.web import moments
from cci.web import numbers
from cci.web.numbers import DASH

#: Excel's number format of each kind of column. ``share`` and ``percent`` hold a fraction
#: (0.716), shown as «72%» and «71.6%»; ``index`` is a 0–100 index at one decimal; ``number``
#: is any number at its own precision; ``moment`` an aware datetime shown in the reader's zone.
FORMATS = {
    "text": "@", "int": "#,##0", "index": "0.0", "number": "General", "share": "0%",
    "percent": "0.0%", "date": "DD.MM.YYYY", "moment": "DD.MM.YYYY HH:MM",
}
KINDS = frozenset(FORMATS)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: without a charset: Flask adds «; charset=utf-8» to a text/* mimetype itself
CSV_MIMETYPE = "text/csv"

HEADER_COLOUR = "#DCE6F1"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_WIDTH_SAMPLE = 500  # rows read to size the columns: a long table is not measured whole


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"
    width: float | None = None  # characters; None: from the label and the values

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Table:
    """A table to export. ``rows`` hold plain values in the columns' order (None: no value);
    ``provenance`` is (label, value) pairs, e.g. from ``run_provenance``; ``freeze_columns``
    keep the first columns in view beside the header; ``bold_rows`` (0-based) stand out,
    e.g. a total line."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    provenance: Sequence[tuple[str, Any]] = ()
    freeze_columns: int = 0
    bold_rows: frozenset[int] = field(default_factory=frozenset)


def run_provenance(run: ComputationRun, campaign: Campaign, *, methodology_title: str = "",
                   filters: dict[str, Any] | None = None, on_page: bool = False
                   ) -> list[tuple[str, Any]]:
    """Where a run's numbers come from: the campaign, the methodology version and its
    parameters, the run, the data it read (its fingerprint) and when it was computed —
    in the reader's local time. ``on_page``: the lines a page shows in words (the version's
    title without its key, no parameters or filters: the page shows those its own way)."""
    version = run.parameters.get("version", "")
    methodology = ", ".join(part for part in (run.methodology_key, str(version or "")) if part)
    shown = {key: value for key, value in (filters or {}).items()
             if value not in (None, "", [], ())}
    lines = [
        (_("Campaign"), campaign.name),
        (_("Period"), f"{campaign.starts_on.strftime('%d.%m.%Y')} — "
                      f"{campaign.ends_on.strftime('%d.%m.%Y')}"),
        (_("Methodology"), methodology_title if on_page and methodology_title
         else f"{methodology_title} ({methodology})" if methodology_title else methodology),
        (_("Run"), run.id),
        (_("Computed by"), f"{run.plugin_package} {run.plugin_version}".strip() or DASH),
        (_("Time of the computation"),
         moments.local_time(run.finished_at) if run.finished_at else DASH),
        (_("Published"), moments.local_time(run.published_at) if run.published_at else DASH),
        (_("Data fingerprint"), run.input_fingerprint or DASH),
    ]
    if not on_page:
        lines += [
            (_("Parameters"), "\n".join(f"{k} = {plain(v)}"
                                        for k, v in sorted(run.parameters.items())) or DASH),
            (_("Filters"), ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or DASH),
        ]
    return lines


def plain(value: Any, inner: bool = False) -> str:
    """A stored value (a parameter: a number, a list, a mapping) in words and Russian numbers,
    never as code: «90; 80; 70», «(0,9; 0,75)», «1: 2 · 2: 1 · 3: 0,5»."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return numbers.number(value, 3, trim=True)
    if isinstance(value, dict):
        return " · ".join(f"{key}: {plain(item, True)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        text = "; ".join(plain(item, True) for item in value)
        return f"({text})" if inner and len(value) > 1 else text
    return DASH if value is None else str(value)


# --- CSV ------------------------------------------------------------------------------------


def _csv_cell(value: Any, kind: str) -> str:
    """A value as Russian Excel reads it from a CSV: a number with a decimal comma, no
    thousands separator, full precision (rounding is the reader's); a date as «07.12.2026»."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return repr(round(value, 6)).replace(".", ",")
    if isinstance(value, dt.datetime):
        return moments.local_time(value, with_zone=False) if kind == "moment" \
            else value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def to_csv(table: Table) -> str:
    """The header and the rows (the provenance is the XLSX's and the file name's: a CSV holds
    one table, and a reader parsing it expects nothing below it)."""
    kinds = [column.kind for column in table.columns]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, kinds, strict=True)])
    return out.getvalue()


# --- XLSX -----------------------------------------------------------------------------------


def sheet_title(text: str) -> str:
    """A sheet's name as Excel allows it: at most 31 characters, none of []:*?/\\."""
    return _SHEET_FORBIDDEN.sub(" ", text).strip()[:31].rstrip(" ·,;-") or "1"


def _xlsx_value(value: Any, kind: str) -> Any:
    if isinstance(value, dt.datetime):
        if kind == "moment" or value.tzinfo is not None:
            # Excel has no zones: the moment as the reader's clock shows it
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            zone = moments.region_zone(moments.reader_region())
            return value.astimezone(zone).replace(tzinfo=None)
        return value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def _width(column: Column, sample: list[Sequence[Any]], position: int) -> float:
    if column.width is not None:
        return column.width
    longest_word = max((len(word) for word in column.label.split()), default=0)
    header = max(longest_word, min(len(column.label), 18))
    values = 0
    for row in sample:
        value = row[position]
        if value is None:
            continue
        if isinstance(value, float):
            values = max(values, 8)
        elif isinstance(value, dt.datetime):
            values = max(values, 16)
        else:
            values = max(values, max(len(line) for line in str(value).splitlines() or [""]))
    return float(min(60, max(8, header, values) + 2))


class _Formats:
    """The workbook's cell formats, each registered once and shared by every cell that has
    it (a format per cell would make the file's style table as long as the table)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.made: dict[tuple[str | None, bool, bool], Format] = {}
        self.header = book.add_format({"bold": True, "bg_color": HEADER_COLOUR,
                                       "text_wrap": True, "valign": "top"})

    def get(self, number_format: str | None = None, bold: bool = False,
            wrap: bool = False) -> Format:
        key = (number_format, bold, wrap)
        found = self.made.get(key)
        if found is None:
            properties: dict[str, Any] = {"bold": bold}
            if number_format:
                properties["num_format"] = number_format
            if wrap:
                properties.update(text_wrap=True, valign="top")
            found = self.made[key] = self.book.add_format(properties)
        return found


def to_xlsx(table: Table) -> bytes:
    return to_xlsx_book([table], table.provenance, title=table.title)


def to_xlsx_book(tables: Sequence[Table], provenance: Sequence[tuple[str, Any]] = (),
                 title: str = "") -> bytes:
    """Several tables as one workbook, a sheet each (in order, names kept unique), and one
    provenance sheet: tables exported together come from the same run."""
    out = io.BytesIO()
    # constant memory: rows stream to the file as they are written; a text cell is text,
    # never a formula, a link or a number Excel guessed from it (a comment starting with «=»)
    book = xlsxwriter.Workbook(out, {
        "in_memory": True, "constant_memory": True, "strings_to_formulas": False,
        "strings_to_urls": False, "strings_to_numbers": False, "nan_inf_to_errors": True})
    formats = _Formats(book)
    taken: set[str] = set()
    for table in tables:
        name = sheet_title(table.title)
        for number in range(2, 1000):
            if name.casefold() not in taken:
                break
            suffix = f" ({number})"
            name = sheet_title(table.title)[:31 - len(suffix)] + suffix
        taken.add(name.casefold())
        _write_table(book.add_worksheet(name), table, formats)
    contents = [(_("Table"), title)] if title else [
        (_("Sheet"), table.title) for table in tables]
    _provenance_sheet(book, formats, [*contents, *provenance])
    book.close()
    return out.getvalue()


def _write_table(sheet: Worksheet, table: Table, formats: _Formats) -> None:
    rows = table.rows if isinstance(table.rows, list) else list(table.rows)
    sample = rows[:_WIDTH_SAMPLE]
    for position, column in enumerate(table.columns):
        sheet.set_column(position, position, _width(column, sample, position))
    sheet.freeze_panes(1, table.freeze_columns)
    for position, column in enumerate(table.columns):
        sheet.write_string(0, position, column.label, formats.header)
    kinds = [column.kind for column in table.columns]
    plain_formats = [formats.get(FORMATS[kind]) for kind in kinds]
    for number, row in enumerate(rows):
        bold = number in table.bold_rows
        for position, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            value = _xlsx_value(value, kind)
            wrap = isinstance(value, str) and "\n" in value
            cell_format = (formats.get(FORMATS[kind], bold, wrap) if bold or wrap
                           else plain_formats[position])
            if value is None:
                sheet.write_blank(number + 1, position, None, cell_format)
            else:
                sheet.write(number + 1, position, value, cell_format)


def _provenance_sheet(book: xlsxwriter.Workbook, formats: _Formats,
                      lines: Sequence[tuple[str, Any]]) -> None:
    about = book.add_worksheet(sheet_title(_("Provenance")))
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 90)
    label_format = formats.get(bold=True)
    for number, (label, value) in enumerate(
            [*lines, (_("Exported"), moments.local_time(dt.datetime.now(dt.UTC)))]):
        about.write_string(number, 0, str(label), label_format)
        if isinstance(value, str):
            about.write_string(number, 1, value, formats.get("@", wrap=True))
        elif value is not None:
            about.write(number, 1, value)


# --- on a page ------------------------------------------------------------------------------


def display(value: Any, kind: str) -> str:
    """A cell as a page shows it, in the Russian format of the numbers' filters: «71,6»,
    «72 %», «1 234», «—» for no value."""
    if value is None or value == "":
        return DASH if kind != "text" else ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if kind == "index":
        return numbers.index(value)
    if kind == "share":
        return numbers.percent(value)
    if kind == "percent":
        return numbers.percent(value, 1)
    if kind == "int":
        return numbers.number(value)
    if kind == "number" and isinstance(value, int | float):
        return numbers.number(value, 3, trim=True)
    if kind == "moment" and isinstance(value, dt.datetime):
        return moments.local_time(value)
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value)


# --- the response ---------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """A file name's ASCII form for the plain ``filename=``: letters, digits, «.-_» only."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return ascii_name or "table"


def response(table: Table, fmt: str, name: str) -> Response:
    """The table as a download: ``fmt`` is "csv" or "xlsx"; ``name`` without its extension
    (any characters: the header carries an ASCII fallback and the UTF-8 name)."""
    if fmt == "csv":
        body: str | bytes = to_csv(table)
        mimetype = CSV_MIMETYPE
    elif fmt == "xlsx":
        body = to_xlsx(table)
        mimetype = XLSX_MIMETYPE
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return download(body, mimetype, f"{name}.{fmt}")


def download(body: str | bytes, mimetype: str, filename: str) -> Response:
    """A file to save: an ASCII ``filename`` every client reads and ``filename*`` (RFC 6266)
    that keeps the Russian name where the client reads it."""
    disposition = f'attachment; filename="{safe_filename(filename)}"'
    if safe_filename(filename) != filename:
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})
