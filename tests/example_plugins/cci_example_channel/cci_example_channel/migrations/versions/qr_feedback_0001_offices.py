"""qr_feedback: qr_feedback_offices, the answers each office received through its QR code

The first revision of the example channel's own branch ``qr_feedback``; it needs the core's
offices and regions (revision 0001).

Revision ID: qr_feedback_0001
Revises:
Depends on: 0001
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'qr_feedback_0001'
down_revision = None
branch_labels = ('qr_feedback',)
depends_on = '0001'


def upgrade() -> None:
    op.create_table('qr_feedback_offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('last_answer_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_qr_feedback_offices_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_qr_feedback_offices_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qr_feedback_offices')),
    sa.UniqueConstraint('office_id', name=op.f('uq_qr_feedback_offices_office_id'))
    )
    with op.batch_alter_table('qr_feedback_offices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_feedback_offices_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qr_feedback_offices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qr_feedback_offices_region_id'))
    op.drop_table('qr_feedback_offices')
