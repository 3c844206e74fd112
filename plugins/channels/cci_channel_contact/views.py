"""The operator console: calls with the phone survey and the outcome, the «mystery call»
checklist, the telephony import and the contact-centre figures.

Every page lives under ``/r/<region_code>/contact`` (see :mod:`cci_channel_contact.blueprint`)
and runs in that region's tenant scope.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
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
from sqlalchemy import func
from sqlalchemy import select
from wtforms import RadioField
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs 3.2
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import StopValidation

from cci.plugin_api import Campaign
from cci.plugin_api import Checklist
from cci.plugin_api import ChecklistError
from cci.plugin_api import Indicator
from cci.plugin_api import IndicatorSet
from cci.plugin_api import IntakeError
from cci.plugin_api import JobError
from cci.plugin_api import JobRecord
from cci.plugin_api import Office
from cci.plugin_api import Region
from cci.plugin_api import Response
from cci.plugin_api import Role
from cci.plugin_api import Submission
from cci.plugin_api import UploadError
from cci.plugin_api import User
from cci.plugin_api import campaign_for
from cci.plugin_api import can_edit_checklist
from cci.plugin_api import checklist_form
from cci.plugin_api import db
from cci.plugin_api import follow_the_data
from cci.plugin_api import installed_channel
from cci.plugin_api import installed_set
from cci.plugin_api import roles_required
from cci.plugin_api import save_checklist
from cci.plugin_api import submit
from cci.plugin_api import target_level
from cci.plugin_api import utcnow
from cci.plugin_api import visible_campaigns

from cci_channel_contact import figures as fig
from cci_channel_contact import questionnaire as q
from cci_channel_contact import telephony
from cci_channel_contact.blueprint import bp
from cci_channel_contact.models import LINE_MAX
from cci_channel_contact.models import ContactCall
from cci_channel_contact.models import TelephonyImport
from cci_channel_contact.models import TelephonyStat

log = logging.getLogger("cci.contact_center")

CHANNEL_KEY = "contact_center"
CLIENT_KEY_PREFIX = "call"
#: the objective indicator whose checklist is the «mystery call» (O-III.4 in cci-2022/2023)
MYSTERY_CALL_KEY = "info_contact_center"

CONSOLE_ROLES = (Role.OPERATOR, Role.REGIONAL_ADMIN, Role.ADMIN)
AUDIT_ROLES = (Role.AUDITOR, Role.REGIONAL_ADMIN, Role.ADMIN)
IMPORT_ROLES = (Role.REGIONAL_ADMIN, Role.ADMIN)
#: how often an import's page asks for its progress
POLL_SECONDS = 1
#: everyone who works in the region may read the contact-centre figures
FIGURE_ROLES = tuple(Role)
#: who sees every call of the region, not only their own
SUPERVISOR_ROLES = (Role.REGIONAL_ADMIN, Role.ADMIN)

DEFAULT_TOPICS = (
    ("registration", _l("Registration")),
    ("benefit", _l("Unemployment benefit")),
    ("vacancies", _l("Vacancies")),
    ("training", _l("Vocational training")),
    ("career_guidance", _l("Career guidance")),
    ("documents", _l("Documents")),
    ("other", _l("Other")),
)
YES, NO = "yes", "no"
MAX_SECONDS = 24 * 3600
MAX_TRANSFERS = 100
RECENT_CALLS = 30
NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}


def topics() -> list[tuple[str, Any]]:
    """The call topics: ``CONTACT_CENTER_TOPICS`` ([[key, label], …]) or the defaults."""
    configured = current_app.config.get("CONTACT_CENTER_TOPICS")
    return [tuple(pair) for pair in configured] if configured else list(DEFAULT_TOPICS)


def _indicator_set(key: str | None) -> IndicatorSet | None:
    if key is None:
        return None
    try:
        return installed_set(key)
    except LookupError:
        return None


def _offices() -> list[Office]:
    return list(db.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.code)))


def _console_session() -> str:
    """An id of this console session (one login in one browser), kept in the signed cookie."""
    token = session.get("contact_center_session")
    if not token:
        token = session["contact_center_session"] = secrets.token_hex(8)
    return token


# --- forms ---------------------------------------------------------------------------------------


def _whole_number(maximum: int, message: Any):
    def validator(form, field) -> None:
        text = (field.data or "").strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            field.number = None
            return
        if not (text.isascii() and text.isdigit()) or int(text) > maximum:
            raise StopValidation(str(message))
        field.number = int(text)

    return validator


class WholeNumberField(StringField):
    """A text field whose :func:`_whole_number` validator leaves the parsed value here."""

    number: int | None = None


class StartCallForm(FlaskForm):
    office = SelectField(_l("Office the call is about"), coerce=int,
                         validators=[InputRequired(message=_l("Choose an office."))])
    line = StringField(
        _l("Telephony line (optional)"), render_kw={"list": "cc-lines", "autocomplete": "off"},
        validators=[Optional(), Length(max=LINE_MAX,
                                       message=_l("At most %(max)d characters."))],
        description=_l("The line as the telephony statistics name it, e.g. «8-800» or "
                       "«Линия 1». Never the caller's phone number: no personal data is kept."))


class OutcomeForm(FlaskForm):
    resolved_first_contact = RadioField(
        _l("Resolved at the first contact"),
        choices=[SelectChoice(YES, _l("Yes")), SelectChoice(NO, _l("No"))],
        validators=[InputRequired(message=_l("Say whether the question was resolved during "
                                             "this call."))])
    transfers = WholeNumberField(
        _l("Transfers during the call"), default="0", render_kw=NUMERIC,
        validators=[_whole_number(MAX_TRANSFERS, _l("Enter the number of transfers: a whole "
                                                    "number from 0 to 100."))])
    escalated = RadioField(
        _l("Escalated to a supervisor, the second line or a specialist"),
        choices=[SelectChoice(YES, _l("Yes")), SelectChoice(NO, _l("No"))],
        validators=[InputRequired(message=_l("Say whether the call was escalated."))])
    waiting_seconds = WholeNumberField(
        _l("Caller's waiting time before the answer, seconds (optional)"), render_kw=NUMERIC,
        validators=[_whole_number(MAX_SECONDS, _l("Enter whole seconds, e.g. 45."))])
    handling_seconds = WholeNumberField(
        _l("Handling time, seconds (optional)"), render_kw=NUMERIC,
        description=_l("Left empty: the time from the start of the call in the console until "
                       "it is saved."),
        validators=[_whole_number(MAX_SECONDS, _l("Enter whole seconds, e.g. 240."))])
    topic = SelectField(_l("Topic of the call"),
                        validators=[InputRequired(message=_l("Choose the topic of the call."))])


class TelephonyForm(FlaskForm):
    file = FileField(_l("Telephony statistics file"), validators=[FileRequired()],
                     description=_l("CSV as Excel saves it (semicolon, Windows-1251 or UTF-8) "
                                    "or XLSX; one row per day and line."))


# --- the console -------------------------------------------------------------------------------


def _calls_query():
    query = select(ContactCall).order_by(ContactCall.id.desc()).limit(RECENT_CALLS)
    if not current_user.has_role(*SUPERVISOR_ROLES):
        query = query.where(ContactCall.operator_id == current_user.id)
    return query


def _start_form(offices: list[Office]) -> StartCallForm:
    form = StartCallForm()
    form.office.choices = [SelectChoice(o.id, f"{o.code} — {o.name}") for o in offices]
    if request.method == "GET":
        office_ids = {o.id for o in offices}
        if current_user.office_id in office_ids:
            form.office.data = current_user.office_id
    return form


@bp.route("/")
@login_required
@roles_required(*FIGURE_ROLES)
def index():
    return _console(_start_form(_offices()))


def _console(form: StartCallForm, status: int = 200):
    region: Region = g.region
    campaign = campaign_for(region, utcnow())
    calls = list(db.scalars(_calls_query())) if current_user.has_role(*CONSOLE_ROLES) else []
    offices = {o.id: o for o in db.scalars(select(Office))}
    topic_labels = dict(topics())
    return render_template(
        "contact_center/index.html", form=form, campaign=campaign, calls=calls,
        offices=offices, topic_labels=topic_labels, lines=fig.lines(),
        can_call=current_user.has_role(*CONSOLE_ROLES),
        can_audit=current_user.has_role(*AUDIT_ROLES),
        can_import=current_user.has_role(*IMPORT_ROLES),
    ), status


@bp.route("/calls", methods=["POST"])
@login_required
@roles_required(*CONSOLE_ROLES)
def start_call():
    offices = _offices()
    form = _start_form(offices)
    if not form.validate_on_submit():
        return _console(form, 400)
    office = db.get(Office, form.office.data)
    if office is None or not office.active:
        abort(404)
    now = utcnow()
    campaign = campaign_for(g.region, now)
    call = ContactCall(office_id=office.id, operator_id=current_user.id,
                       campaign_id=campaign.id if campaign else None,
                       line=(form.line.data or "").strip() or None, started_at=now)
    db.add(call)
    db.commit()
    return redirect(url_for("contact_center.call", call_id=call.id), 303)


def _call_or_404(call_id: int, lock: bool = False) -> ContactCall:
    query = select(ContactCall).where(ContactCall.id == call_id)
    if lock:
        query = query.with_for_update()
    call = db.scalar(query)
    if call is None:
        abort(404)
    if call.operator_id != current_user.id and not current_user.has_role(*SUPERVISOR_ROLES):
        abort(404)  # another operator's call is not this operator's business
    return call


def _survey_context(call: ContactCall, values, errors: dict[str, str]) -> dict[str, Any]:
    campaign = db.get(Campaign, call.campaign_id) if call.campaign_id else None
    indicator_set = _indicator_set(campaign.methodology_key) if campaign else None
    chosen = q.respondent_type_of(values)
    context: dict[str, Any] = {
        "call": call, "campaign": campaign, "indicator_set": indicator_set, "chosen": chosen,
        "values": values, "errors": errors, "questions": [], "profile": [],
        "NA": q.NA, "DECLINED": q.DECLINED, "field_name": q.field_name,
        "comment_max": q.COMMENT_MAX,
    }
    if indicator_set is not None and chosen not in (None, q.DECLINED):
        context["questions"] = q.shown_items(indicator_set, chosen, values, "question")
        context["profile"] = q.shown_items(indicator_set, chosen, values, "profile")
        comment = next((i for i in indicator_set.items if i.section == "comment"), None)
        context["comment_label"] = (comment.for_type(chosen) if comment else None) \
            or _("Caller's remarks and suggestions (optional)")
    return context


def _outcome_form(call: ContactCall) -> OutcomeForm:
    form = OutcomeForm()
    form.topic.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(k, str(v)) for k, v in topics()]
    return form


def _render_call(call: ContactCall, form: OutcomeForm, values, errors: dict[str, str],
                 status: int = 200):
    office = db.get(Office, call.office_id)
    context = _survey_context(call, values, errors)
    response = db.get(Response, call.response_id) if call.response_id else None
    operator = db.get(User, call.operator_id)
    return render_template(
        "contact_center/call.html", office=office, form=form, response=response,
        operator=operator, topic_labels=dict(topics()), **context,
    ), status


@bp.route("/calls/<int:call_id>", methods=["GET", "POST"])
@login_required
@roles_required(*CONSOLE_ROLES)
def call(call_id: int):
    call = _call_or_404(call_id)
    form = _outcome_form(call)
    if call.ended_at is not None:
        if request.method == "POST":
            flash(_("This call has already been recorded; nothing was changed."), "success")
            return redirect(url_for("contact_center.call", call_id=call.id), 303)
        return _render_call(call, form, {}, {})
    if request.method == "GET":
        return _render_call(call, form, {}, {})
    values = request.form
    if values.get("action") == "refresh":  # without JavaScript: show the questions asked now
        return _render_call(call, form, values, {})
    outcome_ok = form.validate_on_submit()
    campaign = db.get(Campaign, call.campaign_id) if call.campaign_id else None
    indicator_set = _indicator_set(campaign.methodology_key) if campaign else None
    parsed = q.parse(indicator_set, values)
    if not outcome_ok or parsed.errors:
        return _render_call(call, form, values, parsed.errors, 400)
    return _finish(call, form, parsed)


def _finish(call: ContactCall, form: OutcomeForm, parsed: q.Parsed):
    """Store the survey through intake (idempotent by the call), then the outcome."""
    now = utcnow()
    response_id = None
    if parsed.respondent_type is not None:
        submission = Submission(
            office_id=call.office_id, respondent_type=parsed.respondent_type,
            answers=parsed.answers, profile=parsed.profile, comment=parsed.comment or None,
            client_key=f"{CLIENT_KEY_PREFIX}:{call.id}", channel=CHANNEL_KEY,
            started_at=call.started_at, submitted_at=now, campaign_id=call.campaign_id,
            meta={"operator_id": call.operator_id, "call_id": call.id,
                  "session": _console_session()},
        )
        channel = installed_channel(CHANNEL_KEY)
        try:
            response, _created = submit(submission, channel)
        except IntakeError as exc:
            db.rollback()
            return _render_call(call, form, request.form, {"respondent_type": _intake_message(exc)},
                                400)
        response_id = response.id
    call = _call_or_404(call.id, lock=True)
    if call.ended_at is None:  # a concurrent save of the same call may have finished it
        call.ended_at = now
        call.resolved_first_contact = form.resolved_first_contact.data == YES
        call.escalated = form.escalated.data == YES
        call.transfers = form.transfers.number or 0
        call.waiting_seconds = form.waiting_seconds.number
        handling = form.handling_seconds.number
        if handling is None:
            handling = max(0, int((now - call.started_at).total_seconds()))
        call.handling_seconds = handling
        call.topic = form.topic.data
        call.response_id = response_id
        db.commit()
    flash(_("Call №%(number)d recorded.", number=call.id), "success")
    return redirect(url_for("contact_center.index"), 303)


def _intake_message(exc: IntakeError) -> str:
    if exc.field in ("office", "campaign", "submitted_at", "answers"):
        return _("The survey was not stored: %(reason)s.", reason=exc.message)
    return _("The survey was not stored: the answer to “%(item)s” does not fit the "
             "questionnaire.", item=exc.field)


@bp.route("/calls/<int:call_id>/survey", methods=["POST"])
@login_required
@roles_required(*CONSOLE_ROLES)
def survey_part(call_id: int):
    """htmx: the questions for the chosen respondent type, or one item's follow-ups."""
    call = _call_or_404(call_id)
    if call.ended_at is not None:
        abort(409)
    context = _survey_context(call, request.form, {})
    parent = request.args.get("after")
    if parent:
        shown = {s.item.key: s for s in context["questions"]}
        if parent not in shown:
            abort(404)
        followers = [s for s in context["questions"]
                     if s.item.follows and s.item.follows[0] == parent]
        return render_template("contact_center/_followups.html", parent=parent,
                               followers=followers, **context), 200, {"Vary": "HX-Request"}
    return render_template("contact_center/_questions.html", **context), 200, \
        {"Vary": "HX-Request"}


