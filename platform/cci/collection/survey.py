"""The questionnaire as a respondent goes through it, one step at a time, for any channel.

A campaign's methodology set declares the items; this module turns them into ordered steps
(respondent type first, then one question per step, a follow-up only when its condition holds, the
comment, then the profile items), checks one step's answer, and keeps what was answered in a
server-side draft (:class:`cci.foundation.models.SurveyDraft`), so a reload or a dropped connection
loses nothing. Finishing a draft stores one response through :func:`cci.collection.intake.submit`,
the one path that stores answers; the client key is ``<channel>:<token>``, so finishing twice stores
once.

Channels (web, kiosk) share this flow and the templates in ``templates/survey/``; the form field
names are ``respondent_type``, ``answer`` (a value, or :data:`NA` for «Затрудняюсь ответить»)
and ``comment``.

One-time invitations (:class:`cci.foundation.models.SurveyInvitation`) tie a response to a real
visit: issued by staff, opened by the respondent, used up by the first response finished with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from cci.collection import intake
from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Response
from cci.foundation.models import SurveyDraft
from cci.foundation.models import SurveyInvitation
from cci.methodology.contract import CONDITION_UNMET
from cci.methodology.contract import NOT_ASKED
from cci.methodology.contract import REQUIRED
from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import UNANSWERED
from cci.methodology.contract import AnswerError
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item
from cci.methodology.contract import read_respondent_type

#: The first step's key (and form field): who answers, a job seeker or an employer.
TYPE_STEP = "respondent_type"
#: The value the «Затрудняюсь ответить» button sends; stored as no value.
NA = "na"
COMMENT_MAX = TEXT_MAX
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class Step:
    key: str
    #: "respondent_type", "question", "comment" or "profile"
    section: str
    item: Item | None = None

    @property
    def kind(self) -> str:
        return self.item.kind if self.item is not None else "respondent_type"

    @property
    def asks(self) -> Item:
        """The item of a question, comment or profile step (every step but the type's has one,
        see :func:`steps_for`)."""
        if self.item is None:
            raise LookupError(f"the step {self.key!r} asks no item")
        return self.item


class StepError(ValueError):
    """An answer that does not fit its step; the message is for the respondent, the reason
    (when the questionnaire refused the answer) says why, as from every channel."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason


class InvitationUnavailable(RuntimeError):
    """The invitation was used up (by another response) or has expired."""


# --- steps -----------------------------------------------------------------------------------


def indicator_set_for(draft: SurveyDraft) -> IndicatorSet:
    campaign = db.get_one(Campaign, draft.campaign_id)  # a draft's campaign is never deleted
    return current_app.extensions["cci.registry"].indicator_set(campaign.methodology_key)


def steps_for(indicator_set: IndicatorSet, respondent_type: str | None,
              answers: Mapping[str, Any] | None = None,
              profile: Mapping[str, Any] | None = None) -> list[Step]:
    """The ordered steps for a respondent type, given what was answered so far (a follow-up
    appears only once its condition holds). Without a type, only the type step."""
    steps = [Step(TYPE_STEP, TYPE_STEP)]
    if respondent_type not in RESPONDENT_TYPES:
        return steps
    # the set says what is asked, and which follow-up after which answer
    for item in indicator_set.asked_items(respondent_type, answers or {}, "question"):
        steps.append(Step(item.key, "question", item))
    for item in indicator_set.items_for(respondent_type, "comment"):
        steps.append(Step(item.key, "comment", item))
    for item in indicator_set.asked_items(respondent_type, profile or {}, "profile"):
        steps.append(Step(item.key, "profile", item))
    return steps


def steps(draft: SurveyDraft, indicator_set: IndicatorSet | None = None) -> list[Step]:
    indicator_set = indicator_set or indicator_set_for(draft)
    return steps_for(indicator_set, draft.respondent_type, draft.answers, draft.profile)


def is_answered(draft: SurveyDraft, step: Step) -> bool:
    if step.section == TYPE_STEP:
        return draft.respondent_type is not None
    if step.section == "question":
        return step.key in (draft.answers or {})
    if step.section == "profile":
        return step.key in (draft.profile or {})
    return draft.comment is not None


_MISSING = object()


def stored_value(draft: SurveyDraft, step: Step) -> Any:
    """What the draft holds for a step: a value, None (no answer given), or ``_MISSING``."""
    if not is_answered(draft, step):
        return _MISSING
    if step.section == TYPE_STEP:
        return draft.respondent_type
    if step.section == "question":
        return draft.answers[step.key]
    if step.section == "profile":
        return draft.profile[step.key]
    return draft.comment


