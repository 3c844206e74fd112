"""users.password_must_change: a password an administrator gave opens only the page that
changes it

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('password_must_change', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite ≥ 3.35 has it): batch mode would copy the users table, which
    # every other table's rows refer to
    op.drop_column('users', 'password_must_change')
