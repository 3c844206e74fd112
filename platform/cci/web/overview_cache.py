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

import redis
from flask import current_app
from markupsafe import Markup
from sqlalchemy import bindparam
from sqlalchemy import text

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ComputationRun

log = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 24 * 3600
#: bump when the fragment's template or what it reads changes shape, so a deploy never serves
#: a fragment rendered by the code before it
VERSION = 1
PREFIX = "cci:federal-overview"


#: the mutable names and counts beside a run's figures, in one row (see
#: :func:`directory_fingerprint`); written as SQL, not built with the expression language: it
#: runs on every view, and building the expression's cache key cost five times its execution
_DIRECTORY = text("""
    SELECT r.n, r.changed, o.n, o.changed, o.active, m.n, m.signature, s.n, s.signature,
           c.first_name, c.last_name
    FROM (SELECT count(id) AS n, max(updated_at) AS changed FROM regions) AS r,
         (SELECT count(id) AS n, max(updated_at) AS changed,
                 sum(CASE WHEN active THEN 1 ELSE 0 END) AS active FROM offices) AS o,
         (SELECT count(*) AS n, sum(region_id * campaign_id) AS signature
          FROM campaign_regions WHERE campaign_id IN :campaigns) AS m,
         (SELECT count(*) AS n, sum(members.region_id) AS signature
          FROM campaign_regions AS members
          JOIN campaigns AS sample ON sample.id = members.campaign_id
          WHERE sample.is_sample) AS s,
         (SELECT min(name) AS first_name, max(name) AS last_name
          FROM campaigns WHERE id IN :campaigns) AS c
""").bindparams(bindparam("campaigns", expanding=True))


def directory_fingerprint(*campaign_ids: int) -> str:
    """A digest of the mutable names and counts the overview shows beside a run's figures:
    the regions (code, name, network type) and offices (active or not: the network a run from
    before it was stored falls back on), as their count and latest change (every change of
    them goes through the ORM, which stamps ``updated_at``; a deleted row changes the count),
    the campaigns' names and regions (of one or two campaigns, the least and greatest name
    are their names), and the regions of sample campaigns (the directory's «демо-данные»
    badge). One row, one round trip: this runs on every view. Read across regions on purpose:
    another region renamed changes a region's page too."""
    with tenancy.federal_scope("the federal overview's cache key: the names it shows"):
        values = db.execute(_DIRECTORY, {"campaigns": list(campaign_ids)}).one()
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