# --- the «mystery call» checklist -----------------------------------------------------------


def mystery_call_indicator(indicator_set: IndicatorSet | None) -> Indicator | None:
    """The set's contact-centre objective indicator with a checklist of its own."""
    if indicator_set is None:
        return None
    return next((i for i in indicator_set.indicators
                 if i.kind == "objective" and i.key == MYSTERY_CALL_KEY and i.checklist
                 and not i.components), None)



def _mystery_campaigns() -> tuple[list[Campaign], Campaign | None]:
    """The campaigns with a «mystery call» checklist, and the one asked for (404 if unknown)."""
    campaigns = [c for c in visible_campaigns()
                 if mystery_call_indicator(_indicator_set(c.methodology_key))]
    campaign_id = request.args.get("campaign", type=int)
    if not campaign_id:
        return campaigns, campaigns[0] if campaigns else None
    campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    return campaigns, campaign


def _mystery_office(level: str, offices: list[Office]) -> Office | None:
    """The office whose checklist is shown (None: the region's own); 404 if unknown."""
    if level != "office":
        return None
    office_id = request.args.get("office", type=int)
    if office_id is None:
        office_id = current_user.office_id or (offices[0].id if offices else None)
    office = db.get(Office, office_id) if office_id else None
    if office is None or not office.active:
        abort(404)
    return office


