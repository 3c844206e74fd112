"""Dashboards follow the data: after answers, checklists or review decisions change a
campaign's data, a debounced recompute of its index is queued.

The job is asked for by name: the index (:mod:`cci.index.compute`) registers ``runs.recompute``,
and collection, the layer below it, never imports the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from redis.exceptions import RedisError

from cci.foundation import jobs
from cci.foundation import tenancy

JOB = "runs.recompute"
#: seconds a recompute waits for more data: one run for a burst of answers, not one each
DELAY = 60


def request(campaign_id: int) -> None:
    """Queue a debounced run of the campaign's own version; raises if the queue is down."""
    key = f"{JOB}:{campaign_id}"
    if jobs.is_pending(key):
        return  # the waiting recompute will read this data too
    with tenancy.federal_scope("schedule a recompute"):
        jobs.enqueue(JOB, title=f"Пересчёт кампании №{campaign_id}", dedupe_key=key,
                     delay_seconds=DELAY, campaign_id=campaign_id)


def follow(campaign_ids: Iterable[int]) -> bool:
    """Request a recompute of each campaign after its data changed; the data is kept whatever
    happens, so a queue that is down is logged (the next change or a manual run recomputes)
    and reported as False, never raised."""
    ok = True
    for campaign_id in sorted(set(campaign_ids)):
        try:
            request(campaign_id)
        except (jobs.JobError, RedisError, OSError):
            current_app.logger.warning("could not schedule a recompute of campaign %s",
                                       campaign_id, exc_info=True)
            ok = False
    return ok
