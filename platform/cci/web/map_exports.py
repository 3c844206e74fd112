"""A journey map's grid as files: an XLSX sheet laid out as the slides (stages as merged
column heads, one column per touchpoint, the rows down the side) and a PDF on A3 landscape
(WeasyPrint, from the same print page people print from the browser)."""

from __future__ import annotations

import io
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cci.foundation import journey_maps
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.web.numbers import DASH
from cci.web.numbers import number
from cci.web.numbers import percent

PRINT_CSS = Path(__file__).parent / "static" / "css" / "journey_map.css"


def xlsx(journey_map: JourneyMap, version: JourneyMapVersion, figs: dict | None = None) -> bytes:
    """The grid as a sheet; with ``figs`` (cci.web.views.maps.figures) the metrics' cells
    carry their figures, the indicators they feed and the themes, as the page shows them."""
    content = version.content
    columns = journey_maps.grid_columns(content)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Map")[:31]
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    status = _("published (a version)") if version.status == "published" else _("draft")
    sheet.append([_("%(title)s · version %(n)s (%(status)s)", title=journey_map.title,
                    n=version.number, status=status)])
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
                if key == "metrics" and figs and touchpoint is not None:
                    text = "\n".join([metric_lines(touchpoint, figs),
                                      *extra_lines(touchpoint["code"], figs)])
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


STATUS_WORDS = {"green": _l("meets the target"),
                "amber": _l("below the target, within the margin of error"),
                "red": _l("below the target")}
TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def figure_text(metric, value: float | None) -> str:
    """A metric's value with its unit, as the pages write it (cx/_cell.html)."""
    if value is None:
        return DASH
    if metric.scale == "%":
        return f"{number(value, 1)} %"
    if metric.scale == "с":
        return f"{number(value, 0)} {_('s')}"
    if metric.kind == "balance":
        return number(value, 0, signed=True)
    return number(value, 2)


def cell_text(metric, cell) -> str:
    if cell.insufficient:
        return _("insufficient data (n = %(n)s)", n=number(cell.n, 0))
    text = f"{figure_text(metric, cell.value)}"
    if cell.arrow:
        text += f" {TREND_ARROWS[cell.arrow]}"
    text += f", n = {number(cell.n, 0)}"
    if cell.status:
        text += f"; {STATUS_WORDS[cell.status]}"
        if cell.target is not None:
            text += f" ({_('target')} {figure_text(metric, cell.target)})"
    return text


def metric_lines(touchpoint: dict, figs: dict) -> str:
    lines = []
    for item in touchpoint["metrics"]:
        metric = figs["metrics"].get(item["code"])
        cell = figs["cells"].get((touchpoint["code"], item["code"]))
        lines.append(f"• {item['title']}" + (f": {cell_text(metric, cell)}"
                                             if metric is not None and cell is not None else ""))
    return "\n".join(lines)


def extra_lines(touchpoint: str, figs: dict) -> list[str]:
    """The index indicators the touchpoint feeds and the themes of its comments."""
    lines = []
    indicators = figs["links"].by_touchpoint.get(touchpoint, [])
    if indicators:
        lines.append(f"{_('Index indicators')}:")
        for ind in indicators:
            value = percent(ind.value, 1) if ind.value is not None else (
                _("insufficient data") if ind.insufficient else _("no value"))
            lines.append(f"  {ind.code} {ind.title}: {value}")
    themes = figs["themes"].get(touchpoint, [])
    if themes:
        lines.append(f"{_('Content analysis')}:")
        lines += [f"  {figs['theme_names'][key]}: {count}" for key, count in themes]
    return lines


def pdf(html: str) -> bytes:
    """The print page as a PDF, with the map's print stylesheet (A3 landscape)."""
    from weasyprint import CSS  # its system libraries load on first use, not at start-up
    from weasyprint import HTML

    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(PRINT_CSS))]) or b""
