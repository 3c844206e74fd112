"""Backup and restore as docs/deploy.md describes it: ``pg_dump --format=custom`` of a
database with sample data and a computed run, ``pg_restore`` into an empty database, then
``cci db upgrade``; every row of every table (responses, answers, runs, results, users, …)
is found identical, and the restored database takes new rows (its sequences came along).

PostgreSQL only: SQLite is backed up by copying its file."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import text

from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import Base
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Answer
from cci.foundation.models import ComputationRun
from cci.foundation.models import JobRecord
from cci.foundation.models import Response
from cci.foundation.models import RunResult
from conftest import DATABASE_URL
from conftest import IS_POSTGRES
from conftest import CommandRunner
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import start
from engine_helpers import work

from test_kiosk import answers_for

PG_DUMP, PG_RESTORE = shutil.which("pg_dump"), shutil.which("pg_restore")
pytestmark = [
    pytest.mark.skipif(not IS_POSTGRES, reason="pg_dump and pg_restore: PostgreSQL only"),
    pytest.mark.skipif(not (PG_DUMP and PG_RESTORE), reason="pg_dump/pg_restore not installed"),
]


def libpq(url) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def empty_database():
    """A new, empty database on the same server (dropped after the test)."""
    source = make_url(DATABASE_URL)
    target = source.set(database=f"{source.database}_restore")
    admin = create_engine(source, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    yield target
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def every_row(engine) -> dict[str, list[tuple]]:
    """Each table of the core and the installed plugins, its rows in primary-key order."""
    out = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in
                               connection.execute(table.select().order_by(*order))]
    return out


def test_a_dump_restored_into_an_empty_database_is_the_same(app, campaign, build,
                                                              empty_database, tmp_path):
    for office_id in offices(app, "RU-BRY")[:3] + offices(app, "RU-KYA")[:2]:
        for rtype in ("job_seeker", "job_seeker", "employer"):
            answer(app, office_id, answers_for(app, rtype), rtype=rtype)
    start(app, campaign)
    work(app)  # the computation
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(ComputationRun)
                         .where(ComputationRun.status == "succeeded")) >= 1
        assert db.scalar(select(func.count()).select_from(RunResult)) > 0
        assert db.scalar(select(func.count()).select_from(Response)) > 0
        # a job queued when the dump is taken: the restored platform's Redis does not hold it
        stale = JobRecord(rq_id="lost-with-the-old-redis", name="tenants.sync", title="Задача",
                          created_at=utcnow() - dt.timedelta(hours=1))
        db.add(stale)
        db.commit()
        stale_id = stale.id
    before = every_row(app.extensions["cci.engine"])

    dump = tmp_path / "cci.dump"
    subprocess.run([str(PG_DUMP), "--format=custom", "--no-owner", f"--file={dump}",
                    libpq(make_url(DATABASE_URL))], check=True, timeout=120)
    subprocess.run([str(PG_RESTORE), "--no-owner", "--exit-on-error",
                    f"--dbname={libpq(empty_database)}", str(dump)], check=True, timeout=120)

    restored = build({"DATABASE_URL": empty_database.render_as_string(hide_password=False)})
    upgraded = CommandRunner(restored).invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    after = every_row(restored.extensions["cci.engine"])
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"table {name} differs after the restore"
    assert after["responses"] and after["answers"] and after["run_results"]

    # the restored database takes new answers: its id sequences came along
    with restored.app_context(), tenancy.federal_scope("test"):
        response = db.scalar(select(Response).order_by(Response.id.desc()).limit(1))
        highest = response.id
        office_id = response.office_id
        items = {a.item: a.choice if a.choice is not None else a.value
                 for a in db.scalars(select(Answer).where(Answer.response_id == highest))}
        when = response.submitted_at
    new_id, created = answer(restored, office_id, items, rtype=response.respondent_type,
                             when=when)
    assert created and new_id == highest + 1

    # a worker of the restored platform reconciles the job records: the lost job is queued again
    with restored.app_context():
        assert jobs.reconcile()["requeued"] == [stale_id]
        with tenancy.federal_scope("test"):
            requeued = db.get_one(JobRecord, stale_id)
            assert requeued.status == "queued"
            assert requeued.rq_id in jobs.queue(requeued.queue).job_ids
