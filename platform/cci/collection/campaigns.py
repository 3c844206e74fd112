"""Measurement campaigns: a named period, a methodology version and the regions it covers."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Region
from cci.foundation.models import campaign_regions

CAMPAIGN_FIELDS = ("name", "methodology_key", "starts_on", "ends_on")


class CampaignError(ValueError):
    """A campaign that cannot be saved as asked; the message is for people (Russian)."""


def quarter(day: dt.date) -> tuple[str, dt.date, dt.date]:
    """The default campaign of the quarter containing ``day``: («2025-Q2», first, last day)."""
    number = (day.month - 1) // 3 + 1
    first = dt.date(day.year, 3 * number - 2, 1)
    next_first = dt.date(day.year + (number == 4), (3 * number) % 12 + 1, 1)
    return f"{day.year}-Q{number}", first, next_first - dt.timedelta(days=1)


def overlapping(region_ids: list[int], starts_on: dt.date, ends_on: dt.date,
                exclude_id: int | None = None) -> list[tuple[Campaign, Region]]:
    query = (
        select(Campaign, Region)
        .join(campaign_regions, campaign_regions.c.campaign_id == Campaign.id)
        .join(Region, Region.id == campaign_regions.c.region_id)
        .where(campaign_regions.c.region_id.in_(region_ids),
               Campaign.starts_on <= ends_on, Campaign.ends_on >= starts_on)
    )
    if exclude_id is not None:
        query = query.where(Campaign.id != exclude_id)
    return [(campaign, region) for campaign, region in db.execute(query.order_by(Region.code))]


def save_campaign(*, name: str, methodology_key: str, starts_on: dt.date, ends_on: dt.date,
                  region_codes: list[str], campaign: Campaign | None = None,
                  user_id: int | None = None, is_sample: bool = False) -> Campaign:
    """Create or update a campaign (audit-logged; the caller commits)."""
    name = name.strip()
    if not name:
        raise CampaignError("Укажите название кампании.")
    if methodology_key not in current_app.extensions["cci.registry"].indicator_sets:
        raise CampaignError(f"Версия методики {methodology_key} не установлена.")
    if starts_on > ends_on:
        raise CampaignError("Дата начала позже даты окончания.")
    regions = list(db.scalars(select(Region).where(Region.code.in_(region_codes))))
    unknown = sorted(set(region_codes) - {r.code for r in regions})
    if unknown:
        raise CampaignError(f"Неизвестные регионы: {', '.join(unknown)}.")
    if not regions:
        raise CampaignError("Выберите хотя бы один регион.")
    same_name = db.scalar(select(Campaign).where(Campaign.name == name))
    if same_name is not None and same_name is not campaign:
        raise CampaignError(f"Кампания «{name}» уже есть.")
    clashes = overlapping([r.id for r in regions], starts_on, ends_on,
                          campaign.id if campaign else None)
    if clashes:
        other, region = clashes[0]
        raise CampaignError(
            f"В регионе «{region.name}» уже идёт кампания «{other.name}» "
            f"({other.starts_on:%d.%m.%Y}–{other.ends_on:%d.%m.%Y}): кампании одного региона "
            "не должны пересекаться по датам."
        )
    before = None
    if campaign is not None:
        before = audit.snapshot(campaign, CAMPAIGN_FIELDS)
        before["regions"] = sorted(r.code for r in campaign.regions)
    if campaign is None:
        campaign = Campaign(created_by_id=user_id, is_sample=is_sample)
        db.add(campaign)
    campaign.name = name
    campaign.methodology_key = methodology_key
    campaign.starts_on = starts_on
    campaign.ends_on = ends_on
    campaign.regions = sorted(regions, key=lambda r: r.code)
    db.flush()
    after = audit.snapshot(campaign, CAMPAIGN_FIELDS)
    after["regions"] = sorted(r.code for r in regions)
    with tenancy.federal_scope("audit a campaign change"):
        audit.record("campaign.update" if before else "campaign.create", campaign,
                     before=before, after=after, region_id=None)
    return campaign


def visible_campaigns(with_regions: bool = False) -> list[Campaign]:
    """Campaigns of the current scope: all for federal users, the region's own otherwise;
    ``with_regions``: each with its regions, read in one more statement (not one each)."""
    query = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    if with_regions:
        query = query.options(selectinload(Campaign.regions))
    region_id = tenancy.current_region_id()
    if region_id is not None:
        query = query.join(campaign_regions).where(campaign_regions.c.region_id == region_id)
    return list(db.scalars(query))
