"""The columns of an import file — one mapping, read by the import and written by the templates
(:mod:`.templates`): each column's key, the Russian heading a person recognises (the
question's short wording or the parameter's label, from the campaign's methodology set), and
the other names the import also reads (the codes: item and parameter keys, indicator codes,
the questions' full wordings). Also what validating one file needs (its region, campaign,
offices, column map and the errors found so far)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from cci.collection.imports.cells import cell_text
from cci.collection.imports.errors import MAX_ERRORS
from cci.collection.imports.errors import RowError
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item
from cci.methodology.values import word

# Cyrillic letters that look like the Latin ones of indicator codes (О-V.2 typed in Russian).
LOOKALIKES = str.maketrans({"О": "O", "о": "O", "С": "C", "с": "C", "Х": "X", "х": "X",
                            "І": "I", "і": "I", "–": "-", "—": "-"})

RESPONDENT_PLURAL = {"job_seeker": "соискатели", "employer": "работодатели"}
RESPONDENT_WORD = {"job_seeker": "соискатель", "employer": "работодатель"}
NO_ANSWER = "Затрудняюсь ответить"
YES, NO = "да", "нет"


@dataclass(frozen=True)
class Column:
    """A column of an import file."""

    key: str
    #: the heading the templates write (Russian)
    header: str
    #: other names the import reads as this column (codes, wordings); case does not matter
    names: tuple[str, ...] = ()
    required: bool = False
    #: what to fill in, and the values allowed (the templates' instructions and notes)
    hint: str = ""
    values: str = ""
    #: a column the import reads but does not use (a label beside a code)
    ignored: bool = False
    width: int = 18


def header_name(text: str) -> str:
    """A heading compared as people retype it: any case, «ё» as «е», single spaces, without a
    final colon, asterisk or full stop."""
    return word(text.replace("\ufeff", "")).strip(" :*.")


# --- responses ------------------------------------------------------------------------------

RESPONSE_FIXED = (
    Column("response_id", "Номер анкеты", required=True, width=14,
           hint="Номер анкеты в учёте региона, уникальный в регионе: повторная загрузка той же "
                "анкеты её пропускает",
           values="текст или число, до 80 символов"),
    Column("office_code", "Код офиса", required=True, width=14,
           hint="Код офиса (точки присутствия) региона, где заполнена анкета",
           values="код из списка офисов региона"),
    Column("respondent_type", "Тип респондента", ("респондент",), required=True, width=18,
           hint="Кто заполнил анкету", values="соискатель / работодатель"),
    Column("submitted_at", "Дата заполнения", ("дата",), required=True, width=18,
           hint="Дата (и время) заполнения, местное время региона; в пределах дат кампании",
           values="ДД.ММ.ГГГГ [ЧЧ:ММ] или ГГГГ-ММ-ДД"),
)


def response_items(indicator_set: IndicatorSet) -> list[Item]:
    """Questionnaire items in file order: questions, then profile, then the comment."""
    order = {"question": 0, "profile": 1, "comment": 2}
    return sorted(indicator_set.items, key=lambda item: order[item.section])


def item_types(item: Item) -> list[str]:
    return [t for t in RESPONDENT_TYPES if t in item.text]


def item_wordings(item: Item) -> list[tuple[str, str]]:
    """(respondent type, wording): one wording when every type is asked the same."""
    types = item_types(item)
    texts = [item.text[t] for t in types]
    if len(set(texts)) == 1:
        return [(types[0] if len(types) == 1 else "", texts[0])]
    return list(zip(types, texts, strict=True))


def item_indicator(indicator_set: IndicatorSet, item: Item) -> Indicator | None:
    """The subjective indicator measured by this item alone, if there is one."""
    measured = [i for i in indicator_set.indicators
                if i.kind == "subjective" and i.items == (item.key,)]
    return measured[0] if len(measured) == 1 else None


def item_heading(indicator_set: IndicatorSet, item: Item, marked: bool = True) -> str:
    """The short wording a person recognises: the title of the indicator the item measures
    (its wordings differ by respondent type, its title does not), else the item's own wording;
    an item asked of one respondent type says which."""
    indicator = item_indicator(indicator_set, item)
    heading = indicator.title if indicator is not None else item_wordings(item)[0][1]
    types = item_types(item)
    if marked and len(types) == 1:
        heading += f" ({RESPONDENT_PLURAL[types[0]]})"
    return heading


def item_values(item: Item) -> str:
    if item.kind == "scale":
        values = f"{item.scale_min}–{item.scale_max}"
    elif item.kind == "yesno":
        values = f"{YES} / {NO}"
    elif item.kind == "choice":
        values = "; ".join(option.label for option in item.options)
    else:
        return f"свободный текст, до {TEXT_MAX} символов"
    if item.allows_na:
        values += f"; пусто или «{NO_ANSWER}» — нет ответа"
    else:
        values += "; пусто — вопрос не задавался"
    return values


def item_hint(indicator_set: IndicatorSet, item: Item) -> str:
    """The question as each respondent type is asked it, and when it is left empty."""
    lines = []
    for respondent_type, text in item_wordings(item):
        who = f"{RESPONDENT_PLURAL[respondent_type].capitalize()}: " \
            if respondent_type and len(item_types(item)) > 1 else ""
        lines.append(f"{who}«{text}»")
    types = item_types(item)
    if len(types) == 1:
        lines.append(f"Только для типа «{RESPONDENT_WORD[types[0]]}»; у других — пусто")
    if item.follows:
        parent, expected = item.follows
        answer = condition_word(indicator_set.item(parent), expected)
        lines.append(f"Только если на вопрос «{follows_heading(indicator_set, item)}» ответ "
                     f"«{answer}»; иначе — пусто")
    return "\n".join(lines)


def condition_word(parent: Item, expected: Any) -> str:
    """The answer a follow-up's condition expects, as people write it."""
    if parent.kind == "yesno" and expected in (0, 1):
        return YES if expected else NO
    return next((o.label for o in parent.options if o.key == expected), str(expected))


