"""Importing responses and checklists from the CSV and XLSX files offices actually produce.

Excel's own CSV (``;``, or ``,`` / tab), in Windows-1251 or UTF-8 with or without a BOM,
with decimal commas, Russian yes/no words and «Затрудняюсь ответить»; or an XLSX workbook.
The columns come from the campaign's methodology set, never from the core.

An import is *atomic*: every row is read and validated first, and only a file without a
single error is written, in one transaction. It is *idempotent*: a response's
``response_id`` becomes the client key ``import:<region>:<response_id>``, so importing the
same file again adds nothing; a checklist is keyed by (campaign, office, indicator) and is
updated in place. Row errors name the row as Excel shows it (the header is row 1) and the
column as headed in the file; they are data-validation messages, written in Russian.

The uploaded bytes are kept in :class:`cci.foundation.models.ImportRecord`; the ``imports.run`` job
reads them, so a file of any size is processed in the background with progress.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import warnings
import zipfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cci.collection import recompute
from cci.foundation import audit
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.collection.intake import IntakeError
from cci.collection.intake import Submission
from cci.collection.intake import local_date
from cci.collection.intake import store_batch
from cci.collection.intake import validate
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item
from cci.foundation.models import IMPORT_KINDS
from cci.foundation.models import Campaign
from cci.foundation.models import Checklist
from cci.foundation.models import ImportRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.roles import Role
from cci.methodology.values import NegativeNumber
from cci.methodology.values import parse_amount
from cci.methodology.values import parse_number
from cci.methodology.values import parse_yes_no
from cci.methodology.values import word

log = logging.getLogger("cci.imports")

EXTENSIONS = ("csv", "xlsx")
#: rows in one file; a bigger one is refused before anything is validated
MAX_ROWS = 50_000
MAX_COLUMNS = 500
#: row errors kept on the import (the count is exact)
MAX_ERRORS = 500
#: the job reports progress every so many rows
PROGRESS_EVERY = 200
#: responses written per bulk step (progress is reported between steps)
WRITE_CHUNK = 2000
#: an XLSX whose parts unpack to more than this is refused (a zip bomb)
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
CLIENT_KEY_PREFIX = "import"
CHANNEL = "import"

#: who may import what (a region's pages; the API checks the token owner's role)
IMPORT_ROLES = {
    "responses": (Role.ADMIN, Role.REGIONAL_ADMIN),
    "checklists": (Role.ADMIN, Role.REGIONAL_ADMIN, Role.AUDITOR),
}

RESPONSE_COLUMNS = ("response_id", "office_code", "respondent_type", "submitted_at")
CHECKLIST_COLUMNS = ("office_code", "indicator")
EVIDENCE_COLUMN = "evidence"

RESPONDENT_WORDS = {
    "соискатель": "job_seeker", "соискатели": "job_seeker", "гражданин": "job_seeker",
    "job_seeker": "job_seeker", "jobseeker": "job_seeker", "job seeker": "job_seeker",
    "работодатель": "employer", "работодатели": "employer", "employer": "employer",
}
RESPONDENT_DATIVE = {"job_seeker": "соискателям", "employer": "работодателям"}

NA_WORDS = {"затрудняюсь ответить", "затрудняюсь", "не знаю", "затрудняюсь ответить."}
# Cyrillic letters that look like the Latin ones of indicator codes (О-V.2 typed in Russian).
_LOOKALIKES = str.maketrans({"О": "O", "о": "O", "С": "C", "с": "C", "Х": "X", "х": "X",
                             "І": "I", "і": "I", "–": "-", "—": "-"})


class UploadError(ValueError):
    """An upload that cannot be accepted; ``field`` names the form field (message for people)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, format, size); Russian message."""


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    message: str

    @property
    def text(self) -> str:
        if self.row is None:
            where = "Файл"
        elif self.column:
            where = f"Строка {self.row}, столбец {self.column}"
        else:
            where = f"Строка {self.row}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message,
                "text": self.text}


@dataclass
class Table:
    """The cells of a file: the header (row 1) and each later non-empty row with its number."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]


