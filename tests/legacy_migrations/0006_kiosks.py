"""kiosks: registered office devices of the kiosk channel (hashed device token and pairing code)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kiosks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('pairing_code_hash', sa.String(length=64), nullable=True),
    sa.Column('pairing_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('app_version', sa.String(length=40), nullable=True),
    sa.Column('queue_length', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_kiosks_created_by_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_kiosks_office_id_offices')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_kiosks_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosks')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosks_token_hash'))
    )
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosks_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kiosks_pairing_code_hash'), ['pairing_code_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_kiosks_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosks_region_id'))
        batch_op.drop_index(batch_op.f('ix_kiosks_pairing_code_hash'))
        batch_op.drop_index(batch_op.f('ix_kiosks_office_id'))
    op.drop_table('kiosks')