def _stored_checklist(campaign: Campaign, indicator: Indicator,
                      office_id: int | None) -> Checklist | None:
    return db.scalar(select(Checklist).where(
        Checklist.campaign_id == campaign.id, Checklist.indicator == indicator.code,
        Checklist.office_id.is_(None) if office_id is None else Checklist.office_id == office_id,
    ).order_by(Checklist.id).limit(1))



def _save_mystery_call(form, campaign: Campaign, indicator: Indicator, region: Region,
                       office_id: int | None):
    """Store a valid form: the redirect to the saved checklist, or None (errors on the form)."""
    if not form.validate_on_submit():
        return None
    values = {p.key: form[f"value__{p.key}"].data for p in indicator.checklist}
    evidence = {p.key: form[f"evidence__{p.key}"].data or "" for p in indicator.checklist}
    # one writer per region: the region's own checklist is not kept unique on NULL
    db.execute(select(Region.id).where(Region.id == region.id).with_for_update())
    try:
        save_checklist(campaign_id=campaign.id, region_id=region.id, office_id=office_id,
                       indicator=indicator, values=values, evidence=evidence,
                       auditor_id=current_user.id)
    except ChecklistError as exc:
        db.rollback()
        form[f"value__{exc.field}"].errors = [exc.message] \
            if f"value__{exc.field}" in form else []
        return None
    db.commit()
    if not follow_the_data([campaign.id]):
        flash(_("The index will be recalculated later: the job queue is unavailable now."),
              "error")
    flash(_("Mystery-call checklist saved."), "success")
    # url_for leaves out an argument that is None
    return redirect(url_for("contact_center.mystery_call", campaign=campaign.id,
                            office=office_id), 303)


