"""contact centre: telephony_imports, the uploaded telephony files their background job reads

Revision ID: contact_0002
Revises: contact_0001
Create Date: 2026-12-07 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'contact_0002'
down_revision = 'contact_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('telephony_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_telephony_imports_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_telephony_imports_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_telephony_imports_job_id_jobs')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_telephony_imports_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telephony_imports'))
    )
    with op.batch_alter_table('telephony_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telephony_imports_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('telephony_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telephony_imports_region_id'))

    op.drop_table('telephony_imports')
