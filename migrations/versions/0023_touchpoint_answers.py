"""touchpoint_answers (short touchpoint surveys of the CX metrics), cx_counts (imported day counts), cx_imports (their uploaded files) and cx_complaints (complaints registered by staff)

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07 10:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cx_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('touchpoint', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_cx_counts_count')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_cx_counts_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cx_counts_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_counts'))
    )
    with op.batch_alter_table('cx_counts', schema=None) as batch_op:
        batch_op.create_index('ix_cx_counts_region_day', ['region_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_cx_counts_region_id'), ['region_id'], unique=False)

    op.create_table('touchpoint_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=128), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint', sa.String(length=32), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('quality_flags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_touchpoint_answers_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_touchpoint_answers_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_touchpoint_answers')),
    sa.UniqueConstraint('client_key', name=op.f('uq_touchpoint_answers_client_key'))
    )
    with op.batch_alter_table('touchpoint_answers', schema=None) as batch_op:
        batch_op.create_index('ix_touchpoint_answers_office_question', ['office_id', 'question', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_touchpoint_answers_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_touchpoint_answers_region_submitted', ['region_id', 'submitted_at'], unique=False)

    op.create_table('cx_imports',
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
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_cx_imports_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cx_imports_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_cx_imports_job_id_jobs')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cx_imports_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_imports'))
    )
    with op.batch_alter_table('cx_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cx_imports_region_id'), ['region_id'], unique=False)

    op.create_table('cx_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('touchpoint', sa.String(length=32), nullable=True),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IN ('book', 'email', 'site', 'head_phone')", name=op.f('ck_cx_complaints_channel')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cx_complaints_created_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_cx_complaints_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cx_complaints_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_complaints'))
    )
    with op.batch_alter_table('cx_complaints', schema=None) as batch_op:
        batch_op.create_index('ix_cx_complaints_region_received', ['region_id', 'received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cx_complaints_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cx_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cx_complaints_region_id'))
        batch_op.drop_index('ix_cx_complaints_region_received')

    op.drop_table('cx_complaints')
    with op.batch_alter_table('cx_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cx_imports_region_id'))

    op.drop_table('cx_imports')
    with op.batch_alter_table('touchpoint_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_touchpoint_answers_region_submitted')
        batch_op.drop_index(batch_op.f('ix_touchpoint_answers_region_id'))
        batch_op.drop_index('ix_touchpoint_answers_office_question')

    op.drop_table('touchpoint_answers')
    with op.batch_alter_table('cx_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cx_counts_region_id'))
        batch_op.drop_index('ix_cx_counts_region_day')

    op.drop_table('cx_counts')