@bp.route("/mystery-call", methods=["GET", "POST"])
@login_required
@roles_required(*AUDIT_ROLES)
def mystery_call():
    region: Region = g.region
    campaigns, campaign = _mystery_campaigns()
    context: dict[str, Any] = {"campaigns": campaigns, "campaign": campaign,
                               "offices": _offices()}
    if campaign is None:
        return render_template("contact_center/mystery_call.html", **context)
    indicator_set = _indicator_set(campaign.methodology_key)
    indicator = mystery_call_indicator(indicator_set)
    assert indicator is not None  # _mystery_campaigns lists only campaigns that have it
    level = target_level(indicator, region.network_type)
    office = _mystery_office(level, context["offices"])
    office_id = office.id if office else None
    editable = can_edit_checklist(current_user, office_id)
    row = _stored_checklist(campaign, indicator, office_id)
    form = checklist_form(indicator, row)
    status = 200
    if request.method == "POST":
        if not editable:
            abort(403)
        saved = _save_mystery_call(form, campaign, indicator, region, office_id)
        if saved is not None:
            return saved
        status = 400
    params = [(p, form[f"value__{p.key}"], form[f"evidence__{p.key}"])
              for p in indicator.checklist]
    auditor = db.get(User, row.auditor_id) if row is not None and row.auditor_id else None
    context.update(indicator_set=indicator_set, indicator=indicator, level=level, office=office,
                   form=form, params=params, row=row, auditor=auditor, editable=editable)
    return render_template("contact_center/mystery_call.html", **context), status


