"""answers: region, office and campaign are copies of the response's, without foreign keys
or a region index of their own (write cost of every stored answer)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_REFERENCES = (("region_id", "regions"), ("office_id", "offices"), ("campaign_id", "campaigns"))


def upgrade() -> None:
    # dropping constraints and an index is a catalogue change on PostgreSQL (no table rewrite);
    # SQLite's batch mode copies the table, which is the embedded default's size
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_region_id')
        for column, table in _REFERENCES:
            batch_op.drop_constraint(f'fk_answers_{column}_{table}', type_='foreignkey')


def downgrade() -> None:
    # validates every answer row and builds the index while writes to answers wait: minutes at
    # federal scale, to be run in a maintenance window
    with op.batch_alter_table('answers', schema=None) as batch_op:
        for column, table in _REFERENCES:
            batch_op.create_foreign_key(f'fk_answers_{column}_{table}', table, [column], ['id'],
                                        ondelete='RESTRICT' if column == 'region_id' else None)
        batch_op.create_index('ix_answers_region_id', ['region_id'], unique=False)