def response_layout(indicator_set: IndicatorSet) -> list[Column]:
    """Every column of a responses file for this methodology version, in template order."""
    columns = list(RESPONSE_FIXED)
    taken = {header_name(c.header) for c in columns}
    for item in response_items(indicator_set):
        heading = item_heading(indicator_set, item)
        if header_name(heading) in taken:  # two items worded alike: the key tells them apart
            heading = f"{heading} [{item.key}]"
        taken.add(header_name(heading))
        names = [item.key, item_heading(indicator_set, item, marked=False)]
        names += [text for _, text in item_wordings(item)]
        indicator = item_indicator(indicator_set, item)
        if indicator is not None:
            names.append(indicator.code)  # S-II.1 heads the usefulness column
        columns.append(Column(item.key, heading, tuple(names), hint=item_hint(indicator_set, item),
                              values=item_values(item),
                              width=40 if item.kind == "text" else 22))
    return columns


def follows_heading(indicator_set: IndicatorSet, item: Item) -> str:
    """The heading of the question a follow-up depends on."""
    parent = indicator_set.item(item.follows[0]) if item.follows else item
    return item_heading(indicator_set, parent)


# --- checklists -----------------------------------------------------------------------------

#: The checklist file: one row per office (or the region) and parameter.
CHECKLIST_LONG = (
    Column("office_code", "Код офиса", required=True, width=12,
           hint="Код офиса; пусто — для всего региона (показатели, которые в централизованной "
                "сети заполняются один раз)", values="код из списка офисов региона"),
    Column("office_name", "Офис", ignored=True, width=32, hint="Название офиса (для справки)"),
    Column("indicator", "Код показателя", required=True, width=10,
           hint="Код показателя методики", values="например, O-V.2"),
    Column("indicator_title", "Показатель", ignored=True, width=34,
           hint="Название показателя (для справки)"),
    Column("parameter", "Параметр", hint="Что проверить: параметр чек-листа", width=60),
    Column("value", "Значение", required=True, width=20,
           hint="Результат проверки", values="да / нет, вариант из списка или число"),
    Column("evidence", "Подтверждение", width=30,
           hint="Необязательно: ссылка, номер фото, примечание"),
    Column("parameter_key", "Код параметра", width=20,
           hint="Код параметра в методике (не меняйте)"),
)

#: The earlier layout, still read: one row per office and indicator, a column per parameter.
CHECKLIST_WIDE_FIXED = (
    Column("office_code", "Код офиса", required=True),
    Column("indicator", "Код показателя", required=True),
    Column("evidence", "Подтверждение"),
)
CHECKLIST_COLUMNS = ("office_code", "indicator")
EVIDENCE_COLUMN = "evidence"


