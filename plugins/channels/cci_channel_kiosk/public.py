"""The kiosk itself, under /k: pairing the device, the full-screen touch survey and its JSON API.

The survey runs in the browser from the questionnaire the device downloads
(``/k/api/questionnaire``), so it keeps taking answers when the network or the server is gone:
finished surveys wait in the device's queue (localStorage), each with an idempotency key the device
made, and are delivered to ``POST /k/api/responses`` when the connection returns. The server
validates each in full and stores it with its quality flags through the one intake path
(:func:`cci.collection.intake.submit`) before it acknowledges it (201); it keeps each key once
(client key ``kiosk:<key>``) and answers "already received" (200) for a repeat. A survey refused as
invalid (400) is also kept on the server (:mod:`.rejections`), since the device then drops it from
its queue. A database saturated or unreachable is answered 503 with ``Retry-After``: the device
keeps the survey in its queue and sends it again (backing off up to a minute), as after a 429 of the
device's rate limit. The device token travels in the ``X-Kiosk-Token`` header (the page itself is
opened with the cookie set at pairing). Public requests carry no tenant scope: each view finds the
kiosk first and enters its region's scope.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from cci.plugin_api import DATABASE_UNAVAILABLE
from cci.plugin_api import RESPONDENT_TYPES
from cci.plugin_api import RETRY_AFTER_SECONDS
from cci.plugin_api import TOO_LONG
from cci.plugin_api import UNANSWERED
from cci.plugin_api import AnswerError
from cci.plugin_api import IntakeError
from cci.plugin_api import Scope
from cci.plugin_api import Submission
from cci.plugin_api import db
from cci.plugin_api import enter_scope
from cci.plugin_api import installed_channel
from cci.plugin_api import installed_set
from cci.plugin_api import limiter
from cci.plugin_api import per_device
from cci.plugin_api import per_ip
from cci.plugin_api import public_endpoint
from cci.plugin_api import read_respondent_type
from cci.plugin_api import stored_response
from cci.plugin_api import submit
from cci.plugin_api import survey
from cci.plugin_api import utcnow

from cci_channel_kiosk import devices
from cci_channel_kiosk import payloads
from cci_channel_kiosk import rejections
from cci_channel_kiosk.models import Kiosk

KEY = "kiosk"
URL_PREFIX = "/k"
API_PREFIX = "/k/api"
APP_VERSION = "1.2.0"
# Where the token travels (a header and a cookie name), not the token itself.
TOKEN_HEADER = "X-Kiosk-Token"  # noqa: S105
TOKEN_COOKIE = "cci_kiosk"  # noqa: S105
TOKEN_COOKIE_SECONDS = 5 * 365 * 24 * 3600
IDLE_SECONDS = 60
COUNTDOWN_SECONDS = 10
THANKS_SECONDS = 8
HEARTBEAT_SECONDS = 30
#: How often a delivery without news updates "last seen" (a heartbeat, every
#: HEARTBEAT_SECONDS, always does; a kiosk is online when heard from within
#: devices.ONLINE_SECONDS).
SEEN_EVERY = 60
MAX_BODY_BYTES = 64 * 1024
#: How old a queued answer may be when it finally arrives (a kiosk offline for a long time).
MAX_DELAY_DAYS = 30
CLIENT_KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
#: Per device and per address; configurable as KIOSK_RATELIMIT (flask-limiter notation).
DEVICE_LIMIT = "300/minute"
PAIRING_LIMIT = "20/minute"

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
api_bp = Blueprint("kiosk_api", __name__)


def _device_limit() -> str:
    return current_app.config.get("KIOSK_RATELIMIT", DEVICE_LIMIT)


def _token() -> str | None:
    return request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE)


def _device_key() -> int | None:
    """The kiosk's id from a correctly signed token (no database look-up: the limit is
    checked before the view); a forged or missing token counts per address. Read once per
    request."""
    if "kiosk_token_id" not in g:
        g.kiosk_token_id = devices.token_kiosk_id(_token())
    return g.kiosk_token_id


def channel():
    return installed_channel(KEY)


@api_bp.errorhandler(429)
def _too_many(error):
    """Over the device's limit: JSON, as every answer of the device's API (flask-limiter adds
    ``Retry-After``); the device keeps the survey and sends it again later."""
    return _error(429, _("Too many requests from this device: it will send the answers again "
                         "later."), status="rate_limited")


@api_bp.errorhandler(DATABASE_UNAVAILABLE[0])
@api_bp.errorhandler(DATABASE_UNAVAILABLE[1])
def _database_unavailable(error):
    """The database is saturated or unreachable (:data:`cci.collection.intake.UNAVAILABLE`): nothing
    was stored, and the device keeps the survey in its queue and sends it again later."""
    db.rollback()
    current_app.logger.warning("kiosk API: database unavailable: %s", error)
    response, status = _error(503, _("The answer could not be saved yet: the kiosk will send "
                                     "it again."), status="retry")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


@bp.before_request
@api_bp.before_request
def _limit_body() -> None:
    request.max_content_length = MAX_BODY_BYTES


@bp.after_request
@api_bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- screens -------------------------------------------------------------------------------


def _screen(heading: str, *lines: str, status: int = 200, state: str = "", pair_url=None):
    html = render_template("kiosk/message.html", heading=heading, lines=lines, state=state,
                           pair_url=pair_url)
    return make_response(html, status)


def _staff_screen():
    return _screen(
        _("A staff member is logged in"),
        _("This browser has an open staff session, so it cannot be used to answer the survey."),
        _("Close the staff session (log out) and open the kiosk again."),
        status=403, state="staff")


def _device_screen(state: str):
    if state == "revoked":
        return _screen(
            _("This kiosk is switched off"),
            _("The administrator has revoked this device. The survey is not available on it."),
            _("Please tell the employment centre staff."),
            status=401, state="revoked")
    return _screen(
        _("This device is not registered as a kiosk"),
        _("The survey opens on this device after it is paired with a code from the "
          "administrator."),
        status=401, state="unknown", pair_url=url_for("kiosk.pair"))


@bp.route("/")
def app():
    if current_user.is_authenticated:
        return _staff_screen()
    kiosk, state = devices.device(request.cookies.get(TOKEN_COOKIE))
    if state != "ok":
        return _device_screen(state)
    assert kiosk is not None  # "ok" comes with its device
    enter_scope(Scope(region_id=kiosk.region_id, reason="kiosk screen"))
    try:
        idle = int(request.args.get("idle", IDLE_SECONDS))
    except ValueError:
        idle = IDLE_SECONDS
    idle = max(2, min(idle, 600))
    config = {
        "questionnaireUrl": url_for("kiosk_api.questionnaire"),
        "responsesUrl": url_for("kiosk_api.responses"),
        "exitPollUrl": url_for("kiosk_api.exit_poll"),
        "heartbeatUrl": url_for("kiosk_api.heartbeat"),
        "appVersion": APP_VERSION,
        "idleSeconds": idle,
        "countdownSeconds": min(COUNTDOWN_SECONDS, idle),
        "thanksSeconds": min(THANKS_SECONDS, idle),
        "heartbeatSeconds": HEARTBEAT_SECONDS,
        "tokenHeader": TOKEN_HEADER,
        "serviceWorkerUrl": url_for("kiosk.service_worker"),
        "scope": URL_PREFIX + "/",
    }
    return render_template("kiosk/app.html", config=config, office_name=kiosk.office_name)


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from /k/ so its scope is the whole kiosk."""
    response = bp.send_static_file("kiosk-sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Service-Worker-Allowed"] = URL_PREFIX + "/"
    return response


