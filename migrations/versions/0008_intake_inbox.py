"""intake_inbox: delivered answers waiting to be stored

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=128), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('draft', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_intake_inbox_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_intake_inbox_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_inbox')),
    sa.UniqueConstraint('client_key', name=op.f('uq_intake_inbox_client_key'))
    )
    with op.batch_alter_table('intake_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_inbox_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_inbox_region_id'), ['region_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('intake_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_inbox_region_id'))
        batch_op.drop_index(batch_op.f('ix_intake_inbox_campaign_id'))

    op.drop_table('intake_inbox')
