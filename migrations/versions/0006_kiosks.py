"""kiosks (moved): the kiosk channel's tables are created by its own branch

This revision created kiosks until the plugin's tables moved out of the core's history into the
plugin's own revisions (cci_channel_kiosk/migrations/versions/kiosk_0001_tables.py, revision
kiosk_0001). It is kept, and does nothing, so that a database already at or past it still
resolves: that revision adopts the tables such a database has, with their rows, and creates them
in a new one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:00:00.000000
"""

from __future__ import annotations

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass  # the plugin's branch drops its tables (e.g. cci db downgrade kiosk@base)
