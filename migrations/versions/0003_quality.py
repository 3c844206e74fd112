"""quality: flags of the data-quality rules, and the review state of flagged responses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00.000000

On SQLite the new columns are added with ALTER TABLE (batch mode without a rebuild): a
rebuild of ``responses`` would drop the table, and with foreign keys on that deletes every
answer through ON DELETE CASCADE. For the same reason the downgrade drops the columns with
ALTER TABLE DROP COLUMN (SQLite 3.35+), never by rebuilding the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('response_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_response_flags_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_response_flags_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_response_flags_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_response_flags_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_flags')),
    sa.UniqueConstraint('response_id', 'rule', name=op.f('uq_response_flags_response_id_rule'))
    )
    with op.batch_alter_table('response_flags', schema=None) as batch_op:
        batch_op.create_index('ix_response_flags_campaign_rule', ['campaign_id', 'region_id', 'rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_flags_region_id'), ['region_id'], unique=False)

    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('responses', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('review_status', sa.String(length=16), nullable=True))
        # SQLite cannot add a constraint to a table, but can add a column with REFERENCES.
        reviewer = (sa.Column('reviewed_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True)
                    if sqlite else sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(reviewer, inline_references=True if sqlite else None)
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_reason', sa.Text(), nullable=True))
        batch_op.create_index('ix_responses_office_submitted', ['office_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_responses_region_review', ['region_id', 'review_status'], unique=False)
        batch_op.create_index('ix_responses_region_submitted', ['region_id', 'submitted_at'], unique=False)
    if not sqlite:
        op.create_foreign_key(op.f('fk_responses_reviewed_by_id_users'), 'responses', 'users',
                              ['reviewed_by_id'], ['id'])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_responses_region_submitted', table_name='responses')
    op.drop_index('ix_responses_region_review', table_name='responses')
    op.drop_index('ix_responses_office_submitted', table_name='responses')
    if not sqlite:
        op.drop_constraint(op.f('fk_responses_reviewed_by_id_users'), 'responses', type_='foreignkey')
    # Plain ALTER TABLE ... DROP COLUMN, also on SQLite (see the module's docstring).
    for column in ('review_reason', 'reviewed_at', 'reviewed_by_id', 'review_status'):
        op.drop_column('responses', column)

    with op.batch_alter_table('response_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_flags_region_id'))
        batch_op.drop_index('ix_response_flags_campaign_rule')

    op.drop_table('response_flags')
