"""cases (a comment or low rating the office answers), their themes, and the respondents'
contacts kept apart until the case closes

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 13:07:51.497668
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint', sa.String(length=32), nullable=True),
    sa.Column('question', sa.String(length=32), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('scale_low', sa.SmallInteger(), nullable=True),
    sa.Column('scale_high', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("source_kind IN ('response', 'touchpoint')", name=op.f('ck_cases_source_kind')),
    sa.CheckConstraint("status IN ('new', 'in_progress', 'answered', 'closed')", name=op.f('ck_cases_status')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_cases_answered_by_id_users')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_cases_assignee_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_cases_closed_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_cases_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cases_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('source_kind', 'source_id', name=op.f('uq_cases_source_kind_source_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_cases_region_status', ['region_id', 'status', 'office_id'], unique=False)

    op.create_table('case_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=False),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_contacts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_case_contacts_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_contacts')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_contacts_case_id'))
    )
    with op.batch_alter_table('case_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_contacts_region_id'), ['region_id'], unique=False)

    op.create_table('case_themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_themes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_themes')),
    sa.UniqueConstraint('case_id', 'theme', name=op.f('uq_case_themes_case_id_theme'))
    )


def downgrade() -> None:
    op.drop_table('case_themes')
    with op.batch_alter_table('case_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_contacts_region_id'))

    op.drop_table('case_contacts')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_region_status')
        batch_op.drop_index(batch_op.f('ix_cases_region_id'))
        batch_op.drop_index(batch_op.f('ix_cases_office_id'))

    op.drop_table('cases')
