"""Charts: the SVG holds the values in the Russian format, a missing value draws nothing and
reads «—», and the text alternative says everything the picture shows."""

from __future__ import annotations

import base64

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


def test_stacked_bars_show_every_part():
    chart = charts.stacked("Ответы", ["ЦЗН 1"], {"9–10": [40.0], "7–8": [35.0], "0–6": [25.0]},
                           value_format=lambda v: f"{charts.one_decimal(v)} %")
    assert "ЦЗН 1" in _svg(chart)
    assert "9–10 — ЦЗН 1: 40,0 %" in chart.alt
