"""Taking an upload: who may import what, checking the file, storing it and queuing its job."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from cci.collection.imports.errors import RowError
from cci.collection.imports.errors import UploadError
from cci.collection.imports.files import EXTENSIONS
from cci.collection.imports.files import extension
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import IMPORT_KINDS
from cci.foundation.models import Campaign
from cci.foundation.models import ImportRecord
from cci.foundation.models import Region
from cci.foundation.roles import Role

#: who may import what (a region's pages; the API checks the token owner's role)
IMPORT_ROLES = {
    "responses": (Role.ADMIN, Role.REGIONAL_ADMIN),
    "checklists": (Role.ADMIN, Role.REGIONAL_ADMIN, Role.AUDITOR),
}


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
