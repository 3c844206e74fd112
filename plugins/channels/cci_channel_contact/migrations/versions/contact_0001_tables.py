"""contact centre: its tables, contact_calls (calls taken in the operator console) and
telephony_stats (telephony figures per day and line), on the contact centre's own branch

The first revision of the branch ``contact_center``. These tables used to be created by the
core's revision 0005, which is kept, empty, so that existing databases still resolve.

Upgrade path: a database migrated past 0005 before the tables moved here already has them,
with their rows; this revision then adopts them as they are and creates only a table that is
missing (both, for a new database). Nothing is created twice and no row is touched. From here
on the tables belong to this branch: ``cci db downgrade contact_center@base`` drops them,
whoever created them.

Revision ID: contact_0001
Revises:
Depends on: 0001 (regions, offices, users, campaigns, responses)
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'contact_0001'
down_revision = None
branch_labels = ('contact_center',)
depends_on = '0001'


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if 'contact_calls' not in tables:
        op.create_table('contact_calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('line', sa.String(length=40), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_first_contact', sa.Boolean(), nullable=True),
        sa.Column('transfers', sa.Integer(), nullable=True),
        sa.Column('escalated', sa.Boolean(), nullable=True),
        sa.Column('waiting_seconds', sa.Integer(), nullable=True),
        sa.Column('handling_seconds', sa.Integer(), nullable=True),
        sa.Column('topic', sa.String(length=32), nullable=True),
        sa.Column('response_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('handling_seconds >= 0', name=op.f('ck_contact_calls_handling_seconds')),
        sa.CheckConstraint('transfers >= 0', name=op.f('ck_contact_calls_transfers')),
        sa.CheckConstraint('waiting_seconds >= 0', name=op.f('ck_contact_calls_waiting_seconds')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_contact_calls_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_contact_calls_office_id_offices')),
        sa.ForeignKeyConstraint(['operator_id'], ['users.id'], name=op.f('fk_contact_calls_operator_id_users')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_contact_calls_region_id_regions'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_contact_calls_response_id_responses'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_calls'))
        )
        with op.batch_alter_table('contact_calls', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_contact_calls_office_id'), ['office_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_contact_calls_operator_id'), ['operator_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_contact_calls_region_id'), ['region_id'], unique=False)
            batch_op.create_index('ix_contact_calls_region_started', ['region_id', 'started_at'], unique=False)

    if 'telephony_stats' not in tables:
        op.create_table('telephony_stats',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('line', sa.String(length=40), nullable=False),
        sa.Column('offered', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('abandoned', sa.Integer(), nullable=False),
        sa.Column('answered_within_20s', sa.Integer(), nullable=False),
        sa.Column('wait_seconds_total', sa.Float(), nullable=False),
        sa.Column('handle_seconds_total', sa.Float(), nullable=False),
        sa.Column('imported_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('answered + abandoned <= offered', name=op.f('ck_telephony_stats_answered_abandoned')),
        sa.CheckConstraint('answered_within_20s <= answered', name=op.f('ck_telephony_stats_within_20s')),
        sa.CheckConstraint('offered >= 0 AND answered >= 0 AND abandoned >= 0', name=op.f('ck_telephony_stats_counts')),
        sa.CheckConstraint('wait_seconds_total >= 0 AND handle_seconds_total >= 0', name=op.f('ck_telephony_stats_times')),
        sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_telephony_stats_imported_by_id_users')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_telephony_stats_region_id_regions'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_telephony_stats')),
        sa.UniqueConstraint('region_id', 'day', 'line', name=op.f('uq_telephony_stats_region_id_day_line'))
        )
        with op.batch_alter_table('telephony_stats', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_telephony_stats_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('telephony_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telephony_stats_region_id'))

    op.drop_table('telephony_stats')
    with op.batch_alter_table('contact_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_calls_region_started')
        batch_op.drop_index(batch_op.f('ix_contact_calls_region_id'))
        batch_op.drop_index(batch_op.f('ix_contact_calls_operator_id'))
        batch_op.drop_index(batch_op.f('ix_contact_calls_office_id'))

    op.drop_table('contact_calls')