# --- telephony statistics and the figures ------------------------------------------------------


@bp.route("/telephony", methods=["GET", "POST"])
@login_required
@roles_required(*IMPORT_ROLES)
def telephony_import():
    form = TelephonyForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            try:
                record = telephony.start_import(g.region, upload.filename or "", upload.read(),
                                                current_user.id)
            except UploadError as exc:
                form.file.errors.append(exc.message)
                status = 422
            except JobError:
                flash(_("The job queue is unavailable; try again in a few minutes."), "error")
                status = 503
            else:
                # read in the background (a job, within the core's bounds): its page follows it
                return redirect(url_for("contact_center.telephony_result",
                                        import_id=record.id), 303)
        else:
            status = 422
    summary = db.execute(select(
        func.count(TelephonyStat.id), func.min(TelephonyStat.day), func.max(TelephonyStat.day),
        func.count(func.distinct(TelephonyStat.line)))).one()
    recent = db.scalars(select(TelephonyImport).order_by(TelephonyImport.id.desc())
                        .limit(10)).all()
    return render_template("contact_center/telephony.html", form=form, summary=summary,
                           recent=recent), status


@bp.route("/telephony/imports/<int:import_id>")
@login_required
@roles_required(*IMPORT_ROLES)
def telephony_result(import_id: int):
    """An import's progress (polled by htmx while its job runs), then its outcome."""
    record = db.get(TelephonyImport, import_id)
    if record is None:
        abort(404)
    job = db.get(JobRecord, record.job_id) if record.job_id else None
    context = {"record": record, "job": job, "poll_seconds": POLL_SECONDS,
               "figures_args": _figures_args(record)}
    if htmx_request.htmx:
        page = render_block("contact_center/telephony_import.html", "status", **context)
    else:
        page = render_template("contact_center/telephony_import.html", **context)
    return page, 200, {"Vary": "HX-Request"}


