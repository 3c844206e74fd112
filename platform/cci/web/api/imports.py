"""Imports through the API: upload a CSV/XLSX file (a job), then read its status and errors."""

from __future__ import annotations

import datetime as dt

from flask import g
from flask import jsonify
from flask import request

from cci.collection import imports
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.access import enter_scope
from cci.foundation.db import db
from cci.foundation.models import ImportRecord
from cci.foundation.models import Region
from cci.web.api.blueprint import bp
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.resources import _region_or_404
from cci.web.api.resources import job_json


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite gives naive UTC values back
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def import_json(record: ImportRecord) -> dict:
    job = record.job
    return {
        "id": record.id,
        "region": db.get_one(Region, record.region_id).code,  # regions are never deleted
        "campaign_id": record.campaign_id,
        "kind": record.kind,
        "filename": record.filename,
        "size": record.size,
        "status": record.status,
        "progress": 1.0 if record.status in ("succeeded", "failed") else
        (job.progress if job else 0.0),
        "message": job.message if job else "",
        "rows": record.rows_total,
        "created": record.created_count,
        "updated": record.updated_count,
        "existing": record.existing_count,
        "error_count": record.error_count,
        "errors": [
            {"row": e.get("row"), "column": e.get("column"), "message": e.get("message", ""),
             "text": e.get("text", "")}
            for e in record.errors or []
        ],
        "job": job_json(job) if job else None,
        "created_at": _iso(record.created_at),
        "finished_at": _iso(record.finished_at),
    }


@bp.post("/regions/<code>/imports")
@operation(
    "Upload a CSV or XLSX file of responses or checklists; it is imported by a job",
    tags=["imports"],
    response=ref("Import"),
    status=202,
    request_body=ref("ImportUpload"),
    request_content_type="multipart/form-data",
    errors=(401, 403, 404, 413, 422, 503),
    description=(
        "The whole file is validated first; if any row has an error nothing is stored and the "
        "errors (row as numbered in Excel, header = 1; column as headed) are in the import. "
        "Responses are idempotent by response_id: re-importing adds nothing. Poll "
        "GET /api/v1/imports/{id} until status is succeeded or failed."
    ),
)
def upload_import(code: str):
    region = _region_or_404(code)
    kind = request.form.get("kind", "")
    if kind in imports.IMPORT_ROLES and not imports.may_import(g.api_user, kind):
        raise ApiError(403)
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, details={"file": "a multipart field «file» is required"})
    # a federal token narrows to the region it imports into
    enter_scope(tenancy.Scope(region_id=region.id, reason=f"api import into {region.code}"))
    try:
        record = imports.start_import(
            region=region, campaign_id=request.form.get("campaign", type=int), kind=kind,
            filename=upload.filename or "", data=upload.read(), user_id=g.api_user.id,
        )
    except imports.UploadError as exc:
        raise ApiError(422, message=exc.message, details={exc.field: exc.message}) from None
    except jobs.JobError:
        raise ApiError(503) from None
    record = db.get_one(ImportRecord, record.id)  # just started: imports are never deleted
    return jsonify(import_json(record)), 202


@bp.get("/imports/<int:import_id>")
@operation("An import's status, progress, counts and row errors", tags=["imports"],
           response=ref("Import"))
def get_import(import_id: int):
    record = db.get(ImportRecord, import_id)
    if record is None:
        raise ApiError(404)
    return jsonify(import_json(record))
