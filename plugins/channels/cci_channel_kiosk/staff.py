"""Staff pages of the kiosk channel, in a region's area (/r/<code>/kiosks/…): register a kiosk
for an office (and get its one-time pairing code), see each kiosk's state (last seen, app
version, online/offline by its heartbeat, queued answers, refused answers), issue a new code,
revoke, and read the surveys the server refused (/r/<code>/kiosks/rejections).

Only a regional admin (and the platform administrator) manages kiosks. Entering the area works
as for the core's region pages: a region the user may not see does not exist (404), and the
request runs in that region's tenant scope.
"""

from __future__ import annotations

import json

from flask import abort
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
from sqlalchemy import select
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length

from cci.plugin_api import Office
from cci.plugin_api import Role
from cci.plugin_api import blueprint_roles
from cci.plugin_api import db
from cci.plugin_api import local_date
from cci.plugin_api import region_area_blueprint
from cci.plugin_api import utcnow

from cci_channel_kiosk import devices
from cci_channel_kiosk import rejections
from cci_channel_kiosk.models import NAME_MAX
from cci_channel_kiosk.models import Kiosk

STAFF_PREFIX = "/r/<region_code>/kiosks"
staff_bp = region_area_blueprint("kiosk_staff", __name__, template_folder="templates")

#: Who manages kiosks and reads their refused answers, here and in the API.
MANAGER_ROLES = (Role.ADMIN, Role.REGIONAL_ADMIN)
REJECTIONS_PAGE_SIZE = 50


blueprint_roles(staff_bp, *MANAGER_ROLES)


class KioskForm(FlaskForm):
    office = SelectField(_l("Office"), coerce=int, validators=[InputRequired()])
    name = StringField(_l("Name of the kiosk"), validators=[DataRequired(), Length(max=NAME_MAX)],
                       description=_l("For example: hall, ground floor."))


class EmptyForm(FlaskForm):
    pass



def _kiosk_or_404(kiosk_id: int) -> Kiosk:
    # another region's kiosk is not visible in this scope
    kiosk = db.get(Kiosk, kiosk_id) if 0 < kiosk_id <= devices.ID_MAX else None
    if kiosk is None:
        abort(404)
    return kiosk


@staff_bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    offices = db.scalars(select(Office).where(Office.active)
                         .order_by(Office.kind.desc(), Office.code)).all()
    form = KioskForm()
    form.office.choices = [(o.id, f"{o.code} — {o.name}") for o in offices]
    if form.validate_on_submit():
        assert form.name.data is not None  # DataRequired passed
        try:
            office = devices.office_for_kiosk(form.office.data)
            kiosk, code = devices.register(office, form.name.data, current_user.id)
        except devices.RegistrationError as exc:
            if exc.field == "office_id":
                abort(404)
            form.name.errors = [*form.name.errors, exc.message]
        else:
            return _show_code(kiosk, code)
    now = utcnow()
    return render_template("kiosk_staff/index.html", region=g.region, form=form,
                           kiosks=devices.listing(), rejected=rejections.counts(),
                           online=lambda k: devices.is_online(k, now),
                           action_form=EmptyForm(),
                           pair_url=url_for("kiosk.pair", _external=True)), (
        400 if form.is_submitted() else 200)


def _show_code(kiosk: Kiosk, code: str):
    return render_template("kiosk_staff/code.html", region=g.region, kiosk=kiosk,
                           code=devices.format_code(code),
                           pair_url=url_for("kiosk.pair", _external=True))


@staff_bp.route("/<int:kiosk_id>/code", methods=["POST"])
@login_required
def new_code(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        code = devices.new_pairing_code(kiosk)
    except devices.KioskRevoked:
        flash(_("The kiosk is revoked: register a new one."), "error")
        return redirect(url_for("kiosk_staff.index"), 303)
    return _show_code(kiosk, code)


@staff_bp.route("/<int:kiosk_id>/revoke", methods=["POST"])
@login_required
def revoke(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    devices.revoke(kiosk)
    flash(_("Kiosk «%(name)s» revoked: it no longer accepts answers.", name=kiosk.name),
          "success")
    return redirect(url_for("kiosk_staff.index"), 303)


@staff_bp.route("/rejections")
@login_required
def rejections_page():
    """The surveys the server refused, newest first: the region's, or one kiosk's."""
    kiosk_id = request.args.get("kiosk", type=int)
    kiosk = _kiosk_or_404(kiosk_id) if kiosk_id is not None else None
    # bounded: a huge page number would be an OFFSET the database refuses
    page = min(max(1, request.args.get("page", 1, type=int)), 1_000_000)
    total, rows = rejections.page(kiosk_id=kiosk_id, limit=REJECTIONS_PAGE_SIZE,
                                  offset=(page - 1) * REJECTIONS_PAGE_SIZE)
    return render_template("kiosk_staff/rejections.html", region=g.region, kiosk=kiosk,
                           rows=rows, total=total, page=page, page_size=REJECTIONS_PAGE_SIZE,
                           readable=_readable_by_campaign(), pretty=_pretty)


def _readable_by_campaign():
    """``readable(row)``: a refused survey's answers worded as in the questionnaire of the
    campaign running when it arrived (looked up once per region and local day)."""
    sets: dict = {}

    def readable(row):
        region = row.kiosk.office.region
        key = (region.id, local_date(region, row.received_at))
        if key not in sets:
            sets[key] = rejections.indicator_set_for(region, row.received_at)
        return rejections.readable(row.payload, sets[key])

    return readable


def _pretty(payload) -> str:
    if isinstance(payload, str):
        return payload  # a body that was not JSON, kept as its text
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
