"""The kiosk's exit poll: one question of a CX metric asked at the touchpoint ``kiosk`` (CSAT,
CES, NPS: whichever installed metrics ask there), delivered by the device like a survey — its
own key makes a repeat one answer — and stored through the core's touchpoint intake (quality
rules as for the index survey: a burst from one device, outside the office's hours)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from cci.plugin_api import IntakeError
from cci.plugin_api import TouchpointSubmission
from cci.plugin_api import db
from cci.plugin_api import limiter
from cci.plugin_api import per_device
from cci.plugin_api import public_endpoint
from cci.plugin_api import submit_touchpoint
from cci.plugin_api import touchpoint_questions
from cci.plugin_api import utcnow

from cci_channel_kiosk import payloads
from cci_channel_kiosk.public import CLIENT_KEY_RE
from cci_channel_kiosk.public import KEY
from cci_channel_kiosk.public import _authenticate
from cci_channel_kiosk.public import _device_key
from cci_channel_kiosk.public import _device_limit
from cci_channel_kiosk.public import _error
from cci_channel_kiosk.public import _moment
from cci_channel_kiosk.public import _seen
from cci_channel_kiosk.public import api_bp

TOUCHPOINT = "kiosk"


def exit_poll_questions() -> list[dict[str, Any]]:
    """The questions the kiosk may ask as an exit poll, for its questionnaire."""
    return [{"key": q.key, "text": q.text, "low": q.low, "high": q.high,
             "labels": list(q.labels)}
            for q, places in touchpoint_questions().values() if TOUCHPOINT in places]


@api_bp.get("/exit-poll")
def exit_poll():
    kiosk, failed = _authenticate()
    if failed:
        return failed
    return jsonify({"office": kiosk.office_name, "questions": exit_poll_questions()})


@api_bp.post("/exit-poll")
@public_endpoint  # the device token in a header, not a cookie, authenticates
@limiter.limit(_device_limit, key_func=per_device(_device_key))
def exit_poll_answer():
    if current_user.is_authenticated:
        return _error(403, _("A staff member is logged in in this browser: answers from a staff "
                             "session are not accepted. Log out first."), status="staff_session")
    kiosk, failed = _authenticate()
    if failed:
        return failed
    payload = payloads.json_body()
    if not isinstance(payload, dict):
        return _error(400, _("The answers are not understood."), status="invalid")
    key = payload.get("key")
    if not isinstance(key, str) or not CLIENT_KEY_RE.match(key):
        return _error(400, _("The answer has no valid key."), field="key", status="invalid")
    now = utcnow()
    comment = payload.get("comment")
    try:
        answer, created = submit_touchpoint(TouchpointSubmission(
            office_id=kiosk.office_id, touchpoint=TOUCHPOINT,
            question=str(payload.get("question", "")), value=payload.get("value"),
            channel=KEY, client_key=f"{KEY}-exit:{key}",
            comment=comment if isinstance(comment, str) else None,
            submitted_at=_moment(payload.get("finished_at"), now) or now,
            meta={"device_id": kiosk.id, "delivered_at": now.isoformat()}))
    except IntakeError as exc:
        reason = {"reason": exc.reason} if exc.reason else {}
        return _error(400, exc.message, field=exc.field, status="invalid", **reason)
    _seen(kiosk)
    db.commit()
    if not created:
        return jsonify({"status": "already received", "key": key}), 200
    return jsonify({"status": "stored", "key": key, "counted": answer.counted}), 201
