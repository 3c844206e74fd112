"""cx_comment_themes: the themes of touchpoint answers' comments and of complaints

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cx_comment_themes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=True),
        sa.Column('touchpoint', sa.String(length=32), nullable=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('theme', sa.String(length=32), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("source IN ('answer', 'complaint')",
                           name=op.f('ck_cx_comment_themes_source')),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'],
                                name=op.f('fk_cx_comment_themes_office_id_offices')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'],
                                name=op.f('fk_cx_comment_themes_region_id_regions'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cx_comment_themes')),
        sa.UniqueConstraint('source', 'source_id', 'theme',
                            name=op.f('uq_cx_comment_themes_source_source_id_theme')),
    )
    op.create_index(op.f('ix_cx_comment_themes_region_id'), 'cx_comment_themes',
                    ['region_id'], unique=False)
    op.create_index('ix_cx_comment_themes_region_day', 'cx_comment_themes',
                    ['region_id', 'touchpoint', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cx_comment_themes_region_day', table_name='cx_comment_themes')
    op.drop_index(op.f('ix_cx_comment_themes_region_id'), table_name='cx_comment_themes')
    op.drop_table('cx_comment_themes')
