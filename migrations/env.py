"""Alembic environment: the platform's metadata, on PostgreSQL or SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import cci.foundation.models  # noqa: F401 - registers every table on the metadata
from cci.foundation.db import Base
from cci.hooks.manager import build_plugin_manager

build_plugin_manager()  # plugin-owned tables (channels) join the metadata when loaded

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
