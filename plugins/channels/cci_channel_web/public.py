"""The public web survey under /s: an office's link, a region's link (asks for the office), an
invitation's link, then one step per screen, and the thank-you screen.

Plain HTML forms that work without JavaScript; with htmx a step's answer swaps the card in place and
the address follows (``HX-Push-Url``). Every answer is kept in the server-side draft
(:mod:`cci.collection.survey`) as the respondent goes. Public requests carry no tenant scope: each
view finds its office, draft or invitation first and then enters that region's scope explicitly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from htmx_flask import request as htmx_request
from sqlalchemy import select

from cci.plugin_api import CASE_CONTACT_CONSENT
from cci.plugin_api import CaseContactError
from cci.plugin_api import IntakeError
from cci.plugin_api import Office
from cci.plugin_api import Region
from cci.plugin_api import Response
from cci.plugin_api import Scope
from cci.plugin_api import campaign_for
from cci.plugin_api import case_contact_wanted
from cci.plugin_api import db
from cci.plugin_api import enter_scope
from cci.plugin_api import installed_channel
from cci.plugin_api import leave_case_contact
from cci.plugin_api import limiter
from cci.plugin_api import local_time
from cci.plugin_api import per_ip
from cci.plugin_api import schedule_purge
from cci.plugin_api import survey
from cci.plugin_api import utcnow

KEY = "web"
URL_PREFIX = "/s"
bp = Blueprint("web_survey", __name__, static_folder="static")  # print.js, the posters' css

DRAFT_COOKIE = "cci_web_survey"
DRAFT_COOKIE_SECONDS = 7 * 24 * 3600
A11Y_COOKIE = "cci_a11y"
A11Y_OPTIONS = ("large", "contrast")
A11Y_COOKIE_SECONDS = 365 * 24 * 3600
#: A survey step is a few fields; anything larger is not a respondent's form.
MAX_BODY_BYTES = 64 * 1024
#: Per address: answers (several respondents may share an office's Wi-Fi), and opening codes.
#: Configurable as WEB_SURVEY_RATELIMIT and WEB_SURVEY_RATELIMIT_CODES (flask-limiter notation).
ANSWERS_LIMIT = "120/minute"
CODES_LIMIT = "30/minute"


def _answers_limit() -> str:
    return current_app.config.get("WEB_SURVEY_RATELIMIT", ANSWERS_LIMIT)


def _codes_limit() -> str:
    return current_app.config.get("WEB_SURVEY_RATELIMIT_CODES", CODES_LIMIT)


#: One budget per address for every form of the survey (starting, answering, the display switch).
answers_limited = limiter.shared_limit(_answers_limit, scope="web-survey-answers",
                                       key_func=per_ip, methods=["POST"])


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = MAX_BODY_BYTES


@bp.after_request
def _no_store(response):
    # Answers on a shared phone or library computer stay out of caches; a fragment and a full
    # page of the same address must not be mistaken for each other.
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response


def channel():
    return installed_channel(KEY)


# --- pages for people ------------------------------------------------------------------------


def _partial() -> bool:
    """An htmx request swaps the card only; a history restore wants the whole page."""
    return bool(htmx_request.htmx) and not htmx_request.htmx.history_restore_request


def _message(heading: str, *lines: str, status: int = 200, **context):
    html = render_template("survey/message.html", heading=heading, lines=lines,
                           prefs_url=url_for("web_survey.prefs"), partial=_partial(), **context)
    return make_response(html, status)


def _no_campaign():
    return _message(
        _("The survey is not running now"),
        _("There is no measurement campaign in your region today, so the questionnaire is "
          "closed."),
        _("Thank you for wanting to share your opinion. Please come back during the next "
          "survey."),
    )


@bp.errorhandler(400)
def _bad_request(_error):
    return _message(_("Bad request"), _("The request could not be understood. Go back and try "
                                        "again."), status=400)


@bp.errorhandler(404)
def _not_found(_error):
    return _message(_("Page not found"), _("Check the survey link: there is no such page."),
                    status=404)


@bp.errorhandler(413)
def _too_large(_error):
    return _message(_("Bad request"), _("The answer is too long."), status=413)


@bp.errorhandler(429)
def _too_many(_error):
    return _message(_("Too many requests"), _("Wait a minute and try again: the answers you "
                                              "gave before are saved."), status=429)


@bp.errorhandler(CSRFError)
def _csrf(_error):
    return _message(_("The page has expired"),
                    _("Reload the page and answer again: the answers you gave before are "
                      "saved."), status=400)


# --- finding the office ------------------------------------------------------------------------


def _region_or_404(region_code: str) -> Region:
    region = db.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        abort(404)
    enter_scope(Scope(region_id=region.id, reason=f"public web survey {region.code}"))
    return region


def _office_or_404(region_code: str, office_code: str) -> Office:
    region = _region_or_404(region_code)
    office = db.scalar(select(Office).where(Office.region_id == region.id,
                                            Office.code == office_code, Office.active))
    if office is None:
        abort(404)
    return office


def _campaign(office: Office):
    return campaign_for(office.region, utcnow())


@bp.route("/<region_code>")
def region_start(region_code: str):
    region = _region_or_404(region_code)
    if campaign_for(region, utcnow()) is None:
        return _no_campaign()
    offices = db.scalars(select(Office).where(Office.active)
                         .order_by(Office.kind.desc(), Office.name)).all()
    if len(offices) == 1:
        return redirect(_office_url(offices[0]), 303)
    return render_template("survey/offices.html", region=region, offices=offices,
                           office_url=_office_url, prefs_url=url_for("web_survey.prefs"))


def _office_url(office: Office, **kw) -> str:
    return url_for("web_survey.office_start", region_code=office.region.code,
                   office_code=office.code, **kw)


@bp.route("/<region_code>/<office_code>", methods=["GET", "POST"])
@answers_limited
def office_start(region_code: str, office_code: str):
    office = _office_or_404(region_code, office_code)
    campaign = _campaign(office)
    if campaign is None:
        return _no_campaign()
    action = _office_url(office)
    if request.method == "GET":
        draft = _cookie_draft()
        if (draft is not None and draft.office_id == office.id and draft.invitation_id is None
                and draft.campaign_id == campaign.id):
            return _resume(draft)
        return _type_step(office, action)
    return _start(office, campaign, action)


# --- invitations -------------------------------------------------------------------------------


def _code_form(code: str | None = None, *lines: str, heading: str | None = None,
               status: int = 200):
    return _message(heading or _("Survey by invitation code"),
                    *(lines or (_("Type the code from your invitation."),)),
                    code_form_url=url_for("web_survey.invitation_form"), code=code,
                    status=status)


@bp.route("/i")
def invitation_form():
    code = survey.normalise_code(request.args.get("code"))
    if code:
        return redirect(url_for("web_survey.invitation", code=code), 303)
    if "code" in request.args:
        return _code_form(None, _("Type the code from your invitation."), status=400)
    return _code_form()


@bp.route("/i/<code>", methods=["GET", "POST"])
@limiter.limit(_codes_limit, key_func=per_ip)
def invitation(code: str):
    found = survey.find_invitation(code)
    if found is None:
        return _code_form(code, _("There is no invitation with this code. Check that it is "
                                  "typed correctly."), heading=_("Code not found"), status=404)
    enter_scope(Scope(region_id=found.region_id, reason="public web survey invitation"))
    state = survey.invitation_state(found)
    draft = survey.find_draft(request.cookies.get(DRAFT_COOKIE, ""))
    own_draft = draft if draft is not None and draft.invitation_id == found.id else None
    if own_draft is not None and own_draft.submitted_response_id is not None:
        return redirect(url_for("web_survey.done", token=own_draft.token), 303)
    if state == "used":
        return _used_code()
    if own_draft is not None and request.method == "GET":
        return _resume(own_draft)
    if state == "expired":
        return _message(_("The invitation has expired"),
                        _("The code was valid until %(date)s. Ask the employment centre for "
                          "a new one, or answer the survey by the link in the office.",
                          date=local_time(found.expires_at, found.office.region)),
                        status=410)
    office = found.office
    if not office.active:
        abort(404)
    campaign = _campaign(office)
    if campaign is None:
        return _no_campaign()
    action = url_for("web_survey.invitation", code=found.code)
    if request.method == "GET":
        return _type_step(office, action)
    return _start(office, campaign, action, invitation=found)


def _used_code():
    return _message(_("The code has already been used"),
                    _("One invitation code gives one answer, and this one has been answered. "
                      "Thank you!"), status=410)



# --- the steps ---------------------------------------------------------------------------------


def _cookie_draft():
    draft = survey.find_draft(request.cookies.get(DRAFT_COOKIE, ""))
    if draft is None or draft.submitted_response_id is not None:
        return None
    return draft


def _type_step(office: Office, action: str, error: survey.StepError | None = None,
               status: int = 200):
    view = survey.step_view(survey.Step(survey.TYPE_STEP, survey.TYPE_STEP), None, None)
    return _page(view, action_url=action, office=office, error=error, status=status)


def _start(office: Office, campaign, action: str, invitation=None):
    step = survey.Step(survey.TYPE_STEP, survey.TYPE_STEP)
    try:
        value = survey.parse_respondent_type(request.form)
    except survey.StepError as exc:
        return _type_step(office, action, error=exc, status=400)
    draft = survey.start(office, campaign, KEY, invitation=invitation)
    survey.record(draft, step, value)
    db.commit()
    schedule_purge()  # drafts are not kept for ever: at most once a day
    indicator_set = survey.indicator_set_for(draft)
    response = _go(draft, survey.steps(draft, indicator_set)[1], indicator_set)
    response.set_cookie(DRAFT_COOKIE, draft.token, max_age=DRAFT_COOKIE_SECONDS,
                        path=URL_PREFIX, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _draft_or_404(token: str):
    draft = survey.find_draft(token)
    if draft is None:
        abort(404)
    enter_scope(Scope(region_id=draft.region_id, reason="public web survey draft"))
    return draft


def _step_url(draft, step) -> str:
    return url_for("web_survey.step", token=draft.token, step_key=step.key)


def _resume(draft):
    all_steps = survey.steps(draft)
    target = survey.resume_step(draft, all_steps) or all_steps[-1]
    return redirect(_step_url(draft, target), 303)


def _render_step(draft, step, all_steps, indicator_set, error=None, status=200):
    view = survey.step_view(step, draft.respondent_type, survey.form_value(draft, step))
    index = survey.position(all_steps, step.key)
    assert index is not None  # every caller passes one of all_steps
    back = all_steps[index - 1] if index > 0 else None
    after = all_steps[index + 1] if index + 1 < len(all_steps) else None
    forward = after if after is not None and survey.is_answered(draft, step) else None
    progress = (index, len(all_steps) - 1) if index > 0 else None
    return _page(
        view, action_url=_step_url(draft, step),
        back_url=_step_url(draft, back) if back is not None else None,
        forward_url=_step_url(draft, forward) if forward is not None else None,
        progress=progress, error=error, status=status, office=draft.office,
        autofocus=True,
    )


def _page(view, status: int = 200, **context):
    context.setdefault("back_url", None)
    context.setdefault("forward_url", None)
    context.setdefault("progress", None)
    context.setdefault("autofocus", False)
    html = render_template("survey/step.html", view=view, partial=_partial(),
                           prefs_url=url_for("web_survey.prefs"), **context)
    return make_response(html, status)


def _go(draft, step, indicator_set):
    """Show ``step`` next: the card itself for htmx (and the new address), else a redirect."""
    url = _step_url(draft, step)
    if htmx_request.htmx:
        response = _render_step(draft, step, survey.steps(draft, indicator_set), indicator_set)
        response.headers["HX-Push-Url"] = url
        return response
    return redirect(url, 303)


def _known_step_keys(indicator_set) -> set[str]:
    return {survey.TYPE_STEP} | {item.key for item in indicator_set.items}


@bp.route("/a/<token>/<step_key>", methods=["GET", "POST"])
@answers_limited
def step(token: str, step_key: str):
    draft = _draft_or_404(token)
    if draft.submitted_response_id is not None:
        return _to_done(draft)
    indicator_set = survey.indicator_set_for(draft)
    if step_key not in _known_step_keys(indicator_set):
        abort(404)
    all_steps = survey.steps(draft, indicator_set)
    current = survey.reachable(draft, all_steps, step_key)
    if current is None:
        if request.method == "POST":
            target = survey.resume_step(draft, all_steps) or all_steps[-1]
            return _render_step(draft, target, all_steps, indicator_set, status=400,
                                error=survey.unreachable(indicator_set, draft, all_steps,
                                                         step_key))
        return _resume(draft)
    if request.method == "GET":
        return _render_step(draft, current, all_steps, indicator_set)
    try:
        value = survey.parse(indicator_set, draft, current, request.form)
    except survey.StepError as exc:
        return _render_step(draft, current, all_steps, indicator_set, error=exc, status=400)
    survey.record(draft, current, value)
    db.commit()
    all_steps = survey.steps(draft, indicator_set)
    index = survey.position(all_steps, current.key)
    # an answer changes only the steps after it (follow-ups), never whether its own is asked
    assert index is not None
    if index + 1 < len(all_steps):
        return _go(draft, all_steps[index + 1], indicator_set)
    return _finish(draft, all_steps, indicator_set)


def _finish(draft, all_steps, indicator_set):
    missing = survey.resume_step(draft, all_steps)
    if missing is not None:  # a step was skipped by address: answer it first
        return _go(draft, missing, indicator_set)
    try:
        survey.finish(draft, channel(), survey.request_meta(draft))
    except survey.InvitationUnavailable:
        return _used_code()
    except IntakeError as exc:
        current_app.logger.warning("web survey draft %s not stored: %s", draft.id, exc.message)
        return _message(_("The answers could not be saved"),
                        _("The survey in this office is closed now. Thank you for your time."),
                        status=409)
    return _to_done(draft)


def _to_done(draft):
    url = url_for("web_survey.done", token=draft.token)
    if htmx_request.htmx:
        response = _thanks(draft)
        response.headers["HX-Push-Url"] = url
        return response
    return redirect(url, 303)


def thanks_page(office, source, contact_url: str, lines: tuple[str, ...], *, key=None,
                error=None, status: int = 200):
    """The thanks screen: the offer to leave an address for the answer while the answer is
    awaited (:func:`case_contact_wanted`), and the office's «Вы сказали — мы сделали»."""
    html = render_template(
        "web_survey/thanks.html", heading=_("Thank you!"), lines=lines,
        prefs_url=url_for("web_survey.prefs"), partial=_partial(),
        contact_url=contact_url if case_contact_wanted(source) else None, key=key,
        contact_error=error, email=request.form.get("email") if error else None,
        consent_text=CASE_CONTACT_CONSENT,
        you_said_url=url_for("web_survey.you_said", region_code=office.region.code,
                             office_code=office.code))
    return make_response(html, status)


