"""notifications (per user, of a region), notification_digests (one e-mail per user and day)
and users.notification_email (the user's choice: daily digest or none)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('notification_email', sa.String(length=8),
                                     server_default='daily', nullable=False))
    op.create_table('notification_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_notification_digests_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_digests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_digests')),
    sa.UniqueConstraint('user_id', 'day', name=op.f('uq_notification_digests_user_id_day'))
    )
    with op.batch_alter_table('notification_digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_digests_region_id'), ['region_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['notification_digests.id'], name=op.f('fk_notifications_digest_id_notification_digests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_notifications_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_notifications_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'kind', 'subject', name=op.f('uq_notifications_user_id_kind_subject'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')
        batch_op.drop_index(batch_op.f('ix_notifications_region_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('notification_digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_digests_region_id'))

    op.drop_table('notification_digests')
    # a plain DROP COLUMN (SQLite ≥ 3.35 has it): batch mode would copy the users table, which
    # other tables' rows refer to
    op.drop_column('users', 'notification_email')
