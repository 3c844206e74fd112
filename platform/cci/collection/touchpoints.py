"""Short touchpoint surveys: one question of a CX metric (CES after a call, the kiosk's exit
poll, the rating at the specialist's window, NPS after the result), stored through one path for
every channel, like :func:`cci.collection.intake.submit` for the index survey.

The answer is read by the question's scale (the installed metric that asks it), its office,
touchpoint and comment checked, and the quality rules run on it as on a response of the index
survey: every rule checked one response at a time, except those that measure a questionnaire's
pace or pattern (``too_fast``, ``straight_lining``: one question has neither), and a burst from
one device, address or operator counted over the touchpoint answers with the ``burst`` rule's
thresholds. A flagged answer is stored and not counted. A repeated client key returns the
stored answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import String
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cci.collection import quality
from cci.collection.intake import IntakeError
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Office
from cci.foundation.models import TouchpointAnswer
from cci.methodology.contract import NOT_A_NUMBER
from cci.methodology.contract import NOT_WHOLE
from cci.methodology.contract import OUT_OF_RANGE
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import TOO_LONG
from cci.methodology.contract import UNKNOWN_ITEM
from cci.methodology.cx import TOUCHPOINTS
from cci.methodology.cx import CxQuestion
from cci.methodology.values import parse_number

#: rules about a questionnaire's length or pattern, meaningless for one question
NOT_FOR_ONE_QUESTION = frozenset({"too_fast", "straight_lining"})
#: the meta keys a burst is counted by (as the index survey's ``burst`` rule)
BURST_KEYS = (("device_id", "с одного устройства"), ("ip_hash", "с одного адреса"),
              ("operator_id", "от одного оператора"))
KEY_MAX = 128


@dataclass
class TouchpointSubmission:
    office_id: int
    touchpoint: str
    question: str
    value: Any
    channel: str
    client_key: str | None = None
    comment: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    started_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None


def questions() -> dict[str, tuple[CxQuestion, tuple[str, ...]]]:
    """question key -> (the question, the touchpoints it may be asked at), of every installed
    metric that is measured by a touchpoint survey."""
    found: dict[str, tuple[CxQuestion, tuple[str, ...]]] = {}
    for metric in current_app.extensions["cci.registry"].cx_metrics.values():
        if metric.question is not None:
            _question, places = found.get(metric.question.key, (metric.question, ()))
            found[metric.question.key] = (metric.question, places + tuple(
                t for t in metric.touchpoints if t not in places))
    return found


def read_value(question: CxQuestion, raw: Any) -> int:
    """One answer on the question's scale, as people write it («4», 4, «4,0»)."""
    try:
        number = parse_number(raw)
    except ValueError:
        raise IntakeError("value", "ответ должен быть числом", NOT_A_NUMBER) from None
    if number != int(number):
        raise IntakeError("value", "ответ должен быть целым числом", NOT_WHOLE)
    if not question.low <= number <= question.high:
        raise IntakeError("value", f"ответ должен быть от {question.low} до {question.high}",
                          OUT_OF_RANGE)
    return int(number)


def validate(sub: TouchpointSubmission) -> TouchpointAnswer:
    """The answer to store, unflagged yet; raises :class:`IntakeError` on the first problem."""
    asked = questions()
    if sub.question not in asked:
        raise IntakeError("question", "такого вопроса нет среди вопросов точек касания",
                          UNKNOWN_ITEM)
    question, places = asked[sub.question]
    if sub.touchpoint not in TOUCHPOINTS:
        raise IntakeError("touchpoint", "неизвестная точка касания")
    if sub.touchpoint not in places:
        raise IntakeError("touchpoint", "этот вопрос не задаётся в этой точке касания")
    value = read_value(question, sub.value)
    comment = (sub.comment or "").strip() or None
    if comment is not None and len(comment) > TEXT_MAX:
        raise IntakeError("comment", f"комментарий длиннее {TEXT_MAX} знаков", TOO_LONG)
    if sub.client_key is not None and not 0 < len(sub.client_key) <= KEY_MAX:
        raise IntakeError("client_key", f"ключ ответа — от 1 до {KEY_MAX} знаков")
    office = db.get(Office, sub.office_id)
    if office is None or not office.active:
        raise IntakeError("office", "офис не найден")
    now = utcnow()
    answer = TouchpointAnswer(
        office_id=office.id, region_id=office.region_id, touchpoint=sub.touchpoint,
        question=question.key, value=value, channel=sub.channel, comment=comment,
        meta=dict(sub.meta or {}), quality_flags=[], counted=True,
        started_at=sub.started_at, submitted_at=sub.submitted_at or now, received_at=now)
    if sub.client_key:
        answer.client_key = sub.client_key
    return answer


