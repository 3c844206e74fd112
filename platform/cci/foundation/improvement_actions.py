"""The closed loop's actions: a barrier of a region's journey map becomes work someone owns,
with a due date, a status and the metric it should move to a target. Overdue actions are the
region head's to see; long-overdue ones (30 days by default, the government feedback
platform's limit) escalate to the federal analysts.

Whether an action's metric moved is read through a *metric reader* the application may hold
(``app.extensions["cci.metric_values"]``, see :data:`MetricReader`): the CX metric values are
computed elsewhere, keyed by metric and touchpoint code. Without one, or without values, the
answer is «no data», never a guess.

Which metrics an action may name, their titles and which way is better come from the installed
CX metric definitions, read the same way (``app.extensions["cci.action_metrics"]``, see
:data:`MetricCatalogue`): the one source of a metric's name and direction. Methods of a journey
map that are not metrics (visit statistics, mystery shopper) are no action's target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select
from sqlalchemy import select

from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.journey_maps import owner_region
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMapVersion
from cci.foundation.models import User

STATUS_LABELS = {
    "planned": _l("planned"),
    "in_progress": _l("in progress"),
    "done": _l("done"),
    "cancelled": _l("cancelled"),
}
OPEN_STATUSES = ("planned", "in_progress")
#: days past the due date after which an open action escalates to the federal level
ESCALATION_DAYS = 30


@dataclass(frozen=True)
class ActionMetric:
    """An installed CX metric as an action names it."""
    code: str
    title: str
    #: whether the smaller value is the better one
    lower_is_better: bool


#: () -> the installed CX metrics by code
MetricCatalogue = Callable[[], dict[str, ActionMetric]]

#: (region id, office id or None, touchpoint code, metric code, on date) -> the metric's
#: value for the period ending on that date, or None when there is none
MetricReader = Callable[[int, int | None, str, str, dt.date], float | None]


class ActionError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def escalation_days() -> int:
    if has_app_context():
        return int(current_app.config.get("ACTION_ESCALATION_DAYS", ESCALATION_DAYS))
    return ESCALATION_DAYS


def barrier_of(version: JourneyMapVersion, stage_key: str, touchpoint_code: str,
               index: int) -> tuple[dict, dict, str]:
    """The stage, touchpoint and barrier text a new action is about."""
    for stage in version.content.get("stages", []):
        if stage["key"] != stage_key:
            continue
        for touchpoint in stage["touchpoints"]:
            if touchpoint["code"] == touchpoint_code and 0 <= index < len(touchpoint["barriers"]):
                return stage, touchpoint, touchpoint["barriers"][index]
    raise ActionError("barrier", _("The barrier is not on this map any more; reload the map."))


def _owner(owner_id: Any, region_id: int) -> User:
    if isinstance(owner_id, str) and owner_id.isascii() and owner_id.isdigit() \
            and len(owner_id) < 10:
        owner_id = int(owner_id)
    owner = db.get(User, owner_id) if isinstance(owner_id, int) and \
        not isinstance(owner_id, bool) and 0 < owner_id < 2**31 else None
    if owner is None or owner.region_id != region_id or not owner.active:
        raise ActionError("owner_id", _("Choose the action's owner among the region's users."))
    return owner


def _due(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        raise ActionError("due_on", _("Enter the due date as a date.")) from None


def _target(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ActionError("target", _("The target is a number."))
    try:
        text = "".join(str(value).split()).replace("\u202f", "").replace("\u2009", "")
        number = float(text.replace(",", ".").replace("\u2212", "-"))
    except ValueError:
        raise ActionError("target", _("The target is a number.")) from None
    if number != number or abs(number) > 1e9:  # NaN, or nothing a metric reaches
        raise ActionError("target", _("The target is a number."))
    return number


def _metric(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in metrics():
        raise ActionError("metric_code", _("Choose a metric from the list."))
    return str(value)


def _title(value: Any) -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise ActionError("title", _("Say what will be done."))
    if len(title) > 300:
        raise ActionError("title", _("At most 300 characters."))
    return title


def create(version: JourneyMapVersion, stage_key: str, touchpoint_code: str, barrier_index: int,
           values: dict[str, Any], user) -> ImprovementAction:
    """A barrier of a region's map becomes an action; every field is checked before anything
    is written."""
    if owner_region(version) is None:
        raise ActionError("barrier", _("Actions belong to a region's map, not to the template."))
    _stage, _touchpoint, barrier = barrier_of(version, stage_key, touchpoint_code,
                                              barrier_index)
    title = _title(values.get("title") or barrier)
    owner = _owner(values.get("owner_id"), version.region_id)
    due_on = _due(values.get("due_on"))
    metric_code = _metric(values.get("metric_code"))
    target = _target(values.get("target"))
    if target is not None and metric_code is None:
        raise ActionError("metric_code", _("Name the metric the target is of."))
    department = " ".join(str(values.get("department") or "").split())[:300]
    action = ImprovementAction(
        map_version_id=version.id, stage_key=stage_key, touchpoint_code=touchpoint_code,
        barrier=barrier, title=title, department=department, owner_id=owner.id,
        due_on=due_on, status="planned", metric_code=metric_code, target=target,
        region_id=version.region_id, created_by_id=user.id if user else None)
    db.add(action)
    db.flush()
    audit.record("improvement_action.create", action, user=user, after=_audited(action))
    return action


def _audited(action: ImprovementAction) -> dict[str, Any]:
    return {"title": action.title, "department": action.department, "owner_id": action.owner_id,
            "due_on": action.due_on.isoformat(), "action_status": action.status,
            "metric_code": action.metric_code, "target": action.target}


def update(action: ImprovementAction, values: dict[str, Any], user) -> bool:
    """Change an action's status, owner, due date, metric or target. A done or cancelled
    action is closed: it changes no more. Returns whether anything changed."""
    if action.status not in OPEN_STATUSES:
        raise ActionError("status", _("The action is closed; it changes no more."))
    before = _audited(action)
    status = values.get("status", action.status)
    if not isinstance(status, str) or status not in STATUS_LABELS:
        raise ActionError("status", _("Choose a status from the list."))
    changes: dict[str, Any] = {"status": status}
    if "title" in values:
        changes["title"] = _title(values["title"])
    if "department" in values:
        changes["department"] = " ".join(str(values["department"] or "").split())[:300]
    if "owner_id" in values:
        changes["owner_id"] = _owner(values["owner_id"], action.region_id).id
    if "due_on" in values:
        changes["due_on"] = _due(values["due_on"])
    if "metric_code" in values and values["metric_code"] != action.metric_code:
        # an action keeps the metric it has, also one no longer installed
        changes["metric_code"] = _metric(values["metric_code"])
    if "target" in values:
        changes["target"] = _target(values["target"])
    if changes.get("target", action.target) is not None and \
            changes.get("metric_code", action.metric_code) is None:
        raise ActionError("metric_code", _("Name the metric the target is of."))
    for name, value in changes.items():
        setattr(action, name, value)
    if action.status not in OPEN_STATUSES:
        action.closed_at = utcnow()
    after = _audited(action)
    if after == before:
        return False
    db.flush()
    audit.record("improvement_action.update", action, user=user,
                 before={k: v for k, v in before.items() if after[k] != v},
                 after={k: v for k, v in after.items() if before[k] != v})
    return True


def overdue_query(today: dt.date, days: int = 0) -> Select:
    """Open actions whose due date passed more than ``days`` days before ``today``."""
    return (select(ImprovementAction)
            .where(ImprovementAction.status.in_(OPEN_STATUSES),
                   ImprovementAction.due_on < today - dt.timedelta(days=days))
            .order_by(ImprovementAction.due_on, ImprovementAction.id))


def escalated(today: dt.date) -> list[ImprovementAction]:
    """Actions overdue longer than the escalation limit, in every region: the federal
    analyst's list."""
    with tenancy.federal_scope("long-overdue actions escalate to the federal level"):
        return list(db.scalars(overdue_query(today, escalation_days())))