def form_value(draft: SurveyDraft, step: Step) -> str | None:
    """The stored answer as the form sends it: "7", "1", an option key, :data:`NA`, a comment;
    None when the step was not answered yet."""
    value = stored_value(draft, step)
    if value is _MISSING:
        return None
    if value is None:
        return NA
    return str(value)


def resume_step(draft: SurveyDraft, all_steps: list[Step]) -> Step | None:
    """The first step not answered yet; None when every step is answered."""
    for step in all_steps:
        if not is_answered(draft, step):
            return step
    return None


def position(all_steps: list[Step], key: str) -> int | None:
    for index, step in enumerate(all_steps):
        if step.key == key:
            return index
    return None


def reachable(draft: SurveyDraft, all_steps: list[Step], key: str) -> Step | None:
    """The step ``key`` when it applies and every step before it is answered, else None."""
    index = position(all_steps, key)
    if index is None:
        return None
    if any(not is_answered(draft, step) for step in all_steps[:index]):
        return None
    return all_steps[index]


def unreachable(indicator_set: IndicatorSet, draft: SurveyDraft, all_steps: list[Step],
                key: str) -> StepError:
    """Why the step ``key`` cannot be answered now: a step before it is not answered, or the
    questionnaire does not ask it (a follow-up whose condition does not hold, an item of the
    other respondent type)."""
    if position(all_steps, key) is not None:
        reason = UNANSWERED
    else:
        item = next((i for i in indicator_set.items if i.key == key), None)
        asked_of_type = (item is not None and draft.respondent_type is not None
                         and item.for_type(draft.respondent_type) is not None)
        follows = item is not None and item.follows
        reason = CONDITION_UNMET if asked_of_type and follows else NOT_ASKED
    return StepError(_("This question is not asked now: answer this one."), reason)


# --- what a step shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""


def step_view(step: Step, respondent_type: str | None, current: str | None) -> dict[str, Any]:
    """What the shared step template needs: the heading, the answer buttons, the current answer
    (as the form sends it), whether «Затрудняюсь ответить» is offered and how it reads."""
    view: dict[str, Any] = {"step": step, "kind": step.kind, "current": current,
                            "choices": [], "allows_na": False, "na_label": ""}
    if step.section == TYPE_STEP:
        view["text"] = _("Who are you?")
        view["choices"] = [
            Choice("job_seeker", _("Job seeker"),
                   _("I am looking for a job or came for another service for citizens")),
            Choice("employer", _("Employer"),
                   _("I represent an organisation or am a sole trader")),
        ]
        return view
    item = step.asks
    view["text"] = (item.for_type(respondent_type) if respondent_type else None) or ""
    if step.section == "comment":
        view["max_length"] = COMMENT_MAX
        return view
    view["allows_na"] = item.allows_na
    view["na_label"] = _("Prefer not to say") if step.section == "profile" else _("Hard to say")
    if item.kind == "scale":
        view["scale"] = list(range(item.scale_min, item.scale_max + 1))
        view["low_label"] = _("strongly disagree")
        view["high_label"] = _("fully agree")
    elif item.kind == "yesno":
        options = item.options or ()
        view["choices"] = [Choice(o.key, o.label) for o in options] or [
            Choice("1", _("Yes")), Choice("0", _("No"))]
    else:
        view["choices"] = [Choice(o.key, o.label) for o in item.options]
    return view


# --- one step's answer -----------------------------------------------------------------------


def parse(indicator_set: IndicatorSet, draft: SurveyDraft, step: Step,
          form: Mapping[str, str]) -> Any:
    """Check the answer a form sends for a step and return it normalised (None: no answer).

    The campaign's set reads and checks it (as for every channel). Raises :class:`StepError`
    with a message for the respondent; nothing is stored then.
    """
    if step.section == TYPE_STEP:
        return parse_respondent_type(form)
    if step.section == "comment":
        text = (form.get("comment") or "").strip()
        try:
            indicator_set.read_answer(step.asks, text)
        except AnswerError as exc:
            raise StepError(_("The comment is too long: at most %(max)d characters.",
                              max=COMMENT_MAX), exc.reason) from None
        return text
    item = step.asks
    # a question or profile step is among the steps only once the draft has a type (steps_for)
    assert draft.respondent_type is not None
    raw = (form.get("answer") or "").strip()
    if not raw:
        raise StepError(_("Choose an answer."))
    # a follow-up is checked with its parent's answer
    stored = (draft.answers if step.section == "question" else draft.profile) or {}
    context = {}
    if item.follows is not None and item.follows[0] in stored:
        context[item.follows[0]] = stored[item.follows[0]]
    try:
        clean = indicator_set.validate_answers(
            draft.respondent_type, {**context, item.key: raw}, step.section
        )
    except AnswerError as exc:
        raise StepError(_error_message(item, exc.reason), exc.reason) from None
    return clean[item.key]


