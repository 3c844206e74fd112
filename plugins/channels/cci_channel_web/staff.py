"""Staff pages of the web survey, in a region's area (/r/<code>/survey/…): the survey links of
the region and its offices, a printable A4 poster per office with a QR code, and one-time
invitations for a visit.

Entering the area works as for the core's region pages: a region the user may not see does not
exist (404), and the request runs in that region's tenant scope.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

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
from wtforms import DateField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange

from cci.plugin_api import TOUCHPOINTS
from cci.plugin_api import Office
from cci.plugin_api import Region
from cci.plugin_api import Role
from cci.plugin_api import SurveyInvitation
from cci.plugin_api import db
from cci.plugin_api import region_area_blueprint
from cci.plugin_api import survey
from cci.plugin_api import touchpoint_questions
from cci.plugin_api import utcnow

from cci_channel_web import qr
from cci_channel_web.touchpoint import touchpoint_url

STAFF_PREFIX = "/r/<region_code>/survey"
staff_bp = region_area_blueprint("web_survey_staff", __name__, template_folder="templates")

#: Who issues invitations: the region's staff (and the platform administrator).
INVITATION_ROLES = (Role.ADMIN, Role.REGIONAL_ADMIN, Role.AUDITOR, Role.OPERATOR)
INVITATIONS_LISTED = 50


def _may_invite() -> bool:
    return current_user.has_role(*INVITATION_ROLES)


def _office_or_404(office_id: int) -> Office:
    office = db.get(Office, office_id)  # another region's office is not visible in this scope
    if office is None:
        abort(404)
    return office


def office_link(office: Office) -> str:
    return url_for("web_survey.office_start", region_code=office.region.code,
                   office_code=office.code, _external=True)


def region_link(region: Region) -> str:
    return url_for("web_survey.region_start", region_code=region.code, _external=True)


def invitation_link(invitation: SurveyInvitation) -> str:
    return url_for("web_survey.invitation", code=invitation.code, _external=True)


@staff_bp.route("/")
@login_required
def links():
    offices = db.scalars(select(Office).order_by(Office.kind.desc(), Office.code)).all()
    cards = [(key, place, q.text) for key, (q, places) in touchpoint_questions().items()
             for place in places]
    return render_template("web_survey/links.html", region=g.region, offices=offices,
                           region_link=region_link(g.region), office_link=office_link,
                           may_invite=_may_invite(), cards=cards, touchpoint_names=TOUCHPOINTS)


@staff_bp.route("/poster/<int:office_id>")
@login_required
def poster(office_id: int):
    office = _office_or_404(office_id)
    return render_template("web_survey/poster.html", region=g.region, office=office,
                           link=office_link(office))


@staff_bp.route("/poster/<int:office_id>/qr.svg")
@login_required
def poster_qr(office_id: int):
    office = _office_or_404(office_id)
    return qr.svg_response(office_link(office), title=_("Survey link: %(office)s",
                                                         office=office.name))


# --- touchpoint survey cards (a QR card at the specialist's window, a link after a service) ----


def _card_target() -> tuple[Office, str, str]:
    office = _office_or_404(request.args.get("office", type=int) or 0)
    touchpoint, question = request.args.get("touchpoint", ""), request.args.get("question", "")
    if request.args.get("card"):  # the links page's form: "<question>@<touchpoint>"
        question, _at, touchpoint = request.args["card"].partition("@")
    asked = touchpoint_questions()
    if question not in asked or touchpoint not in asked[question][1]:
        abort(404)
    return office, touchpoint, question


@staff_bp.route("/card")
@login_required
def touchpoint_card():
    office, touchpoint, question = _card_target()
    return render_template("web_survey/card.html", region=g.region, office=office,
                           question=touchpoint_questions()[question][0],
                           link=touchpoint_url(office, touchpoint, question),
                           qr_url=url_for("web_survey_staff.touchpoint_card_qr",
                                          office=office.id, touchpoint=touchpoint,
                                          question=question))


@staff_bp.route("/card/qr.svg")
@login_required
def touchpoint_card_qr():
    office, touchpoint, question = _card_target()
    return qr.svg_response(touchpoint_url(office, touchpoint, question),
                           title=_("Survey link: %(office)s", office=office.name))


# --- invitations -------------------------------------------------------------------------------


class InvitationForm(FlaskForm):
    office = SelectField(_l("Office"), coerce=int, validators=[InputRequired()])
    service = StringField(
        _l("Service"), validators=[DataRequired(), Length(max=survey.SERVICE_MAX)],
        description=_l("For example: registration as unemployed, a vacancy selection. No names, "
                       "phone numbers or other personal data."))
    visit_date = DateField(_l("Date of the visit"), validators=[DataRequired()])
    days = IntegerField(
        _l("Valid, days"), default=survey.INVITATION_DAYS,
        validators=[InputRequired(), NumberRange(min=1, max=survey.INVITATION_DAYS_MAX)])


def _region_today(region: Region) -> dt.date:
    return utcnow().astimezone(zoneinfo.ZoneInfo(region.timezone)).date()


@staff_bp.route("/invitations/", methods=["GET", "POST"])
@login_required
def invitations():
    if not _may_invite():
        abort(403)
    offices = db.scalars(select(Office).where(Office.active)
                         .order_by(Office.kind.desc(), Office.code)).all()
    form = InvitationForm()
    form.office.choices = [(o.id, f"{o.code} — {o.name}") for o in offices]
    today = _region_today(g.region)
    if request.method == "GET":
        form.visit_date.data = today
        if current_user.office_id in {o.id for o in offices}:
            form.office.data = current_user.office_id
    if form.validate_on_submit():
        # DataRequired/InputRequired passed for each
        assert (form.service.data is not None and form.visit_date.data is not None
                and form.days.data is not None)
        if form.visit_date.data > today:
            form.visit_date.errors = [*form.visit_date.errors,
                                      _("The visit cannot be in the future.")]
        else:
            office = _office_or_404(form.office.data)
            issued = survey.issue_invitation(
                office, service=form.service.data, visit_date=form.visit_date.data,
                days=form.days.data, created_by_id=current_user.id)
            flash(_("Invitation %(code)s issued.", code=survey.format_code(issued.code)),
                  "success")
            return redirect(url_for("web_survey_staff.invitation", invitation_id=issued.id), 303)
    recent = db.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id.desc())
                        .limit(INVITATIONS_LISTED)).all()
    now = utcnow()
    status = 400 if request.method == "POST" else 200
    return render_template("web_survey/invitations.html", form=form, region=g.region,
                           invitations=recent, state=lambda i: survey.invitation_state(i, now),
                           fmt=survey.format_code), status



def _invitation_or_404(invitation_id: int) -> SurveyInvitation:
    if not _may_invite():
        abort(403)
    found = db.get(SurveyInvitation, invitation_id)
    if found is None:
        abort(404)
    return found


@staff_bp.route("/invitations/<int:invitation_id>")
@login_required
def invitation(invitation_id: int):
    found = _invitation_or_404(invitation_id)
    return render_template("web_survey/invitation.html", region=g.region, invitation=found,
                           entry_link=url_for("web_survey.invitation_form", _external=True),
                           code=survey.format_code(found.code),
                           state=survey.invitation_state(found))


@staff_bp.route("/invitations/<int:invitation_id>/qr.svg")
@login_required
def invitation_qr(invitation_id: int):
    found = _invitation_or_404(invitation_id)
    return qr.svg_response(invitation_link(found), title=_("Survey invitation %(code)s",
                                                           code=survey.format_code(found.code)))
