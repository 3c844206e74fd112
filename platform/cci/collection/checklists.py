"""Checklist values: validated against the campaign's methodology set, then upserted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cci.foundation import audit
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Checklist
from cci.foundation.models import User
from cci.foundation.roles import Role
from cci.methodology.contract import Indicator
from cci.methodology.values import NegativeNumber
from cci.methodology.values import parse_amount
from cci.methodology.values import parse_yes_no


class ChecklistError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def normalise(indicator: Indicator, values: dict[str, Any]) -> dict[str, Any]:
    """Every parameter must be given: bool (yes/no words too), a number ≥ 0 as people write
    it (:mod:`cci.methodology.values`) or one of the options. Unknown keys are refused."""
    params = {p.key: p for p in indicator.checklist}
    unknown = sorted(set(values) - set(params))
    if unknown:
        raise ChecklistError(unknown[0], f"неизвестный параметр «{unknown[0]}»")
    clean: dict[str, Any] = {}
    for key, param in params.items():
        raw = values.get(key)
        if raw is None or raw == "":
            raise ChecklistError(key, f"не заполнен параметр «{param.label}»")
        if param.kind == "bool":
            try:
                clean[key] = parse_yes_no(raw)
            except ValueError:
                raise ChecklistError(key, f"«{param.label}»: ожидается «да» или «нет»") from None
        elif param.kind == "number":
            try:
                clean[key] = parse_amount(raw)
            except NegativeNumber:
                raise ChecklistError(
                    key, f"«{param.label}»: число не может быть отрицательным") from None
            except ValueError:
                raise ChecklistError(key, f"«{param.label}»: ожидается число") from None
        else:
            options = {o.key for o in param.options}
            if str(raw) not in options:
                raise ChecklistError(
                    key, f"«{param.label}»: допустимо {', '.join(sorted(options))}")
            clean[key] = str(raw)
    return clean


#: who may open the checklists; who may change them is decided per target (:func:`can_edit`)
VIEW_ROLES = (Role.ADMIN, Role.FEDERAL_ANALYST, Role.METHODOLOGY_OWNER, Role.REGIONAL_ADMIN,
              Role.AUDITOR)


def can_edit(user: User, office_id: int | None) -> bool:
    """Whether ``user`` may change a checklist of the office (``office_id`` None: the region's
    own, in a centralized network); anyone who may open the checklists may read them."""
    if user.has_role(Role.ADMIN, Role.REGIONAL_ADMIN):
        return True
    if user.has_role(Role.AUDITOR):
        return user.office_id is None or user.office_id == office_id
    return False


def target_level(indicator: Indicator, network_type: str) -> str:
    """"region" when the indicator is filled once for a centralized network, else "office"."""
    return "region" if indicator.level == "network" and network_type == "centralized" else "office"


def save(*, campaign_id: int, region_id: int, office_id: int | None, indicator: Indicator,
         values: dict[str, Any], evidence: dict[str, str] | None = None,
         auditor_id: int | None = None) -> tuple[Checklist, bool]:
    """Validate and upsert one checklist (audit-logged; the caller commits)."""
    clean = normalise(indicator, values)
    row = db.scalar(select(Checklist).where(
        Checklist.campaign_id == campaign_id, Checklist.region_id == region_id,
        Checklist.office_id.is_(None) if office_id is None else Checklist.office_id == office_id,
        Checklist.indicator == indicator.code))
    created = row is None
    before = None
    if row is None:
        row = Checklist(campaign_id=campaign_id, region_id=region_id, office_id=office_id,
                        indicator=indicator.code)
        db.add(row)
    else:
        before = {"values": row.values, "evidence": row.evidence}
    row.values = clean
    row.evidence = {k: v.strip()[:2000] for k, v in (evidence or {}).items() if v and v.strip()}
    row.auditor_id = auditor_id
    row.updated_at = utcnow()
    db.flush()
    audit.record("checklist.create" if created else "checklist.update", row,
                 before=before, after={"values": row.values, "evidence": row.evidence})
    return row, created