def parse_respondent_type(form: Mapping[str, str]) -> str:
    """The respondent type the type step's form sends. Raises :class:`StepError`."""
    try:
        return read_respondent_type((form.get(TYPE_STEP) or "").strip())
    except AnswerError as exc:
        raise StepError(_("Choose who you are: a job seeker or an employer."),
                        exc.reason) from None


def _error_message(item: Item, reason: str) -> str:
    if reason == REQUIRED:
        return _("This question needs an answer: choose one of the options.")
    if item.kind == "scale":
        return _("Choose a number from %(low)d to %(high)d.", low=item.scale_min,
                 high=item.scale_max)
    if item.kind == "yesno":
        return _("Choose «Yes» or «No».")
    return _("Choose one of the offered options.")


def record(draft: SurveyDraft, step: Step, value: Any, now: dt.datetime | None = None) -> None:
    """Keep a step's answer in the draft (the caller commits), with the time spent on it."""
    now = now or utcnow()
    if step.section == TYPE_STEP:
        if draft.respondent_type != value:
            draft.respondent_type = value
            indicator_set = indicator_set_for(draft)
            own = {i.key for i in indicator_set.items_for(value, "question")}
            draft.answers = {k: v for k, v in (draft.answers or {}).items() if k in own}
            own = {i.key for i in indicator_set.items_for(value, "profile")}
            draft.profile = {k: v for k, v in (draft.profile or {}).items() if k in own}
    elif step.section == "question":
        draft.answers = {**(draft.answers or {}), step.key: value}
    elif step.section == "profile":
        draft.profile = {**(draft.profile or {}), step.key: value}
    else:
        draft.comment = value
    # None until the draft is first flushed: the column default applies at INSERT.
    last_updated: dt.datetime | None = draft.updated_at
    updated = last_updated or now
    spent = max(0.0, (now - updated).total_seconds())
    timings = dict(draft.timings or {})
    timings[step.key] = round(timings.get(step.key, 0) + spent, 1)
    draft.timings = timings
    draft.updated_at = now


# --- drafts ----------------------------------------------------------------------------------


def start(office: Office, campaign: Campaign, channel: str,
          invitation: SurveyInvitation | None = None) -> SurveyDraft:
    """A new draft for the office, in the office's region scope (the caller commits)."""
    now = utcnow()
    draft = SurveyDraft(
        token=secrets.token_urlsafe(24), region_id=office.region_id, office_id=office.id,
        campaign_id=campaign.id, channel=channel, answers={}, profile={}, timings={},
        invitation_id=invitation.id if invitation is not None else None,
        started_at=now, updated_at=now,
    )
    db.add(draft)
    return draft


def find_draft(token: str) -> SurveyDraft | None:
    """The draft with this token, from any region: the caller then enters its region scope."""
    if not token or len(token) > 64:
        return None
    with tenancy.federal_scope("find a survey draft by its token"):
        return db.scalar(select(SurveyDraft).where(SurveyDraft.token == token))


def client_key(draft: SurveyDraft) -> str:
    return f"{draft.channel}:{draft.token}"


def ip_hash(address: str | None) -> str | None:
    """A salted SHA-256 of the address (the app's SECRET_KEY is the salt): bursts from one
    address can be recognised without keeping the address."""
    if not address:
        return None
    salt = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()


def request_meta(draft: SurveyDraft) -> dict[str, Any]:
    """The channel metadata of the current request: who sent it (hashed), with what, how."""
    return {
        "ip_hash": ip_hash(request.remote_addr),
        "user_agent": (request.user_agent.string or "")[:USER_AGENT_MAX],
        "session": draft.token,
        "staff_session": bool(current_user.is_authenticated),
    }


def finish(draft: SurveyDraft, channel=None, meta: dict[str, Any] | None = None) -> Response:
    """Store the draft as one response (through intake) and mark the draft submitted.

    Idempotent: a draft finished before returns its response. Raises
    :class:`cci.collection.intake.IntakeError` for answers intake refuses and
    :class:`InvitationUnavailable` when the draft's invitation was used by another response.
    Runs in the draft's region scope; commits.
    """
    if draft.submitted_response_id is not None:
        found = db.get(Response, draft.submitted_response_id)
        if found is not None:
            return found
    invitation = draft.invitation if draft.invitation_id is not None else None
    submission = _submission(draft, invitation, meta)
    now = utcnow()
    if invitation is not None and intake.existing(submission.client_key) is None:
        _claim(invitation, submission.client_key, now)
    try:
        response, _created = intake.submit(submission, channel)
    except Exception:
        db.rollback()  # the invitation's claim goes with it
        raise
    draft.submitted_response_id = response.id
    draft.updated_at = now
    if invitation is not None and invitation.response_id is None:
        invitation.response_id = response.id
    db.commit()
    return response


