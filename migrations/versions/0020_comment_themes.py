"""comment_themes: the themes found in respondents' comments, one row per comment and theme

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-07 10:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'comment_themes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=32), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'],
                                name=op.f('fk_comment_themes_response_id_responses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_themes')),
        sa.UniqueConstraint('response_id', 'theme',
                            name=op.f('uq_comment_themes_response_id_theme')),
    )
    op.create_index('ix_comment_themes_region_theme', 'comment_themes', ['region_id', 'theme'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_comment_themes_region_theme', table_name='comment_themes')
    op.drop_table('comment_themes')
