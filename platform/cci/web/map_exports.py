"""A journey map's grid as files: an XLSX sheet laid out as the slides (stages as merged
column heads, one column per touchpoint, the rows down the side) and a PDF on A3 landscape
(WeasyPrint, from the same print page people print from the browser)."""

from __future__ import annotations

import io
from pathlib import Path

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cci.foundation import journey_maps
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion

PRINT_CSS = Path(__file__).parent / "static" / "css" / "journey_map.css"


def xlsx(journey_map: JourneyMap, version: JourneyMapVersion) -> bytes:
    content = version.content
    columns = journey_maps.grid_columns(content)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Map")[:31]
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    status = _("published (a version)") if version.status == "published" else _("draft")
    sheet.append([f"{journey_map.title} · {_('version')} {version.number} ({status})"])
    sheet.append([content.get("service", "")])
    sheet["A1"].font = Font(bold=True, size=14)
    head = 3
    sheet.cell(head, 1, _("Stage")).font = bold
    col = 2
    for stage in content.get("stages", []):
        width = max(1, len(stage["touchpoints"]))
        cell = sheet.cell(head, col, stage["title"])
        cell.font, cell.alignment = bold, wrap
        goal = sheet.cell(head + 1, col, stage.get("citizen_goal", ""))
        goal.alignment = wrap
        if width > 1:
            sheet.merge_cells(start_row=head, start_column=col, end_row=head,
                              end_column=col + width - 1)
            sheet.merge_cells(start_row=head + 1, start_column=col, end_row=head + 1,
                              end_column=col + width - 1)
        col += width
    row_index = head + 1
    for key, label in journey_maps.ROWS:
        sheet.cell(row_index, 1, str(label)).font = bold
        if key != "citizen_goal":
            for offset, (_stage, touchpoint) in enumerate(columns):
                lines = journey_maps.cell_lines(touchpoint, key)
                text = "\n".join(lines if key == "touchpoints" else (f"• {x}" for x in lines))
                sheet.cell(row_index, 2 + offset, text).alignment = wrap
        row_index += 1
    sheet.column_dimensions["A"].width = 24
    for offset in range(len(columns)):
        sheet.column_dimensions[get_column_letter(2 + offset)].width = 40
    sheet.freeze_panes = f"B{head + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf(html: str) -> bytes:
    """The print page as a PDF, with the map's print stylesheet (A3 landscape)."""
    from weasyprint import CSS  # its system libraries load on first use, not at start-up
    from weasyprint import HTML

    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(PRINT_CSS))]) or b""