def days_overdue(action: ImprovementAction, today: dt.date) -> int:
    if action.status not in OPEN_STATUSES:
        return 0
    return max(0, (today - action.due_on).days)


@dataclass(frozen=True)
class Movement:
    before: float | None
    after: float | None
    #: True: moved the right way; False: did not; None: no data to say
    improved: bool | None
    #: True/False whether the target is reached; None: no target or no data
    reached: bool | None


def movement(action: ImprovementAction, reader: MetricReader | None,
             today: dt.date) -> Movement | None:
    """After the due date, whether the action's metric moved: its value when the action was
    made against its value at the due date. None before the due date or without a metric."""
    if action.metric_code is None or today < action.due_on:
        return None
    before = after = None
    if reader is not None:
        office_id = action.map_version.map.office_id
        before = reader(action.region_id, office_id, action.touchpoint_code,
                        action.metric_code, action.created_at.date())
        after = reader(action.region_id, office_id, action.touchpoint_code,
                       action.metric_code, action.due_on)
    metric = metrics().get(action.metric_code)
    if before is None or after is None or metric is None:
        return Movement(before, after, None, None)
    lower = metric.lower_is_better
    improved = after < before if lower else after > before
    reached = None
    if action.target is not None:
        reached = after <= action.target if lower else after >= action.target
    return Movement(before, after, improved, reached)


def decimals(value: float | None) -> int:
    """Decimals a target or a metric's value is shown with: as many as it has, up to two."""
    if value is None:
        return 0
    return next((n for n in (0, 1) if round(value, n) == value), 2)


def metric_reader() -> MetricReader | None:
    """The application's reader of CX metric values, if one is installed."""
    return current_app.extensions.get("cci.metric_values") if has_app_context() else None


def metrics() -> dict[str, ActionMetric]:
    """The installed CX metrics an action may name (none without the application's
    catalogue)."""
    catalogue = current_app.extensions.get("cci.action_metrics") if has_app_context() else None
    return catalogue() if catalogue is not None else {}
