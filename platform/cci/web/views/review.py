"""The region's review queue of flagged responses: confirm the exclusion or restore, with a
reason, one at a time (htmx updates the row in place) or for a selection."""

from __future__ import annotations

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required
from htmx_flask import request as htmx_request
from sqlalchemy import select

from cci.collection import quality
from cci.collection import recompute
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import Office
from cci.foundation.models import Response
from cci.foundation.roles import Role
from cci.web.answers import shown_answers
from cci.web.views import form_ids
from cci.web.views import found_or_404
from cci.web.views.areas import region_bp

PAGE_SIZE = 50
REVIEWERS = (Role.ADMIN, Role.REGIONAL_ADMIN)


def _filters() -> dict:
    """The queue's filters from the query string or the posted form."""
    source = request.values
    status = source.get("status", "pending")
    if status not in quality.STATUS_LABELS:
        status = "pending"
    return {"status": status, "rule": source.get("rule") or None,
            "office": source.get("office", type=int)}


def _context() -> dict:
    registry = current_app.extensions["cci.registry"]
    offices = {o.id: o for o in db.scalars(select(Office).order_by(Office.code))}
    return {
        "offices": offices,
        "labels": {key: str(label) for key, label in quality.rule_labels().items()},
        "channels": {key: channel.label for key, channel in registry.channels.items()},
        "status_labels": quality.STATUS_LABELS,
        "shown_answers": shown_answers,
        "source": _source,
    }


def _source(response: Response) -> list[tuple[str, str]]:
    """Who or what took the answer, in the channel's own words."""
    channel = current_app.extensions["cci.registry"].channels.get(response.channel)
    if channel is None or channel.describe_source is None:
        return []
    return channel.describe_source(response)


@region_bp.route("/review")
@login_required
@roles_required(*REVIEWERS)
def review():
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=int))
    query = quality.review_query(filters["status"], filters["rule"], filters["office"])
    total, rows = quality.review_page(query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template(
        "review/index.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
        filters=filters, **_context(),
    )


def _back(filters: dict):
    return redirect(url_for("region.review", status=filters["status"], rule=filters["rule"],
                            office=filters["office"]))


@region_bp.route("/review/<int:response_id>", methods=["POST"])
@login_required
@roles_required(*REVIEWERS)
def review_decide(response_id: int):
    response = found_or_404(Response, response_id)
    filters = _filters()
    error = None
    decision = request.form.get("decision", "")
    try:
        quality.decide(response, decision, request.form.get("reason"), current_user)
    except quality.ReviewError as exc:
        db.rollback()
        error = exc.message
    else:
        db.commit()
        recompute.follow([response.campaign_id])
    if htmx_request.htmx:
        response = db.get(Response, response_id)
        return render_template("review/_row.html", r=response, error=error, done=error is None,
                               filters=filters, **_context())
    if error:
        flash(error, "error")
    else:
        flash(_("Response №%(id)d: %(status)s.", id=response_id,
                status=quality.STATUS_LABELS[quality.DECISIONS[decision]]), "success")
    return _back(filters)


@region_bp.route("/review/bulk", methods=["POST"])
@login_required
@roles_required(*REVIEWERS)
def review_bulk():
    filters = _filters()
    ids = form_ids()
    if not ids:
        flash(_("Select at least one response."), "error")
        return _back(filters)
    responses = db.scalars(select(Response).where(Response.id.in_(ids))).all()
    try:
        for response in responses:
            quality.decide(response, request.form.get("decision", ""),
                           request.form.get("reason"), current_user)
    except quality.ReviewError as exc:
        db.rollback()
        flash(exc.message, "error")
        return _back(filters)
    db.commit()
    recompute.follow(r.campaign_id for r in responses)
    flash(ngettext("%(num)d response decided.", "%(num)d responses decided.", len(responses)),
          "success")
    return _back(filters)
