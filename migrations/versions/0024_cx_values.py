"""cx_runs, cx_values (versioned CX metric values) and cx_targets (a region's targets)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 10:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cx_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('definitions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_cx_runs_status')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_cx_runs_period')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cx_runs_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_cx_runs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_runs'))
    )
    with op.batch_alter_table('cx_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cx_runs_region_id'), ['region_id'], unique=False)

    op.create_table('cx_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('touchpoint', sa.String(length=32), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cx_targets_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_cx_targets_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_targets')),
    sa.UniqueConstraint('region_id', 'metric', 'touchpoint', name=op.f('uq_cx_targets_region_id_metric_touchpoint'))
    )
    with op.batch_alter_table('cx_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cx_targets_region_id'), ['region_id'], unique=False)

    op.create_table('cx_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('touchpoint', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('definition_version', sa.String(length=16), nullable=False),
    sa.Column('month', sa.Date(), nullable=True),
    sa.Column('n', sa.Float(), nullable=False),
    sa.Column('numerator', sa.Float(), nullable=False),
    sa.Column('squares', sa.Float(), nullable=False),
    sa.Column('negatives', sa.Float(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('insufficient', sa.Boolean(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_cx_values_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cx_values_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['cx_runs.id'], name=op.f('fk_cx_values_run_id_cx_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_values'))
    )
    with op.batch_alter_table('cx_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cx_values_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_cx_values_run_metric', ['run_id', 'metric', 'level'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cx_values', schema=None) as batch_op:
        batch_op.drop_index('ix_cx_values_run_metric')
        batch_op.drop_index(batch_op.f('ix_cx_values_region_id'))

    op.drop_table('cx_values')
    with op.batch_alter_table('cx_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cx_targets_region_id'))

    op.drop_table('cx_targets')
    with op.batch_alter_table('cx_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cx_runs_region_id'))

    op.drop_table('cx_runs')
