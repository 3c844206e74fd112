"""Photo evidence on a checklist's page: the photos sent with the form, checked before anything
is saved; thumbnails and photos served in the region's scope (another region's photo does not
exist for the reader: 404); removal by whoever may change the checklist, audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import photos
from cci.collection.checklists import VIEW_ROLES
from cci.collection.checklists import can_edit
from cci.foundation import audit
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import Checklist
from cci.foundation.models import ChecklistPhoto
from cci.methodology.contract import Indicator
from cci.web.views import found_or_404
from cci.web.views.areas import region_bp


@dataclass(frozen=True)
class Shown:
    id: int
    filename: str


def field_name(parameter: str) -> str:
    return f"photos__{parameter}"


def read_uploads(indicator: Indicator, row: Checklist | None
                 ) -> tuple[dict[str, list[photos.Photo]], dict[str, list[str]]]:
    """The photos sent for each parameter, prepared; and the errors, per parameter."""
    held = _counts(row)
    prepared: dict[str, list[photos.Photo]] = {}
    errors: dict[str, list[str]] = {}
    for param in indicator.checklist:
        files = [f for f in request.files.getlist(field_name(param.key)) if f and f.filename]
        if not files:
            continue
        if held.get(param.key, 0) + len(files) > photos.MAX_PER_PARAMETER:
            errors[param.key] = [_("At most %(n)d photos per parameter.",
                                   n=photos.MAX_PER_PARAMETER)]
            continue
        for upload in files:
            try:
                prepared.setdefault(param.key, []).append(
                    photos.prepare(upload.filename or "", upload.stream))
            except photos.PhotoError as exc:
                errors.setdefault(param.key, []).append(str(exc))
    return prepared, errors


def _counts(row: Checklist | None) -> dict[str, int]:
    if row is None:
        return {}
    counts = db.execute(select(ChecklistPhoto.parameter, func.count())
                        .where(ChecklistPhoto.checklist_id == row.id)
                        .group_by(ChecklistPhoto.parameter))
    return {parameter: int(count) for parameter, count in counts}


def attach(row: Checklist, prepared: dict[str, list[photos.Photo]]) -> int:
    """Add the prepared photos to the checklist, each audited (the caller commits)."""
    added = 0
    for parameter, batch in prepared.items():
        for photo in batch:
            db.add(ChecklistPhoto(checklist_id=row.id, region_id=row.region_id,
                                  parameter=parameter, filename=photo.filename,
                                  content=photo.content, thumbnail=photo.thumbnail,
                                  width=photo.width, height=photo.height,
                                  uploaded_by_id=current_user.id))
            audit.record("checklist.photo_add", row,
                         after={"photos": {parameter: photo.filename}})
            added += 1
    return added


def listing(row: Checklist | None) -> dict[str, list[Shown]]:
    """The checklist's photos by parameter (their names only: the images load by URL)."""
    return listings([row]).get(row.id, {}) if row is not None else {}


def listings(rows: Sequence[Checklist]) -> dict[int, dict[str, list[Shown]]]:
    """:func:`listing` of each checklist, by checklist id, in one statement (an office page
    shows a checklist per objective indicator)."""
    if not rows:
        return {}
    shown: dict[int, dict[str, list[Shown]]] = {}
    for checklist_id, photo_id, parameter, filename in db.execute(
            select(ChecklistPhoto.checklist_id, ChecklistPhoto.id, ChecklistPhoto.parameter,
                   ChecklistPhoto.filename)
            .where(ChecklistPhoto.checklist_id.in_([row.id for row in rows]))
            .order_by(ChecklistPhoto.id)):
        shown.setdefault(checklist_id, {}).setdefault(parameter, []).append(
            Shown(photo_id, filename))
    return shown


def _image(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}.jpg"'
    return response


@region_bp.route("/checklists/photos/<int:photo_id>.jpg")
@login_required
@roles_required(*VIEW_ROLES)
def checklist_photo(photo_id: int):
    photo = found_or_404(ChecklistPhoto, photo_id)
    return _image(photo.content, f"photo-{photo.id}")


@region_bp.route("/checklists/photos/<int:photo_id>/thumbnail.jpg")
@login_required
@roles_required(*VIEW_ROLES)
def checklist_photo_thumbnail(photo_id: int):
    photo = found_or_404(ChecklistPhoto, photo_id)
    return _image(photo.thumbnail, f"photo-{photo.id}-small")


@region_bp.route("/checklists/photos/<int:photo_id>/remove", methods=["POST"])
@login_required
@roles_required(*VIEW_ROLES)
def checklist_photo_remove(photo_id: int):
    photo = found_or_404(ChecklistPhoto, photo_id)
    row = db.get_one(Checklist, photo.checklist_id)  # a photo's checklist is in its region
    if not can_edit(current_user, row.office_id):
        abort(403)
    audit.record("checklist.photo_remove", row, before={"photos": {photo.parameter:
                                                                   photo.filename}})
    db.delete(photo)
    db.commit()
    flash(_("Photo removed."), "success")
    target = "region" if row.office_id is None else str(row.office_id)
    return redirect(url_for("region.checklist", campaign_id=row.campaign_id, target=target,
                            indicator_code=row.indicator))
