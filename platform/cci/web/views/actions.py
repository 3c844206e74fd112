"""Improvement actions: a barrier of a region's map made into an action, the region's list
(the overdue first, for its head), one action and its status; the federal escalation list of
long-overdue actions."""

from __future__ import annotations

import datetime as dt

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import select

from cci.foundation import improvement_actions as actions_
from cci.foundation import journey_maps
from cci.foundation.access import may_open
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import Region
from cci.foundation.models import User
from cci.foundation.roles import Role
from cci.web.moments import region_zone
from cci.web.views import found_or_404
from cci.web.views.areas import federal_bp
from cci.web.views.areas import region_bp

#: who makes a region's barriers into actions and changes them
ACTION_EDITORS = (Role.ADMIN, Role.REGIONAL_ADMIN)
#: who reads the federal escalation list
ESCALATION_READERS = (Role.ADMIN, Role.FEDERAL_ANALYST)
FORM_FIELDS = ("title", "department", "owner_id", "due_on", "metric_code", "target")


def _today() -> dt.date:
    """Today where the reader is looking: the region's date, Moscow's on federal pages."""
    return dt.datetime.now(region_zone(g.get("region"))).date()


def _region_users() -> list[User]:
    return list(db.scalars(select(User).where(User.region_id == g.region.id,
                                              User.active.is_(True)).order_by(User.email)))


def _metric_choices(current: str | None = None) -> list[tuple[str, str]]:
    """(code, title) of the installed CX metrics; plus an action's own metric if no longer
    installed, so that saving the action keeps it."""
    choices = [(code, metric.title) for code, metric in actions_.metrics().items()]
    if current and all(code != current for code, _title in choices):
        choices.append((current, _metric_title(current) or current))
    return choices


def _metric_title(code: str | None) -> str | None:
    """A metric's title as the CX pages show it (a code no longer installed: its code)."""
    if not code:
        return None
    metric = actions_.metrics().get(code)
    return metric.title if metric else code


def _form_values() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FORM_FIELDS}


@region_bp.route("/actions/")
@login_required
def actions():
    today = _today()
    rows = db.scalars(select(ImprovementAction).order_by(ImprovementAction.due_on,
                                                         ImprovementAction.id)).all()
    overdue = [a for a in rows if actions_.days_overdue(a, today) > 0]
    open_ = [a for a in rows if a.status in actions_.OPEN_STATUSES and a not in overdue]
    closed = [a for a in rows if a.status not in actions_.OPEN_STATUSES]
    return render_template("actions/index.html", region=g.region, overdue=overdue,
                           open_actions=open_, closed=closed, today=today,
                           labels=actions_.STATUS_LABELS, limit=actions_.escalation_days(),
                           may_edit=may_open("region.action_new"))


@region_bp.route("/maps/<int:map_id>/actions/new", methods=["GET", "POST"])
@login_required
@roles_required(*ACTION_EDITORS)
def action_new(map_id: int):
    journey_map = found_or_404(JourneyMap, map_id)
    number = request.values.get("version", type=int)
    version = next((v for v in journey_maps.versions_of(journey_map) if v.number == number),
                   None)
    stage_key = request.values.get("stage", "")
    touchpoint_code = request.values.get("touchpoint", "")
    index = request.values.get("barrier", type=int)
    if version is None or index is None:
        abort(404)
    try:
        stage, touchpoint, barrier = actions_.barrier_of(version, stage_key, touchpoint_code,
                                                         index)
    except actions_.ActionError:
        abort(404)
    errors: dict[str, str] = {}
    values = {"title": barrier, "department": ", ".join(touchpoint["departments"]),
              "owner_id": "", "due_on": (_today() + dt.timedelta(days=30)).isoformat(),
              "metric_code": "", "target": ""}
    if request.method == "POST":
        values = _form_values()
        try:
            action = actions_.create(version, stage_key, touchpoint_code, index, values,
                                     current_user)
        except actions_.ActionError as exc:
            db.rollback()
            errors[exc.field] = exc.message
        else:
            db.commit()
            flash(_("The barrier is now an action with an owner and a due date."), "success")
            return redirect(url_for("region.action", action_id=action.id))
    # the touchpoint's installed CX metrics (not its methods, such as a mystery shopper),
    # titled as on the CX pages; all of them when the touchpoint names none
    installed = _metric_choices()
    metrics = [(m["code"], title) for m in touchpoint["metrics"]
               for code, title in installed if code == m["code"]] or installed
    return render_template("actions/form.html", region=g.region, m=journey_map,
                           version=version, stage=stage, touchpoint=touchpoint,
                           barrier=barrier, values=values, errors=errors,
                           users=_region_users(), metrics=metrics), 400 if errors else 200


@region_bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action(action_id: int):
    item = found_or_404(ImprovementAction, action_id)
    may_edit = may_open("region.action_new") or item.owner_id == current_user.id
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not may_edit:
            abort(403)
        values: dict[str, str] = {"status": request.form.get("status", "")}
        if may_open("region.action_new"):  # the owner changes the status only
            values.update(_form_values())
        try:
            changed = actions_.update(item, values, current_user)
        except actions_.ActionError as exc:
            db.rollback()
            errors[exc.field] = exc.message
        else:
            db.commit()
            if changed:
                flash(_("The action is saved."), "success")
            return redirect(url_for("region.action", action_id=item.id))
    today = _today()
    version = item.map_version
    return render_template(
        "actions/detail.html", region=g.region, a=item, m=version.map, version=version,
        labels=actions_.STATUS_LABELS, today=today,
        overdue=actions_.days_overdue(item, today), limit=actions_.escalation_days(),
        moved=actions_.movement(item, actions_.metric_reader(), today),
        metric_label=_metric_title(item.metric_code),
        may_edit=may_edit, may_change_all=may_open("region.action_new"),
        decimals=actions_.decimals,
        users=_region_users(), metrics=_metric_choices(item.metric_code),
        errors=errors), 400 if errors else 200


@federal_bp.route("/actions/escalated", endpoint="actions_escalated")
@login_required
@roles_required(*ESCALATION_READERS)
def federal_actions_escalated():
    today = _today()
    rows = actions_.escalated(today)
    regions = {r.id: r for r in db.scalars(select(Region))}
    return render_template("actions/escalated.html", rows=rows, regions=regions, today=today,
                           limit=actions_.escalation_days(), labels=actions_.STATUS_LABELS)
