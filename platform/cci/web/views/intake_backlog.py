"""Answers acknowledged and not stored yet (cci.collection.inbox), for administrators: per region, how
many wait for the drain job and since when (an old one means no worker is storing them), and
the ones the database refused, with their error, to be stored again once the cause is mended.

Mounted with the admin pages in both areas: a region's administrator sees the region's, the
platform's administrator every region's.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext
from redis.exceptions import RedisError
from sqlalchemy import select

from cci.foundation import audit
from cci.collection import inbox
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.jobs import JobError
from cci.foundation.models import Region
from cci.web.views import form_ids
from cci.web.views.admin import bp
from cci.web.views.areas import area_url

#: failed answers listed on the page (the rest are counted, and retried by "all")
FAILED_SHOWN = 200
#: an answer waiting longer than this beyond the longest a drain job gives way to a burst
#: (INBOX_DRAIN_MAX_LAG, and the storing of the burst after it) means no drain job is running
STALE_AFTER = dt.timedelta(minutes=5)


@bp.route("/intake")
def intake_backlog():
    backlog = inbox.backlog()
    regions = {region.id: region for region in db.scalars(
        select(Region).where(Region.id.in_([b.region_id for b in backlog])))}
    now = utcnow()
    stale_after = STALE_AFTER + dt.timedelta(seconds=current_app.config["INBOX_DRAIN_MAX_LAG"])
    stale = [b for b in backlog if b.oldest is not None and now - b.oldest > stale_after]
    return render_template(
        "admin/intake.html", backlog=backlog, regions=regions, stale=stale,
        failed=inbox.failed(FAILED_SHOWN), failed_total=sum(b.failed for b in backlog),
        waiting_total=sum(b.waiting for b in backlog),
        stale_minutes=int(stale_after.total_seconds() // 60),
    )


@bp.route("/intake/retry", methods=["POST"])
def intake_retry():
    """Let the drain job store the refused answers again: the selected ones, or all; or
    (``which=waiting``) just queue the job for the answers that wait."""
    if request.form.get("which") == "waiting":
        return _queue_drain()
    every = request.form.get("which") == "all"
    ids = [] if every else form_ids()
    if not every and not ids:
        flash(_("Select at least one response."), "error")
        return redirect(area_url("admin.intake_backlog"))
    count = inbox.retry(ids or None)
    if count:
        audit.record("inbox.retry", object_type="InboxItem",
                     object_id=",".join(map(str, ids)) if ids else "all",
                     after={"count": count}, region_id=tenancy.current_region_id())
    db.commit()
    if count and not _scheduled():
        flash(_("The background queue is unavailable: the answers will be stored by the "
                "next drain job."), "error")
    if count:
        flash(ngettext("%(num)d answer will be stored again.",
                       "%(num)d answers will be stored again.", count), "success")
    else:
        flash(_("No answer to store again: the list has changed meanwhile."), "info")
    return redirect(area_url("admin.intake_backlog"))


def _scheduled() -> bool:
    try:
        inbox.schedule_drain()
    except (JobError, RedisError):
        current_app.logger.warning("intake page: no drain job queued", exc_info=True)
        return False
    return True


def _queue_drain():
    if _scheduled():
        flash(_("The storing job is queued: the answers will be stored once a worker takes "
                "it."), "success")
    else:
        flash(_("The background queue is unavailable: check Redis and the workers."), "error")
    return redirect(area_url("admin.intake_backlog"))
