"""Template files for an import, from the campaign's methodology set (the columns of
:mod:`.columns`): an XLSX a person can fill — Russian headings with notes, frozen panes, column
widths, drop-down lists where values are constrained, an example sheet and an instructions
sheet that the import never reads (:data:`.workbook.HELP_SHEETS`) — or a CSV (UTF-8 with a BOM
and ``;``, which Excel opens directly) with the same columns and no example.

Responses: the data sheet «Анкеты» has the header only. Checklists: the data sheet «Чек-лист»
lists every parameter of every office of the region (and, in a centralized network, the
indicators filled once for the region) with an empty «Значение» for the auditor to fill; a row
left empty is not data, so the template as downloaded imports nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cci.collection.imports.columns import CHECKLIST_LONG
from cci.collection.imports.columns import NO
from cci.collection.imports.columns import NO_ANSWER
from cci.collection.imports.columns import RESPONDENT_WORD
from cci.collection.imports.columns import YES
from cci.collection.imports.columns import Column
from cci.collection.imports.columns import checklist_indicators
from cci.collection.imports.columns import param_values
from cci.collection.imports.columns import response_layout
from cci.collection.imports.files import MAX_ROWS
from cci.collection.imports.workbook import EXAMPLE_SHEET
from cci.collection.imports.workbook import INSTRUCTIONS_SHEET
from cci.collection.imports.workbook import LISTS_SHEET
from cci.foundation.models import Office
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item

DATA_SHEET = {"responses": "Анкеты", "checklists": "Чек-лист"}
REGION_ROW = "Весь регион (централизованная сеть)"
#: the rows of the responses sheet that offer the drop-down lists
VALIDATED_ROWS = MAX_ROWS + 1


@dataclass
class CheckRow:
    """A row of the checklist template: one parameter of one office's (or the region's)
    checklist of one indicator."""

    office_code: str
    office_name: str
    indicator: str
    indicator_title: str
    param: ChecklistParam
    value: Any = ""
    evidence: str = ""

    def cells(self) -> list[Any]:
        by_key = {"office_code": self.office_code, "office_name": self.office_name,
                  "indicator": self.indicator, "indicator_title": self.indicator_title,
                  "parameter": self.param.label, "value": self.value,
                  "evidence": self.evidence, "parameter_key": self.param.key}
        return [by_key[column.key] for column in CHECKLIST_LONG]


# --- what the templates hold ----------------------------------------------------------------


def checklist_rows(indicator_set: IndicatorSet, offices: Sequence[Office],
                   centralized: bool) -> list[CheckRow]:
    """Every parameter to check: the region's own checklists first (indicators a centralized
    network fills once), then each office's."""
    rows: list[CheckRow] = []
    indicators = checklist_indicators(indicator_set)
    if centralized:
        for indicator in indicators:
            if indicator.level == "network":
                rows += [CheckRow("", REGION_ROW, indicator.code, indicator.title, param)
                         for param in indicator.checklist]
    for office in offices:
        for indicator in indicators:
            if centralized and indicator.level == "network":
                continue
            rows += [CheckRow(office.code, office.name, indicator.code, indicator.title, param)
                     for param in indicator.checklist]
    return rows


def checklist_example(indicator_set: IndicatorSet, office_code: str,
                      office_name: str) -> list[CheckRow]:
    """One office's checklist of one indicator, filled in as an auditor would."""
    candidates = checklist_indicators(indicator_set)
    indicator = next((i for i in candidates if i.level == "office"), candidates[0])
    rows = []
    for position, param in enumerate(indicator.checklist):
        if param.kind == "number":
            value: Any = 120
        elif param.kind == "choice":
            value = param.options[0].label
        else:
            value = NO if position % 3 == 2 else YES
        rows.append(CheckRow(office_code, office_name, indicator.code, indicator.title, param,
                             value, "фото 12, 15.05" if position == 0 else ""))
    return rows


