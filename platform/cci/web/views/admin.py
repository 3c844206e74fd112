"""Users and the audit log, for administrators of a region or of the platform.

Mounted in both areas: in a region the tenant scope shows that region's users and entries;
in the federal area, every one.
"""

from __future__ import annotations

import secrets

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from cci.foundation import audit
from cci.foundation import jobs
from cci.foundation import login_sessions
from cci.foundation import mail
from cci.foundation.access import blueprint_roles
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import User
from cci.foundation.passwords import MIN_LENGTH
from cci.foundation.roles import FEDERAL_ROLES
from cci.foundation.roles import Role
from cci.foundation.users import UserError
from cci.foundation.users import create_user
from cci.web import audit_log as audit_log_view
from cci.web import exports
from cci.web.views import email_field
from cci.web.views import found_or_404
from cci.web.views import password_reset
from cci.web.views.areas import area_url

bp = Blueprint("admin", __name__, url_prefix="/admin")

USER_FIELDS = ("email", "full_name", "role", "region_id", "office_id", "active")
PAGE_SIZE = 50


@bp.before_request
@login_required
def _signed_in() -> None:
    pass


# a regional administrator never reaches the federal area (its own rule), so this one suffices
blueprint_roles(bp, Role.ADMIN, Role.REGIONAL_ADMIN)


class UserForm(FlaskForm):
    email = email_field()
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    region = SelectField(_l("Region"), validators=[Optional()])
    office = SelectField(_l("Office"), validators=[Optional()])
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=MIN_LENGTH, max=200)],
        description=_l("Leave empty to generate a one-time password."),
    )


def _user_form() -> UserForm:
    form = UserForm()
    in_region = g.get("area") == "region"
    roles = [r for r in Role if not (in_region and r in FEDERAL_ROLES)]
    form.role.choices = [(r.value, r.label) for r in roles]
    if in_region:
        form.region.choices = [(g.region.code, g.region.name)]
    else:
        form.region.choices = [("", _("— none (federal role) —"))] + [
            (r.code, r.name) for r in db.scalars(select(Region).order_by(Region.name))
        ]
    offices = db.scalars(select(Office).order_by(Office.code)).all() if in_region else []
    form.office.choices = [("", _("— any office of the region —"))] + [
        (str(o.id), f"{o.code} — {o.name}") for o in offices
    ]
    return form


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = _user_form()
    created_password = None
    if form.validate_on_submit():
        password = form.password.data or secrets.token_urlsafe(12)
        assert form.email.data is not None  # DataRequired passed
        try:
            user = create_user(
                email=form.email.data,
                role=form.role.data,
                region_code=form.region.data or None,
                office_id=int(form.office.data) if form.office.data else None,
                password=password,
                full_name=form.full_name.data or "",
            )
        except UserError as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            # a password someone else knows: it opens only the page where the user sets their own
            user.password_must_change = True
            db.flush()  # the audit entry names the new user's id
            audit.record("user.create", user, after=audit.snapshot(user, USER_FIELDS))
            db.commit()
            flash(_("User %(email)s created.", email=user.email), "success")
            if not form.password.data:
                created_password = password
            else:
                return redirect(area_url("admin.users"))
    # each with the region and office the list names (not a statement per region and office)
    listing = db.scalars(select(User).options(joinedload(User.region), joinedload(User.office))
                         .order_by(User.active.desc(), User.email)).all()
    return render_template(
        "admin/users.html", form=form, users=listing, created_password=created_password
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def set_active(user_id: int):
    user = found_or_404(User, user_id)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(area_url("admin.users"))
    if user.is_federal and not current_user.has_role(Role.ADMIN):
        abort(404)
    before = audit.snapshot(user, USER_FIELDS)
    user.active = request.form.get("active") == "1"
    if not user.active:
        login_sessions.end_all(user)  # reactivating must not revive them
    audit.record(
        "user.activate" if user.active else "user.deactivate",
        user,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )
    db.commit()
    flash(
        _("User %(email)s activated.", email=user.email)
        if user.active
        else _("User %(email)s deactivated.", email=user.email),
        "success",
    )
    return redirect(area_url("admin.users"))


@bp.route("/users/<int:user_id>/password-reset", methods=["POST"])
def send_password_reset(user_id: int):
    """E-mail the user a link to set a new password; the administrator never sees it."""
    user = db.get(User, user_id)  # another region's user is not found in a region's scope
    if user is None or (user.is_federal and not current_user.has_role(Role.ADMIN)):
        abort(404)
    if not user.active:
        flash(_("User %(email)s is deactivated: activate the account before sending a link.",
                email=user.email), "error")
        return redirect(area_url("admin.users"))
    try:
        password_reset.send_link(user, current_user._get_current_object())
    except mail.MailError:
        current_app.logger.exception("the password-reset link could not be sent")
        flash(_("The link could not be sent by e-mail. Try again later."), "error")
    else:
        flash(_("A link for setting a new password has been sent to %(email)s.",
                email=user.email), "success")
    return redirect(area_url("admin.users"))


@bp.route("/audit")
def audit_log():
    filters = audit_log_view.Filters.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int))
    statement = audit_log_view.query(filters)
    total = db.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    entries = db.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    present = db.scalars(select(AuditEntry.action).distinct()).all()
    actions = sorted(((key, audit_log_view.action_label(key)) for key in present),
                     key=lambda pair: pair[1])
    regions = (db.scalars(select(Region).order_by(Region.name)).all()
               if g.get("area") == "federal" else [])
    return render_template(
        "admin/audit.html", rows=audit_log_view.rows(entries), filters=filters,
        args=filters.as_args(), actions=actions, regions=regions, page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE), total=total,
    )


@bp.route("/audit.<any(csv, xlsx):fmt>")
def audit_export(fmt: str):
    filters = audit_log_view.Filters.from_args(request.args)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return exports.response(audit_log_view.export_table(filters), fmt, f"audit-{stamp}")


@bp.route("/tenants-sync", methods=["POST"])
def sync_tenants():
    """Reload regions and offices from the tenants files, as a background job."""
    if g.get("area") != "federal":
        abort(404)
    job = jobs.enqueue(
        "tenants.sync", title=_("Reload regions and offices"), user_id=current_user.id,
        dedupe_key="tenants.sync",
    )
    audit.record("tenants.sync", job, object_type="JobRecord")
    db.commit()
    return redirect(area_url("jobs.detail", job_id=job.id))
