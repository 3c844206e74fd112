"""Roles and what each may do. Regional roles are bound to one region (and maybe one office)."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"
    FEDERAL_ANALYST = "federal_analyst"
    METHODOLOGY_OWNER = "methodology_owner"
    REGIONAL_ADMIN = "regional_admin"
    AUDITOR = "auditor"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def federal(self) -> bool:
        return self in FEDERAL_ROLES


ROLE_LABELS = {
    Role.ADMIN: _l("Platform administrator"),
    Role.FEDERAL_ANALYST: _l("Federal analyst"),
    Role.METHODOLOGY_OWNER: _l("Methodology owner"),
    Role.REGIONAL_ADMIN: _l("Regional administrator"),
    Role.AUDITOR: _l("Auditor"),
    Role.OPERATOR: _l("Contact-centre operator"),
}

#: Roles that read every region; they are never bound to a region.
FEDERAL_ROLES = frozenset({Role.ADMIN, Role.FEDERAL_ANALYST, Role.METHODOLOGY_OWNER})

#: Roles that may change users, kiosks and other settings (of their region, or all).
ADMIN_ROLES = frozenset({Role.ADMIN, Role.REGIONAL_ADMIN})