def _figures_args(record: TelephonyImport) -> dict[str, Any]:
    """The figures of the days an import stored ("from" is a keyword: a dict)."""
    result = record.result or {}
    if record.status != "succeeded" or not result.get("first_day"):
        return {}
    return {"from": result["first_day"], "to": result["last_day"],
            "group": "day" if result.get("rows", 0) <= 62 else "month"}


def _date_arg(name: str) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        flash(_("Dates are entered as YYYY-MM-DD; “%(value)s” was ignored.", value=raw), "error")
        return None


@bp.route("/figures")
@login_required
@roles_required(*FIGURE_ROLES)
def figures():
    group = request.args.get("group", "month")
    if group not in fig.GROUPINGS:
        group = "month"
    filters = fig.Filters(date_from=_date_arg("from"), date_to=_date_arg("to"),
                          line=(request.args.get("line") or "").strip() or None, group=group)
    timezone = g.region.timezone
    overall = fig.Filters(filters.date_from, filters.date_to, filters.line, "all")
    summary_telephony = fig.telephony_rows(overall)
    summary_calls = fig.call_rows(overall, timezone)
    summary: dict[str, fig.Figure] = {}
    for row in summary_telephony + summary_calls:
        if row.line is None:
            summary.update(row.figures)
    return render_template(
        "contact_center/figures.html", filters=filters, lines=fig.lines(),
        definitions=fig.DEFINITIONS, summary=summary,
        telephony_rows=fig.telephony_rows(filters), call_rows=fig.call_rows(filters, timezone),
        groupings=fig.GROUPINGS,
        can_import=current_user.has_role(*IMPORT_ROLES),
    )
