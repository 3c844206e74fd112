"""Alembic environment: the platform's metadata, on PostgreSQL or SQLite.

The revisions are the core's (``versions/``, branch ``cci``) and every installed plugin's own
(hook ``register_migrations``): :func:`cci.cli.alembic_config` lists their folders.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import cci.foundation.models  # noqa: F401 - registers every table on the metadata
from cci.foundation.db import Base
from cci.hooks.manager import build_plugin_manager

# Every installed plugin's tables join the metadata when it is loaded, blocked or not: its
# branch is migrated all the same (cci.cli.alembic_config), so `db check` compares them too.
build_plugin_manager()

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
