"""cx_values.run_id without a foreign key: a run's cells are written once, by the run's own
job in the transaction that holds the run; a check per cell was a third of what storing a
federal run's hundred thousand cells cost

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 16:55:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a catalogue change on PostgreSQL; SQLite's batch mode copies the table (the embedded
    # default's size). The index on (run_id, metric, level) stays: every read goes by run.
    with op.batch_alter_table('cx_values', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cx_values_run_id_cx_runs', type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('cx_values', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_cx_values_run_id_cx_runs', 'cx_runs', ['run_id'], ['id'],
                                    ondelete='CASCADE')
