"""What the platform stops keeping once it has served: survey drafts.

A web survey's draft (:class:`cci.foundation.models.SurveyDraft`) keeps the answers as the
respondent goes. Once finished, its response is stored and the draft only served the thanks page; an
abandoned one will not be finished after its cookie (7 days) has expired. Either may hold a comment
in which a respondent wrote more than they should, so neither is kept for ever: a draft untouched
for ``SURVEY_DRAFT_DAYS`` days (default 30) is deleted by the :data:`PURGE_JOB` job, which the web
channel asks for at most once a day (:func:`schedule_purge`), and by ``cci survey purge-drafts``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import SurveyDraft

PURGE_JOB = "survey.purge_drafts"
#: drafts deleted per transaction
PURGE_BATCH = 5000
#: how often the purge is queued at most (across all processes: a Redis key)
PURGE_EVERY_SECONDS = 24 * 3600
#: after a failure to queue it, this process asks again this much later
RETRY_SECONDS = 3600
_REDIS_KEY = "cci:survey-drafts-purge"


def purge_drafts(before: dt.datetime) -> int:
    """Delete the drafts of the current scope not updated since ``before``, committing per
    batch; returns how many."""
    deleted = 0
    while True:
        ids = list(db.scalars(select(SurveyDraft.id).where(SurveyDraft.updated_at < before)
                              .order_by(SurveyDraft.id).limit(PURGE_BATCH)))
        if not ids:
            return deleted
        # a draft resumed since it was selected stays
        db.execute(delete(SurveyDraft)
                   .where(SurveyDraft.id.in_(ids), SurveyDraft.updated_at < before)
                   .execution_options(synchronize_session=False))
        db.commit()
        deleted += len(ids)


def cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or utcnow()) - dt.timedelta(days=current_app.config["SURVEY_DRAFT_DAYS"])


def purge_job(report) -> dict:
    """The job (federal: every region's drafts)."""
    before = cutoff()
    deleted = purge_drafts(before)
    report(1.0, f"удалено черновиков анкет: {deleted}")
    return {"deleted": deleted, "before": before.isoformat()}


def schedule_purge() -> None:
    """Queue the purge if no process has in the last day. Called after a request committed a
    new draft; costs a Redis round trip at most once a day per process, and never fails the
    request (the next day's first draft asks again)."""
    from cci.foundation import jobs

    seen = current_app.extensions.setdefault("cci.drafts_purge_seen", {})
    now = time.monotonic()
    if "at" in seen and now - seen["at"] < PURGE_EVERY_SECONDS:
        return
    seen["at"] = now
    try:
        if not current_app.extensions["cci.redis"].set(_REDIS_KEY, "1", nx=True,
                                                       ex=PURGE_EVERY_SECONDS):
            return  # another process queued it within the day
        with tenancy.federal_scope("purge old survey drafts"):
            jobs.enqueue(PURGE_JOB, title="Удаление старых черновиков анкет",
                         queue_name="low", dedupe_key=PURGE_JOB)
    except (jobs.JobError, RedisError):
        current_app.logger.warning("the purge of old survey drafts was not queued",
                                   exc_info=True)
        seen["at"] = now - PURGE_EVERY_SECONDS + RETRY_SECONDS  # try again in an hour
        with contextlib.suppress(RedisError):  # it expires within the day
            current_app.extensions["cci.redis"].delete(_REDIS_KEY)
