"""Region pages: the region, its offices, and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response
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
from sqlalchemy import func
from sqlalchemy import select
from wtforms import RadioField
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs 3.2
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import Optional

from cci.foundation import improvement_actions
from cci.foundation import offices
from cci.foundation.access import may_open
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.directory import regions_holding_sample_data
from cci.foundation.models import Office
from cci.foundation.roles import Role
from cci.foundation.zones import zone_choices
from cci.foundation.zones import zone_label
from cci.web.moments import region_zone
from cci.web.views import found_or_404
from cci.web.views.areas import region_bp
from cci.web.views.results import office_results

#: who keeps the region's offices
MANAGERS = (Role.ADMIN, Role.REGIONAL_ADMIN)


@region_bp.route("/")
@login_required
def home():
    # the main office first
    offices = db.scalars(select(Office).order_by(Office.kind.desc(), Office.code)).all()
    return render_template("region/home.html", region=g.region, offices=offices,
                           holds_sample=g.region.id in regions_holding_sample_data(),
                           may_manage=may_open("region.office_new"),
                           overdue_actions=_overdue_actions())


def _overdue_actions() -> int:
    """How many of the region's improvement actions are overdue: told to its head."""
    if not may_open("region.action_new"):
        return 0
    today = dt.datetime.now(region_zone(g.region)).date()
    query = improvement_actions.overdue_query(today).order_by(None)
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


@region_bp.route("/offices/<int:office_id>")
@login_required
def office(office_id: int):
    item = found_or_404(Office, office_id)
    return render_template("region/office.html", region=g.region, office=item,
                           may_manage=may_open("region.office_edit"), action_form=FlaskForm(),
                           **office_results(item))


class OfficeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Optional()],
                       description=_l("Latin letters, digits and . _ -; it names the office in "
                                      "files, imports and exports and cannot be changed later."))
    name = StringField(_l("Name"))  # checked with the rest in cci.foundation.offices
    address = StringField(_l("Address"), validators=[Optional()])
    kind = RadioField(_l("Type"), default="branch",
                      choices=[SelectChoice("main", _l("main office")),
                               SelectChoice("branch", _l("branch"))])
    opens = StringField(_l("Opens at"), validators=[Optional()], render_kw={"type": "time"},
                        description=_l("Leave both times empty for the usual hours, "
                                       "08:00–20:00."))
    closes = StringField(_l("Closes at"), validators=[Optional()], render_kw={"type": "time"})
    timezone = SelectField(_l("Time zone"), validators=[Optional()])


def _office_form(obj: Office | None = None) -> OfficeForm:
    form = OfficeForm(obj=obj)
    region_zone = zone_label(g.region.timezone)
    form.timezone.choices = [
        SelectChoice("", _("as the region's (%(zone)s)", zone=region_zone)),
        *(SelectChoice(zone, label) for zone, label in zone_choices())]
    return form


def _save_office(form: OfficeForm, item: Office | None):
    values = {name: form[name].data for name in offices.EDITABLE}
    try:
        if item is None:
            item = offices.create(g.region, form.code.data or "", values, current_user)
        else:
            offices.update(item, values, current_user)
    except offices.OfficeError as exc:
        db.rollback()
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
        return None
    db.commit()
    flash(_("Office «%(name)s» saved.", name=item.name), "success")
    return redirect(url_for("region.office", office_id=item.id))


def _office_form_page(item: Office | None):
    """Add (``item`` None) or change an office: the form, and on a valid post the save."""
    form = _office_form(item)
    if form.validate_on_submit():
        saved = _save_office(form, item)
        if saved is not None:
            return saved
    return render_template("region/office_form.html", region=g.region, form=form,
                           office=item), 400 if form.is_submitted() else 200


@region_bp.route("/offices/new", methods=["GET", "POST"])
@login_required
@roles_required(*MANAGERS)
def office_new():
    return _office_form_page(None)


@region_bp.route("/offices/<int:office_id>/edit", methods=["GET", "POST"])
@login_required
@roles_required(*MANAGERS)
def office_edit(office_id: int):
    return _office_form_page(found_or_404(Office, office_id))


@region_bp.route("/offices/<int:office_id>/active", methods=["POST"])
@login_required
@roles_required(*MANAGERS)
def office_active(office_id: int):
    item = found_or_404(Office, office_id)
    active = request.form.get("active") == "1"
    if offices.set_active(item, active, current_user):
        db.commit()
        flash(_("Office «%(name)s» takes answers again.", name=item.name) if active else
              _("Office «%(name)s» switched off: it takes no answers; its data and results "
                "stay.", name=item.name), "success")
    return redirect(url_for("region.office", office_id=item.id))


OFFICE_EXPORT_COLUMNS = ("code", "name", "address", "kind", "active", "is_sample")


@region_bp.route("/offices.csv")
@login_required
def offices_csv():
    offices = db.scalars(select(Office).order_by(Office.code)).all()
    buffer = io.StringIO()
    # Excel in Russian locales expects ';' and a BOM to read UTF-8 correctly.
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(OFFICE_EXPORT_COLUMNS)
    for office_row in offices:
        writer.writerow([getattr(office_row, column) for column in OFFICE_EXPORT_COLUMNS])
    filename = f"offices-{g.region.code}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",  # Flask adds the charset
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
