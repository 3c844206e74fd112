"""The CX metrics of the journey map (docs/cjm.md): CSAT, NPS, CES, FCR, RR, IQS, ER, RpC, CV-1,
CV-2, AHT, ASA, abandonment (AR), service level 80/20 (SL) and the rating at the specialist's
window (RATING), as plugin definitions. A new metric is a new plugin, like a methodology set.

Sources, each read by the database (the core sums the rows ``definitions`` describe):

- touchpoint survey answers (the core's ``TouchpointAnswer``): CSAT, NPS, CES, RATING;
- the contact centre's calls recorded in its console (table ``contact_calls``): FCR, ER, RR,
  AHT, ASA; its telephony statistics (``telephony_stats``, per line, no office): AR, SL;
- imported day counts (the core's ``CxCount``): IQS (checklist points), RpC (e-queue contacts
  and clients), CV-1 and CV-2 (site funnel and services received).

The contact centre's tables are named, not imported: a plugin imports the core's API only; a
metric whose table is not installed is skipped by the computation (``sources``).
"""

from __future__ import annotations

from cci.plugin_api import hookimpl

from cci_cx_metrics.definitions import METRICS


@hookimpl
def register_cx_metrics():
    return list(METRICS)
