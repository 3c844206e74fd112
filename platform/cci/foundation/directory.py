"""Queries over the directory of regions and offices shared by pages and the API."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import campaign_regions
from cci.foundation.tenancy import current_region_id


def regions_with_office_counts() -> Select:
    """(Region, active office count) for the regions of the current scope: all of them in
    the federal scope, the own one in a region's."""
    counts = (
        select(Office.region_id, func.count(Office.id).label("n"))
        .where(Office.active.is_(True))
        .group_by(Office.region_id)
        .subquery()
    )
    query = select(Region, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.region_id == Region.id
    )
    region_id = current_region_id()
    if region_id is not None:
        query = query.where(Region.id == region_id)
    return query


def regions_holding_sample_data() -> set[int]:
    """The regions taking part in a sample campaign: the ones whose figures are «демо-данные»
    (a region of the tenants' files is real; its offices may be illustrative)."""
    return set(db.scalars(
        select(campaign_regions.c.region_id).join(
            Campaign, Campaign.id == campaign_regions.c.campaign_id)
        .where(Campaign.is_sample.is_(True)).distinct()))
