"""Helpers for tests that store answers, run computations and read results."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.collection.intake import Submission
from cci.collection.intake import submit
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Checklist
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.index import compute

DAY = dt.datetime(2025, 5, 5, 9, 0, tzinfo=dt.UTC)
_keys = itertools.count()


@pytest.fixture
def campaign(app, tenants):
    with app.app_context(), tenancy.federal_scope("test"):
        created = save_campaign(name="2025-Q2", methodology_key="cci-2023",
                                starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 6, 30),
                                region_codes=["RU-BRY", "RU-KYA"])
        db.commit()
        return created.id


def offices(app, code):
    with app.app_context(), tenancy.federal_scope("test"):
        region = db.scalar(select(Region).where(Region.code == code))
        return [o.id for o in db.scalars(select(Office).where(Office.region_id == region.id)
                                         .order_by(Office.code))]


def answer(app, office_id, answers, rtype="job_seeker", when=DAY, **kw):
    with app.app_context():
        response, created = submit(Submission(
            office_id=office_id, respondent_type=rtype, answers=answers,
            client_key=kw.pop("client_key", f"test-{next(_keys)}-{uuid.uuid4()}"),
            channel=kw.pop("channel", "test"), submitted_at=when, **kw))
        return response.id, created


def checklist(app, campaign_id, indicator, values, office_id=None, region="RU-BRY"):
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.scalar(select(Region.id).where(Region.code == region))
        db.add(Checklist(campaign_id=campaign_id, region_id=region_id, office_id=office_id,
                         indicator=indicator, values=values))
        db.commit()


def work(app):
    """Run every queued job in this process with a real RQ worker against the real Redis."""
    from rq import SimpleWorker

    jobs.set_worker_app(app)
    connection = app.extensions["cci.redis"]
    SimpleWorker(list(jobs.QUEUES), connection=connection).work(burst=True)


def start(app, campaign_id, **kw):
    with app.app_context():
        run, created = compute.start_run(campaign_id, **kw)
        return run.id, created


def results(app, run_id, level="office", metric="index", respondent_type=None):
    with app.app_context(), tenancy.federal_scope("test"):
        return {
            (row.office_id or row.region_id): row
            for row in db.scalars(select(RunResult).where(
                RunResult.run_id == run_id, RunResult.level == level, RunResult.metric == metric,
                RunResult.respondent_type.is_(respondent_type)
                if respondent_type is None else RunResult.respondent_type == respondent_type))
        }


def run_row(app, run_id):
    with app.app_context():
        return db.get(ComputationRun, run_id)


def _region(app, code):
    with app.app_context():
        return db.scalar(select(Region.id).where(Region.code == code))




@pytest.fixture
def live_campaign(app, tenants):
    """A cci-2023 campaign running today in RU-BRY and RU-KYA (for the channels' pages)."""
    today = dt.date.today()
    with app.app_context(), tenancy.federal_scope("test"):
        created = save_campaign(name="current", methodology_key="cci-2023",
                                starts_on=today - dt.timedelta(days=40),
                                ends_on=today + dt.timedelta(days=40),
                                region_codes=["RU-BRY", "RU-KYA"])
        db.commit()
        return created.id


@pytest.fixture
def csrf_on(app, monkeypatch):
    """The app checks CSRF tokens as in production (the test config turns them off)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