def _as_response(answer: TouchpointAnswer) -> SimpleNamespace:
    """What a quality rule reads of a response, for one touchpoint answer."""
    return SimpleNamespace(
        id=None, region_id=answer.region_id, office_id=answer.office_id, meta=answer.meta,
        started_at=answer.started_at, submitted_at=answer.submitted_at,
        received_at=answer.received_at, channel=answer.channel, methodology_key="",
        comment=answer.comment, respondent_type=None,
        answers=[SimpleNamespace(item=answer.question, value=answer.value, choice=None,
                                 counted=True)])


def _burst(answer: TouchpointAnswer) -> str | None:
    rule = current_app.extensions["cci.registry"].quality_rules.get("burst")
    params = quality.rule_params(rule) if rule is not None else None
    if params is None:
        return None
    since = answer.submitted_at - dt.timedelta(minutes=params["minutes"])
    for key, words in BURST_KEYS:
        value = (answer.meta or {}).get(key)
        if value in (None, ""):
            continue
        earlier = db.scalar(
            select(func.count(TouchpointAnswer.id)).where(
                TouchpointAnswer.region_id == answer.region_id,
                TouchpointAnswer.submitted_at >= since,
                TouchpointAnswer.submitted_at <= answer.submitted_at,
                cast(TouchpointAnswer.meta[key].as_string(), String) == str(value)))
        count = (earlier or 0) + 1
        if count >= params["max_responses"]:
            return (f"ответов {words} за {params['minutes']} мин: {count} "
                    f"(порог — {params['max_responses']})")
    return None


def flags_for(answer: TouchpointAnswer, channel=None) -> list[dict[str, str]]:
    """The quality flags the rules give the answer (see the module's doc)."""
    judged = _as_response(answer)
    rules = [(rule, params) for rule, params in quality.single_rules(channel)
             if rule.key not in NOT_FOR_ONE_QUESTION]
    flags = [{"rule": f.rule.key, "reason": f.reason} for f in quality.evaluate(judged, rules)]
    burst = _burst(answer)
    if burst:
        flags.append({"rule": "burst", "reason": burst})
    return flags


def existing(client_key: str | None) -> TouchpointAnswer | None:
    if not client_key:
        return None
    return db.scalar(select(TouchpointAnswer).where(TouchpointAnswer.client_key == client_key))


def submit(sub: TouchpointSubmission, channel=None) -> tuple[TouchpointAnswer, bool]:
    """Store one touchpoint answer with its quality flags; returns (answer, created). Commits.
    The office decides the region: a regional scope may store for its own offices only."""
    with tenancy.federal_scope("find the office's region"):
        office = db.get(Office, sub.office_id)
        region_id = office.region_id if office is not None else None
    if region_id is None:
        raise IntakeError("office", "офис не найден")
    scope = tenancy.current_scope()
    if scope is not None and not scope.federal and scope.region_id != region_id:
        raise IntakeError("office", "офис не найден")
    with tenancy.region_scope(region_id, "store a touchpoint answer"):
        found = existing(sub.client_key)
        if found is not None:
            return found, False
        answer = validate(sub)
        answer.quality_flags = flags_for(answer, channel)
        answer.counted = not answer.quality_flags
        db.add(answer)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()  # the same delivery raced in through another worker
            found = existing(sub.client_key)
            if found is None:  # the key is another region's answer's
                raise IntakeError("client_key", "ключ ответа уже использован") from None
            return found, False
    return answer, True
