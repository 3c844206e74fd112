"""Charts as server-rendered SVG (pygal), for pages, print and the PDF report alike.

A chart is an ``<img>`` whose source is the SVG as a data URI: an image runs no script and
its inner ``<style>`` is its own, so the site's CSP (no inline script or style) stays as it
is, and WeasyPrint draws the same picture in a PDF. Charts read in greyscale: every value is
printed on the chart, series differ in lightness and in their dash, and each chart carries a
text alternative and sits beside its table (the ``chart`` macro in ``_macros.html``).
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

from cci.web.numbers import DASH
from cci.web.numbers import number

# pygal puts a finder for its map plugins (pygal.maps.*, unused here) on sys.meta_path, a
# finder of the old protocol that makes every later import consulting it warn (ImportWarning);
# it is taken off again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

#: series colours that stay apart in greyscale (dark, light, middle, black)
PALETTE = ("#1f4e8c", "#9aa5b1", "#5b6f86", "#111111", "#c2c9d1")
#: dashes of the line series in the same order: a grey print still tells them apart
DASHES = ("", "6, 3", "2, 3", "10, 4, 2, 4", "1, 5")

_STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1a1a1a",
    foreground_strong="#1a1a1a", foreground_subtle="#6b7280", colors=PALETTE,
    font_family="'PT Sans', 'Liberation Sans', Arial, sans-serif",
    title_font_size=15, label_font_size=12, major_label_font_size=12,
    value_font_size=11, value_label_font_size=11, legend_font_size=12,
    tooltip_font_size=12, opacity=".9", opacity_hover=".9",
)

Format = Callable[[float], str]


@dataclass(frozen=True)
class Chart:
    """What a page needs to show a chart: the image, its title, and the same content in
    words for those who do not see it."""

    title: str
    src: str
    alt: str


def one_decimal(value: float) -> str:
    return number(value, 1)


def _config(title: str, width: int, height: int, value_format: Format, **overrides) -> dict:
    return {
        "title": title, "width": width, "height": height, "style": _STYLE, "js": [],
        "disable_xml_declaration": True, "print_values": True, "value_formatter": value_format,
        "show_legend": True, "legend_at_bottom": True, "truncate_label": -1, "truncate_legend": -1,
        "explicit_size": False, "no_data_text": DASH,
    } | overrides


def _finish(chart: pygal.graph.graph.Graph, title: str, alt: str) -> Chart:
    svg = chart.render(is_unicode=True)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Chart(title=title, src=f"data:image/svg+xml;base64,{data}", alt=alt)


def _describe(labels: Sequence[str], values: Sequence[float | None], fmt: Format) -> str:
    return "; ".join(f"{label}: {DASH if value is None else fmt(value)}"
                     for label, value in zip(labels, values, strict=True))


def _top_down(values: Sequence) -> list:
    """pygal draws a horizontal chart's first label at the bottom: given in reverse, the
    first label is on top and the chart reads in the order of its table."""
    return list(reversed(values))


def bars(title: str, labels: Sequence[str], values: Sequence[float | None], *,
         value_format: Format = one_decimal, horizontal: bool = True,
         range_: tuple[float, float] | None = None, width: int = 720) -> Chart:
    """One series of bars, a label each (a missing value draws no bar and reads «—»).
    Horizontal bars read top down in the labels' order, like the table beside them."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    height = max(160, 60 + 28 * len(labels)) if horizontal else 320
    # every bar carries its value: the value axis's ticks would only add noise (fractions of
    # a count, labels that run together)
    chart = kind(**_config(title, width, height, value_format, show_legend=False,
                           **({"show_x_labels": False, "show_x_guides": False} if horizontal
                              else {"show_y_labels": False, "show_y_guides": False}),
                           **({"range": range_} if range_ else {})))
    chart.x_labels = _top_down(labels) if horizontal else list(labels)
    chart.add(title, _top_down(values) if horizontal else list(values))
    return _finish(chart, title, f"{title}. {_describe(labels, values, value_format)}")


def lines(title: str, x_labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
          value_format: Format = one_decimal, range_: tuple[float, float] | None = None,
          width: int = 720, height: int = 320) -> Chart:
    """Series over the same points (campaigns, periods); a missing point breaks the line
    rather than drawing it through zero."""
    # values are printed on a single series only: two lines' values overlap where the lines
    # run close; long labels are shortened («…») rather than slanted, which shrank the plot
    # (the table beside the chart holds every number and every full name)
    chart = pygal.Line(**_config(title, width, height, value_format,
                                 print_values=len(series) == 1, margin_right=72,
                                 margin_left=24, truncate_label=18),
                       allow_interruptions=True, dots_size=4, x_label_rotation=0,
                       **({"range": range_} if range_ else {}))
    chart.x_labels = list(x_labels)
    parts = []
    for position, (name, values) in enumerate(series.items()):
        dash = DASHES[position % len(DASHES)]
        chart.add(name, list(values), stroke_style={"width": 2.5, "dasharray": dash})
        parts.append(f"{name} — {_describe(x_labels, values, value_format)}")
    return _finish(chart, title, f"{title}. " + ". ".join(parts))


def stacked(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
            value_format: Format = one_decimal, width: int = 720) -> Chart:
    """Horizontal stacked bars: each label's parts (a distribution of answers per office)."""
    height = max(180, 80 + 28 * len(labels))
    chart = pygal.HorizontalStackedBar(**_config(title, width, height, value_format,
                                                 show_x_labels=False, show_x_guides=False))
    chart.x_labels = _top_down(labels)
    parts = []
    for name, values in series.items():
        chart.add(name, _top_down(values))
        parts.append(f"{name} — {_describe(labels, values, value_format)}")
    return _finish(chart, title, f"{title}. " + ". ".join(parts))