def _submission(draft: SurveyDraft, invitation: SurveyInvitation | None,
                meta: dict[str, Any] | None) -> intake.Submission:
    """What the draft stores: the answers of the steps asked (not of a follow-up whose
    condition an answer changed later), with the timings and whether an invitation vouches."""
    if draft.respondent_type is None:
        raise intake.IntakeError("respondent_type", "не указан тип респондента")
    all_steps = steps(draft, indicator_set_for(draft))
    keys = {section: {s.key for s in all_steps if s.section == section}
            for section in ("question", "profile")}
    meta = dict(meta or {})
    meta["timings"] = {k: v for k, v in (draft.timings or {}).items()
                       if any(s.key == k for s in all_steps)}
    meta["verified"] = invitation is not None
    if invitation is not None:
        meta["invitation_code"] = invitation.code
    return intake.Submission(
        office_id=draft.office_id,
        respondent_type=draft.respondent_type,
        answers={k: v for k, v in (draft.answers or {}).items() if k in keys["question"]},
        profile={k: v for k, v in (draft.profile or {}).items()
                 if k in keys["profile"] and v is not None},
        comment=draft.comment or None,
        client_key=client_key(draft),
        channel=draft.channel,
        started_at=draft.started_at,
        meta=meta,
        campaign_id=draft.campaign_id,
    )


def _claim(invitation: SurveyInvitation, key: str, now: dt.datetime) -> None:
    """Mark the invitation used in the current transaction (intake's commit keeps it).

    A conditional UPDATE: of two responses racing for one code, one claims it."""
    result = db.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id,
               SurveyInvitation.region_id == invitation.region_id,
               SurveyInvitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    # an UPDATE's result is a CursorResult, which counts the rows (the session types it Result)
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        db.rollback()
        if intake.existing(key) is None:  # not this very draft, finished a moment ago
            raise InvitationUnavailable(invitation.code)
    db.refresh(invitation)


# --- invitations -----------------------------------------------------------------------------

#: Short codes people can read aloud and type: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
INVITATION_DAYS = 7
INVITATION_DAYS_MAX = 90
SERVICE_MAX = 200


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str:
    """What a person typed ("abcd-efgh", "ABCD EFGH") as the stored code."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:16]


def format_code(code: str) -> str:
    """ABCDEFGH -> ABCD-EFGH, easier to read aloud and type."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def issue_invitation(office: Office, *, service: str, visit_date: dt.date,
                     days: int = INVITATION_DAYS, created_by_id: int | None = None,
                     now: dt.datetime | None = None) -> SurveyInvitation:
    """A new one-time code for a visit, valid ``days`` days from now; audit-logged, commits."""
    now = now or utcnow()
    for _attempt in range(5):
        invitation = SurveyInvitation(
            code=new_code(), region_id=office.region_id, office_id=office.id,
            service=(service or "").strip()[:SERVICE_MAX], visit_date=visit_date,
            created_at=now, expires_at=now + dt.timedelta(days=days),
            created_by_id=created_by_id,
        )
        db.add(invitation)
        try:
            db.flush()
        except IntegrityError:  # the one-in-a-trillion clash of two random codes
            db.rollback()
            continue
        audit.record("survey_invitation.issue", invitation, after={
            "code": invitation.code, "office_id": office.id, "service": invitation.service,
            "visit_date": visit_date.isoformat(), "expires_at": invitation.expires_at.isoformat(),
        })
        db.commit()
        return invitation
    raise RuntimeError("could not make a unique invitation code")


def find_invitation(code: str) -> SurveyInvitation | None:
    """The invitation with this code, from any region: the caller enters its region scope."""
    code = normalise_code(code)
    if not code:
        return None
    with tenancy.federal_scope("find a survey invitation by its code"):
        return db.scalar(select(SurveyInvitation).where(SurveyInvitation.code == code))


def invitation_state(invitation: SurveyInvitation, now: dt.datetime | None = None) -> str:
    """"used", "expired" or "valid"."""
    if invitation.used_at is not None:
        return "used"
    if (now or utcnow()) >= invitation.expires_at:
        return "expired"
    return "valid"
