"""drop intake_inbox: kiosk answers are stored as they are delivered

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00.000000

Answers waiting in the inbox were acknowledged to their kiosks, which dropped them from their
queues: dropping the table with rows in it would lose them. This migration stores nothing
itself (storing needs the application: its methodology sets and quality rules); it refuses,
and the operator lets the previous release's workers store them first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

REFUSAL = (
    "intake_inbox still holds {count} kiosk answer(s) acknowledged and not stored yet: "
    "dropping it would lose them. Run the previous release with its workers (`cci worker`) "
    "until `cci inbox status` shows nothing waiting (answers that could not be stored: mend "
    "them and `cci inbox retry`, or delete those rows deliberately), then upgrade again."
)


def upgrade() -> None:
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM intake_inbox")).scalar_one()
    if count:
        raise RuntimeError(REFUSAL.format(count=count))
    with op.batch_alter_table('intake_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_inbox_region_id'))
        batch_op.drop_index(batch_op.f('ix_intake_inbox_campaign_id'))
    op.drop_table('intake_inbox')


def downgrade() -> None:
    op.create_table('intake_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=128), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('draft', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_intake_inbox_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_intake_inbox_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_inbox')),
    sa.UniqueConstraint('client_key', name=op.f('uq_intake_inbox_client_key'))
    )
    with op.batch_alter_table('intake_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_inbox_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_inbox_region_id'), ['region_id'], unique=False)