def _example_answer(item: Item, respondent_type: str, position: int) -> Any:
    if item.for_type(respondent_type) is None:
        return None
    if item.kind == "scale":
        if respondent_type == "employer" and position == 1 and item.allows_na:
            return NO_ANSWER
        return item.scale_max - position % 3
    if item.kind == "yesno":
        return YES if respondent_type == "job_seeker" else NO
    if item.kind == "choice":
        return item.options[position % len(item.options)].label if item.options else None
    return "Спасибо сотрудникам за помощь" if respondent_type == "job_seeker" else None


def response_examples(indicator_set: IndicatorSet, office_code: str) -> list[dict[str, Any]]:
    """Two questionnaires filled in, a job seeker's and an employer's (key -> value)."""
    today = dt.datetime.now(dt.UTC).date()  # an example only: any zone's today will do
    examples = []
    for number, respondent_type in enumerate(("job_seeker", "employer"), start=1):
        row: dict[str, Any] = {
            "response_id": f"{number}", "office_code": office_code,
            "respondent_type": RESPONDENT_WORD[respondent_type],
            "submitted_at": dt.datetime.combine(today, dt.time(9 + number, 30)),
        }
        answers: dict[str, Any] = {}
        for position, item in enumerate(indicator_set.items):
            answers[item.key] = _example_answer(item, respondent_type, position)
        for item in indicator_set.items:
            if item.follows:
                parent, expected = item.follows
                if answers.get(parent) != (YES if expected == 1 else NO if expected == 0
                                           else expected):
                    answers[item.key] = None
        examples.append(row | answers)
    return examples


