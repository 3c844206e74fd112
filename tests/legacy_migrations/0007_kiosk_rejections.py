"""kiosk_rejections: surveys a kiosk delivered that the server refused; kiosks.rejected_log_length

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kiosk_rejections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_key', sa.String(length=100), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_rejections_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_kiosk_rejections_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_rejections'))
    )
    with op.batch_alter_table('kiosk_rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_rejections_kiosk_id'), ['kiosk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kiosk_rejections_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kiosk_rejections_region_id'), ['region_id'], unique=False)

    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_log_length', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_column('rejected_log_length')

    with op.batch_alter_table('kiosk_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_rejections_region_id'))
        batch_op.drop_index(batch_op.f('ix_kiosk_rejections_received_at'))
        batch_op.drop_index(batch_op.f('ix_kiosk_rejections_kiosk_id'))
    op.drop_table('kiosk_rejections')
