"""The core's API resources: the current user, regions, offices, jobs."""

from __future__ import annotations

from flask import g
from flask import jsonify
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.directory import regions_with_office_counts
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.tenancy import current_region_id
from cci.web.api.blueprint import bp
from cci.web.api.docs import iso_datetime
from cci.web.api.docs import list_of
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError


def user_json(user) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "region": user.region.code if user.region else None,
        "office_id": user.office_id,
        "scope": "federal" if user.is_federal else user.region.code,
    }


def office_json(office: Office, region_code: str) -> dict:
    return {
        "id": office.id,
        "region": region_code,
        "code": office.code,
        "name": office.name,
        "address": office.address,
        "kind": office.kind,
        "active": office.active,
        "is_sample": office.is_sample,
    }


def region_json(region: Region, office_count: int) -> dict:
    return {
        "code": region.code,
        "name": region.name,
        "network_type": region.network_type,
        "timezone": region.timezone,
        "is_sample": region.is_sample,
        "office_count": office_count,
    }


def job_json(job: JobRecord) -> dict:
    return {
        "id": job.id,
        "name": job.name,
        "title": job.title,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "attempts": job.attempts,
        "result": job.result or {},
        "error": job.error,
        "created_at": iso_datetime(job.created_at),
        "started_at": iso_datetime(job.started_at),
        "finished_at": iso_datetime(job.finished_at),
    }


def _visible_regions():
    """Regions the token may see: all for a federal token, its own otherwise."""
    return regions_with_office_counts().order_by(Region.code)


def _region_or_404(code: str) -> Region:
    region = db.scalar(select(Region).where(Region.code == code))
    region_id = current_region_id()
    if region is None or (region_id is not None and region.id != region_id):
        raise ApiError(404)
    return region


@bp.get("/me")
@operation("The token's user and scope", tags=["account"], response=ref("User"), errors=())
def me():
    return jsonify(user_json(g.api_user))


@bp.get("/regions")
@operation(
    "Regions the token may read (all for a federal token)",
    tags=["regions"],
    response=list_of("Region"),
    errors=(),
)
def regions():
    rows = db.execute(_visible_regions()).all()
    return jsonify(items=[region_json(region, n) for region, n in rows])


@bp.get("/regions/<code>")
@operation("One region", tags=["regions"], response=ref("Region"))
def region(code: str):
    region_row = _region_or_404(code)
    row = db.execute(_visible_regions().where(Region.id == region_row.id)).one()
    return jsonify(region_json(*row))


@bp.get("/regions/<code>/offices")
@operation("The offices of a region", tags=["regions"], response=list_of("Office"))
def region_offices(code: str):
    region_row = _region_or_404(code)
    offices = db.scalars(
        select(Office).where(Office.region_id == region_row.id).order_by(Office.code)
    ).all()
    return jsonify(items=[office_json(o, region_row.code) for o in offices])


@bp.get("/offices/<int:office_id>")
@operation("One office", tags=["regions"], response=ref("Office"))
def office(office_id: int):
    row = db.get(Office, office_id)
    if row is None:
        raise ApiError(404)
    return jsonify(office_json(row, row.region.code))


@bp.get("/jobs/<int:job_id>")
@operation("A background job's status and progress", tags=["jobs"], response=ref("Job"))
def job(job_id: int):
    row = db.get(JobRecord, job_id)
    if row is None:
        raise ApiError(404)
    return jsonify(job_json(row))
