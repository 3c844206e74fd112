"""journey_maps, journey_map_versions, improvement_actions: customer journey maps (a federal
template, a region's or an office's map) in versions, and the improvement actions of their barriers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:02:33.941115
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('journey_maps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('service', sa.Text(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_journey_maps_created_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_journey_maps_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_journey_maps_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['template_id'], ['journey_maps.id'], name=op.f('fk_journey_maps_template_id_journey_maps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_maps')),
    sa.UniqueConstraint('key', name=op.f('uq_journey_maps_key'))
    )
    op.create_index(op.f('ix_journey_maps_office_id'), 'journey_maps', ['office_id'], unique=False)
    op.create_index(op.f('ix_journey_maps_region_id'), 'journey_maps', ['region_id'], unique=False)
    op.create_index(op.f('ix_journey_maps_template_id'), 'journey_maps', ['template_id'], unique=False)
    op.create_table('journey_map_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('map_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'published')", name=op.f('ck_journey_map_versions_status')),
    sa.ForeignKeyConstraint(['based_on_id'], ['journey_map_versions.id'], name=op.f('fk_journey_map_versions_based_on_id_journey_map_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_journey_map_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['map_id'], ['journey_maps.id'], name=op.f('fk_journey_map_versions_map_id_journey_maps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_journey_map_versions_published_by_id_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_journey_map_versions_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_map_versions')),
    sa.UniqueConstraint('map_id', 'number', name=op.f('uq_journey_map_versions_map_id_number'))
    )
    op.create_index(op.f('ix_journey_map_versions_region_id'), 'journey_map_versions', ['region_id'], unique=False)
    op.create_table('improvement_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('map_version_id', sa.Integer(), nullable=False),
    sa.Column('stage_key', sa.String(length=64), nullable=False),
    sa.Column('touchpoint_code', sa.String(length=64), nullable=False),
    sa.Column('barrier', sa.Text(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('department', sa.String(length=300), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('metric_code', sa.String(length=32), nullable=True),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'in_progress', 'done', 'cancelled')", name=op.f('ck_improvement_actions_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_improvement_actions_created_by_id_users')),
    sa.ForeignKeyConstraint(['map_version_id'], ['journey_map_versions.id'], name=op.f('fk_improvement_actions_map_version_id_journey_map_versions')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_improvement_actions_owner_id_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_improvement_actions_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_actions'))
    )
    op.create_index(op.f('ix_improvement_actions_map_version_id'), 'improvement_actions', ['map_version_id'], unique=False)
    op.create_index('ix_improvement_actions_open_due', 'improvement_actions', ['status', 'due_on'], unique=False)
    op.create_index(op.f('ix_improvement_actions_owner_id'), 'improvement_actions', ['owner_id'], unique=False)
    op.create_index(op.f('ix_improvement_actions_region_id'), 'improvement_actions', ['region_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_improvement_actions_region_id'), table_name='improvement_actions')
    op.drop_index(op.f('ix_improvement_actions_owner_id'), table_name='improvement_actions')
    op.drop_index('ix_improvement_actions_open_due', table_name='improvement_actions')
    op.drop_index(op.f('ix_improvement_actions_map_version_id'), table_name='improvement_actions')
    op.drop_table('improvement_actions')
    op.drop_index(op.f('ix_journey_map_versions_region_id'), table_name='journey_map_versions')
    op.drop_table('journey_map_versions')
    op.drop_index(op.f('ix_journey_maps_template_id'), table_name='journey_maps')
    op.drop_index(op.f('ix_journey_maps_region_id'), table_name='journey_maps')
    op.drop_index(op.f('ix_journey_maps_office_id'), table_name='journey_maps')
    op.drop_table('journey_maps')
