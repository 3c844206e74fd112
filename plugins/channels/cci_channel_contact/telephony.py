"""Importing the telephony platform's daily statistics per line (CSV as Excel saves it, or
XLSX), documented in ``docs/contact-centre.md``.

An upload is stored (:class:`cci_channel_contact.models.TelephonyImport`) and read by the job
``contact_center.telephony_import`` in the background, never in the web request: the file is
read by the core's reader within its bounds (rows, cells, bytes, time, memory), and a file
beyond them is refused with a message, not retried.

Atomic: every row is validated first; a file with any error stores nothing and lists each
error with its row (as Excel numbers it, the header is row 1) and column (as headed in the
file), in Russian. Idempotent: a row is keyed by (date, line) in the region, so importing the
same file again changes nothing and a corrected file updates the days it contains.

The file readers are the core's (:mod:`cci.collection.imports`: encoding, delimiter, numbers,
dates).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cci.plugin_api import FileProblem
from cci.plugin_api import JobError
from cci.plugin_api import Region
from cci.plugin_api import RowError
from cci.plugin_api import cell_text
from cci.plugin_api import check_upload
from cci.plugin_api import db
from cci.plugin_api import enqueue_job
from cci.plugin_api import parse_moment
from cci.plugin_api import parse_number
from cci.plugin_api import read_table
from cci.plugin_api import record_audit
from cci.plugin_api import utcnow

from cci_channel_contact.models import LINE_MAX
from cci_channel_contact.models import TelephonyImport
from cci_channel_contact.models import TelephonyStat

JOB = "contact_center.telephony_import"

MAX_ERRORS = 200
#: the largest count or time a cell may hold (a day of one line)
MAX_VALUE = 10_000_000

#: column key -> the headers accepted for it (compared lower-case, «ё» as «е», spaces folded)
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("дата", "date"),
    "line": ("линия", "line"),
    "offered": ("поступило", "поступило вызовов", "offered", "calls_offered"),
    "answered": ("принято", "принято вызовов", "answered", "calls_answered"),
    "abandoned": ("потеряно", "потеряно вызовов", "пропущено", "abandoned", "calls_abandoned"),
    "wait_avg": ("среднее ожидание, с", "среднее время ожидания, с", "avg_wait_seconds"),
    "wait_total": ("ожидание всего, с", "общее время ожидания, с", "total_wait_seconds"),
    "handle_avg": ("средняя обработка, с", "среднее время обработки, с", "avg_handle_seconds"),
    "handle_total": ("обработка всего, с", "общее время обработки, с", "total_handle_seconds"),
    "answered_20s": ("принято за 20 с", "принято в течение 20 с", "answered_within_20s"),
}
REQUIRED = ("date", "line", "offered", "answered", "abandoned", "answered_20s")
#: exactly one column of each pair: the average over the answered calls, or the total
EITHER = (("wait_avg", "wait_total"), ("handle_avg", "handle_total"))
#: how a column is named in messages (the file's own header is used when it has one)
DISPLAY = {key: names[0].capitalize() for key, names in COLUMNS.items()}


def _normal(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lower().replace("ё", "е"))


_LOOKUP = {_normal(name): key for key, names in COLUMNS.items() for name in names}


@dataclass
class ImportResult:
    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.add(RowError(row, column, message))

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        """What the import keeps (:attr:`TelephonyImport.result`)."""
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "error_count": self.error_count,
                "errors": [error.as_dict() for error in self.errors],
                "first_day": self.first_day.isoformat() if self.first_day else None,
                "last_day": self.last_day.isoformat() if self.last_day else None}


@dataclass
class Parsed:
    row: int
    day: dt.date
    line: str
    offered: int
    answered: int
    abandoned: int
    answered_within_20s: int
    wait_seconds_total: float
    handle_seconds_total: float

    def values(self) -> dict[str, Any]:
        return {"offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
                "answered_within_20s": self.answered_within_20s,
                "wait_seconds_total": self.wait_seconds_total,
                "handle_seconds_total": self.handle_seconds_total}


def _map_columns(headers: list[str], result: ImportResult) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header.strip():
            result.error(1, f"№{index + 1}", "у столбца нет заголовка")
            continue
        key = _LOOKUP.get(_normal(header))
        if key is None:
            result.error(1, header, "неизвестный столбец (см. описание формата в "
                                    "docs/contact-centre.md)")
        elif key in columns:
            result.error(1, header, f"столбец повторяется (уже есть «{headers[columns[key]]}»)")
        else:
            columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            result.error(1, None, f"нет обязательного столбца «{DISPLAY[key]}»")
    for average, total in EITHER:
        if average in columns and total in columns:
            result.error(1, headers[columns[total]],
                         f"укажите либо «{headers[columns[average]]}», либо "
                         f"«{headers[columns[total]]}», но не оба")
        elif average not in columns and total not in columns:
            result.error(1, None, f"нет столбца «{DISPLAY[average]}» или «{DISPLAY[total]}»")
    return columns


def _count(result: ImportResult, row: int, column: str, raw: Any) -> int | None:
    try:
        number = parse_number(raw)
    except ValueError:
        text = cell_text(raw)
        result.error(row, column, "не заполнено: нужно целое число" if not text
                     else f"«{text}» — не число: нужно целое число")
        return None
    if number < 0 or not number.is_integer():
        result.error(row, column, f"нужно целое неотрицательное число, а не «{cell_text(raw)}»")
        return None
    if number > MAX_VALUE:
        result.error(row, column, f"слишком большое значение: {cell_text(raw)}")
        return None
    return int(number)


def _seconds(result: ImportResult, row: int, column: str, raw: Any) -> float | None:
    try:
        number = parse_number(raw)
    except ValueError:
        text = cell_text(raw)
        result.error(row, column, "не заполнено: нужно число секунд" if not text
                     else f"«{text}» — не число: нужно число секунд (например, 42 или 42,5)")
        return None
    if number < 0:
        result.error(row, column, "время не может быть отрицательным")
        return None
    if number > MAX_VALUE * 100:
        result.error(row, column, f"слишком большое значение: {cell_text(raw)}")
        return None
    return float(number)


def _day(result: ImportResult, row: int, column: str, raw: Any, timezone: str,
         today: dt.date) -> dt.date | None:
    if not cell_text(raw):
        result.error(row, column, "не указана дата")
        return None
    try:
        moment = parse_moment(raw, timezone)
    except (ValueError, OverflowError):
        result.error(row, column, f"«{cell_text(raw)}» — не дата: нужен формат ДД.ММ.ГГГГ")
        return None
    day = moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    if day > today:
        result.error(row, column, f"дата {day:%d.%m.%Y} ещё не наступила")
        return None
    return day


def _row(result: ImportResult, number: int, cells: list[Any], headers: list[str],
         columns: dict[str, int], region: Region, today: dt.date) -> Parsed | None:
    def cell(key: str) -> tuple[str, Any]:
        index = columns[key]
        return headers[index], cells[index] if index < len(cells) else None

    before = result.error_count
    day = _day(result, number, *cell("date"), region.timezone, today)
    line_header, line_raw = cell("line")
    line = cell_text(line_raw)
    if not line:
        result.error(number, line_header, "не указана линия")
    elif len(line) > LINE_MAX:
        result.error(number, line_header, f"название линии длиннее {LINE_MAX} символов")
    offered = _count(result, number, *cell("offered"))
    answered = _count(result, number, *cell("answered"))
    abandoned = _count(result, number, *cell("abandoned"))
    within = _count(result, number, *cell("answered_20s"))
    times: dict[str, float | None] = {}
    for average, total in EITHER:
        if total in columns:
            times[total] = _seconds(result, number, *cell(total))
        elif average in columns:
            mean = _seconds(result, number, *cell(average))
            times[total] = None if mean is None or answered is None else mean * answered
    if result.error_count > before:
        return None
    # _day, _count and _seconds return None only after recording an error (and a total
    # from an average is None only when one of them was), so none is None past the check
    assert (day is not None and offered is not None and answered is not None
            and abandoned is not None and within is not None)
    wait_total, handle_total = times["wait_total"], times["handle_total"]
    assert wait_total is not None and handle_total is not None
    if answered + abandoned > offered:
        result.error(number, cell("answered")[0],
                     f"принято ({answered}) и потеряно ({abandoned}) вместе больше, чем "
                     f"поступило ({offered})")
    if within > answered:
        result.error(number, cell("answered_20s")[0],
                     f"принято за 20 с ({within}) больше, чем принято всего ({answered})")
    if answered == 0:
        for key in ("wait_total", "handle_total"):
            if times[key]:
                header = cell(key)[0] if key in columns else cell(key.replace("total", "avg"))[0]
                result.error(number, header, "время указано, а принятых вызовов нет")
    if result.error_count > before:
        return None
    return Parsed(number, day, line, offered, answered, abandoned, within,
                  round(wait_total, 3), round(handle_total, 3))


def validate(region: Region, filename: str, data: bytes,
             today: dt.date | None = None) -> tuple[ImportResult, list[Parsed]]:
    """Read and check the whole file; nothing is written."""
    result = ImportResult(filename=filename)
    zone = zoneinfo.ZoneInfo(region.timezone)
    today = today or dt.datetime.now(zone).date()
    try:
        table = read_table(filename, data)
    except FileProblem as exc:
        result.add(exc.row_error())
        return result, []
    headers = table.headers
    columns = _map_columns(headers, result)
    if result.error_count:
        return result, []
    parsed: list[Parsed] = []
    seen: dict[tuple[dt.date, str], int] = {}
    for number, cells in table.rows:
        result.rows += 1
        row = _row(result, number, cells, headers, columns, region, today)
        if row is None:
            continue
        key = (row.day, row.line.casefold())
        if key in seen:
            result.error(number, headers[columns["line"]],
                         f"дата {row.day:%d.%m.%Y} и линия «{row.line}» уже есть в строке "
                         f"{seen[key]}")
            continue
        seen[key] = number
        parsed.append(row)
    if not result.rows and not result.error_count:
        result.error(None, None, "в файле нет строк с данными")
    return result, parsed


def start_import(region: Region, filename: str, data: bytes,
                 user_id: int | None) -> TelephonyImport:
    """Store an upload and queue its job (in the region's scope); commits.

    Raises :class:`cci.plugin_api.UploadError` for a file that is not CSV or XLSX, and
    :class:`cci.plugin_api.JobError` when the queue is unavailable (the import is then failed).
    """
    name = check_upload(filename, data)
    record = TelephonyImport(region_id=region.id, filename=name, content=data, size=len(data),
                             created_by_id=user_id)
    db.add(record)
    db.commit()
    try:
        job = enqueue_job(JOB, title=f"Импорт статистики телефонии: {name}", user_id=user_id,
                          import_id=record.id)
    except JobError:
        record.status = "failed"
        record.result = {"error_count": 1, "errors": [
            RowError(None, None, "очередь задач недоступна").as_dict()]}
        record.finished_at = utcnow()
        db.commit()
        raise
    record.job_id = job.id
    db.commit()
    return record


def import_job(report, import_id: int) -> dict[str, Any]:
    """The ``contact_center.telephony_import`` job: read, validate, store all rows or none."""
    record = db.get(TelephonyImport, import_id)
    if record is None:
        raise LookupError(f"telephony import {import_id} is missing")
    if record.status == "succeeded":
        return record.result  # a retried job after its commit: nothing more to do
    region = db.get_one(Region, record.region_id)
    record.status = "running"
    db.commit()
    report(0.05, "Чтение файла")
    try:
        result = import_file(region, record, report)
    except Exception:
        db.rollback()  # the database or the queue: the job is retried; the file is kept
        record = db.get_one(TelephonyImport, import_id)
        if record.status != "succeeded":
            record.status = "failed"
            record.finished_at = utcnow()
            db.commit()
        raise
    record = db.get_one(TelephonyImport, import_id)  # import_file committed or rolled back
    if not result.ok:
        record.status = "failed"
        record.result = result.as_dict()
        record.finished_at = utcnow()
        db.commit()
    lines = [f"Новых строк: {result.created}, обновлено: {result.updated}, "
             f"без изменений: {result.unchanged}"] if result.ok else \
        [f"Ничего не загружено: ошибок — {result.error_count}"] + \
        [error.text for error in result.errors[:20]]
    report(1.0, lines[0])
    return {"import_id": import_id, "status": record.status, "lines": lines,
            **{key: value for key, value in result.as_dict().items() if key != "errors"}}


def import_file(region: Region, record: TelephonyImport, report,
                today: dt.date | None = None) -> ImportResult:
    """Validate, then upsert every row in one transaction with the import's own outcome (in
    the region's scope); commits when the file has no error, else stores nothing."""
    result, parsed = validate(region, record.filename, record.content, today)
    if not result.ok:
        db.rollback()
        return result
    report(0.6, f"Запись строк: {len(parsed)}")
    name = record.filename
    user_id = record.created_by_id
    days = [row.day for row in parsed]
    result.first_day, result.last_day = min(days), max(days)
    stored = {
        (row.day, row.line.casefold()): row
        for row in db.scalars(select(TelephonyStat).where(
            TelephonyStat.region_id == region.id,
            TelephonyStat.day >= result.first_day, TelephonyStat.day <= result.last_day))
    }
    for row in parsed:
        existing = stored.get((row.day, row.line.casefold()))
        values = row.values()
        if existing is None:
            db.add(TelephonyStat(region_id=region.id, day=row.day, line=row.line,
                                 imported_by_id=user_id, **values))
            result.created += 1
        elif all(getattr(existing, key) == value for key, value in values.items()):
            result.unchanged += 1
        else:
            for key, value in values.items():
                setattr(existing, key, value)
            existing.imported_by_id = user_id
            existing.updated_at = utcnow()
            result.updated += 1
    record_audit("telephony.import", object_type="TelephonyStat", object_id=name[:64],
                 region_id=region.id,
                 after={"filename": name, "rows": result.rows, "created": result.created,
                        "updated": result.updated, "unchanged": result.unchanged,
                        "first_day": result.first_day.isoformat(),
                        "last_day": result.last_day.isoformat()})
    record.status = "succeeded"
    record.result = result.as_dict()
    record.finished_at = utcnow()
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        result.created = result.updated = result.unchanged = 0
        result.error(None, None, "те же дни и линии одновременно загружаются другим импортом: "
                                 "повторите загрузку")
    return result
