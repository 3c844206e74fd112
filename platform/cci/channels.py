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

    ``check(response, session, params)`` gets the :class:`cci.models.Response` about to be
    stored, the database session (for look-backs such as bursts) and ``params``, this rule's
    parameters (thresholds) as configured.
    """

    key: str
    label: str
    check: Callable[..., str | None]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Channel:
    key: str
    label: str
    #: Blueprints the core mounts, each with its URL prefix.
    blueprints: tuple[tuple[Blueprint, str], ...] = ()
    #: The metadata keys this channel attaches to a response (documented, validated).
    metadata_fields: tuple[str, ...] = ()
    quality_rules: tuple[QualityRule, ...] = ()
    description: str = ""
