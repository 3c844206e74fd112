"""The ``imports.run`` job: read an uploaded file, validate every row, and store the rows in
one transaction only when not one of them has an error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cci.collection import recompute
from cci.collection.imports.checklist_rows import prepare_checklists
from cci.collection.imports.columns import Context
from cci.collection.imports.columns import Prepared
from cci.collection.imports.errors import MAX_ERRORS
from cci.collection.imports.errors import FileProblem
from cci.collection.imports.errors import RowError
from cci.collection.imports.files import Table
from cci.collection.imports.files import read_table
from cci.collection.imports.response_rows import prepare_responses
from cci.collection.intake import store_batch
from cci.foundation import audit
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Campaign
from cci.foundation.models import ImportRecord
from cci.foundation.models import Office
from cci.foundation.models import Region

log = logging.getLogger("cci.imports")

#: responses written per bulk step (progress is reported between steps)
WRITE_CHUNK = 2000

#: a file without a single filled row (a template's example rows are never data)
NO_DATA = {
    "responses": "в файле нет строк с данными: заполните анкеты в строках под заголовком "
                 "(лист «Пример» и инструкция шаблона не загружаются)",
    "checklists": "в файле нет строк с данными: не заполнено ни одно значение (в шаблоне — "
                  "столбец «Значение»; лист «Пример» и инструкция не загружаются)",
}


def plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _context(record: ImportRecord, table: Table) -> Context:
    # an import's region and campaign are foreign keys, and neither is ever deleted
    region = db.get_one(Region, record.region_id)
    campaign = db.get_one(Campaign, record.campaign_id)
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
            return _finish_failed(record, [exc.row_error()], 1, 0, report)
        ctx = _context(record, table)
        report(0.05, f"Проверка строк: {len(table.rows)}")
        prepare = prepare_responses if record.kind == "responses" else prepare_checklists
        prepared = prepare(ctx, table, report)
        if ctx.error_count:
            return _finish_failed(record, ctx.errors, ctx.error_count, prepared.rows_total,
                                  report)
        if not prepared.rows_total:  # a template as downloaded, say
            return _finish_failed(record, [RowError(None, None, NO_DATA[record.kind])], 1, 0,
                                  report)
        report(0.9, "Запись в базу данных")
        return _write(record, prepared, report)
    except Exception:
        db.rollback()
        record = db.get_one(ImportRecord, import_id)  # read above; imports are never deleted
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
        record = db.get_one(ImportRecord, record.id)  # imports are never deleted
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
    record = db.get_one(ImportRecord, record.id)  # imports are never deleted
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
                 f"{plural(record.error_count, 'ошибка', 'ошибки', 'ошибок')}"]
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
