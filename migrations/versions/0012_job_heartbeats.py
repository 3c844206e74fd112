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


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue', sa.String(length=16), nullable=False,
                                      server_default='default'))
        batch_op.add_column(sa.Column('timeout', sa.Integer(), nullable=False,
                                      server_default='3600'))
        batch_op.add_column(sa.Column('lock', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('lock')
        batch_op.drop_column('timeout')
        batch_op.drop_column('queue')
