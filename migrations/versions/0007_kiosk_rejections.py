"""kiosk_rejections (moved): the kiosk channel's tables are created by its own branch

This revision created kiosk_rejections and kiosks.rejected_log_length until the plugin's tables
moved out of the core's history into the plugin's own revisions
(cci_channel_kiosk/migrations/versions/kiosk_0001_tables.py, revision kiosk_0001). It is kept,
and does nothing, so that a database already at or past it still resolves: that revision adopts
the tables such a database has, with their rows, and creates them in a new one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:30:00.000000
"""

from __future__ import annotations

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass  # the plugin's branch drops its tables (e.g. cci db downgrade kiosk@base)
