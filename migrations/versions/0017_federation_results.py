"""run_results: the federation's own figures are rows without a region, at level "federation"

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


# Only a column's nullability and a string's length change. SQLite cannot alter it in place, so there alembic's
# batch copies run_results: no table refers to run_results, so the copy drops nothing that
# another row needs (the offices-style failure of a batch cannot happen here).
def upgrade() -> None:
    with op.batch_alter_table('run_results') as batch_op:
        batch_op.alter_column('region_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('level', existing_type=sa.String(length=8),
                              type_=sa.String(length=10), existing_nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM run_results WHERE region_id IS NULL")
    with op.batch_alter_table('run_results') as batch_op:
        batch_op.alter_column('region_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('level', existing_type=sa.String(length=10),
                              type_=sa.String(length=8), existing_nullable=False)
