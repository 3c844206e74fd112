"""methodology_versions (derived versions and package approvals) and methodology_proposals

The two built-in sets are approved here, so every campaign that uses them goes on as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:30:00.000000
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    versions = op.create_table(
        'methodology_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=True),
        sa.Column('base_key', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('overrides', JSON, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('package_version', sa.String(length=64), nullable=False),
        sa.Column('review_comment', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_methodology_versions_created_by_id_users')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                                name=op.f('fk_methodology_versions_reviewed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_methodology_versions')),
        sa.UniqueConstraint('key', name=op.f('uq_methodology_versions_key')),
    )
    op.create_table(
        'methodology_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('proposed_by', sa.String(length=300), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('indicator', sa.String(length=100), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('version_key', sa.String(length=64), nullable=False),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=100), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_methodology_proposals_created_by_id_users')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'],
                                name=op.f('fk_methodology_proposals_region_id_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_methodology_proposals')),
        sa.UniqueConstraint('source', name=op.f('uq_methodology_proposals_source')),
    )
    op.create_index(op.f('ix_methodology_proposals_version_key'), 'methodology_proposals',
                    ['version_key'], unique=False)
    now = dt.datetime.now(dt.UTC)
    # the built-in sets were in use before approval existed: approved as installed
    op.bulk_insert(versions, [
        {'kind': 'package', 'key': key, 'base_key': '', 'title': title, 'overrides': {},
         'status': 'published', 'package_version': '', 'review_comment': '',
         'created_at': now, 'updated_at': now, 'published_at': now}
        for key, title in (('cci-2022', 'ИКЦ-2022'), ('cci-2023', 'ИКЦ-2023'))
    ])


def downgrade() -> None:
    op.drop_index(op.f('ix_methodology_proposals_version_key'),
                  table_name='methodology_proposals')
    op.drop_table('methodology_proposals')
    op.drop_table('methodology_versions')
