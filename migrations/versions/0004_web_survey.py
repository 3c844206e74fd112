"""web survey: server-side questionnaire drafts and one-time visit invitations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=200), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_survey_invitations_created_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_survey_invitations_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_survey_invitations_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_survey_invitations_response_id_responses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('code', name=op.f('uq_survey_invitations_code'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitations_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_region_id'), ['region_id'], unique=False)

    op.create_table('survey_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('respondent_type', sa.String(length=16), nullable=True),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('profile', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('timings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_response_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("respondent_type IS NULL OR respondent_type IN ('job_seeker', 'employer')", name=op.f('ck_survey_drafts_respondent_type')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_survey_drafts_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_drafts_invitation_id_survey_invitations')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_survey_drafts_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_survey_drafts_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['submitted_response_id'], ['responses.id'], name=op.f('fk_survey_drafts_submitted_response_id_responses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_drafts')),
    sa.UniqueConstraint('token', name=op.f('uq_survey_drafts_token'))
    )
    with op.batch_alter_table('survey_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_drafts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_drafts_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_drafts_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_drafts_region_id'), ['region_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('survey_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_drafts_region_id'))
        batch_op.drop_index(batch_op.f('ix_survey_drafts_office_id'))
        batch_op.drop_index(batch_op.f('ix_survey_drafts_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_survey_drafts_campaign_id'))

    op.drop_table('survey_drafts')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitations_region_id'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_office_id'))

    op.drop_table('survey_invitations')