@bp.route("/pair", methods=["GET", "POST"])
@limiter.limit(PAIRING_LIMIT, key_func=per_ip, methods=["POST"])
def pair():
    if current_user.is_authenticated:
        return _staff_screen()
    error = None
    status = 200
    if request.method == "POST":
        try:
            kiosk, token = devices.pair(request.form.get("code", ""))
        except devices.PairingError as exc:
            status = 400
            error = {
                "expired": _("The code has expired. Ask the administrator for a new one."),
                "revoked": _("This kiosk has been revoked. Ask the administrator to register "
                             "it again."),
            }.get(str(exc), _("There is no such code, or it has been used already. Check the "
                              "digits."))
        else:
            enter_scope(Scope(region_id=kiosk.region_id, reason="kiosk paired"))
            response = make_response(render_template(
                "kiosk/paired.html", token=token, office=kiosk.office, kiosk_name=kiosk.name,
                app_url=url_for("kiosk.app")))
            response.set_cookie(TOKEN_COOKIE, token, max_age=TOKEN_COOKIE_SECONDS,
                                path=URL_PREFIX, httponly=True, samesite="Strict",
                                secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
            return response
    return make_response(render_template("kiosk/pair.html", error=error), status)


@bp.route("/restore", methods=["POST"])
# The device has no session to bind a CSRF token to: the page that posts this may have been
# loaded twice at once (the service worker), each load starting a session of its own, so a
# session token could mismatch and leave the kiosk on the unknown-device screen. The form is
# checked by its Origin instead (a browser always sends it on a POST).
@public_endpoint
@limiter.limit(PAIRING_LIMIT, key_func=per_ip)
def restore():
    """The device lost its cookie but kept the token in localStorage: set the cookie again."""
    if request.headers.get("Origin", "").rstrip("/") != request.host_url.rstrip("/"):
        abort(400)
    token = request.form.get("token", "")
    _kiosk, state = devices.device(token)
    if state != "ok":
        return _device_screen(state)
    response = redirect(url_for("kiosk.app"), 303)
    response.set_cookie(TOKEN_COOKIE, token, max_age=TOKEN_COOKIE_SECONDS, path=URL_PREFIX,
                        httponly=True, samesite="Strict",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


# --- the API of the device ------------------------------------------------------------------


def _error(code: int, message: str, **extra):
    return jsonify({"error": message, **extra}), code


def _authenticate():
    """(kiosk, None) for a trusted device, else (None, error response)."""
    kiosk, state = devices.device(_token(), _device_key())
    if state != "ok":
        message = (_("This kiosk has been revoked by the administrator.") if state == "revoked"
                   else _("The device is not registered as a kiosk."))
        return None, _error(401, message, status=state)
    assert kiosk is not None  # "ok" comes with its device
    enter_scope(Scope(region_id=kiosk.region_id, reason=f"kiosk {kiosk.id}"))
    return kiosk, None


def _seen(kiosk: devices.Device, **fields) -> None:
    """Note that the device was heard from (and what it reports), in the session's
    transaction: one UPDATE of those columns, not a flush of the ORM. Without news (a
    delivery, not a heartbeat) only every :data:`SEEN_EVERY` seconds: "online" means heard
    from within minutes, and a queue delivered after a night offline is hundreds of
    requests."""
    now = utcnow()
    if not fields and kiosk.last_seen_at is not None and (
            now - kiosk.last_seen_at).total_seconds() < SEEN_EVERY:
        return
    db.execute(update(Kiosk).where(Kiosk.id == kiosk.id).values(last_seen_at=now, **fields)
               .execution_options(synchronize_session=False))


@api_bp.get("/questionnaire")
def questionnaire():
    kiosk, failed = _authenticate()
    if failed:
        return failed
    campaign = kiosk.open_campaign(utcnow())
    data: dict[str, Any] = {"office": kiosk.office_name, "texts": texts(), "campaign": None}
    if campaign is not None:
        iset = installed_set(campaign.methodology_key)
        data["campaign"] = campaign.id
        data.update(questionnaire_json(iset))
    _seen(kiosk)
    db.commit()
    return jsonify(data)


def texts() -> dict[str, str]:
    """Every text the kiosk's script shows, in the respondent's language."""
    return {
        "attractHeading": _("Rate the quality of service"),
        "attractLead": _("A short anonymous survey about the service at the employment centre. "
                         "It takes 3–5 minutes."),
        "attractStart": _("Touch to start"),
        "back": _("Back"),
        "next": _("Next"),
        "progress": _("Question %(n)d of %(total)d", n=999001, total=999002)
        .replace("999001", "{n}").replace("999002", "{total}"),
        "commentHint": _("Please do not write your name, phone number or other personal "
                         "data."),
        "thanksHeading": _("Thank you!"),
        "thanksLead": _("Your answers have been saved."),
        "countdown": _("No activity: the survey will start over in %(seconds)s s.",
                       seconds="{s}"),
        "stillHere": _("I am still here"),
        "offline": _("No connection: answers are kept on this device and will be sent later."),
        "queued": _("Waiting to be sent: %(count)s", count="{n}"),
        "closedHeading": _("The survey is not running now"),
        "closedLead": _("There is no measurement campaign in your region today, so the "
                        "questionnaire is closed."),
        "revokedHeading": _("This kiosk is switched off"),
        "revokedLead": _("The administrator has revoked this device. The survey is not "
                         "available on it."),
        "loading": _("Loading the questionnaire…"),
        "yourAnswer": _("your answer"),
        "navigation": _("Questionnaire navigation"),
        "moreOptions": _("More options"),
        "previousOptions": _("Previous options"),
        "optionsPage": _("Options %(first)s–%(last)s of %(total)s", first="{from}", last="{to}",
                         total="{total}"),
        "exitPollStart": _("Just rate today's visit"),
        "exitPollSkip": _("Skip the question"),
        "exitPollDone": _("Finish"),
        "exitPollThanks": _("Your rating has been saved."),
        "exitPollLow": _("%(n)s — not at all", n="{n}"),
        "exitPollHigh": _("%(n)s — certainly", n="{n}"),
    }


def _follows(item) -> list[str] | None:
    if item.follows is None:
        return None
    parent, expected = item.follows
    return [parent, str(expected)]


def questionnaire_json(iset) -> dict[str, Any]:
    """The respondent-type step and, per type, every step that may be asked (follow-ups carry their
    condition, the device decides), as :func:`cci.collection.survey.step_view` describes them."""

    def step_json(step: survey.Step, rtype: str | None) -> dict[str, Any]:
        view = survey.step_view(step, rtype, None)
        out = {"key": step.key, "section": step.section, "kind": view["kind"],
               "text": str(view["text"]), "allowsNa": view["allows_na"],
               "naLabel": str(view["na_label"]),
               "choices": [{"value": c.value, "label": str(c.label), "hint": str(c.hint)}
                           for c in view["choices"]]}
        if "scale" in view:
            out.update(scale=view["scale"], lowLabel=str(view["low_label"]),
                       highLabel=str(view["high_label"]))
        if step.item is not None:
            out["follows"] = _follows(step.item)
        return out

    type_step = survey.Step(survey.TYPE_STEP, survey.TYPE_STEP)
    types = {}
    for rtype in RESPONDENT_TYPES:
        steps = []
        for section in ("question", "comment", "profile"):
            for item in iset.items_for(rtype, section):
                steps.append(step_json(survey.Step(item.key, section, item), rtype))
        types[rtype] = steps
    return {"methodology": iset.key, "typeStep": step_json(type_step, None), "types": types}


class Invalid(ValueError):
    def __init__(self, message: str, field: str = "", reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        #: why the questionnaire refused an answer (as from every channel), if it did
        self.reason = reason


def _moment(value: Any, now: dt.datetime) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(_("The time of the answer is not understood."), "finished_at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return min(moment, now)


def _answers(raw: Any, field: str) -> dict[str, Any]:
    """The answers' shape (an object of plain values); the questionnaire reads the values."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > 200:
        raise Invalid(_("The answers are not understood."), field)
    for key, value in raw.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise Invalid(_("The answers are not understood."), str(key))
    return {str(key): value for key, value in raw.items()}


def _client_key(payload: dict) -> str:
    key = payload.get("key")
    if not isinstance(key, str) or not CLIENT_KEY_RE.match(key):
        raise Invalid(_("The answer has no valid key."), "key")
    return key


def _respondent_type(payload: dict) -> str:
    try:
        return read_respondent_type(payload.get("respondent_type"))
    except AnswerError as exc:
        raise Invalid(_("Choose who you are: a job seeker or an employer."), "respondent_type",
                      exc.reason) from None


def _checked_answers(iset, rtype: str, payload: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """(answers, profile) as the campaign's questionnaire reads them: a device sends whole
    questionnaires, so every question asked has an answer (perhaps «Затрудняюсь»)."""
    try:
        answers = iset.validate_answers(rtype, _answers(payload.get("answers"), "answers"))
        profile = iset.validate_answers(rtype, _answers(payload.get("profile"), "profile"),
                                        "profile")
    except AnswerError as exc:
        raise Invalid(str(exc.message), exc.item, exc.reason) from None
    missing = iset.unanswered(rtype, answers)
    if missing:
        raise Invalid(_("Not every question is answered: %(key)s.", key=missing[0]), missing[0],
                      UNANSWERED)
    return answers, {k: v for k, v in profile.items() if v is not None}


def _comment(payload: dict) -> str | None:
    comment = payload.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > survey.COMMENT_MAX:
        raise Invalid(_("The comment is too long: at most %(max)d characters.",
                        max=survey.COMMENT_MAX), "comment", TOO_LONG)
    return comment.strip() or None


def _meta(kiosk: devices.Device, payload: dict, key: str, now: dt.datetime) -> dict[str, Any]:
    sent = payload.get("timings")
    sent_timings = sent if isinstance(sent, dict) else {}
    timings = {str(k)[:40]: round(float(v), 1) for k, v in list(sent_timings.items())[:100]
               if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e6}
    return {
        "device_id": kiosk.id,
        "app_version": str(payload.get("app_version") or "")[:40],
        "timings": timings,
        "session": key,
        "ip_hash": survey.ip_hash(request.remote_addr),
        "user_agent": (request.user_agent.string or "")[:survey.USER_AGENT_MAX],
        "staff_session": False,
        "delivered_at": now.isoformat(),
        "verified": False,
    }


def parse_submission(kiosk: devices.Device, payload: Any, now: dt.datetime) -> Submission:
    """Check a delivered survey strictly; raises :class:`Invalid` (nothing is stored)."""
    if not isinstance(payload, dict):
        raise Invalid(_("The answers are not understood."))
    key = _client_key(payload)
    rtype = _respondent_type(payload)
    finished = _moment(payload.get("finished_at"), now) or now
    campaign = kiosk.open_campaign(finished)
    if campaign is None:
        raise Invalid(_("There is no measurement campaign in your region today, so the "
                        "questionnaire is closed."), "finished_at")
    iset = installed_set(campaign.methodology_key)
    answers, profile = _checked_answers(iset, rtype, payload)
    comment = _comment(payload)
    if (now - finished).days > MAX_DELAY_DAYS:
        raise Invalid(_("The answer is too old to be accepted."), "finished_at")
    started = _moment(payload.get("started_at"), now)
    return Submission(
        office_id=kiosk.office_id, respondent_type=rtype, answers=answers, profile=profile,
        comment=comment, client_key=f"{KEY}:{key}", channel=KEY, submitted_at=finished,
        started_at=started if started and started <= finished else None,
        meta=_meta(kiosk, payload, key, now), campaign_id=campaign.id,
        checked_with=campaign.methodology_key,
    )


@api_bp.post("/responses")
@public_endpoint  # the device token in a header, not a cookie, authenticates
@limiter.limit(_device_limit, key_func=per_device(_device_key))
def responses():
    if current_user.is_authenticated:
        return _error(403, _("A staff member is logged in in this browser: answers from a staff "
                             "session are not accepted. Log out first."), status="staff_session")
    kiosk, failed = _authenticate()
    if failed:
        return failed
    payload = payloads.json_body()
    key = payload.get("key") if isinstance(payload, dict) else None
    _seen(kiosk)  # in the answer's transaction: committed with it
    try:
        submission = parse_submission(kiosk, payload, utcnow())
        _response, created = submit(submission, channel(),
                                    known={("office", kiosk.office_id): kiosk.office_key()})
    except (Invalid, IntakeError) as exc:
        return _invalid(kiosk, key, payload, exc)
    if not created:
        assert isinstance(key, str)  # parse_submission accepted it as the client key
        return _received(kiosk, key)
    return jsonify({"status": "stored", "key": key}), 201


def _invalid(kiosk: devices.Device, key: Any, payload: Any, exc: Invalid | IntakeError):
    """A delivery refused: nothing of the response is stored (unless it is a repeat, which
    passed when it first came: a campaign may have closed since), but the refusal is."""
    db.rollback()
    if isinstance(key, str) and CLIENT_KEY_RE.match(key) and stored_response(f"{KEY}:{key}"):
        return _received(kiosk, key)
    _keep_rejection(kiosk.id, kiosk.region_id, payload, exc.message, exc.field)
    reason = {"reason": exc.reason} if exc.reason else {}
    return _error(400, exc.message, field=exc.field, status="invalid", **reason)


def _received(kiosk, key: str):
    """A repeat: the device may drop it from its queue."""
    _seen(kiosk)
    db.commit()
    return jsonify({"status": "already received", "key": key}), 200


def _keep_rejection(kiosk_id: int, region_id: int, payload: Any, error: str,
                    field: str | None) -> None:
    """Keep a refused delivery on the server, in a transaction of its own. If even that fails,
    the device still gets its 400 (and keeps the survey in its own log): a 500 would make it
    retry an answer that can never be stored."""
    try:
        rejections.record(kiosk_id, region_id, payload, payloads.storable(payload), error, field)
    except SQLAlchemyError:
        db.rollback()
        current_app.logger.exception("kiosk %s: a refused delivery could not be kept", kiosk_id)


def _count(payload: dict, name: str) -> int | None:
    """A non-negative count the device reports, or None when it sent none (an older script)."""
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return max(0, min(value, 1_000_000))


@api_bp.post("/heartbeat")
@public_endpoint  # the device token in a header, not a cookie, authenticates
@limiter.limit(_device_limit, key_func=per_device(_device_key))
def heartbeat():
    kiosk, failed = _authenticate()
    if failed:
        return failed
    payload = payloads.json_body()
    payload = payload if isinstance(payload, dict) else {}
    _seen(kiosk, app_version=str(payload.get("app_version") or "")[:40] or None,
          queue_length=_count(payload, "queue_length"),
          rejected_log_length=_count(payload, "rejected_length"))
    db.commit()
    return jsonify({"status": "ok", "server_time": utcnow().isoformat()})