# --- CSV ------------------------------------------------------------------------------------


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_table(indicator_set: IndicatorSet, kind: str, offices: Sequence[Office] = (),
                   centralized: bool = False) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of a template's data sheet (responses: none; checklists: every
    parameter to check, with no value)."""
    if kind == "responses":
        return [column.header for column in response_layout(indicator_set)], []
    rows = checklist_rows(indicator_set, offices, centralized)
    return [column.header for column in CHECKLIST_LONG], [row.cells() for row in rows]


# --- XLSX -----------------------------------------------------------------------------------


class _Book:
    """An openpyxl workbook with the styles and lists the templates share."""

    HEADER_FILL = "1F4E79"
    INPUT_FILL = "FFF8DC"
    NOTE_FILL = "FCE4D6"

    def __init__(self):
        from openpyxl import Workbook
        from openpyxl.styles import Alignment
        from openpyxl.styles import Border
        from openpyxl.styles import Font
        from openpyxl.styles import PatternFill
        from openpyxl.styles import Side

        self.workbook = Workbook()
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=14)
        self.header_font = Font(bold=True, color="FFFFFF")
        self.header_fill = PatternFill("solid", fgColor=self.HEADER_FILL)
        self.input_fill = PatternFill("solid", fgColor=self.INPUT_FILL)
        self.note_fill = PatternFill("solid", fgColor=self.NOTE_FILL)
        self.muted = Font(color="7F7F7F")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.header_alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        side = Side(style="thin", color="BFBFBF")
        self.border = Border(left=side, right=side, top=side, bottom=side)
        self.sheets: list[Any] = []
        self.lists: Any = None
        self.list_refs: dict[tuple[Any, ...], str] = {}

    def sheet(self, title: str) -> Any:
        if not self.sheets:
            sheet = self.workbook.worksheets[0]
            sheet.title = title
        else:
            sheet = self.workbook.create_sheet(title)
        self.sheets.append(sheet)
        return sheet

    def header(self, sheet: Any, columns: Sequence[Column], row: int = 1,
               notes: bool = True) -> None:
        """A formatted header row: white on blue, wrapped, bordered, each heading's note."""
        from openpyxl.comments import Comment
        from openpyxl.utils import get_column_letter

        lines = 1
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(row=row, column=index, value=column.header)
            cell.font, cell.fill = self.header_font, self.header_fill
            cell.alignment, cell.border = self.header_alignment, self.border
            sheet.column_dimensions[get_column_letter(index)].width = column.width
            lines = max(lines, math.ceil(len(column.header) / max(column.width - 2, 1)))
            note = "\n".join(part for part in (column.hint, column.values and
                                               f"Значения: {column.values}") if part)
            if notes and note:
                comment = Comment(f"{note}\nКод столбца: {column.key}", "ИКЦ")
                comment.width, comment.height = 320, 40 + 16 * math.ceil(len(note) / 45)
                cell.comment = comment
        sheet.row_dimensions[row].height = 15 * min(lines, 6) + 6

    def list_ref(self, values: Sequence[Any]) -> str:
        """A range of the hidden «Списки» sheet holding these values (for a drop-down)."""
        from openpyxl.utils import get_column_letter
        from openpyxl.utils import quote_sheetname

        key = tuple(values)
        if key not in self.list_refs:
            if self.lists is None:
                self.lists = self.workbook.create_sheet(LISTS_SHEET)
                self.lists.sheet_state = "hidden"
            column = len(self.list_refs) + 1
            for row, value in enumerate(values, start=1):
                self.lists.cell(row=row, column=column, value=value)
            letter = get_column_letter(column)
            self.list_refs[key] = (f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:"
                                   f"${letter}${len(values)}")
        return self.list_refs[key]

    def choice(self, sheet: Any, values: Sequence[Any], title: str) -> Any:
        """A drop-down of ``values`` (added to ``sheet``; add its cells after)."""
        from openpyxl.worksheet.datavalidation import DataValidation

        shown = ", ".join(str(v) for v in values)
        validation = DataValidation(
            type="list", formula1=self.list_ref(values), allow_blank=True,
            showErrorMessage=True, errorTitle="Недопустимое значение"[:32],
            error=_clip(f"Выберите из списка: {shown}", 225),
            showInputMessage=True, promptTitle=_clip(title, 32),
            prompt=_clip(f"Выберите из списка: {shown}", 250))
        sheet.add_data_validation(validation)
        return validation

    def rule(self, sheet: Any, title: str, message: str, **kw: Any) -> Any:
        from openpyxl.worksheet.datavalidation import DataValidation

        validation = DataValidation(allow_blank=True, showErrorMessage=True,
                                    errorTitle="Недопустимое значение",
                                    error=_clip(message, 225), showInputMessage=True,
                                    promptTitle=_clip(title, 32), prompt=_clip(message, 250),
                                    **kw)
        sheet.add_data_validation(validation)
        return validation

    def paragraphs(self, sheet: Any, title: str, lines: Sequence[str], width: int = 110) -> int:
        """A title and numbered paragraphs in column A; returns the next free row."""
        sheet.column_dimensions["A"].width = width
        sheet.cell(row=1, column=1, value=title).font = self.title_font
        row = 3
        for line in lines:
            cell = sheet.cell(row=row, column=1, value=line)
            cell.alignment = self.wrap
            sheet.row_dimensions[row].height = 15 * math.ceil(len(line) / (width - 5)) + 3
            row += 1
        return row + 1

    def table(self, sheet: Any, top: int, header: Sequence[str], widths: Sequence[int],
              rows: Sequence[Sequence[Any]]) -> None:
        from openpyxl.utils import get_column_letter

        for index, (title, width) in enumerate(zip(header, widths, strict=True), start=1):
            cell = sheet.cell(row=top, column=index, value=title)
            cell.font, cell.fill = self.header_font, self.header_fill
            cell.alignment, cell.border = self.header_alignment, self.border
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(
                sheet.column_dimensions[letter].width or 0, width)
        for offset, values in enumerate(rows, start=1):
            lines = 1
            for index, (value, width) in enumerate(zip(values, widths, strict=True), start=1):
                cell = sheet.cell(row=top + offset, column=index, value=value)
                cell.alignment, cell.border = self.wrap, self.border
                text = str(value or "")
                lines = max(lines, sum(math.ceil(max(len(part), 1) / (width - 2))
                                       for part in text.split("\n")))
            sheet.row_dimensions[top + offset].height = 15 * min(lines, 12) + 3

    def save(self, first: Any) -> bytes:
        if self.lists is not None:  # the hidden lists last, after the sheets people read
            self.workbook.move_sheet(self.lists, len(self.workbook.worksheets) - 1 -
                                     self.workbook.worksheets.index(self.lists))
        self.workbook.active = self.workbook.worksheets.index(first)
        output = io.BytesIO()
        self.workbook.save(output)
        return output.getvalue()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _item_validation(book: _Book, sheet: Any, item: Item, title: str) -> Any:
    tail = [NO_ANSWER] if item.allows_na else []
    if item.kind == "scale":
        return book.choice(sheet, [*range(item.scale_min, item.scale_max + 1), *tail], title)
    if item.kind == "yesno":
        return book.choice(sheet, [YES, NO, *tail], title)
    if item.kind == "choice":
        return book.choice(sheet, [option.label for option in item.options] + tail, title)
    return book.rule(sheet, title, f"Текст, не длиннее {TEXT_MAX} символов",
                     type="textLength", operator="lessThanOrEqual", formula1=str(TEXT_MAX))


