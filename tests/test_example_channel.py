"""A third-party channel with a table of its own, installed from its own folder
(``tests/example_plugins/cci_example_channel``) with pip, as an operator would: ``cci db
upgrade`` creates its table through its own migration branch, and the channel stores answers
through the intake and counts them in its table. Nothing in the platform names it.

Runs on the session's database kind, in a database of its own (``test_migrations``' fixture).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select

from cci import create_app
from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation.db import Base
from cci.foundation.db import db
from cci.foundation.models import Response
from conftest import TEST_CONFIG
from conftest import CommandRunner

from conftest_plugins import EXAMPLES
from test_migrations import migration_url  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "cci_example_channel"
TABLE = "qr_feedback_offices"
URL = "/qr-feedback/RU-BRY/BRY-01"


@pytest.fixture
def example_app(install_plugin, migration_url):
    """An app with the example installed from its folder (``install_plugin``); afterwards its
    table leaves the shared metadata again."""
    target = install_plugin(EXAMPLES / PACKAGE)
    assert (target / PACKAGE / "migrations" / "versions").is_dir()  # shipped with the package
    application = create_app({**TEST_CONFIG, "DATABASE_URL": migration_url})
    yield application
    application.extensions["cci.engine"].dispose()
    if TABLE in Base.metadata.tables:
        Base.metadata.remove(Base.metadata.tables[TABLE])


def _tables(application) -> set[str]:
    with application.extensions["cci.engine"].connect() as connection:
        return set(inspect(connection).get_table_names())


def _answers(application, respondent_type="job_seeker") -> dict:
    iset = application.extensions["cci.registry"].indicator_set("cci-2023")
    return {item.key: {"scale": "8", "yesno": "1"}.get(item.kind) or item.options[0].key
            for item in iset.items_for(respondent_type, "question") if item.follows is None}


def _stored(application) -> list[tuple[str, str]]:
    with application.app_context(), tenancy.federal_scope("test"):
        return [tuple(row) for row in db.execute(
            select(Response.client_key, Response.channel).order_by(Response.id))]


def test_the_core_does_not_name_the_example():
    for path in [ROOT / "pyproject.toml", *(ROOT / "platform").rglob("*.py"),
                 *(ROOT / "migrations").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        assert PACKAGE not in source and "qr_feedback" not in source, path


def test_an_installed_channel_brings_its_table_and_works(example_app):
    assert "qr_feedback" in example_app.extensions["cci.registry"].channels
    runner = CommandRunner(example_app)

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert TABLE in _tables(example_app)
    result = runner.invoke(args=["db", "current"])
    assert "qr_feedback_0001" in result.output
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output

    assert runner.invoke(args=["tenants", "sync"]).exit_code == 0
    today = dt.date.today()
    with example_app.app_context(), tenancy.federal_scope("test"):
        save_campaign(name="current", methodology_key="cci-2023",
                      starts_on=today - dt.timedelta(days=40),
                      ends_on=today + dt.timedelta(days=40), region_codes=["RU-BRY"])
        db.commit()

    client = example_app.test_client()
    assert client.get(URL).get_json() == {"office": "BRY-01", "answers": 0}
    survey = {"key": "poster-0001", "respondent_type": "job_seeker",
              "answers": _answers(example_app)}
    response = client.post(URL, json=survey)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["office_answers"] == 1
    # the same answer again (a retry) is stored and counted once
    response = client.post(URL, json=survey)
    assert response.status_code == 200
    assert response.get_json() == {"status": "already received"}
    # an answer the intake refuses stores nothing and counts nothing
    item = next(iter(survey["answers"]))
    refused = {**survey, "key": "poster-0002", "answers": {**survey["answers"], item: "99"}}
    response = client.post(URL, json=refused)
    assert response.status_code == 400
    assert response.get_json()["field"] == item
    assert client.post(URL, json={**survey, "key": "x"}).get_json()["field"] == "key"
    assert client.post("/qr-feedback/RU-BRY/NO-SUCH", json=survey).status_code == 404

    assert client.get(URL).get_json() == {"office": "BRY-01", "answers": 1}
    assert _stored(example_app) == [("qr_feedback:poster-0001", "qr_feedback")]

    # its branch downgrades alone: its table goes, the answers stay
    result = runner.invoke(args=["db", "downgrade", "qr_feedback@base"])
    assert result.exit_code == 0, result.output
    assert TABLE not in _tables(example_app)
    assert "kiosks" in _tables(example_app)
    with example_app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(Response)) == 1
