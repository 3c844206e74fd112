"""Background jobs: the list and one job's status, refreshed by htmx polling while it runs."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import render_template
from flask_login import login_required
from htmx_flask import request as htmx_request
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import JobRecord

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

POLL_SECONDS = 1


@bp.route("/")
@login_required
def index():
    rows = db.scalars(select(JobRecord).order_by(JobRecord.id.desc()).limit(100)).all()
    return render_template("jobs/index.html", jobs=rows)


@bp.route("/<int:job_id>")
@login_required
def detail(job_id: int):
    job = db.get(JobRecord, job_id)
    if job is None:
        abort(404)
    context = {"job": job, "poll_seconds": POLL_SECONDS}
    if htmx_request.htmx:
        response = render_block("jobs/detail.html", "status", **context)
    else:
        response = render_template("jobs/detail.html", **context)
    return response, 200, {"Vary": "HX-Request"}
