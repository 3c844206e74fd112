"""contact centre (moved): the contact centre's tables are created by its own branch

This revision created contact_calls and telephony_stats until the plugin's tables moved out of
the core's history into the plugin's own revisions
(cci_channel_contact/migrations/versions/contact_0001_tables.py, revision contact_0001). It is
kept, and does nothing, so that a database already at or past it still resolves: that revision
adopts the tables such a database has, with their rows, and creates them in a new one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:00:00.000000
"""

from __future__ import annotations

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass  # the plugin's branch drops its tables (e.g. cci db downgrade contact_center@base)
