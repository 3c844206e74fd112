"""Template files for an import (CSV, or XLSX with a «Справка» sheet), from the methodology."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from cci.collection.imports.columns import CHECKLIST_COLUMNS
from cci.collection.imports.columns import EVIDENCE_COLUMN
from cci.collection.imports.columns import RESPONSE_COLUMNS
from cci.collection.imports.columns import checklist_indicators
from cci.collection.imports.columns import checklist_params
from cci.collection.imports.columns import response_columns
from cci.collection.imports.response_rows import RESPONDENT_DATIVE
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item
from cci.methodology.values import parse_yes_no


def _example_item(item: Item, respondent_type: str) -> Any:
    if item.for_type(respondent_type) is None:
        return ""
    if item.kind == "scale":
        return item.scale_max if item.key != "transport" else item.scale_max - 1
    if item.kind == "yesno":
        return "да"
    if item.kind == "choice":
        return item.options[0].label if item.options else ""
    return "Спасибо сотрудникам за помощь"


def template_rows(indicator_set: IndicatorSet, kind: str,
                  office_code: str = "OFFICE-01") -> tuple[list[str], list[Any]]:
    """The header and one example row of an import file for a methodology version."""
    if kind == "responses":
        items = response_columns(indicator_set)
        headers = [*RESPONSE_COLUMNS, *(item.key for item in items)]
        # an example only: any zone's today is a plausible date to fill in
        today = dt.datetime.now(dt.UTC).date()
        example: list[Any] = ["1", office_code, "соискатель",
                              today.strftime("%d.%m.%Y") + " 10:30"]
        for item in items:
            value = _example_item(item, "job_seeker")
            if item.follows:
                parent, expected = item.follows
                parent_item = indicator_set.item(parent)
                parent_value = _example_item(parent_item, "job_seeker")
                if parent_item.kind != "yesno" or parse_yes_no(parent_value) != bool(expected):
                    value = ""
            example.append(value)
        return headers, example
    params = checklist_params(indicator_set)
    headers = [*CHECKLIST_COLUMNS, *params, EVIDENCE_COLUMN]
    candidates = checklist_indicators(indicator_set)
    indicator = next((i for i in candidates if i.level == "office"), candidates[0])
    own = {param.key: param for param in indicator.checklist}
    example = [office_code, indicator.code]
    for key in params:
        param = own.get(key)
        if param is None:
            example.append("")
        elif param.kind == "number":
            example.append(100)
        elif param.kind == "choice":
            example.append(param.options[0].key)
        else:
            example.append("да")
    example.append("Фото стенда от 15.05")
    return headers, example


def reference_rows(indicator_set: IndicatorSet, kind: str) -> list[list[str]]:
    """What each column means (the «Справка» sheet of the XLSX template)."""
    rows = [["Столбец", "Что указать", "Значения"]]
    if kind == "responses":
        rows += [
            ["response_id", "Номер анкеты (уникальный в регионе; повторная загрузка его "
                            "пропускает)", "текст или число"],
            ["office_code", "Код офиса (точки присутствия) региона", "например, BRY-01"],
            ["respondent_type", "Кто заполнил анкету", "соискатель / работодатель"],
            ["submitted_at", "Дата (и время) заполнения, местное время региона",
             "ДД.ММ.ГГГГ [ЧЧ:ММ] или ГГГГ-ММ-ДД"],
        ]
        for item in response_columns(indicator_set):
            text = item.text.get("job_seeker") or item.text.get("employer") or ""
            if item.kind == "scale":
                values = f"{item.scale_min}–{item.scale_max}"
            elif item.kind == "yesno":
                values = "да / нет"
            elif item.kind == "choice":
                values = "; ".join(f"{o.key} = {o.label}" for o in item.options)
            else:
                values = "свободный текст"
            if item.kind != "text" and item.allows_na:
                values += "; пусто или «Затрудняюсь ответить» — нет ответа"
            only = [RESPONDENT_DATIVE[t] for t in ("job_seeker", "employer") if t in item.text]
            if len(only) == 1:
                text += f" (только {only[0]})"
            rows.append([item.key, text, values])
        return rows
    rows += [
        ["office_code", "Код офиса; пусто — чек-лист региона (показатели, которые в "
                        "централизованной сети заполняются один раз)", "например, BRY-01"],
        ["indicator", "Код показателя", ", ".join(i.code for i in checklist_indicators(
            indicator_set))],
    ]
    for indicator in checklist_indicators(indicator_set):
        for param in indicator.checklist:
            if param.kind == "number":
                values = "число"
            elif param.kind == "choice":
                values = "; ".join(f"{o.key} = {o.label}" for o in param.options)
            else:
                values = "да / нет"
            rows.append([param.key, f"{indicator.code}: {param.label}", values])
    rows.append([EVIDENCE_COLUMN, "Подтверждение (необязательно): ссылка, номер фото", "текст"])
    return rows


def template_file(indicator_set: IndicatorSet, kind: str, fmt: str,
                  office_code: str = "OFFICE-01") -> bytes:
    headers, example = template_rows(indicator_set, kind, office_code)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(headers)
        writer.writerow(example)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    # The one sheet a new workbook has (what .active returns, typed as Optional there).
    sheet = workbook.worksheets[0]
    sheet.title = "Анкеты" if kind == "responses" else "Чек-листы"
    sheet.append(headers)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    reference = workbook.create_sheet("Справка")
    for row in reference_rows(indicator_set, kind):
        reference.append(row)
    for cell in reference[1]:
        cell.font = Font(bold=True)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
