"""Region pages for importing responses and checklists: upload, result (polled), templates."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from htmx_flask import request as htmx_request
from jinja2_fragments.flask import render_block
from sqlalchemy import select
from wtforms import RadioField
from wtforms import SelectField
from wtforms.validators import DataRequired

from cci.collection import imports
from cci.collection.campaigns import visible_campaigns
from cci.foundation import jobs
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import ImportRecord
from cci.foundation.models import Office
from cci.web import exports
from cci.web.views import found_or_404
from cci.web.views.areas import region_bp

POLL_SECONDS = 1
KIND_LABELS = {"responses": _l("Questionnaire responses"),
               "checklists": _l("Objective checklists")}
MIMETYPES = {"csv": exports.CSV_MIMETYPE, "xlsx": exports.XLSX_MIMETYPE}


class ImportForm(FlaskForm):
    kind = RadioField(_l("What the file contains"), validators=[DataRequired()])
    campaign = SelectField(_l("Campaign"), coerce=int, validators=[DataRequired()])
    file = FileField(_l("File to import"), validators=[FileRequired()],
                     description=_l("CSV (as Excel saves it) or XLSX, with a header row."))


def _allowed_kinds() -> list[str]:
    return [kind for kind in imports.IMPORT_ROLES if imports.may_import(current_user, kind)]


#: whoever may import something opens the page
IMPORTERS = tuple({role: None for kinds in imports.IMPORT_ROLES.values() for role in kinds})


@region_bp.route("/imports/", methods=["GET", "POST"])
@login_required
@roles_required(*IMPORTERS)
def imports_index():
    kinds = _allowed_kinds()
    campaigns = visible_campaigns()
    form = ImportForm()
    form.kind.choices = [(kind, KIND_LABELS[kind]) for kind in kinds]
    sets = current_app.extensions["cci.registry"].indicator_sets
    titles = {key: s.title for key, s in sets.items()}  # as people know them («ИКЦ-2023»)
    form.campaign.choices = [
        (c.id, f"{c.name} ({c.starts_on:%d.%m.%Y}–{c.ends_on:%d.%m.%Y}, "
               f"{titles.get(c.methodology_key, c.methodology_key)})")
        for c in campaigns
    ]
    if request.method == "GET" and kinds:
        form.kind.data = kinds[0]
    if request.method == "POST":
        if not kinds:
            abort(403)
        if form.validate_on_submit():
            upload = form.file.data
            try:
                record = imports.start_import(
                    region=g.region, campaign_id=form.campaign.data, kind=form.kind.data,
                    filename=upload.filename or "", data=upload.read(),
                    user_id=current_user.id,
                )
            except imports.UploadError as exc:
                getattr(form, exc.field, form.file).errors.append(exc.message)
            except jobs.JobError:
                flash(_("The job queue is unavailable; try again in a few minutes."), "error")
            else:
                return redirect(url_for("region.import_detail", import_id=record.id))
    recent = db.scalars(select(ImportRecord).order_by(ImportRecord.id.desc()).limit(20)).all()
    registry = current_app.extensions["cci.registry"]
    return render_template(
        "imports/index.html", form=form, kinds=kinds, recent=recent, kind_labels=KIND_LABELS,
        versions=sorted(registry.indicator_sets), campaigns=campaigns,
    ), 200 if not form.errors else 422


@region_bp.route("/imports/<int:import_id>")
@login_required
def import_detail(import_id: int):
    record = found_or_404(ImportRecord, import_id)
    context = {"record": record, "job": record.job, "poll_seconds": POLL_SECONDS,
               "kind_labels": KIND_LABELS}
    if htmx_request.htmx:
        response = render_block("imports/detail.html", "status", **context)
    else:
        response = render_template("imports/detail.html", **context)
    return response, 200, {"Vary": "HX-Request"}


@region_bp.route("/imports/template/<methodology_key>.<any(csv, xlsx):fmt>")
@login_required
def import_template(methodology_key: str, fmt: str):
    registry = current_app.extensions["cci.registry"]
    kind = request.args.get("kind", "responses")
    if methodology_key not in registry.indicator_sets or kind not in KIND_LABELS:
        abort(404)
    offices = db.scalars(select(Office).where(Office.active.is_(True))
                         .order_by(Office.code)).all()
    content = imports.template_file(registry.indicator_set(methodology_key), kind, fmt,
                                    offices, centralized=g.region.network_type == "centralized")
    filename = f"import-{kind}-{methodology_key}.{fmt}"
    return exports.download(content, MIMETYPES[fmt], filename)
