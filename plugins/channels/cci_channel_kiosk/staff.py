"""Staff pages of the kiosk channel, in a region's area (/r/<code>/kiosks/…): register a kiosk
for an office (and get its one-time pairing code), see each kiosk's state (last seen, app
version, online/offline by its heartbeat, queued answers), issue a new code, revoke.

Only a regional admin (and the platform administrator) manages kiosks. Entering the area works
as for the core's region pages: a region the user may not see does not exist (404), and the
request runs in that region's tenant scope.
"""

from __future__ import annotations

import zoneinfo

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
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

from cci.db import db
from cci.db import utcnow
from cci.models import Office
from cci.roles import Role

from cci_channel_kiosk import devices
from cci_channel_kiosk.models import NAME_MAX
from cci_channel_kiosk.models import Kiosk
from cci.views.areas import region_area_blueprint

STAFF_PREFIX = "/r/<region_code>/kiosks"
staff_bp = region_area_blueprint("kiosk_staff", __name__, template_folder="templates")

MANAGER_ROLES = (Role.ADMIN, Role.REGIONAL_ADMIN)


@staff_bp.before_request
def _managers_only() -> None:
    if current_user.is_authenticated and not current_user.has_role(*MANAGER_ROLES):
        abort(403)


class KioskForm(FlaskForm):
    office = SelectField(_l("Office"), coerce=int, validators=[InputRequired()])
    name = StringField(_l("Name of the kiosk"), validators=[DataRequired(), Length(max=NAME_MAX)],
                       description=_l("For example: hall, ground floor."))


class EmptyForm(FlaskForm):
    pass


def _local(moment) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(zoneinfo.ZoneInfo(g.region.timezone)).strftime("%d.%m.%Y %H:%M")


def _kiosk_or_404(kiosk_id: int) -> Kiosk:
    kiosk = db.get(Kiosk, kiosk_id)  # another region's kiosk is not visible in this scope
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
        office = db.get(Office, form.office.data)
        if office is None:
            abort(404)
        kiosk, code = devices.register(office, form.name.data, current_user.id)
        return _show_code(kiosk, code)
    kiosks = db.scalars(select(Kiosk).order_by(Kiosk.revoked_at.is_not(None), Kiosk.id)).all()
    now = utcnow()
    return render_template("kiosk_staff/index.html", region=g.region, form=form, kiosks=kiosks,
                           online=lambda k: devices.is_online(k, now), local=_local,
                           action_form=EmptyForm(),
                           pair_url=url_for("kiosk.pair", _external=True)), (
        400 if form.is_submitted() else 200)


def _show_code(kiosk: Kiosk, code: str):
    return render_template("kiosk_staff/code.html", region=g.region, kiosk=kiosk,
                           code=devices.format_code(code), local=_local,
                           pair_url=url_for("kiosk.pair", _external=True))


@staff_bp.route("/<int:kiosk_id>/code", methods=["POST"])
@login_required
def new_code(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if kiosk.revoked_at is not None:
        flash(_("The kiosk is revoked: register a new one."), "error")
        return redirect(url_for("kiosk_staff.index"), 303)
    return _show_code(kiosk, devices.new_pairing_code(kiosk))


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
