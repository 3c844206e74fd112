"""Times as people read them. Moments are stored in UTC; a person reads them in the local time
of the region they are looking at, with the zone named as Russians name it, by its offset from
Moscow («МСК+4»), and on federal pages (no region) in Moscow time marked «МСК».

One filter (``local_time``) and the ``when`` macro built on it do this on every page; plugins
reach it through ``cci.plugin_api``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import g
from flask import has_request_context
from flask_login import current_user

from cci.foundation.models import Region
from cci.foundation.zones import MOSCOW
from cci.foundation.zones import zone_label


def region_zone(region: Region | None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(region.timezone) if region is not None else MOSCOW


def reader_region() -> Region | None:
    """The region whose time a page speaks: the region the page is about, else the reader's own
    region, else none (federal pages, Moscow time)."""
    if not has_request_context():
        return None
    region = getattr(g, "region", None)
    if region is not None:
        return region
    if current_user and current_user.is_authenticated:
        return getattr(current_user, "region", None)
    return None


def local_time(moment: dt.datetime | None, region: Region | None = None,
               with_zone: bool = True) -> str:
    """«07.12.2026 13:10 МСК+4»; «—» for no moment. ``region`` defaults to the reader's."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # stored moments are UTC; a naive one is read as such
        moment = moment.replace(tzinfo=dt.UTC)
    zone = region_zone(region if region is not None else reader_region())
    text = moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    return f"{text} {zone_label(zone, moment)}" if with_zone else text


def init_app(app) -> None:
    app.jinja_env.filters["local_time"] = local_time
    # a region, or a zone's IANA name
    app.jinja_env.filters["zone_label"] = lambda zone: zone_label(
        zone if isinstance(zone, str) else region_zone(zone))
