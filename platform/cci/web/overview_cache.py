"""The federal overview's results, rendered once and kept in Redis.

Why this is correct for every reader: a published run never changes (its rows are written
once, in the transaction that publishes it; a newer computation is a new run with a new id).
The overview's results fragment is a pure function of

* the run shown and the run it is compared with (the previous campaign's current run): their
  ids, so a newly published run -- of this campaign or of the previous one -- is a new key;
* the names the figures are shown with, which are not part of a run and may change (a region
  renamed, an office switched off, a campaign renamed or given other regions): a fingerprint
  of those rows as they are now;
* the titles of the groups and indicators, read from the methodology set installed: its
  version and package version;
* the filters and order asked for;
* the area (federal, or a region's benchmark page: links differ, the reader's own region is
  marked), the locale and the time zone the publication moment is written in.

Nothing else of the reader enters it (the page's shell -- menus, the user, the campaign
choice -- renders on every request), so one kept fragment serves every reader whose key is
equal. Entries expire after :data:`KEEP_SECONDS` only as hygiene: the Redis of the platform
never evicts (it holds the job queues), so nothing may be kept forever.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import current_app
from markupsafe import Markup
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import campaign_regions

log = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 24 * 3600
#: bump when the fragment's template or what it reads changes shape, so a deploy never serves
#: a fragment rendered by the code before it
VERSION = 1
PREFIX = "cci:federal-overview"


def directory_fingerprint(*campaign_ids: int) -> str:
    """A digest of the mutable names and counts the overview shows beside a run's figures:
    the regions (code, name, network type) and offices (active or not: the network a run from
    before it was stored falls back on), as their count and latest change (every change of
    them goes through the ORM, which stamps ``updated_at``; a deleted row changes the count),
    the campaigns' names and regions, and the regions of sample campaigns. One row, one round
    trip: this runs on every view. Read across regions on purpose: another region renamed
    changes a region's page too."""
    members = campaign_regions.c
    in_campaigns = members.campaign_id.in_(campaign_ids)
    # one pass over each table, cross-joined into one row
    parts = [
        select(func.count(Region.id), func.max(Region.updated_at)),
        select(func.count(Office.id), func.max(Office.updated_at),
               func.sum(case((Office.active.is_(True), 1), else_=0))),
        select(func.count(), func.sum(members.region_id * members.campaign_id))
        .where(in_campaigns),
        # the regions of sample campaigns (the directory's «демо-данные» badge)
        select(func.count(), func.sum(members.region_id))
        .select_from(campaign_regions.join(Campaign, Campaign.id == members.campaign_id))
        .where(Campaign.is_sample.is_(True)),
        # of one or two campaigns, the least and greatest name are their names
        select(func.min(Campaign.name), func.max(Campaign.name))
        .where(Campaign.id.in_(campaign_ids)),
    ]
    subqueries = [part.subquery() for part in parts]
    joined: Any = subqueries[0]
    for subquery in subqueries[1:]:  # each is one row: joined on nothing, said explicitly
        joined = joined.join(subquery, true())
    row = select(*(column for subquery in subqueries for column in subquery.c)
                 ).select_from(joined)
    with tenancy.federal_scope("the federal overview's cache key: the names it shows"):
        values = db.execute(row).one()
    return hashlib.blake2b(json.dumps([str(v) for v in values], ensure_ascii=False).encode(),
                           digest_size=16).hexdigest()


def directory_key(*, locale: str, directory: str) -> str:
    """The key of the federal directory of regions (codes, names, networks, zones, active
    offices, the sample badge): a function of the directory's rows alone."""
    return f"cci:federal-directory:v{VERSION}:{locale}:{directory}"


def fragment_key(run: ComputationRun, previous: ComputationRun | None, *, filters: dict,
                 area: str, region_id: int | None, locale: str, zone: str,
                 directory: str, methodology: str) -> str:
    """The key of a rendered fragment: the two run ids in clear (to read the key), the rest
    digested."""
    rest = json.dumps({"filters": filters, "area": area, "region": region_id, "locale": locale,
                       "zone": zone, "directory": directory, "methodology": methodology,
                       "fingerprints": [run.input_fingerprint,
                                        previous.input_fingerprint if previous else None]},
                      sort_keys=True, ensure_ascii=False)
    digest = hashlib.blake2b(rest.encode(), digest_size=16).hexdigest()
    before = previous.id if previous is not None else "none"
    return f"{PREFIX}:v{VERSION}:run{run.id}:prev{before}:{digest}"


def fragment(key: str, render: Callable[[], str]) -> Markup:
    """The fragment kept under ``key``, else ``render()``'s, kept. Redis unavailable: the
    fragment rendered (the page is slower, not wrong)."""
    store = current_app.extensions["cci.redis"]
    try:
        kept = store.get(key)
    except redis.RedisError:
        log.warning("the overview's cache is unavailable; rendering", exc_info=True)
        return Markup(render())  # noqa: S704 -- rendered by our autoescaping template
    if kept is not None:
        return Markup(kept.decode())  # noqa: S704 -- rendered by our autoescaping template
    html = render()
    try:
        store.set(key, html.encode(), ex=KEEP_SECONDS)
    except redis.RedisError:
        log.warning("the overview's cache is unavailable; not kept", exc_info=True)
    return Markup(html)  # noqa: S704 -- rendered by our autoescaping template
