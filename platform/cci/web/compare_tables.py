"""The comparison of two methodology versions as a table of numbers (CSV and XLSX, in the
federal overview's style: numbers as numbers, a formatted header, frozen panes, provenance on
a sheet of its own), and as the API's JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from cci.index.comparison import VersionComparison
from cci.index.comparison import rank_label
from cci.web import federal_tables
from cci.web.version_words import indicator_words


def region_columns(c: VersionComparison) -> list[tuple[str, str]]:
    a, b = c.a.indicator_set.title, c.b.indicator_set.title
    return [(_("Code"), "text"), (_("Region"), "text"),
            (_("Index, %(version)s", version=a), "index"),
            (_("Rank, %(version)s", version=a), "text"),
            (_("Index, %(version)s", version=b), "index"),
            (_("Rank, %(version)s", version=b), "text"),
            (_("Difference of the index"), "index"), (_("Places gained"), "int")]


def region_rows(c: VersionComparison) -> list[list[Any]]:
    return [[r.code, r.name, r.a.value if r.a else None, rank_label(r.rank_a),
             r.b.value if r.b else None, rank_label(r.rank_b), r.difference, r.rank_change]
            for r in c.regions]


def indicator_columns(c: VersionComparison) -> list[tuple[str, str]]:
    a, b = c.a.indicator_set.title, c.b.indicator_set.title
    return [(_("Indicator"), "text"), (_("Title"), "text"), (_("What differs"), "text"),
            (_("Federation, %(version)s", version=a), "share"),
            (_("Federation, %(version)s", version=b), "share"),
            (_("Difference"), "share")]


def indicator_rows(c: VersionComparison) -> list[list[Any]]:
    return [[i.code, i.title, " ".join(indicator_words(i, c.diff)) or _("nothing"),
             i.a.value if i.a else None, i.b.value if i.b else None, i.difference]
            for i in c.indicators]


def _sheets(c: VersionComparison) -> list[tuple[str, list[tuple[str, str]], list[list[Any]]]]:
    sheets = [(_("Regions"), region_columns(c), region_rows(c))]
    if c.indicators:
        sheets.append((_("Indicators"), indicator_columns(c), indicator_rows(c)))
    return sheets


def export_csv(c: VersionComparison) -> str:
    """The regions, then (for the federal reader) the indicators after an empty line."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    for position, (_title, header, rows) in enumerate(_sheets(c)):
        if position:
            writer.writerow([])
        writer.writerow([label for label, _kind in header])
        kinds = [kind for _label, kind in header]
        for row in rows:
            writer.writerow([federal_tables.csv_cell(v, k)
                             for v, k in zip(row, kinds, strict=True)])
    return out.getvalue()


def export_xlsx(c: VersionComparison) -> bytes:
    book = Workbook()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    for position, (title, header, rows) in enumerate(_sheets(c)):
        sheet = book.active if position == 0 else book.create_sheet()
        assert sheet is not None  # a new workbook has its sheet
        sheet.title = title
        sheet.append([label for label, _kind in header])
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            sheet.append(row)
        for index, (_label, kind) in enumerate(header, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = 40 if kind == "text" and index > 1 else 14
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = federal_tables.FORMATS[kind]
        sheet.freeze_panes = "C2"
    about = book.create_sheet(_("Provenance"))
    for overview in (c.a, c.b):
        for label, value in federal_tables.provenance(overview, {}):
            about.append([label, value])
        about.append([])
    for cell in about["A"]:
        cell.font = bold
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rank(rank: tuple[int, int] | None) -> dict | None:
    return {"best": rank[0], "worst": rank[1]} if rank else None


def comparison_json(c: VersionComparison, regions) -> dict:
    return {
        "a": {"methodology": c.a.run.methodology_key, "run": c.a.run.id,
              "federal_index": federal_tables.figure_brief(c.a.index)},
        "b": {"methodology": c.b.run.methodology_key, "run": c.b.run.id,
              "federal_index": federal_tables.figure_brief(c.b.index)},
        "regions": [{"region": r.code, "name": r.name,
                     "a": federal_tables.figure_brief(r.a), "b": federal_tables.figure_brief(r.b),
                     "rank_a": _rank(r.rank_a), "rank_b": _rank(r.rank_b),
                     "difference": r.difference, "places_gained": r.rank_change}
                    for r in regions],
        "indicators": [{"code": i.code, "title": i.title, "status": i.status,
                        "differs": indicator_words(i, c.diff),
                        "a": federal_tables.figure_brief(i.a),
                        "b": federal_tables.figure_brief(i.b), "difference": i.difference}
                       for i in c.indicators],
    }
