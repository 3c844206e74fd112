"""Survey drafts are not kept for ever (cci.collection.retention): the purge deletes the drafts
nobody has touched for SURVEY_DRAFT_DAYS, finished or abandoned, in every region from the federal
scope and only its own from a region's; the web channel queues it at most once a day."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from rq import SimpleWorker
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from cci.collection import retention
from cci.collection import survey
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Campaign
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import SurveyDraft
from conftest import region_id

pytest_plugins = ("engine_helpers",)


@pytest.fixture(autouse=True)
def _a_fresh_process(app):
    """The app outlives a test; what a process remembers of its last purge must not."""
    app.extensions.pop("cci.drafts_purge_seen", None)


def _draft(app, office_code: str, days_old: float) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        office = db.scalar(select(Office).where(Office.code == office_code))
        campaign = db.scalar(select(Campaign).where(Campaign.name == "current"))
    with app.app_context(), tenancy.region_scope(office.region_id, "test"):
        draft = survey.start(db.get(Office, office.id), db.get(Campaign, campaign.id), "web")
        db.flush()
        moment = utcnow() - dt.timedelta(days=days_old)
        db.execute(update(SurveyDraft).where(SurveyDraft.id == draft.id)
                   .values(updated_at=moment, started_at=moment))
        db.commit()
        return draft.id


def _left(app) -> set[int]:
    with app.app_context(), tenancy.federal_scope("test"):
        return set(db.scalars(select(SurveyDraft.id)))


def _work(app) -> None:
    jobs.set_worker_app(app)
    SimpleWorker(list(jobs.QUEUES), connection=app.extensions["cci.redis"]).work(burst=True)


def _purge_jobs(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(JobRecord)
                         .where(JobRecord.name == retention.PURGE_JOB))


def test_the_purge_deletes_only_drafts_untouched_for_the_configured_days(app, live_campaign):
    old_bry = _draft(app, "BRY-01", days_old=31)
    old_kya = _draft(app, "KYA-01", days_old=45)
    recent = _draft(app, "BRY-01", days_old=29)
    fresh = _draft(app, "KYA-01", days_old=0)
    assert _left(app) == {old_bry, old_kya, recent, fresh}
    # a region's scope reaches only its own drafts
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-KYA"), "test"):
        assert retention.purge_drafts(retention.cutoff()) == 1
    assert _left(app) == {old_bry, recent, fresh}
    # the federal scope: every region's
    with app.app_context(), tenancy.federal_scope("test"):
        assert retention.purge_drafts(retention.cutoff()) == 1
    assert _left(app) == {recent, fresh}


def test_the_purge_works_in_batches(app, live_campaign, monkeypatch):
    monkeypatch.setattr(retention, "PURGE_BATCH", 2)
    old = [_draft(app, "BRY-01", days_old=40) for _ in range(5)]
    kept = _draft(app, "BRY-01", days_old=1)
    with app.app_context(), tenancy.federal_scope("test"):
        assert retention.purge_drafts(retention.cutoff()) == len(old)
    assert _left(app) == {kept}


def test_the_job_purges_with_the_configured_days(app, live_campaign, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_DRAFT_DAYS", 7)
    kept = _draft(app, "BRY-01", days_old=6)
    _draft(app, "BRY-01", days_old=8)
    with app.test_request_context():
        retention.schedule_purge()
    assert _purge_jobs(app) == 1
    _work(app)
    assert _left(app) == {kept}
    with app.app_context(), tenancy.federal_scope("test"):
        record = db.scalar(select(JobRecord).where(JobRecord.name == retention.PURGE_JOB))
        assert record.status == "finished" and record.region_id is None
        assert record.result["deleted"] == 1


def test_starting_a_web_survey_queues_the_purge_once_a_day(app, client, live_campaign):
    for _ in range(3):
        reply = client.post("/s/RU-BRY/BRY-01", data={"respondent_type": "job_seeker"})
        assert reply.status_code == 303
    assert _purge_jobs(app) == 1
    # another process (its own memory) finds the day's key in Redis: nothing more queued
    app.extensions.pop("cci.drafts_purge_seen")
    assert client.post("/s/RU-BRY/BRY-01",
                       data={"respondent_type": "employer"}).status_code == 303
    assert _purge_jobs(app) == 1
    _work(app)
    # a day later it is queued again
    app.extensions["cci.drafts_purge_seen"]["at"] -= retention.PURGE_EVERY_SECONDS
    app.extensions["cci.redis"].delete(retention._REDIS_KEY)
    assert client.post("/s/RU-BRY/BRY-01",
                       data={"respondent_type": "employer"}).status_code == 303
    assert _purge_jobs(app) == 2


def test_without_redis_a_survey_still_starts(app, client, live_campaign, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*_args, **_kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(app.extensions["cci.redis"], "set", down)
    reply = client.post("/s/RU-BRY/BRY-01", data={"respondent_type": "job_seeker"})
    assert reply.status_code == 303
    assert _purge_jobs(app) == 0
    # it asks again after an hour, not the next day
    seen = app.extensions["cci.drafts_purge_seen"]
    waited = time.monotonic() - seen["at"]
    assert abs(waited - (retention.PURGE_EVERY_SECONDS - retention.RETRY_SECONDS)) < 60
    monkeypatch.undo()  # Redis is back
    assert client.post("/s/RU-BRY/BRY-01",
                       data={"respondent_type": "employer"}).status_code == 303
    assert _purge_jobs(app) == 0  # within the hour: not asked
    seen["at"] -= retention.RETRY_SECONDS
    assert client.post("/s/RU-BRY/BRY-01",
                       data={"respondent_type": "employer"}).status_code == 303
    assert _purge_jobs(app) == 1


def test_the_command_purges(app, runner, live_campaign):
    kept = _draft(app, "BRY-01", days_old=5)
    _draft(app, "KYA-01", days_old=12)
    result = runner.invoke(args=["survey", "purge-drafts", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "survey drafts deleted: 1" in result.output
    assert _left(app) == {kept}
