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


def upgrade() -> None:
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opens', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('closes', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('edited_in_interface_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('edited_in_interface_at')
        batch_op.drop_column('timezone')
        batch_op.drop_column('closes')
        batch_op.drop_column('opens')