def contact_kept(office):
    return thanks_page(office, None, "", (_("Your address is saved: the answer will come by "
                                            "e-mail. The address is deleted once the case is "
                                            "closed."),))


def _submitted(draft):
    return db.get(Response, draft.submitted_response_id)


def _thanks(draft, error=None, status: int = 200):
    response = thanks_page(draft.office, _submitted(draft),
                           url_for("web_survey.contact", token=draft.token), _thanks_lines(),
                           error=error, status=status)
    response.delete_cookie(DRAFT_COOKIE, path=URL_PREFIX)
    return response


def _thanks_lines() -> tuple[str, ...]:
    return (
        _("Your answers have been saved."),
        _("They will help the employment centre become more convenient. You can close this page."),
    )


@bp.route("/a/<token>/done")
def done(token: str):
    draft = _draft_or_404(token)
    if draft.submitted_response_id is None:
        return _resume(draft)
    return _thanks(draft)


@bp.route("/a/<token>/contact", methods=["POST"])
@answers_limited
def contact(token: str):
    """The respondent's e-mail address for the answer, with consent (kept apart)."""
    draft = _draft_or_404(token)
    if draft.submitted_response_id is None:
        return _resume(draft)
    try:
        kept = leave_case_contact(_submitted(draft), request.form.get("email"),
                                  request.form.get("consent") == "yes")
    except CaseContactError as exc:
        return _thanks(draft, error=exc, status=400)
    return contact_kept(draft.office) if kept else _thanks(draft)


# --- display settings --------------------------------------------------------------------------


@bp.route("/prefs", methods=["POST"])
@answers_limited
def prefs():
    """The large-text and high-contrast switch: a cookie, then back to the page."""
    chosen = [o for o in (request.cookies.get(A11Y_COOKIE) or "").split(".") if o in A11Y_OPTIONS]
    toggle = request.form.get("toggle")
    if toggle not in A11Y_OPTIONS:
        abort(400)
    chosen = [o for o in chosen if o != toggle] if toggle in chosen else [*chosen, toggle]
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/s/") or "\\" in target:
        target = "/s/i"
    response = redirect(target, 303)
    if chosen:
        response.set_cookie(A11Y_COOKIE, ".".join(sorted(chosen)), max_age=A11Y_COOKIE_SECONDS,
                            path="/", samesite="Lax", httponly=True)
    else:
        response.delete_cookie(A11Y_COOKIE, path="/")
    return response