def _responses_xlsx(indicator_set: IndicatorSet, offices: Sequence[Office]) -> bytes:
    from openpyxl.utils import get_column_letter

    book = _Book()
    columns = response_layout(indicator_set)
    items = {item.key: item for item in indicator_set.items}
    data = book.sheet(DATA_SHEET["responses"])
    book.header(data, columns)
    data.freeze_panes = "E2"  # the header and the questionnaire's own columns stay in view
    codes = [office.code for office in offices]
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cells = f"{letter}2:{letter}{VALIDATED_ROWS}"
        if column.key == "response_id":
            validation = book.rule(data, column.header, "Номер анкеты: не длиннее 80 символов",
                                   type="textLength", operator="lessThanOrEqual",
                                   formula1="80")
        elif column.key == "office_code":
            if not codes:
                continue
            validation = book.choice(data, codes, column.header)
        elif column.key == "respondent_type":
            validation = book.choice(data, list(RESPONDENT_WORD.values()), column.header)
        elif column.key == "submitted_at":
            data.column_dimensions[letter].number_format = "DD.MM.YYYY HH:MM"
            validation = book.rule(data, column.header, "Дата: ДД.ММ.ГГГГ или ДД.ММ.ГГГГ ЧЧ:ММ, "
                                   "местное время региона", type="date",
                                   operator="greaterThan", formula1="36526")  # 01.01.2000
        else:
            validation = _item_validation(book, data, items[column.key], column.header)
        validation.add(cells)

    example = book.sheet(EXAMPLE_SHEET)
    note = example.cell(row=1, column=1, value=(
        f"Пример заполнения: две анкеты. Этот лист не загружается — заполняйте лист "
        f"«{DATA_SHEET['responses']}»."))
    note.font, note.fill = book.bold, book.note_fill
    example.merge_cells(start_row=1, start_column=1, end_row=1, end_column=8)
    book.header(example, columns, row=2, notes=False)
    example.freeze_panes = "E3"
    office_code = codes[0] if codes else "OFFICE-01"
    for offset, answers in enumerate(response_examples(indicator_set, office_code), start=3):
        for index, column in enumerate(columns, start=1):
            cell = example.cell(row=offset, column=index, value=answers.get(column.key))
            if column.key == "submitted_at":
                cell.number_format = "DD.MM.YYYY HH:MM"

    instructions = book.sheet(INSTRUCTIONS_SHEET)
    top = book.paragraphs(instructions, f"Импорт анкет: {indicator_set.title} "
                                        f"({indicator_set.key})", _response_steps())
    book.table(instructions, top, ["Столбец", "Код столбца", "Вопрос / что указать",
                                   "Допустимые значения"], [34, 24, 70, 50],
               [[c.header, c.key, c.hint, c.values] for c in columns])
    instructions.freeze_panes = f"A{top + 1}"
    return book.save(data)


