"""jobs: a heartbeat, the queue, timeout and dedupe lock (a lost or dead job is found from its row)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not a batch: on SQLite a batch copies the table and drops the old
# one, which the imports referring to their jobs forbid.
def columns() -> list[sa.Column]:
    return [sa.Column('queue', sa.String(length=16), nullable=False, server_default='default'),
            sa.Column('timeout', sa.Integer(), nullable=False, server_default='3600'),
            sa.Column('lock', sa.String(length=300), nullable=True),
            sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True)]


def upgrade() -> None:
    for column in columns():
        op.add_column('jobs', column)


def downgrade() -> None:
    for column in reversed(columns()):
        op.execute(f'ALTER TABLE jobs DROP COLUMN {column.name}')
