"""Surveys a kiosk delivered that the server refused as invalid, kept on the server.

The device drops a refused survey from its queue (one bad item must not block the rest) and
logs it only in its own browser; so the server keeps each refusal (table
``kiosk_rejections``) for the region's administrators, who see them on the staff pages and
through the API, with the answers made readable by the questionnaire they were given for.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from cci.plugin_api import RESPONDENT_TYPES
from cci.plugin_api import Region
from cci.plugin_api import campaign_for
from cci.plugin_api import db
from cci.plugin_api import installed_set
from cci.plugin_api import survey

from cci_channel_kiosk.models import CLIENT_KEY_MAX
from cci_channel_kiosk.models import ERROR_MAX
from cci_channel_kiosk.models import FIELD_MAX
from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection

#: How long a raw value, and a comment, may be when shown (the rest is cut with "…").
SHOWN_MAX = 200
COMMENT_SHOWN_MAX = 1000


def record(kiosk_id: int, region_id: int, sent: Any, stored_payload: Any, error: str,
           field: str | None) -> KioskRejection:
    """Keep one refused delivery and commit it.

    Call it after the failed submission was rolled back: this is a transaction of its own, so
    the refusal is kept while nothing of the response is. Runs in the kiosk's region scope.
    ``sent`` is the body as parsed (its ``key`` is kept apart), ``stored_payload`` what
    :func:`cci_channel_kiosk.payloads.storable` made of it."""
    key = sent.get("key") if isinstance(sent, dict) else None
    row = KioskRejection(
        kiosk_id=kiosk_id, region_id=region_id,
        client_key=key[:CLIENT_KEY_MAX] if isinstance(key, str) and key else None,
        payload=stored_payload, error=str(error)[:ERROR_MAX],
        field=str(field)[:FIELD_MAX] if field else None,
    )
    db.add(row)
    db.commit()
    return row


def counts() -> dict[int, int]:
    """Refused deliveries per kiosk id, in the current scope."""
    rows = db.execute(select(KioskRejection.kiosk_id, func.count())
                      .group_by(KioskRejection.kiosk_id))
    # not dict(rows): a Result has keys(), so dict() would read it as a mapping
    return {kiosk_id: n for kiosk_id, n in rows}  # noqa: C416


def page(kiosk_id: int | None = None, office_id: int | None = None, limit: int = 50,
         offset: int = 0) -> tuple[int, list[KioskRejection]]:
    """(total, newest first from ``offset``) of the current scope, optionally one kiosk's or
    one office's."""
    query = select(KioskRejection).join(Kiosk, Kiosk.id == KioskRejection.kiosk_id)
    if kiosk_id is not None:
        query = query.where(KioskRejection.kiosk_id == kiosk_id)
    if office_id is not None:
        query = query.where(Kiosk.office_id == office_id)
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.scalars(query.order_by(KioskRejection.received_at.desc(),
                                     KioskRejection.id.desc()).limit(limit).offset(offset))
    return total, list(rows)


# --- readable answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One answer of a refused survey: the item's key, its question and the answer, both as
    the respondent saw them where the questionnaire knows the item."""

    key: str
    question: str
    answer: str


@dataclass(frozen=True)
class Readable:
    respondent_type: str
    answers: list[Line]
    profile: list[Line]
    comment: str


def indicator_set_for(region: Region, moment: dt.datetime):
    """The methodology set of the campaign running in the region at ``moment``, or None
    (then the answers are shown by their keys)."""
    campaign = campaign_for(region, moment)
    if campaign is None:
        return None
    try:
        return installed_set(campaign.methodology_key)
    except LookupError:
        return None


def _shown(value: Any, limit: int = SHOWN_MAX) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _item(iset, key: str):
    if iset is None:
        return None
    try:
        return iset.item(key)
    except KeyError:
        return None


def _lines(iset, rtype: str | None, raw: Any) -> list[Line]:
    if not isinstance(raw, dict):
        return [] if raw in (None, "") else [Line("", "", _shown(raw))]
    lines = []
    for key, value in raw.items():
        item = _item(iset, str(key))
        if item is None or rtype not in RESPONDENT_TYPES or item.for_type(rtype) is None:
            lines.append(Line(str(key), "", "—" if value is None else _shown(value)))
            continue
        view = survey.step_view(survey.Step(item.key, item.section, item), rtype, None)
        if value is None or value == survey.NA:
            answer = str(view.get("na_label") or "") or "—"
        else:
            labels = {choice.value: str(choice.label) for choice in view.get("choices", ())}
            answer = labels.get(str(value), _shown(value))
        lines.append(Line(item.key, str(view["text"]), answer))
    return lines


def readable(payload: Any, iset) -> Readable | None:
    """The survey in a refused body as people read it; None when the body was not a survey
    object at all (then only its text can be shown)."""
    if not isinstance(payload, dict):
        return None
    rtype = payload.get("respondent_type")
    type_label = ({"job_seeker": _("job seeker"), "employer": _("employer")}.get(rtype)
                  if isinstance(rtype, str) else None)
    comment = payload.get("comment")
    return Readable(
        respondent_type=type_label or ("—" if rtype in (None, "") else _shown(rtype)),
        answers=_lines(iset, rtype, payload.get("answers")),
        profile=_lines(iset, rtype, payload.get("profile")),
        comment=_shown(comment, COMMENT_SHOWN_MAX) if comment not in (None, "") else "",
    )
