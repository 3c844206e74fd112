"""checklist_photos: photo evidence of a checklist's parameters, kept in the database

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'checklist_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('parameter', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('thumbnail', sa.LargeBinary(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id'],
                                name=op.f('fk_checklist_photos_checklist_id_checklists'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'],
                                name=op.f('fk_checklist_photos_region_id_regions'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_checklist_photos_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_photos')),
    )
    with op.batch_alter_table('checklist_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_photos_checklist_id'), ['checklist_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_checklist_photos_region_id'), ['region_id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('checklist_photos')
