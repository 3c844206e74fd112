"""Every hook a plugin can implement, and the marker of an implementation (:data:`hookimpl`).

Plugins import both markers' users from :mod:`cci.plugin_api`. Families: ``register_*``
returns things the core then owns; ``prepare_*`` adjusts what it is given in place.
Implementations take only the arguments they need. ``docs/plugins.md`` documents every hook
with this exact signature (a test compares them).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("cci")
#: Marks a plugin's hook implementation: ``@hookimpl def register_channels(): …``.
hookimpl = pluggy.HookimplMarker("cci")


@hookspec
def register_indicator_sets():
    """Return a list of :class:`cci.methodology.contract.IndicatorSet`, one per methodology version.

    A set's ``key`` (e.g. ``"cci-2023"``) must be unique across all installed plugins.
    """


@hookspec
def register_channels():
    """Return a list of :class:`cci.collection.channels.Channel`: the ways answers are collected.

    A channel's ``key`` must be unique; its blueprints are mounted by the core at start-up.
    """


@hookspec
def register_quality_rules():
    """Return a list of :class:`cci.collection.channels.QualityRule` that apply to every channel.

    Channel-specific rules are declared on the channel itself.
    """


@hookspec
def register_jobs():
    """Return a dict ``{name: function}`` of background jobs this plugin provides.

    A job function takes keyword arguments of plain values and runs inside the tenant
    scope it was enqueued from; names must be unique (``"<plugin>.<verb>"``).
    """


@hookspec
def prepare_response(response, channel):
    """Adjust a response before it is stored (add metadata, flags): a
    :class:`cci.collection.intake.Draft`, which has the attributes of a
    :class:`cci.foundation.models.Response` (its answers: item, value, choice, counted), for one
    answer as for an import.

    ``channel`` is the :class:`cci.collection.channels.Channel` that received it.
    """


@hookspec
def register_migrations():
    """Return the folder of this plugin's own Alembic revisions (a path), or ``None``.

    A plugin that has tables ships its revisions inside its package, on a branch of its own
    (``branch_labels``, ``depends_on`` the core revision it needs); ``cci db upgrade`` runs
    every installed plugin's branch with the core's (see "Tables and migrations" in
    ``docs/plugins.md``).
    """


@hookspec
def register_api_schemas():
    """Return a dict ``{name: JSON schema}`` that the API's resources of this plugin refer to
    (``ref(name)``); the core adds them to the OpenAPI document's ``components.schemas``.

    A name already taken by the core or by another plugin stops start-up with an error naming
    both; prefix the names with the plugin's (``Kiosk…``).
    """


@hookspec
def register_audit_vocabulary():
    """Return a :class:`cci.foundation.audit.AuditVocabulary`: the words the audit log reads
    this plugin's entries in (its actions, the objects it records by type, their fields). An
    action or object type named by two plugins stops start-up with an error naming both.
    """


@hookspec
def report_metrics():
    """Return a list of :class:`cci.hooks.readings.Reading`: gauges of this plugin's state,
    read at every scrape of ``/metrics`` (in the application's context and the federal
    scope), e.g. devices online. Keep it to a query or two: a scrape comes every few seconds.
    """


@hookspec
def register_cx_metrics():
    """Return a list of :class:`cci.methodology.cx.CxMetric`: customer-experience metrics of
    the journey map's touchpoints (CSAT, NPS, FCR, …), each with its numerator, denominator,
    scale, window, direction, minimum n, one-line definition and the rows the database sums.
    A metric's ``code`` must be unique across all installed plugins.
    """


@hookspec
def load_sample_data(region, offices, start, end, seed, staff):
    """Add this plugin's own sample rows (``cci sample load``) for one sample region: the
    ``offices`` (a list of :class:`~cci.foundation.models.Office`) over the days
    [``start``, ``end``), drawn from a random generator seeded with ``seed`` (the same rows on
    every load). ``staff`` is the region's sample staff member (an inactive account that
    cannot log in) for rows that need an author. Called in the region's scope; rows go into
    the session, which the caller commits. Must be idempotent: rows that a previous load
    added are not added again. Return the number of rows added.
    """