def checklist_indicators(indicator_set: IndicatorSet) -> list[Indicator]:
    return [i for i in indicator_set.indicators if i.kind == "objective" and i.checklist]


def checklist_params(indicator_set: IndicatorSet) -> list[str]:
    """Every checklist parameter key of the set, in the order the indicators declare them."""
    keys: list[str] = []
    for indicator in checklist_indicators(indicator_set):
        for param in indicator.checklist:
            if param.key not in keys:
                keys.append(param.key)
    return keys


def checklist_wide_layout(indicator_set: IndicatorSet) -> list[Column]:
    fixed = list(CHECKLIST_WIDE_FIXED)
    return [*fixed[:2], *(Column(key, key) for key in checklist_params(indicator_set)),
            fixed[2]]


def is_long_checklist(headers: Iterable[str]) -> bool:
    """A checklist file with a value column is one row per parameter (the template's)."""
    value = names_of(c for c in CHECKLIST_LONG if c.key == "value")
    return any(header_name(header) in value for header in headers)


def param_values(param: ChecklistParam) -> str:
    if param.kind == "number":
        return "число ≥ 0"
    if param.kind == "choice":
        return "; ".join(option.label for option in param.options)
    return f"{YES} / {NO}"


# --- matching a file's headers --------------------------------------------------------------


def names_of(columns: Iterable[Column]) -> dict[str, str]:
    """Every name a column is read by (normalised) -> its key. A heading is the column's own;
    another name two columns share names neither."""
    columns = list(columns)
    known = {header_name(c.header): c.key for c in columns}
    shared: dict[str, set[str]] = {}
    for column in columns:
        for name in (column.key, *column.names):
            shared.setdefault(header_name(name), set()).add(column.key)
    for name, keys in shared.items():
        if name not in known and len(keys) == 1:
            known[name] = next(iter(keys))
    return known


@dataclass
class Context:
    """What validating one file needs: its region, campaign, set and column mapping."""

    region: Region
    campaign: Campaign
    indicator_set: IndicatorSet
    offices: dict[str, Office]
    headers: list[str]
    #: column index -> canonical key (item key, parameter key, or a fixed column)
    columns: dict[int, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int | None, column: str | None, message: str,
              reason: str | None = None) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message, reason))

    def cells(self, cells: list[Any]) -> dict[str, tuple[str, Any]]:
        """key -> (header as in the file, raw value) for one row."""
        return {
            key: (self.headers[index], cells[index] if index < len(cells) else None)
            for index, key in self.columns.items()
        }

    def header_of(self, key: str, default: str) -> str:
        """The heading of a column as the file has it, else ``default``."""
        for index, known in self.columns.items():
            if known == key:
                return self.headers[index]
        return default

    def office(self, row: int, column: str, raw: Any, required: bool = True) -> Office | None:
        code = cell_text(raw)
        if not code:
            if required:
                self.error(row, column, "не указан код офиса")
            return None
        office = self.offices.get(code.upper())
        if office is None:
            self.error(row, column, f"офис «{code}» не найден в регионе {self.region.code}")
        elif not office.active:
            self.error(row, column, f"офис «{code}» закрыт (неактивен)")
            return None
        return office


@dataclass
class Prepared:
    """The validated rows of a file, ready to be written."""

    rows_total: int
    new: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    existing: int = 0


def map_columns(ctx: Context, columns: list[Column], unknown_reason: str | None = None) -> None:
    """Match the file's headers to the columns by heading or code (case-insensitively); report
    unknown (with ``unknown_reason``), repeated and missing required ones."""
    known = names_of(columns)
    seen: dict[str, str] = {}
    for index, header in enumerate(ctx.headers):
        if not header:
            ctx.error(1, f"№{index + 1}", "у столбца нет заголовка")
            continue
        key = known.get(header_name(header)) or known.get(header_name(header.translate(
            LOOKALIKES)))
        if key is None:
            ctx.error(1, header, "неизвестный столбец: ожидаются столбцы шаблона методики "
                                 f"{ctx.indicator_set.key}", unknown_reason)
            continue
        if key in seen:
            ctx.error(1, header, f"столбец повторяется (уже есть «{seen[key]}»)")
            continue
        seen[key] = header
        ctx.columns[index] = key
    for column in columns:
        if column.required and column.key not in seen:
            ctx.error(1, None, f"нет обязательного столбца «{column.header}» ({column.key})")