def _response_steps() -> list[str]:
    data = DATA_SHEET["responses"]
    return [
        f"1. Заполните лист «{data}»: одна строка — одна анкета, начиная со второй строки. "
        "Заголовки не меняйте; столбцы можно переставлять, а вопросы, на которые нет ответов, "
        "— удалять (обязательны номер анкеты, код офиса, тип респондента, дата и хотя бы один "
        "вопрос). Вместо заголовков можно писать коды столбцов (таблица ниже).",
        f"2. Лист «{EXAMPLE_SHEET}» показывает две заполненные анкеты. Он и этот лист не "
        "загружаются.",
        "3. Ответы выбирайте из списка в ячейке: оценка по шкале (например, 1–10), «да» / "
        f"«нет», вариант ответа. Пустая ячейка или «{NO_ANSWER}» — нет ответа. Вопросы, "
        "которые не задаются этому типу респондента, и уточняющие вопросы, условие которых не "
        "выполнено, оставьте пустыми.",
        "4. Дата заполнения — местное время региона; она должна попадать в даты кампании. "
        "Номер анкеты уникален в регионе: при повторной загрузке файла уже загруженные анкеты "
        "пропускаются.",
        "5. Сохраните файл (XLSX или CSV) и загрузите его на странице «Импорт» региона, выбрав "
        "кампанию. Файл загружается целиком или не загружается совсем: при любой ошибке ничего "
        "не сохраняется, а на странице импорта перечислены ошибки со строкой и столбцом.",
    ]


def _checklists_xlsx(indicator_set: IndicatorSet, offices: Sequence[Office],
                     centralized: bool) -> bytes:
    from openpyxl.utils import get_column_letter

    book = _Book()
    columns = list(CHECKLIST_LONG)
    letter = {column.key: get_column_letter(index)
              for index, column in enumerate(columns, start=1)}
    data = book.sheet(DATA_SHEET["checklists"])
    book.header(data, columns)
    data.freeze_panes = "A2"
    rows = checklist_rows(indicator_set, offices, centralized)
    _check_rows(book, data, rows, 2, letter)
    last = max(len(rows) + 1, 2)
    data.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    # the value column's drop-downs, one per kind of value, over runs of rows
    by_values: dict[tuple[Any, ...], list[int]] = {}
    for row, check in enumerate(rows, start=2):
        by_values.setdefault(_param_list(check.param), []).append(row)
    for values, numbers in by_values.items():
        validation = (book.rule(data, "Значение", "Число не меньше 0", type="decimal",
                                operator="greaterThanOrEqual", formula1="0")
                      if values == ("number",) else book.choice(data, values, "Значение"))
        for first, final in _runs(numbers):
            validation.add(f"{letter['value']}{first}:{letter['value']}{final}")

    example = book.sheet(EXAMPLE_SHEET)
    note = example.cell(row=1, column=1, value=(
        f"Пример заполнения: чек-лист одного показателя одного офиса. Этот лист не загружается — "
        f"заполняйте лист «{DATA_SHEET['checklists']}»."))
    note.font, note.fill = book.bold, book.note_fill
    example.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    book.header(example, columns, row=2, notes=False)
    shown = offices[0] if offices else None
    _check_rows(book, example, checklist_example(
        indicator_set, shown.code if shown else "OFFICE-01",
        shown.name if shown else "Офис"), 3, letter)

    instructions = book.sheet(INSTRUCTIONS_SHEET)
    top = book.paragraphs(instructions, f"Импорт чек-листов: {indicator_set.title} "
                                        f"({indicator_set.key})", _checklist_steps(centralized))
    reference = []
    for indicator in checklist_indicators(indicator_set):
        level = "один раз для региона в централизованной сети" \
            if indicator.level == "network" else "по офисам"
        for param in indicator.checklist:
            reference.append([f"{indicator.code} {indicator.title} ({level})", param.label,
                              param.key, param_values(param)])
    book.table(instructions, top, ["Показатель", "Параметр", "Код параметра",
                                   "Допустимые значения"], [40, 60, 22, 40], reference)
    instructions.freeze_panes = f"A{top + 1}"
    return book.save(data)


