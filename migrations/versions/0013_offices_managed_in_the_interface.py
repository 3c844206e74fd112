"""offices: opening hours, a time zone of their own, and whether the interface changed them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not a batch: on SQLite a batch copies the table and drops the old
# one, which the rows referring to offices (users, answers, kiosks) forbid.
def columns() -> list[sa.Column]:
    return [sa.Column('opens', sa.String(length=5), nullable=True),
            sa.Column('closes', sa.String(length=5), nullable=True),
            sa.Column('timezone', sa.String(length=64), nullable=True),
            sa.Column('edited_in_interface_at', sa.DateTime(timezone=True), nullable=True)]


def upgrade() -> None:
    for column in columns():
        op.add_column('offices', column)


def downgrade() -> None:
    for column in reversed(columns()):
        op.execute(f'ALTER TABLE offices DROP COLUMN {column.name}')
