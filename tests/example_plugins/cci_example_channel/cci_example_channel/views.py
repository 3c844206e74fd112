"""The public endpoint: ``GET`` an office's count, ``POST`` one finished survey (JSON).

``POST /qr-feedback/<region>/<office>`` takes ``{"key", "respondent_type", "answers"}``
(``key``: the client's idempotency key, 8–64 letters, digits or dashes) and answers 201 with the
office's count, 200 ``already received`` for a key stored before (counted once), 400
``{"error", "field"}`` for an answer the intake refuses (nothing is stored or counted), 404 for
an unknown office.
"""

from __future__ import annotations

import re

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.plugin_api import IntakeError
from cci.plugin_api import Office
from cci.plugin_api import Region
from cci.plugin_api import Scope
from cci.plugin_api import Submission
from cci.plugin_api import db
from cci.plugin_api import enter_scope
from cci.plugin_api import public_endpoint
from cci.plugin_api import stored_response
from cci.plugin_api import submit
from cci.plugin_api import utcnow

from cci_example_channel.models import QrFeedbackOffice

KEY = "qr_feedback"
URL_PREFIX = "/qr-feedback"
CLIENT_KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")

bp = Blueprint("qr_feedback", __name__)


def _office_or_404(region_code: str, office_code: str) -> Office:
    region = db.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        abort(404)
    enter_scope(Scope(region_id=region.id, reason=f"qr feedback {region.code}"))
    office = db.scalar(select(Office).where(Office.region_id == region.id,
                                            Office.code == office_code, Office.active))
    if office is None:
        abort(404)
    return office


def _counter(office: Office) -> QrFeedbackOffice | None:
    return db.scalar(select(QrFeedbackOffice).where(QrFeedbackOffice.office_id == office.id))


@bp.errorhandler(404)
def _not_found(_error):
    return jsonify(error="офис не найден"), 404


@bp.get("/<region_code>/<office_code>")
def count(region_code: str, office_code: str):
    office = _office_or_404(region_code, office_code)
    counter = _counter(office)
    return jsonify(office=office.code, answers=counter.answers if counter else 0)


@bp.post("/<region_code>/<office_code>")
@public_endpoint  # a JSON endpoint without a session: no cross-site form can act for anybody
def answer(region_code: str, office_code: str):
    office = _office_or_404(region_code, office_code)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="ожидается объект JSON", field=None), 400
    key = body.get("key")
    if not isinstance(key, str) or not CLIENT_KEY_RE.match(key):
        return jsonify(error="ключ ответа: от 8 до 64 латинских букв, цифр или дефисов",
                       field="key"), 400
    if not isinstance(body.get("answers"), dict):
        return jsonify(error="ответы: объект «вопрос — ответ»", field="answers"), 400
    client_key = f"{KEY}:{key}"
    if stored_response(client_key) is not None:
        return jsonify(status="already received"), 200
    # counted in the transaction that stores the answer: submit commits both, or a
    # refused or repeated answer rolls both back
    counter = _counter(office)
    if counter is None:
        counter = QrFeedbackOffice(office_id=office.id, region_id=office.region_id, answers=0)
        db.add(counter)
    counter.answers += 1
    counter.last_answer_at = utcnow()
    submission = Submission(
        office_id=office.id,
        respondent_type=str(body.get("respondent_type", "")),
        answers=body["answers"],
        client_key=client_key,
        channel=KEY,
        meta={"user_agent": request.headers.get("User-Agent", "")[:200], "session": key},
    )
    try:
        _response, created = submit(submission)
    except IntakeError as exc:
        db.rollback()
        return jsonify(error=exc.message, field=exc.field), 400
    if not created:
        return jsonify(status="already received"), 200
    return jsonify(status="stored", office_answers=counter.answers), 201
