"""A touchpoint survey by web link or QR card: one question of a CX metric (the 1–5 rating at
the specialist's window on a QR card, CES or NPS by a link after the service), answered with one
tap, under ``/s/<region>/<office>/t/<touchpoint>/<question>``.

Stored through the core's touchpoint intake (quality rules as for the index survey); no tenant
scope before the office is found, as every public page of the channel. A hidden key made when
the page is shown makes a repeated tap one answer.
"""

from __future__ import annotations

import uuid

from flask import abort
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cci.plugin_api import CaseContactError
from cci.plugin_api import IntakeError
from cci.plugin_api import TouchpointAnswer
from cci.plugin_api import TouchpointSubmission
from cci.plugin_api import db
from cci.plugin_api import leave_case_contact
from cci.plugin_api import submit_touchpoint
from cci.plugin_api import survey
from cci.plugin_api import touchpoint_questions

from cci_channel_web.public import _office_or_404
from cci_channel_web.public import answers_limited
from cci_channel_web.public import bp
from cci_channel_web.public import contact_kept
from cci_channel_web.public import thanks_page

CHANNEL_KEY = "web"
KEY_MAX = 64


def touchpoint_url(office, touchpoint: str, question: str) -> str:
    return url_for("web_survey.touchpoint", region_code=office.region.code,
                   office_code=office.code, touchpoint=touchpoint, question=question,
                   _external=True)


@bp.route("/<region_code>/<office_code>/t/<touchpoint>/<question>", methods=["GET", "POST"])
@answers_limited
def touchpoint(region_code: str, office_code: str, touchpoint: str, question: str):
    office = _office_or_404(region_code, office_code)
    asked = touchpoint_questions()
    if question not in asked or touchpoint not in asked[question][1]:
        abort(404)
    the_question = asked[question][0]
    error = None
    if request.method == "POST":
        key = (request.form.get("key") or "")[:KEY_MAX] or None
        try:
            answer, _created = submit_touchpoint(TouchpointSubmission(
                office_id=office.id, touchpoint=touchpoint, question=question,
                value=request.form.get("answer", ""), channel=CHANNEL_KEY,
                client_key=f"web-t-{key}" if key else None,
                comment=request.form.get("comment"),
                meta={"ip_hash": survey.ip_hash(request.remote_addr),
                      "staff_session": bool(current_user.is_authenticated)}))
        except IntakeError as exc:
            error = exc
        else:
            return _thanks(office, answer, key)
    values = list(range(the_question.low, the_question.high + 1))
    html = render_template(
        "web_survey/touchpoint.html", office=office, question=the_question,
        choices=[(v, the_question.label(v)) for v in values], key=uuid.uuid4().hex,
        error=error, action_url=request.path)
    return html, (400 if error else 200)


def _thanks(office, answer, key: str | None, error=None):
    url = url_for("web_survey.touchpoint_contact", region_code=office.region.code,
                  office_code=office.code, touchpoint=answer.touchpoint,
                  question=answer.question)
    return thanks_page(office, answer if key else None, url,
                       (_("Your answer has been received."),), key=key, error=error,
                       status=400 if error else 200)


@bp.route("/<region_code>/<office_code>/t/<touchpoint>/<question>/contact", methods=["POST"])
@answers_limited
def touchpoint_contact(region_code: str, office_code: str, touchpoint: str, question: str):
    """The respondent's e-mail address for the answer to a low rating or a comment, with
    consent; the answer is found by the key its form carried (random, the respondent's own)."""
    office = _office_or_404(region_code, office_code)
    key = (request.form.get("key") or "")[:KEY_MAX]
    answer = db.scalar(select(TouchpointAnswer).where(
        TouchpointAnswer.client_key == f"web-t-{key}", TouchpointAnswer.office_id == office.id,
        TouchpointAnswer.touchpoint == touchpoint, TouchpointAnswer.question == question)
    ) if key else None
    if answer is None:
        abort(404)
    try:
        kept = leave_case_contact(answer, request.form.get("email"),
                                  request.form.get("consent") == "yes")
    except CaseContactError as exc:
        return _thanks(office, answer, key, error=exc)
    return contact_kept(office) if kept else _thanks(office, answer, key)
