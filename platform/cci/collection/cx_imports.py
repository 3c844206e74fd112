"""Importing the day counts CX metrics read (``CxCount``): e-queue and visit statistics, site
funnel counts, quality-checklist points, from CSV or XLSX, read within the import bounds by the
one reader of uploaded tables (:func:`cci.collection.imports.read_table`).

One row per day, office (blank: the region's own), touchpoint and kind of count:

=====================  =====================================================================
column                 holds
=====================  =====================================================================
«Дата»                 the day: 31.12.2025, 2025-12-31, or an Excel date
«Офис»                 the office's code (BRY-01); blank for the region's own figure
«Точка касания»        a touchpoint, by its code (``site``) or its Russian name
«Показатель»           a kind of count, by its code (``preregistrations``) or Russian name
«Значение»             a whole number ≥ 0
=====================  =====================================================================

All or nothing: every row is checked first and a file with a single error stores nothing,
each error naming its row and column; a count already stored for the same day, office,
touchpoint and kind is replaced, so importing a file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from cci.collection.imports import FileProblem
from cci.collection.imports import RowError
from cci.collection.imports import Table
from cci.collection.imports import cell_text
from cci.collection.imports import is_blank
from cci.collection.imports import read_table
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.jobs import InputError
from cci.foundation.models import CxCount
from cci.foundation.models import CxImport
from cci.foundation.models import Office
from cci.methodology.cx import TOUCHPOINTS
from cci.methodology.values import parse_number

JOB = "cx.import_counts"
#: the kinds of count the built-in metrics read, with their Russian names
KINDS = {
    "visits": "Посещения",
    "clients": "Клиенты",
    "contacts": "Обращения",
    "service_page_visits": "Посещения страницы услуги",
    "preregistrations": "Предварительные записи",
    "services_received": "Получили услугу",
    "iqs_points": "Баллы чек-листа качества",
    "iqs_max": "Максимум баллов чек-листа",
}
COLUMNS = {"day": "Дата", "office": "Офис", "touchpoint": "Точка касания",
           "kind": "Показатель", "count": "Значение"}
#: where each kind of count is usually taken: the template file's example rows
USUAL_TOUCHPOINT = {
    "visits": "office", "clients": "office", "contacts": "office",
    "service_page_visits": "site", "preregistrations": "site", "services_received": "office",
    "iqs_points": "office", "iqs_max": "office",
}
MAX_ERRORS = 200
COUNT_MAX = 10**9


@dataclass(frozen=True)
class CountRow:
    day: dt.date
    office_id: int | None
    touchpoint: str
    kind: str
    count: int


def _word(value: Any) -> str:
    return " ".join(cell_text(value).split()).casefold()


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value).strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=dt.UTC).date()
        except ValueError:
            continue
    raise ValueError(text)


def read_rows(table: Table, offices: dict[str, int]) -> tuple[list[CountRow], list[RowError]]:
    """Every row of the table checked; the rows, or every error found (up to MAX_ERRORS)."""
    headers = {_word(h): position for position, h in enumerate(table.headers)}
    where = {key: headers.get(heading.casefold()) for key, heading in COLUMNS.items()}
    missing = [COLUMNS[k] for k, p in where.items() if p is None and k != "office"]
    if missing:
        return [], [RowError(None, None, "нет столбцов: " + ", ".join(f"«{m}»" for m in missing))]
    touchpoints = {_word(name): code for code, name in TOUCHPOINTS.items()} | {
        code: code for code in TOUCHPOINTS}
    kinds = {_word(name): code for code, name in KINDS.items()} | {code: code for code in KINDS}
    rows: list[CountRow] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}

    def cell(row: list[Any], key: str) -> Any:
        position = where[key]
        return row[position] if position is not None and position < len(row) else None

    for number, row in table.rows:
        problems = []
        try:
            day = _day(cell(row, "day"))
        except ValueError:
            problems.append(RowError(number, COLUMNS["day"], "нужна дата, например 31.12.2025"))
            day = None
        office_code = cell_text(cell(row, "office")).strip()
        office_id = None
        if office_code:
            office_id = offices.get(office_code)
            if office_id is None:
                problems.append(RowError(number, COLUMNS["office"],
                                         f"нет офиса с кодом «{office_code}» в регионе"))
        touchpoint = touchpoints.get(_word(cell(row, "touchpoint")))
        if touchpoint is None:
            problems.append(RowError(number, COLUMNS["touchpoint"], "неизвестная точка касания"))
        kind = kinds.get(_word(cell(row, "kind")))
        if kind is None:
            problems.append(RowError(number, COLUMNS["kind"], "неизвестный показатель"))
        count = None
        raw = cell(row, "count")
        try:
            value = None if is_blank(raw) else parse_number(raw)
        except ValueError:
            value = None
        if value is None or value != int(value) or not 0 <= value <= COUNT_MAX:
            problems.append(RowError(number, COLUMNS["count"], "нужно целое число не меньше 0"))
        else:
            count = int(value)
        if not problems:
            assert day is not None and touchpoint is not None and kind is not None
            assert count is not None
            key = (day, office_id, touchpoint, kind)
            if key in seen:
                problems.append(RowError(number, None,
                                         f"повторяет строку {seen[key]} (тот же день, офис, "
                                         "точка касания и показатель)"))
            else:
                seen[key] = number
                rows.append(CountRow(day, office_id, touchpoint, kind, count))
        errors += problems
        if len(errors) >= MAX_ERRORS:
            break
    if not rows and not errors:
        errors.append(RowError(None, None, "в файле нет строк с данными"))
    return rows, errors[:MAX_ERRORS]


def store(rows: list[CountRow], region_id: int) -> tuple[int, int]:
    """Insert or replace the counts (one query reads those already stored); (created, updated).
    Not committed."""
    days = [r.day for r in rows]
    stored = {(c.day, c.office_id, c.touchpoint, c.kind): c for c in db.scalars(
        select(CxCount).where(CxCount.region_id == region_id, CxCount.day >= min(days),
                              CxCount.day <= max(days)))}
    created = updated = 0
    for row in rows:
        found = stored.get((row.day, row.office_id, row.touchpoint, row.kind))
        if found is None:
            db.add(CxCount(region_id=region_id, office_id=row.office_id, day=row.day,
                           touchpoint=row.touchpoint, kind=row.kind, count=row.count))
            created += 1
        elif found.count != row.count:
            found.count = row.count
            updated += 1
    return created, updated


def _errors_json(errors: list[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.row, "column": e.column, "message": e.message, "text": e.text}
            for e in errors]


def import_job(report, import_id: int) -> dict[str, Any]:
    record = db.get(CxImport, import_id)
    if record is None:
        raise InputError("импорт не найден")
    record.status = "running"
    db.commit()
    try:
        table = read_table(record.filename, record.content)
    except FileProblem as exc:
        record.status, record.finished_at = "failed", utcnow()
        record.result = {"errors": _errors_json([RowError(None, None, str(exc))])}
        db.commit()
        raise InputError(str(exc)) from exc
    offices: dict[str, int] = dict(db.execute(
        select(Office.code, Office.id).where(Office.region_id == record.region_id)).all())
    rows, errors = read_rows(table, offices)
    if errors:
        record.status, record.finished_at = "failed", utcnow()
        record.result = {"rows": len(table.rows), "error_count": len(errors),
                         "errors": _errors_json(errors)}
        db.commit()
        return record.result
    created, updated = store(rows, record.region_id)
    record.status, record.finished_at = "succeeded", utcnow()
    record.result = {"rows": len(rows), "created": created, "updated": updated,
                     "unchanged": len(rows) - created - updated}
    db.commit()
    return record.result
