"""kiosk channel: its tables, kiosks (registered office devices) and kiosk_rejections (the
surveys a kiosk delivered that the server refused), on the kiosk's own branch

The first revision of the branch ``kiosk``. These tables used to be created by the core's
revisions 0006 and 0007, which are kept, empty, so that existing databases still resolve.

Upgrade path: a database whose tables the old core revisions created (any database migrated
past 0006 before the tables moved here) already has them, with their rows; this revision then
adopts them as they are and creates only what is missing: ``kiosk_rejections`` and the column
``kiosks.rejected_log_length`` for a database that stopped at 0006, everything for a new one.
Nothing is created twice and no row is touched. From here on the tables belong to this branch:
``cci db downgrade kiosk@base`` drops them, whoever created them.

Revision ID: kiosk_0001
Revises:
Depends on: 0001 (regions, offices, users)
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'kiosk_0001'
down_revision = None
branch_labels = ('kiosk',)
depends_on = '0001'


def _existing() -> tuple[set[str], set[str]]:
    """The tables there are, and the columns of ``kiosks`` if it is one of them."""
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    columns = {c['name'] for c in inspector.get_columns('kiosks')} if 'kiosks' in tables else set()
    return tables, columns


def upgrade() -> None:
    tables, kiosk_columns = _existing()
    if 'kiosks' not in tables:
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
        sa.Column('rejected_log_length', sa.Integer(), nullable=True),
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
    elif 'rejected_log_length' not in kiosk_columns:
        # created by the old core revision 0006, which 0007 would have completed
        with op.batch_alter_table('kiosks', schema=None) as batch_op:
            batch_op.add_column(sa.Column('rejected_log_length', sa.Integer(), nullable=True))

    if 'kiosk_rejections' not in tables:
        op.create_table('kiosk_rejections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kiosk_id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('client_key', sa.String(length=100), nullable=True),
        sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('field', sa.String(length=100), nullable=True),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_rejections_kiosk_id_kiosks')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_kiosk_rejections_region_id_regions'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_rejections'))
        )
        with op.batch_alter_table('kiosk_rejections', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_kiosk_rejections_kiosk_id'), ['kiosk_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_kiosk_rejections_received_at'), ['received_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_kiosk_rejections_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kiosk_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_rejections_region_id'))
        batch_op.drop_index(batch_op.f('ix_kiosk_rejections_received_at'))
        batch_op.drop_index(batch_op.f('ix_kiosk_rejections_kiosk_id'))
    op.drop_table('kiosk_rejections')

    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosks_region_id'))
        batch_op.drop_index(batch_op.f('ix_kiosks_pairing_code_hash'))
        batch_op.drop_index(batch_op.f('ix_kiosks_office_id'))
    op.drop_table('kiosks')
