"""Plugins own their migrations: each plugin with tables has an Alembic branch of its own
(hook ``register_migrations``), which ``cci db upgrade`` runs with the core's.

The kiosk's and the contact centre's tables moved out of the core's history into their
channels' branches. A database the core migrated before the move (its revisions 0005-0007 then
created those tables; they are kept verbatim in ``tests/legacy_migrations/``) upgrades to the
new heads with every row kept and no table created twice.

Runs on the session's database kind (a file of its own on SQLite, a schema of its own on
PostgreSQL), as ``test_migrations`` does.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text

from cci import create_app
from cci import hookimpl
from cci.cli import alembic_config
from cci.foundation.db import Base
from cci.hooks.manager import PluginError
from conftest import TEST_CONFIG
from conftest import CommandRunner

from test_migrations import migration_app  # noqa: F401 - fixture
from test_migrations import migration_url  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[1]
LEGACY = Path(__file__).parent / "legacy_migrations"
KIOSK_TABLES = {"kiosks", "kiosk_rejections"}
CONTACT_TABLES = {"contact_calls", "telephony_stats"}
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)

#: Rows of every plugin table (and what they refer to), inserted as the old code kept them.
ROWS: dict[str, list[dict]] = {
    "regions": [{"id": 1, "code": "RU-TST", "name": "Тестовый регион",
                 "network_type": "centralized", "timezone": "Europe/Moscow", "is_sample": False,
                 "created_at": NOW, "updated_at": NOW}],
    "offices": [{"id": 1, "code": "TST-01", "name": "Офис", "address": "ул. Мира, 1",
                 "kind": "main", "is_sample": False, "active": True, "created_at": NOW,
                 "updated_at": NOW, "region_id": 1}],
    "users": [{"id": 1, "email": "operator@example.ru", "full_name": "Оператор",
               "password_hash": "x", "role": "operator", "office_id": 1, "active": True,
               "created_at": NOW, "region_id": 1}],
    # rows that refer to offices and jobs: a migration that copies those tables (a batch on
    # SQLite) fails on them
    "campaigns": [{"id": 1, "name": "2025-Q2", "methodology_key": "cci-2023",
                   "starts_on": dt.date(2025, 4, 1), "ends_on": dt.date(2025, 6, 30),
                   "is_sample": False, "created_at": NOW}],
    "jobs": [{"id": 1, "rq_id": "job-1", "name": "imports.run", "title": "Импорт",
              "status": "finished", "progress": 1.0, "message": "", "params": {}, "result": {},
              "attempts": 1, "created_at": NOW, "region_id": 1}],
    "imports": [{"id": 1, "campaign_id": 1, "kind": "responses", "filename": "анкеты.csv",
                 "content": b"a;b\n", "size": 4, "status": "succeeded", "job_id": 1,
                 "rows_total": 0, "created_count": 0, "updated_count": 0, "existing_count": 0,
                 "error_count": 0, "errors": [], "created_at": NOW, "region_id": 1}],
    "kiosks": [{"id": 1, "office_id": 1, "name": "Холл", "token_hash": "a" * 64, "paired_at": NOW,
                    "last_seen_at": NOW, "app_version": "1.1.0", "queue_length": 2,
                    "created_by_id": 1, "created_at": NOW, "region_id": 1,
                    "rejected_log_length": 3},
               {"id": 2, "office_id": 1, "name": "Второй этаж", "pairing_code_hash": "b" * 64,
                    "pairing_expires_at": NOW, "created_at": NOW, "region_id": 1}],
    "kiosk_rejections": [{"id": 1, "kiosk_id": 1, "received_at": NOW, "client_key": "key-0001",
                              "payload": {"answers": {"q1": "11"}}, "error": "вне шкалы",
                              "field": "q1", "region_id": 1}],
    "contact_calls": [{"id": 1, "office_id": 1, "operator_id": 1, "line": "8-800",
                           "started_at": NOW, "ended_at": NOW, "resolved_first_contact": True,
                           "transfers": 0, "escalated": False, "waiting_seconds": 12,
                           "handling_seconds": 240, "topic": "benefits", "created_at": NOW,
                           "region_id": 1}],
    "telephony_stats": [{"id": 1, "day": dt.date(2026, 11, 30), "line": "8-800", "offered": 10,
                             "answered": 9, "abandoned": 1, "answered_within_20s": 8,
                             "wait_seconds_total": 50.0, "handle_seconds_total": 900.0,
                             "imported_by_id": 1, "created_at": NOW, "updated_at": NOW,
                             "region_id": 1}],
}


def _engine(application):
    return application.extensions["cci.engine"]


def _tables(application) -> set[str]:
    with _engine(application).connect() as connection:
        return set(inspect(connection).get_table_names())


def _versions(application) -> set[str]:
    with _engine(application).connect() as connection:
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _heads(cfg) -> set[str]:
    return set(ScriptDirectory.from_config(cfg).get_heads())


def legacy_config(application, tmp_path: Path):
    """The core's history as it was before the plugins' tables moved out of it: today's core
    revisions with the old 0005-0007, which created the contact centre's and the kiosk's
    tables, in place of today's empty ones; no plugin branch."""
    folder = tmp_path / "legacy"
    versions = folder / "versions"
    versions.mkdir(parents=True)
    shutil.copy(ROOT / "migrations" / "env.py", folder / "env.py")
    for script in (ROOT / "migrations" / "versions").glob("*.py"):
        shutil.copy(script, versions / script.name)
    for script in LEGACY.glob("0*.py"):
        shutil.copy(script, versions / script.name)
    cfg = alembic_config(application)
    cfg.set_main_option("script_location", str(folder))
    cfg.set_main_option("version_locations", str(versions))
    return cfg


