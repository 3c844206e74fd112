"""The contract of a collection channel plugin (web, kiosk, contact centre, integrations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import Blueprint


@dataclass(frozen=True)
class QualityRule:
    """A data-quality rule: returns a reason string when a response looks untrustworthy.

    ``check(response, session, params)`` gets the response about to be stored (a
    :class:`cci.collection.intake.Draft`: the attributes of a
    :class:`cci.foundation.models.Response`), the database session (for look-backs such as bursts)
    and ``params``, this rule's parameters (thresholds) as configured.

    ``related(response, session, params)``, optional, is called when ``check`` fired and
    returns ``{response_id: reason}`` of responses already stored that share the finding (the
    earlier answers of a burst, the original of a near-duplicate); the core flags them too,
    unless a reviewer has already decided on them.

    ``check_many(responses, session, params)``, optional, checks a batch (an import, the one
    response of a submission) in one go instead of ``check`` per response: it is called once the
    batch is inserted (the responses have ids) and returns, per response,
    ``(reason or None, {stored response id: reason})``. A look-back rule provides it so that a large
    import costs one query, not one per row.

    The core runs every check in the scope of the responses' region, so a rule's queries see
    that region only. ``across_regions=True`` declares that ``check_many`` filters by
    ``region_id`` itself (every look-back compares a response with its own region's only): the
    core may then give it a batch of many regions in one call, in the federal scope, so it
    costs one query per batch, not one per region.
    """

    key: str
    label: str
    check: Callable[..., str | None]
    params: dict[str, Any] = field(default_factory=dict)
    related: Callable[..., dict[int, str]] | None = None
    check_many: Callable[..., list[tuple[str | None, dict[int, str]]]] | None = None
    across_regions: bool = False


@dataclass(frozen=True)
class Channel:
    key: str
    label: str
    #: Blueprints the core mounts, each with its URL prefix.
    blueprints: tuple[tuple[Blueprint, str], ...] = ()
    #: The channel's resources in the bearer-token API: the core mounts each blueprint inside
    #: /api/v1 (its own ``url_prefix`` is relative to that), so the routes get the API's token
    #: authentication, tenant scope, JSON errors and CSRF exemption; endpoints are
    #: ``api.<blueprint name>.<view>``. Every route needs a :func:`cci.web.api.docs.operation`.
    api_blueprints: tuple[Blueprint, ...] = ()
    #: The metadata keys this channel attaches to a response's ``meta``. When given, the
    #: intake refuses a response of this channel with any other key (IntakeError on
    #: ``meta``), before the ``prepare_response`` hooks (which may add keys of their own)
    #: run; empty: not checked.
    metadata_fields: tuple[str, ...] = ()
    quality_rules: tuple[QualityRule, ...] = ()
    description: str = ""
    #: Who or what took an answer, in words, for the review queue: ``describe_source(response)``
    #: returns ``[(label, text), …]`` such as ``[("Киоск", "Зал, 1 этаж")]``, read from the
    #: response's ``meta`` (never shown as stored). None: the channel's label says enough.
    describe_source: Callable[[Any], list[tuple[str, str]]] | None = None
    #: Staff pages of the channel linked from a region's navigation: ``((label, endpoint), …)``;
    #: the endpoint takes the region's code (``region_code``) and checks access itself.
    region_links: tuple[tuple[str, str], ...] = ()


_PUBLIC = "cci_public_endpoint"


def public_endpoint(view: Callable) -> Callable:
    """Mark a view of a channel's blueprint as public: it takes a POST without the session's
    CSRF token (a device that authenticates with a token in a header, an anonymous form of its
    own). The core exempts the marked views of every mounted channel blueprint; the view checks
    whatever authenticates the request itself. Works above or below the route decorator."""
    setattr(view, _PUBLIC, True)
    return view


def is_public_endpoint(view: Callable) -> bool:
    return bool(getattr(view, _PUBLIC, False))
