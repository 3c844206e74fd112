"""Charts: the SVG holds the values in the Russian format, a missing value draws nothing and
reads «—», and the text alternative says everything the picture shows."""

from __future__ import annotations

import base64
import re

from cci.web import charts


def _svg(chart: charts.Chart) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert chart.src.startswith(prefix)
    return base64.b64decode(chart.src[len(prefix):]).decode("utf-8")


def test_bars_print_their_values_in_russian_format_and_say_them_in_words():
    chart = charts.bars("Индекс по регионам", ["Пермский край", "Тверская область"], [71.34, None])
    svg = _svg(chart)
    assert svg.startswith("<svg") and "71,3" in svg and "71.3" not in svg
    assert chart.alt == "Индекс по регионам. Пермский край: 71,3; Тверская область: —"


def test_lines_break_at_a_missing_point_and_name_each_series():
    chart = charts.lines("Тренд", ["I кв.", "II кв.", "III кв."],
                         {"Регион": [60.0, None, 64.5], "Федерация": [62.0, 63.0, 63.5]})
    svg = _svg(chart)
    assert "64,5" in svg and "63,5" in svg
    assert "Регион — I кв.: 60,0; II кв.: —; III кв.: 64,5" in chart.alt
    assert "Федерация — I кв.: 62,0" in chart.alt
    # the second series is dashed: told apart in a greyscale print
    assert "stroke-dasharray" in svg


def test_a_single_line_prints_its_values_two_lines_leave_them_to_the_table():
    import re
    one = _svg(charts.lines("Индекс", ["I", "II"], {"Регион": [61.25, 64.75]}))
    two = _svg(charts.lines("Индекс", ["I", "II"], {"Регион": [61.25, 64.75],
                                                    "Федерация": [61.3, 64.7]}))
    printed = re.compile(r'<text[^>]*class="value[^"]*"[^>]*>([^<]*)<')
    assert {"61,2", "64,8"} & set(printed.findall(one)) or {"61,3", "64,7"} & set(
        printed.findall(one))
    assert printed.findall(two) == []  # two close lines' values would overlap


def test_bars_carry_their_values_and_no_value_axis():
    import re
    svg = _svg(charts.bars("Регионы по звёздам", ["5★", "4★"], [1, 2],
                           value_format=lambda v: str(int(v))))
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert texts.count("0") == 0  # no «0 0 0 1 1 …» ticks of a count
    assert "5★" in texts and "1" in texts and "2" in texts


def test_stacked_bars_show_every_part():
    chart = charts.stacked("Ответы", ["ЦЗН 1"], {"9–10": [40.0], "7–8": [35.0], "0–6": [25.0]},
                           value_format=lambda v: f"{charts.one_decimal(v)} %")
    assert "ЦЗН 1" in _svg(chart)
    assert "9–10 — ЦЗН 1: 40,0 %" in chart.alt


def _label_heights(svg: str, labels: list[str]) -> list[float]:
    """The y of each label's text on the chart (SVG: smaller is higher)."""
    found = {label: float(y) for y, label in re.findall(
        r'<text x="[^"]*" y="([^"]+)" class="">([^<]+)</text>', svg) if label in labels}
    return [found[label] for label in labels]


def test_horizontal_bars_put_the_first_label_on_top_like_their_table():
    labels = ["Первый", "Второй", "Третий"]
    chart = charts.bars("Порядок", labels, [10.0, 20.0, 30.0])
    heights = _label_heights(_svg(chart), labels)
    assert heights == sorted(heights)  # top down, in the given order
    assert chart.alt == "Порядок. Первый: 10,0; Второй: 20,0; Третий: 30,0"
    stacked = charts.stacked("Порядок", labels, {"часть": [1.0, 2.0, 3.0]})
    heights = _label_heights(_svg(stacked), labels)
    assert heights == sorted(heights)
    assert "часть — Первый: 1,0; Второй: 2,0; Третий: 3,0" in stacked.alt
    # a vertical chart keeps its left-to-right order
    upright = charts.bars("Порядок", labels, [10.0, 20.0, 30.0], horizontal=False)
    assert upright.alt == chart.alt