def _insert_rows(application) -> None:
    """Every row of ROWS whose table exists, with the columns the table has."""
    with _engine(application).begin() as connection:
        existing = set(inspect(connection).get_table_names())
        for name, rows in ROWS.items():
            if name not in existing:
                continue
            table = Table(name, MetaData(), autoload_with=connection)
            for row in rows:  # one by one: the rows fill different columns
                connection.execute(table.insert().values(
                    {key: value for key, value in row.items() if key in table.c}))


def _snapshot(application, names) -> dict[str, list[dict]]:
    with _engine(application).connect() as connection:
        found = {}
        for name in names:
            table = Table(name, MetaData(), autoload_with=connection)
            found[name] = [dict(row._mapping)
                           for row in connection.execute(select(table).order_by(table.c.id))]
        return found


def test_a_new_database_gets_the_plugin_tables_from_the_plugins_branches(migration_app):
    cfg = alembic_config(migration_app)
    command.upgrade(cfg, "cci@head")  # the core's branch alone
    assert not (KIOSK_TABLES | CONTACT_TABLES) & _tables(migration_app)
    assert "regions" in _tables(migration_app)

    command.upgrade(cfg, "heads")
    assert _tables(migration_app) >= KIOSK_TABLES | CONTACT_TABLES
    assert _versions(migration_app) == _heads(cfg)
    assert {"kiosk_0001", "contact_0002"} <= _versions(migration_app)
    assert "telephony_imports" in _tables(migration_app)
    command.check(cfg)


@pytest.mark.parametrize("legacy_head", ["0010", "0006"])
def test_a_database_the_core_migrated_keeps_its_plugin_rows(migration_app, tmp_path,
                                                            legacy_head):
    """0010: the core's head before the move, every plugin table there; 0006: kiosks without
    its later column, no kiosk_rejections yet."""
    command.upgrade(legacy_config(migration_app, tmp_path), legacy_head)
    assert _versions(migration_app) == {legacy_head}
    old_tables = _tables(migration_app)
    assert "kiosks" in old_tables and old_tables >= CONTACT_TABLES
    _insert_rows(migration_app)
    kept = sorted(ROWS.keys() & old_tables)
    before = _snapshot(migration_app, kept)
    assert all(before[name] for name in kept)

    cfg = alembic_config(migration_app)
    command.upgrade(cfg, "heads")

    assert _versions(migration_app) == _heads(cfg)
    assert _tables(migration_app) == set(Base.metadata.tables) | {"alembic_version"}
    after = _snapshot(migration_app, kept)
    if legacy_head == "0006":
        # the column the old 0007 added, now added by the kiosk's branch: empty, as 0007 left it
        assert [row.pop("rejected_log_length") for row in after["kiosks"]] == [None, None]
    for name, rows in after.items():  # columns added since (offices' hours, jobs' heartbeat)
        for row, old in zip(rows, before[name], strict=True):
            for key in set(row) - set(old):
                row.pop(key)
    assert after == before
    command.check(cfg)  # the adopted tables are exactly the models'

    # From now on the plugins' branches own the tables, whoever created them.
    command.downgrade(cfg, "contact_center@base")
    assert not CONTACT_TABLES & _tables(migration_app)
    kiosks = _snapshot(migration_app, ["kiosks"])["kiosks"]
    assert [(k["id"], k["name"]) for k in kiosks] == [(1, "Холл"), (2, "Второй этаж")]
    command.upgrade(cfg, "heads")
    assert _snapshot(migration_app, sorted(CONTACT_TABLES)) == {name: [] for name in CONTACT_TABLES}
    command.check(cfg)

    command.downgrade(cfg, "base")
    assert _tables(migration_app) - {"alembic_version"} == set()


