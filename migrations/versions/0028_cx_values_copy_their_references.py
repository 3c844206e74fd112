"""cx_values: a cell's region and office are copies of its source rows', without foreign keys
or a region index of their own (write cost of every cell a CX run stores)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 13:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_REFERENCES = (("region_id", "regions"), ("office_id", "offices"))


def upgrade() -> None:
    # a catalogue change on PostgreSQL (no table rewrite); SQLite's batch mode copies the
    # table, which is the embedded default's size
    with op.batch_alter_table('cx_values', schema=None) as batch_op:
        batch_op.drop_index('ix_cx_values_region_id')
        for column, table in _REFERENCES:
            batch_op.drop_constraint(f'fk_cx_values_{column}_{table}', type_='foreignkey')


def downgrade() -> None:
    # validates every cell and builds the index while runs wait: to be run in a maintenance
    # window at federal scale
    with op.batch_alter_table('cx_values', schema=None) as batch_op:
        for column, table in _REFERENCES:
            batch_op.create_foreign_key(f'fk_cx_values_{column}_{table}', table, [column], ['id'],
                                        ondelete='RESTRICT' if column == 'region_id' else None)
        batch_op.create_index('ix_cx_values_region_id', ['region_id'], unique=False)
