"""Background jobs: the list and one job's status, refreshed by htmx polling while it runs.

Administrators also see what needs them: the RQ queues' lengths (platform administrators only:
the queues are shared by every region), the jobs running now and the jobs that failed, each
with its error in a line and a «Повторить» button (audit-logged).
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from htmx_flask import request as htmx_request
from jinja2_fragments.flask import render_block
from rq.registry import FailedJobRegistry
from rq.registry import ScheduledJobRegistry
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from cci.foundation import jobs
from cci.foundation.db import db
from cci.foundation.models import JobRecord
from cci.foundation.roles import Role
from cci.web.views import found_or_404
from cci.web.views.areas import area_url

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

POLL_SECONDS = 1
#: The administrators' panel (queues, running, failed) refreshes this often.
PANEL_POLL_SECONDS = 5
FAILED_SHOWN = 50
#: the queues in words (their names, as `cci worker --queues` takes them, are shown as codes)
QUEUE_LABELS = {"high": _l("urgent"), "default": _l("regular"), "low": _l("background")}


def _is_admin() -> bool:
    return current_user.has_role(Role.ADMIN, Role.REGIONAL_ADMIN)


def _sees_queues() -> bool:
    return g.get("area") == "federal" and current_user.has_role(Role.ADMIN)


def queue_lengths() -> list[dict] | None:
    """Each RQ queue: waiting, running, waiting to retry, failed; None when Redis is down."""
    try:
        return [{"name": name, "label": QUEUE_LABELS.get(name, ""), "queued": queue.count,
                 "started": StartedJobRegistry(queue=queue).count,
                 "scheduled": ScheduledJobRegistry(queue=queue).count,
                 "failed": FailedJobRegistry(queue=queue).count}
                for name, queue in current_app.extensions["cci.queues"].items()]
    except Exception:  # Redis down: the page says the queue server did not answer
        current_app.logger.warning("jobs page: Redis unavailable", exc_info=True)
        return None


def _panel() -> dict:
    """What administrators see above the list (in their scope: a region's jobs, or all)."""
    running = db.scalars(select(JobRecord).where(JobRecord.status.in_(("running", "retrying")))
                         .order_by(JobRecord.id)).all()
    failed = db.scalars(select(JobRecord).where(JobRecord.status == "failed")
                        .order_by(JobRecord.id.desc()).limit(FAILED_SHOWN)).all()
    queues = queue_lengths() if _sees_queues() else None
    return {"queues": queues, "queues_down": _sees_queues() and queues is None,
            "running": running,
            "failed": failed, "error_summary": jobs.error_summary,
            "panel_poll_seconds": PANEL_POLL_SECONDS}


@bp.route("/")
@login_required
def index():
    panel = _panel() if _is_admin() else None
    if panel is not None and htmx_request.htmx:
        return render_block("jobs/index.html", "panel", panel=panel), 200, {"Vary": "HX-Request"}
    rows = db.scalars(select(JobRecord).order_by(JobRecord.id.desc()).limit(100)).all()
    return render_template("jobs/index.html", jobs=rows, panel=panel), 200, {"Vary": "HX-Request"}


@bp.route("/<int:job_id>/retry", methods=["POST"])
@login_required
def retry(job_id: int):
    if not _is_admin():
        abort(403)
    job = found_or_404(JobRecord, job_id)  # another region's job is not found (tenant scope)
    try:
        jobs.retry(job, current_user)
    except jobs.JobError:
        db.rollback()
        flash(_("Job №%(id)d could not be queued again: only a failed job can be retried, and "
                "the queue must be reachable.", id=job_id), "error")
        return redirect(area_url("jobs.index"))
    flash(_("Job №%(id)d is queued again.", id=job_id), "success")
    return redirect(area_url("jobs.detail", job_id=job_id))


@bp.route("/<int:job_id>")
@login_required
def detail(job_id: int):
    job = found_or_404(JobRecord, job_id)
    context = {"job": job, "poll_seconds": POLL_SECONDS,
               "can_retry": _is_admin() and job.status == "failed"}
    if htmx_request.htmx:
        response = render_block("jobs/detail.html", "status", **context)
    else:
        response = render_template("jobs/detail.html", **context)
    return response, 200, {"Vary": "HX-Request"}