def test_a_plugin_branch_downgrades_alone(migration_app):
    cfg = alembic_config(migration_app)
    command.upgrade(cfg, "heads")
    _insert_rows(migration_app)
    core_and_contact = _snapshot(migration_app, ["regions", "offices", "users", *CONTACT_TABLES])

    command.downgrade(cfg, "kiosk@base")
    assert not KIOSK_TABLES & _tables(migration_app)
    assert _versions(migration_app) == _heads(cfg) - {"kiosk_0001"}
    assert _snapshot(migration_app, core_and_contact.keys()) == core_and_contact
    # the models still have the kiosk's tables: the database is behind them
    with pytest.raises(CommandError, match="not up to date"):
        command.check(cfg)
    runner = CommandRunner(migration_app)
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 1
    assert "Error: Target database is not up to date" in result.output

    result = runner.invoke(args=["db", "upgrade", "kiosk@head"])
    assert result.exit_code == 0, result.output
    assert _tables(migration_app) >= KIOSK_TABLES
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0, result.output
    assert {"kiosk_0001", "contact_0002"} <= set(result.output.replace("(head)", "").split())
    assert runner.invoke(args=["db", "check"]).exit_code == 0


def test_a_relative_downgrade_names_its_branch(migration_app):
    runner = CommandRunner(migration_app)
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "-1"])
    assert result.exit_code != 0
    assert "name one, e.g. cci@-1" in result.output
    assert _versions(migration_app) == _heads(alembic_config(migration_app))
    core_head = ScriptDirectory.from_config(alembic_config(migration_app)).get_revision("cci@head")
    result = runner.invoke(args=["db", "downgrade", "cci@-1"])
    assert result.exit_code == 0, result.output
    versions = _versions(migration_app)
    assert core_head.revision not in versions and core_head.down_revision in versions


def test_a_blocked_plugin_keeps_its_branch_and_passes_the_check(migration_url):
    """Blocking switches a plugin off in the app; its revisions stay known (the database's
    record of its branch must resolve) and its tables current, so `db check` passes."""
    application = create_app({**TEST_CONFIG, "DATABASE_URL": migration_url,
                              "PLUGINS_BLOCKED": ["kiosk"]})
    try:
        assert "kiosk" not in application.extensions["cci.registry"].channels
        runner = CommandRunner(application)
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert _tables(application) >= KIOSK_TABLES
        assert "kiosk_0001" in _versions(application)
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
    finally:
        _engine(application).dispose()


def _plugin(folder):
    class Plugin:
        @hookimpl
        def register_migrations(self):
            return folder

    return Plugin()


def _throwaway_branch(tmp_path: Path) -> Path:
    """A plugin's folder of one revision, branch ``zz``, creating the table ``zz_things``."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "zz_0001.py").write_text(
        '"""a throwaway plugin\'s table"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        "revision = 'zz_0001'\ndown_revision = None\nbranch_labels = ('zz',)\n"
        "depends_on = '0001'\n\n\n"
        "def upgrade():\n"
        "    op.create_table('zz_things', sa.Column('id', sa.Integer(), primary_key=True))\n\n\n"
        "def downgrade():\n    op.drop_table('zz_things')\n"
    )
    return versions


def test_the_migrations_of_a_plugin_given_to_the_app_are_run(migration_url, tmp_path):
    application = create_app({**TEST_CONFIG, "DATABASE_URL": migration_url},
                             plugins=(_plugin(_throwaway_branch(tmp_path)),))
    try:
        cfg = alembic_config(application)
        assert "zz_0001" in _heads(cfg)
        command.upgrade(cfg, "heads")
        assert "zz_things" in _tables(application)
        command.downgrade(cfg, "zz@base")
        assert "zz_things" not in _tables(application)
        assert "kiosks" in _tables(application)
    finally:
        _engine(application).dispose()


def test_a_branch_whose_plugin_is_gone_is_named(migration_url, tmp_path):
    """Uninstalled before its branch was downgraded: `cci db` says which revision it cannot
    find (docs/plugins.md: reinstall it, downgrade its branch to base, uninstall)."""
    with_plugin = create_app({**TEST_CONFIG, "DATABASE_URL": migration_url},
                             plugins=(_plugin(_throwaway_branch(tmp_path)),))
    without = create_app({**TEST_CONFIG, "DATABASE_URL": migration_url})
    try:
        assert CommandRunner(with_plugin).invoke(args=["db", "upgrade"]).exit_code == 0
        result = CommandRunner(without).invoke(args=["db", "upgrade"])
        assert result.exit_code == 1
        assert "Error: Can't locate revision identified by 'zz_0001'" in result.output
    finally:
        _engine(with_plugin).dispose()
        _engine(without).dispose()


@pytest.mark.parametrize("folder, message", [
    ("nowhere", "registers the migrations folder .*nowhere.*which is not a folder"),
    (42, "returned int from register_migrations, expected the path of a folder"),
])
def test_a_bad_migrations_folder_names_its_plugin(migration_url, tmp_path, folder,
                                                  message):
    folder = tmp_path / folder if isinstance(folder, str) else folder
    application = create_app({**TEST_CONFIG, "DATABASE_URL": migration_url},
                             plugins=(_plugin(folder),))
    try:
        with pytest.raises(PluginError, match=message):
            alembic_config(application)
    finally:
        _engine(application).dispose()