# --- reading files ------------------------------------------------------------------------


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def decode_csv(data: bytes) -> str:
    """BOM → its encoding; otherwise strict UTF-8, else Windows-1251 (Excel's «CSV»)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's «Unicode text»
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1251"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise FileProblem(
            "не удалось определить кодировку: сохраните файл как «CSV UTF-8» или «CSV (разделители "
            "— точка с запятой)» в Windows-1251"
        ) from None


def detect_delimiter(text: str) -> str:
    """The separator of the header line: ``;`` (Russian Excel), tab or ``,``."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(sep for sep in (";", "\t", ",") if counts[sep] == best)


def read_csv(data: bytes) -> Table:
    text = decode_csv(data)
    if "\x00" in text:
        raise FileProblem("файл не похож на CSV (двоичные данные)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    try:
        return _table(enumerate(reader, start=1))
    except csv.Error as exc:
        raise FileProblem(f"CSV не читается: {exc}") from None


def read_xlsx(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise FileProblem("файл XLSX слишком велик после распаковки")
    except zipfile.BadZipFile:
        raise FileProblem("файл не читается как XLSX (книга Excel)") from None
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # workbooks from other programs lack default styles; openpyxl warns about it
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileProblem(f"файл не читается как XLSX: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # trust the cells, not a stale «dimension» record
        return _table(enumerate(sheet.iter_rows(values_only=True), start=1))
    finally:
        workbook.close()


def _table(numbered_rows) -> Table:
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in numbered_rows:
        cells = list(cells)
        if headers is None:
            if number > 1 and not any(not is_blank(c) for c in cells):
                continue
            if number != 1:
                raise FileProblem("первая строка файла должна быть заголовком (названия столбцов)")
            headers = [cell_text(c).lstrip("\ufeff") for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            if len(headers) > MAX_COLUMNS:
                raise FileProblem(f"слишком много столбцов (больше {MAX_COLUMNS})")
            continue
        if all(is_blank(c) for c in cells):
            continue  # empty rows (Excel keeps formatted ones) are not data
        if len(rows) >= MAX_ROWS:
            raise FileProblem(f"в файле больше {MAX_ROWS} строк: разделите его на части")
        rows.append((number, cells))
    if not headers:
        raise FileProblem("файл пуст: нет строки заголовка")
    return Table(headers, rows)


def read_table(filename: str, data: bytes) -> Table:
    if extension(filename) == "xlsx":
        return read_xlsx(data)
    return read_csv(data)


# --- reading cells ------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious «.0», dates as ДД.ММ.ГГГГ, trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value).replace("\xa0", " ").strip()


def is_blank(value: Any) -> bool:
    return cell_text(value) == ""


def _word(value: Any) -> str:
    return word(cell_text(value))


_RU_DATE = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)


def parse_moment(value: Any, timezone: str) -> dt.datetime:
    """ДД.ММ.ГГГГ [ЧЧ:ММ[:СС]], ISO 8601, or an Excel date cell; local times are the region's.

    A date without a time is taken at noon, so its local date is the date written.
    Returns an aware UTC datetime; raises ValueError.
    """
    zone = zoneinfo.ZoneInfo(timezone)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        from openpyxl.utils.datetime import from_excel

        value = from_excel(value)  # an Excel serial date in a cell formatted as a number
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(12, 0))
    else:
        text = cell_text(value)
        match = _RU_DATE.fullmatch(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            year_number = int(year) + (2000 if len(year) == 2 else 0)
            if hour is None:
                moment = dt.datetime(year_number, int(month), int(day), 12, 0)
            else:
                moment = dt.datetime(year_number, int(month), int(day), int(hour), int(minute),
                                     int(second or 0))
        elif re.match(r"\d{4}-\d{2}-\d{2}", text):
            moment = dt.datetime.fromisoformat(text)
            if len(text) == 10:
                moment = moment.replace(hour=12)
        else:
            raise ValueError(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.timezone.utc)


def _ru_yes_no(value: Any) -> str:
    return {1: "да", 0: "нет"}.get(value, str(value))


def _plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


# --- validation ---------------------------------------------------------------------------


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

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def cells(self, cells: list[Any]) -> dict[str, tuple[str, Any]]:
        """key -> (header as in the file, raw value) for one row."""
        return {
            key: (self.headers[index], cells[index] if index < len(cells) else None)
            for index, key in self.columns.items()
        }

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


def _map_columns(ctx: Context, known: dict[str, str], required: tuple[str, ...]) -> None:
    """Match headers to keys (case-insensitively); report unknown, duplicate, missing ones."""
    seen: dict[str, str] = {}
    for index, header in enumerate(ctx.headers):
        if not header:
            ctx.error(1, f"№{index + 1}", "у столбца нет заголовка")
            continue
        key = known.get(header.lower()) or known.get(header.translate(_LOOKALIKES).upper())
        if key is None:
            ctx.error(1, header, "неизвестный столбец: ожидаются столбцы шаблона методики "
                                 f"{ctx.indicator_set.key}")
            continue
        if key in seen:
            ctx.error(1, header, f"столбец повторяется (уже есть «{seen[key]}»)")
            continue
        seen[key] = header
        ctx.columns[index] = key
    for key in required:
        if key not in seen:
            ctx.error(1, None, f"нет обязательного столбца {key}")


def response_columns(indicator_set: IndicatorSet) -> list[Item]:
    """Questionnaire items in file order: questions, then profile, then the comment."""
    order = {"question": 0, "profile": 1, "comment": 2}
    return sorted(indicator_set.items, key=lambda item: order[item.section])


def checklist_params(indicator_set: IndicatorSet) -> list[str]:
    """Every checklist parameter key of the set, in the order the indicators declare them."""
    keys: list[str] = []
    for indicator in checklist_indicators(indicator_set):
        for param in indicator.checklist:
            if param.key not in keys:
                keys.append(param.key)
    return keys


def checklist_indicators(indicator_set: IndicatorSet) -> list[Indicator]:
    return [i for i in indicator_set.indicators if i.kind == "objective" and i.checklist]


def _response_known_columns(indicator_set: IndicatorSet) -> dict[str, str]:
    known = {key: key for key in RESPONSE_COLUMNS}
    for item in indicator_set.items:
        known[item.key.lower()] = item.key
    # An indicator measured by one item may be headed by its code (S-I.1 → prof_competence).
    for indicator in indicator_set.indicators:
        if indicator.kind == "subjective" and len(indicator.items) == 1:
            known.setdefault(indicator.code.upper(), indicator.items[0])
    return known


def _scale(ctx: Context, row: int, column: str, item: Item, raw: Any) -> int | None:
    bounds = f"{item.scale_min}–{item.scale_max}"
    if type(raw) is str and raw.isascii() and raw.isdigit():
        value = int(raw)  # the usual cell, «7»: no need for the general number parser
    else:
        try:
            number = parse_number(raw)
        except ValueError:
            ctx.error(row, column,
                      f"«{cell_text(raw)}» — не число (ожидается {bounds} или пусто)")
            return None
        if not number.is_integer():
            ctx.error(row, column, f"значение {cell_text(raw)} не целое (ожидается {bounds})")
            return None
        value = int(number)
    if not item.scale_min <= value <= item.scale_max:
        ctx.error(row, column, f"значение {value} вне шкалы {bounds}")
        return None
    return value


def _option(options, raw: Any) -> str | None:
    text = cell_text(raw)
    word = _word(raw)
    for option in options:
        if text == option.key or word in {option.key.lower(), _word(option.label)}:
            return option.key
    return None


def _item_value(ctx: Context, row: int, column: str, item: Item, raw: Any) -> tuple[bool, Any]:
    """(answered, value) of one cell; errors are reported on ``ctx``."""
    if type(raw) is str and raw.isascii() and raw.isdigit() and item.kind == "scale":
        return True, _scale(ctx, row, column, item, raw)  # the usual cell, checked quickly
    if is_blank(raw):
        return False, None
    if item.kind == "text":
        return True, cell_text(raw)[:4000]
    if item.kind == "choice" and _option(item.options, raw) is not None:
        return True, _option(item.options, raw)
    if _word(raw) in NA_WORDS:
        if not item.allows_na:
            ctx.error(row, column, "у этого вопроса нет варианта «Затрудняюсь ответить»")
        return True, None
    if item.kind == "scale":
        return True, _scale(ctx, row, column, item, raw)
    if item.kind == "yesno":
        try:
            return True, int(parse_yes_no(raw))
        except ValueError:
            ctx.error(row, column, f"ожидается «да» или «нет», а не «{cell_text(raw)}»")
            return True, None
    key = _option(item.options, raw)
    if key is None:
        allowed = ", ".join(option.key for option in item.options)
        ctx.error(row, column, f"вариант «{cell_text(raw)}» не предусмотрен (допустимо: {allowed})")
    return True, key


def client_key(region: Region, response_id: str) -> str:
    return f"{CLIENT_KEY_PREFIX}:{region.code}:{response_id}"


@dataclass
class Prepared:
    """The validated rows of a file, ready to be written."""

    rows_total: int
    new: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    existing: int = 0


def prepare_responses(ctx: Context, table: Table, report: Callable) -> Prepared:
    indicator_set = ctx.indicator_set
    _map_columns(ctx, _response_known_columns(indicator_set), RESPONSE_COLUMNS)
    prepared = Prepared(rows_total=len(table.rows))
    if ctx.error_count:
        return prepared
    items = {item.key: item for item in indicator_set.items}
    questions = [key for key in ctx.columns.values() if key in items
                 and items[key].section == "question"]
    if not questions:
        ctx.error(1, None, "нет ни одного столбца с вопросами анкеты методики "
                           f"{indicator_set.key}")
        return prepared
    seen: dict[str, int] = {}
    known: dict = {}  # offices and the campaign, looked up once for all rows
    keys = _existing_keys([
        client_key(ctx.region, cell_text(cells[index])) for _, cells in table.rows
        for index, key in ctx.columns.items() if key == "response_id" and index < len(cells)
    ])
    campaign = ctx.campaign
    for position, (row, cells) in enumerate(table.rows, start=1):
        if position % PROGRESS_EVERY == 0:
            report(0.05 + 0.8 * position / len(table.rows),
                   f"Проверено строк: {position} из {len(table.rows)}")
        values = ctx.cells(cells)
        header, raw_id = values["response_id"]
        response_id = cell_text(raw_id)
        if not response_id:
            ctx.error(row, header, "не указан номер анкеты (response_id)")
            continue
        if len(response_id) > 80:
            ctx.error(row, header, "номер анкеты длиннее 80 символов")
            continue
        if response_id in seen:
            ctx.error(row, header, f"номер анкеты «{response_id}» уже встречался в строке "
                                   f"{seen[response_id]}")
            continue
        seen[response_id] = row
        key = client_key(ctx.region, response_id)
        if key in keys:
            prepared.existing += 1  # imported before: recognised, not validated again
            continue
        errors_before = ctx.error_count
        office = ctx.office(row, *values["office_code"])
        header, raw_type = values["respondent_type"]
        respondent_type = RESPONDENT_WORDS.get(_word(raw_type))
        if respondent_type is None:
            ctx.error(row, header, f"неизвестный тип респондента «{cell_text(raw_type)}» "
                                   "(ожидается «соискатель» или «работодатель»)")
        header, raw_moment = values["submitted_at"]
        moment = None
        if is_blank(raw_moment):
            ctx.error(row, header, "не указана дата заполнения")
        else:
            try:
                moment = parse_moment(raw_moment, ctx.region.timezone)
            except (ValueError, OverflowError):
                ctx.error(row, header, f"дата «{cell_text(raw_moment)}» не распознана "
                                       "(ожидается ДД.ММ.ГГГГ [ЧЧ:ММ] или ГГГГ-ММ-ДД)")
        if moment is not None:
            day = local_date(ctx.region, moment)
            if not campaign.starts_on <= day <= campaign.ends_on:
                ctx.error(row, header, f"дата {day:%d.%m.%Y} вне кампании «{campaign.name}» "
                                       f"({campaign.starts_on:%d.%m.%Y}–"
                                       f"{campaign.ends_on:%d.%m.%Y})")
        if respondent_type is None:
            continue
        answers: dict[str, Any] = {}
        profile: dict[str, Any] = {}
        comment: str | None = None
        answered_any = False
        for item_key, (header, raw) in values.items():
            item = items.get(item_key)
            if item is None:
                continue
            if item.for_type(respondent_type) is None:
                if not is_blank(raw):
                    ctx.error(row, header, "этот вопрос не задаётся "
                                           f"{RESPONDENT_DATIVE[respondent_type]}")
                continue
            answered, value = _item_value(ctx, row, header, item, raw)
            if item.section == "comment":
                comment = value
            elif item.section == "profile":
                if value is not None:
                    profile[item_key] = value
            elif answered:
                answered_any = True
                answers[item_key] = value
            elif item.allows_na and not item.follows:
                answers[item_key] = None  # empty cell: no answer («Затрудняюсь ответить»)
        for item_key in list(answers):
            item = items[item_key]
            if item.follows:
                parent, expected = item.follows
                if answers.get(parent) != expected and answers[item_key] is not None:
                    ctx.error(row, values[item_key][0],
                              f"ответ возможен, только если в столбце {parent} ответ "
                              f"«{_ru_yes_no(expected)}»")
        for item_key, (header, raw) in values.items():
            item = items.get(item_key)
            if item is not None and item.follows and is_blank(raw):
                parent, expected = item.follows
                if answers.get(parent) == expected and item.allows_na:
                    answers[item_key] = None  # asked, left empty
        if not answered_any:
            ctx.error(row, None, "нет ни одного ответа на вопросы анкеты")
        if ctx.error_count > errors_before or office is None or moment is None:
            continue
        try:
            response = validate(known=known, sub=Submission(
                office_id=office.id, respondent_type=respondent_type, answers=answers,
                client_key=key, channel=CHANNEL, submitted_at=moment, profile=profile,
                comment=comment, campaign_id=campaign.id,
                meta={"import_row": row, "response_id": response_id},
            ))
        except IntakeError as exc:
            column = values.get(exc.field, (exc.field, None))[0]
            ctx.error(row, column, exc.message)
            continue
        prepared.new.append(response)
    return prepared


def _existing_keys(keys: list[str]) -> set[str]:
    """Client keys already stored (in the region: the key names the region)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(db.scalars(select(Response.client_key)
                                .where(Response.client_key.in_(chunk))))
    return found


def _param_value(ctx: Context, row: int, column: str, param: ChecklistParam, raw: Any) -> Any:
    if param.kind == "number":
        try:
            return parse_amount(raw)
        except NegativeNumber:
            ctx.error(row, column, f"отрицательное значение {cell_text(raw)}")
        except ValueError:
            ctx.error(row, column, f"«{cell_text(raw)}» — не число")
        return None
    if param.kind == "choice":
        key = _option(param.options, raw)
        if key is None:
            allowed = ", ".join(option.key for option in param.options)
            ctx.error(row, column,
                      f"вариант «{cell_text(raw)}» не предусмотрен (допустимо: {allowed})")
        return key
    try:
        return parse_yes_no(raw)
    except ValueError:
        ctx.error(row, column, f"ожидается «да» или «нет», а не «{cell_text(raw)}»")
        return None


def prepare_checklists(ctx: Context, table: Table, report: Callable) -> Prepared:
    indicator_set = ctx.indicator_set
    params = checklist_params(indicator_set)
    known = {key: key for key in (*CHECKLIST_COLUMNS, EVIDENCE_COLUMN)}
    known.update({key.lower(): key for key in params})
    _map_columns(ctx, known, CHECKLIST_COLUMNS)
    prepared = Prepared(rows_total=len(table.rows))
    if ctx.error_count:
        return prepared
    indicators = {i.code.upper(): i for i in checklist_indicators(indicator_set)}
    all_codes = {i.code.upper(): i for i in indicator_set.indicators}
    stored = {
        (c.office_id, c.indicator): c
        for c in db.scalars(select(Checklist).where(Checklist.campaign_id == ctx.campaign.id,
                                                    Checklist.region_id == ctx.region.id))
    }
    centralized = ctx.region.network_type == "centralized"
    seen: dict[tuple[int | None, str], int] = {}
    for position, (row, cells) in enumerate(table.rows, start=1):
        if position % PROGRESS_EVERY == 0:
            report(0.05 + 0.8 * position / len(table.rows),
                   f"Проверено строк: {position} из {len(table.rows)}")
        values = ctx.cells(cells)
        errors_before = ctx.error_count
        header, raw_code = values["indicator"]
        code = cell_text(raw_code).translate(_LOOKALIKES).upper().replace(" ", "")
        indicator = indicators.get(code)
        if not code:
            ctx.error(row, header, "не указан показатель (например, O-V.2)")
            continue
        if indicator is None:
            if code in all_codes:
                ctx.error(row, header, f"у показателя {all_codes[code].code} нет чек-листа")
            else:
                ctx.error(row, header, f"показатель «{cell_text(raw_code)}» не найден в методике "
                                       f"{indicator_set.key}")
            continue
        header, raw_office = values["office_code"]
        region_level = indicator.level == "network" and centralized
        office = None
        if is_blank(raw_office):
            if not region_level:
                ctx.error(row, header, f"показатель {indicator.code} заполняется по офисам: "
                                       "укажите код офиса")
        elif region_level:
            ctx.error(row, header, f"показатель {indicator.code} заполняется один раз для "
                                   "региона (централизованная сеть): оставьте код офиса пустым")
        else:
            office = ctx.office(row, header, raw_office)
        own = {param.key: param for param in indicator.checklist}
        filled: dict[str, Any] = {}
        for key, (header, raw) in values.items():
            if key in (*CHECKLIST_COLUMNS, EVIDENCE_COLUMN) or is_blank(raw):
                continue
            param = own.get(key)
            if param is None:
                ctx.error(row, header, f"параметр не относится к показателю {indicator.code}")
                continue
            filled[key] = _param_value(ctx, row, header, param, raw)
        missing = [key for key in own if key not in filled]
        if not filled and ctx.error_count == errors_before:
            ctx.error(row, None, f"не заполнен ни один параметр показателя {indicator.code}")
        elif missing and filled:
            # as in the checklist form: a checklist is scored only when it is complete
            ctx.error(row, None, f"не заполнены параметры показателя {indicator.code}: "
                                 f"{', '.join(missing)}")
        if ctx.error_count > errors_before:
            continue
        office_id = office.id if office is not None else None
        where = (office_id, indicator.code)
        if where in seen:
            ctx.error(row, None, f"чек-лист {indicator.code} для "
                                 f"{'этого офиса' if office_id else 'региона'} уже есть в строке "
                                 f"{seen[where]}")
            continue
        seen[where] = row
        evidence = cell_text(values.get(EVIDENCE_COLUMN, ("", None))[1])
        current = stored.get(where)
        if current is None:
            prepared.new.append(Checklist(
                campaign_id=ctx.campaign.id, region_id=ctx.region.id, office_id=office_id,
                indicator=indicator.code, values=filled,
                evidence={"note": evidence} if evidence else {},
            ))
            continue
        new_evidence = {**(current.evidence or {}), "note": evidence} if evidence \
            else current.evidence
        if current.values == filled and new_evidence == current.evidence:
            prepared.existing += 1
        else:
            prepared.updated.append((current, filled, new_evidence))
    return prepared


# --- the job ------------------------------------------------------------------------------


def _context(record: ImportRecord, table: Table) -> Context:
    region = db.get(Region, record.region_id)
    campaign = db.get(Campaign, record.campaign_id)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(campaign.methodology_key)
    offices = {o.code.upper(): o for o in db.scalars(
        select(Office).where(Office.region_id == region.id))}
    return Context(region=region, campaign=campaign, indicator_set=indicator_set,
                   offices=offices, headers=table.headers)


def run_import(import_id: int, report: Callable[[float, str], None]) -> dict[str, Any]:
    """Read, validate and (only if every row is valid) store one uploaded file."""
    record = db.get(ImportRecord, import_id)
    if record is None:
        raise LookupError(f"import {import_id} is missing")
    if record.status == "succeeded":
        return result_of(record)  # a retried job after a commit: nothing more to do
    record.status = "running"
    record.errors, record.error_count = [], 0
    db.commit()
    report(0.02, "Чтение файла")
    try:
        try:
            table = read_table(record.filename, record.content)
        except FileProblem as exc:
            return _finish_failed(record, [RowError(None, None, str(exc))], 1, 0, report)
        ctx = _context(record, table)
        report(0.05, f"Проверка строк: {len(table.rows)}")
        prepare = prepare_responses if record.kind == "responses" else prepare_checklists
        prepared = prepare(ctx, table, report)
        if ctx.error_count:
            return _finish_failed(record, ctx.errors, ctx.error_count, prepared.rows_total,
                                  report)
        if not table.rows:
            return _finish_failed(record, [RowError(None, None, "в файле нет строк с данными")],
                                  1, 0, report)
        report(0.9, "Запись в базу данных")
        return _write(record, prepared, report)
    except Exception:
        db.rollback()
        record = db.get(ImportRecord, import_id)
        if record.status != "succeeded":  # not when only the last progress report failed
            record.status = "failed"
            record.finished_at = utcnow()
            db.commit()
        raise


def _write(record: ImportRecord, prepared: Prepared, report: Callable) -> dict[str, Any]:
    """One transaction: the rows, the import's counts and its audit entry."""
    try:
        if record.kind == "responses":
            total = len(prepared.new)

            def written(done: int) -> None:
                report(0.9 + 0.08 * done / total, f"Записано строк: {done} из {total}")

            # Progress is committed by another connection: SQLite has one writer at a time,
            # which this transaction is until it commits.
            concurrent = db.get_bind().dialect.name != "sqlite"
            store_batch(prepared.new, written=written if concurrent else None, step=WRITE_CHUNK)
        else:
            for checklist in prepared.new:
                checklist.auditor_id = record.created_by_id
                db.add(checklist)
            for checklist, values, evidence in prepared.updated:
                checklist.values = values
                checklist.evidence = evidence
                checklist.auditor_id = record.created_by_id
        record.status = "succeeded"
        record.rows_total = prepared.rows_total
        record.created_count = len(prepared.new)
        record.updated_count = len(prepared.updated)
        record.existing_count = prepared.existing
        record.finished_at = utcnow()
        entry = audit.record(f"import.{record.kind}", record, actor=f"system: import {record.id}",
                             after={"file": record.filename, "campaign_id": record.campaign_id,
                                    "created": record.created_count,
                                    "updated": record.updated_count,
                                    "existing": record.existing_count})
        entry.actor_id = record.created_by_id
        db.commit()
    except IntegrityError:
        # another import or channel stored some of these rows meanwhile: store none of ours
        db.rollback()
        record = db.get(ImportRecord, record.id)
        message = ("часть строк только что сохранена другим импортом; загрузите файл ещё раз — "
                   "уже сохранённые строки будут пропущены")
        return _finish_failed(record, [RowError(None, None, message)], 1,
                              prepared.rows_total, report)
    if record.created_count or record.updated_count:
        recompute.follow([record.campaign_id])
    result = result_of(record)
    report(1.0, "; ".join(result["lines"]))
    return result


def _finish_failed(record: ImportRecord, errors: list[RowError], count: int, rows: int,
                   report: Callable) -> dict[str, Any]:
    db.rollback()
    record = db.get(ImportRecord, record.id)
    record.status = "failed"
    record.rows_total = rows
    record.created_count = record.updated_count = record.existing_count = 0
    record.errors = [error.as_dict() for error in errors[:MAX_ERRORS]]
    record.error_count = count
    record.finished_at = utcnow()
    db.commit()
    result = result_of(record)
    report(1.0, result["lines"][0])
    return result


def result_of(record: ImportRecord) -> dict[str, Any]:
    """The job's result: counts and the lines the job page shows."""
    if record.status == "failed":
        lines = [f"Ничего не загружено: {record.error_count} "
                 f"{_plural(record.error_count, 'ошибка', 'ошибки', 'ошибок')}"]
        lines += [error["text"] for error in record.errors[:20]]
    else:
        lines = [f"Новых строк: {record.created_count}",
                 f"Уже были загружены: {record.existing_count}"]
        if record.kind == "checklists":
            lines.insert(1, f"Обновлено: {record.updated_count}")
    return {
        "import_id": record.id, "status": record.status, "rows": record.rows_total,
        "created": record.created_count, "updated": record.updated_count,
        "existing": record.existing_count, "errors": record.error_count, "lines": lines,
    }


def import_job(report, import_id: int) -> dict:
    """The ``imports.run`` job."""
    return run_import(import_id, report)


# --- uploading ----------------------------------------------------------------------------


def may_import(user, kind: str) -> bool:
    return user.has_role(*IMPORT_ROLES.get(kind, ()))


def check_upload(filename: str, data: bytes) -> str:
    """The file's extension if it may be stored for import; raises :class:`UploadError`."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    ext = extension(name)
    if ext not in EXTENSIONS:
        raise UploadError("file", _("Only .csv and .xlsx files can be imported."))
    if not data:
        raise UploadError("file", _("The file is empty."))
    if ext == "xlsx" and not data.startswith(b"PK\x03\x04"):
        raise UploadError("file", _("The file is not an Excel workbook (.xlsx)."))
    if ext == "csv" and b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadError("file", _("The file is not a CSV text file."))
    return name[-255:]


def start_import(*, region: Region, campaign_id: int | None, kind: str, filename: str,
                 data: bytes, user_id: int | None) -> ImportRecord:
    """Store an upload and queue its job, in the region's scope; commits.

    Raises :class:`UploadError` for a wrong kind, campaign or file, and
    :class:`cci.foundation.jobs.JobError` when the queue is unavailable (the import is then failed).
    """
    if kind not in IMPORT_KINDS:
        raise UploadError("kind", _("Choose what the file contains: responses or checklists."))
    campaign = db.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None or region not in campaign.regions:
        raise UploadError("campaign", _("Choose a campaign of this region."))
    if campaign.methodology_key not in current_app.extensions["cci.registry"].indicator_sets:
        raise UploadError("campaign", _("The campaign's methodology version is not installed."))
    name = check_upload(filename, data)
    with tenancy.region_scope(region.id, f"import into {region.code}"):
        record = ImportRecord(region_id=region.id, campaign_id=campaign.id, kind=kind,
                              filename=name, content=data, size=len(data),
                              created_by_id=user_id)
        db.add(record)
        db.commit()
        what = "анкет" if kind == "responses" else "чек-листов"
        try:
            job = jobs.enqueue("imports.run", title=f"Импорт {what}: {name}", user_id=user_id,
                               import_id=record.id)
        except jobs.JobError:
            record.status = "failed"
            record.errors = [RowError(None, None, "очередь задач недоступна").as_dict()]
            record.error_count = 1
            db.commit()
            raise
        record.job_id = job.id
        db.commit()
    return record


# --- templates ----------------------------------------------------------------------------


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
        example = ["1", office_code, "соискатель", dt.date.today().strftime("%d.%m.%Y") + " 10:30"]
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
    example: list[Any] = [office_code, indicator.code]
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
    sheet = workbook.active
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
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