def _param_list(param: ChecklistParam) -> tuple[Any, ...]:
    if param.kind == "number":
        return ("number",)
    if param.kind == "choice":
        return tuple(option.label for option in param.options)
    return (YES, NO)


def _check_rows(book: _Book, sheet: Any, rows: Sequence[CheckRow], top: int,
                letter: dict[str, str]) -> None:
    """Checklist rows from row ``top``: the value cells marked for input, the codes muted."""
    width = next(c.width for c in CHECKLIST_LONG if c.key == "parameter")
    for row, check in enumerate(rows, start=top):
        for index, value in enumerate(check.cells(), start=1):
            sheet.cell(row=row, column=index, value=value if value != "" else None)
        label = sheet[f"{letter['parameter']}{row}"]
        label.alignment = book.wrap
        sheet.row_dimensions[row].height = 15 * math.ceil(len(check.param.label) / (width - 2))
        sheet[f"{letter['value']}{row}"].fill = book.input_fill
        sheet[f"{letter['evidence']}{row}"].fill = book.input_fill
        for key in ("office_name", "indicator_title", "parameter_key"):
            sheet[f"{letter[key]}{row}"].font = book.muted


def _checklist_steps(centralized: bool) -> list[str]:
    data = DATA_SHEET["checklists"]
    steps = [
        f"1. На листе «{data}» — по строке на каждый параметр чек-листа каждого показателя для "
        "каждого офиса региона. Заполните столбец «Значение»: выберите из списка «да» / «нет» "
        "или вариант, для показателей-чисел введите число. В «Подтверждение» можно записать "
        "ссылку, номер фото или примечание.",
        "2. Чтобы заполнить чек-листы одного офиса, отфильтруйте строки по столбцу «Код офиса» "
        "(кнопка фильтра в заголовке). Строки можно сортировать и удалять.",
        "3. Показатель офиса загружается, только если заполнены все его параметры; показатели, "
        "у которых не заполнено ни одно значение, пропускаются — файл можно загружать по мере "
        "заполнения. Повторная загрузка обновляет уже сохранённые чек-листы.",
        "4. Не меняйте столбцы «Код офиса», «Код показателя» и «Код параметра»: по ним "
        "строка находит свой параметр. Столбцы «Офис» и «Показатель» — для справки.",
        f"5. Лист «{EXAMPLE_SHEET}» показывает заполненный чек-лист. Он и этот лист не "
        "загружаются.",
        "6. Сохраните файл (XLSX или CSV) и загрузите его на странице «Импорт» региона, выбрав "
        "кампанию. Файл загружается целиком или не загружается совсем: при любой ошибке ничего "
        "не сохраняется, а на странице импорта перечислены ошибки со строкой и столбцом.",
    ]
    if centralized:
        steps.insert(1, f"Сеть региона централизованная: показатели, которые заполняются один "
                        f"раз для региона, стоят в начале, с пустым кодом офиса и названием "
                        f"«{REGION_ROW}».")
    return steps


def template_file(indicator_set: IndicatorSet, kind: str, fmt: str,
                  offices: Sequence[Office] = (), centralized: bool = False) -> bytes:
    """The template of an import file for a methodology version and the region's offices
    (active ones; ``centralized``: the region's network type)."""
    if fmt == "csv":
        header, rows = template_table(indicator_set, kind, offices, centralized)
        return _csv([header, *rows])
    if kind == "responses":
        return _responses_xlsx(indicator_set, offices)
    return _checklists_xlsx(indicator_set, offices, centralized)
