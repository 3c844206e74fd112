"""Trustworthy data: running the quality rules, storing their flags, and reviewing them.

Rules come from plugins (``register_quality_rules``; the built-in ones in
:mod:`cci.collection.quality_rules`) and from the channel that received a response
(``Channel.quality_rules``). A response any rule flags is stored with one
:class:`cci.foundation.models.ResponseFlag` per rule, is not counted in the index, and waits in the
region's review queue (``review_status = "pending"``) until a regional admin confirms the
exclusion or restores it, with a reason (audit-logged). Every decision schedules a recompute.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from cci.collection.channels import QualityRule
from cci.foundation import audit
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Answer
from cci.foundation.models import Response
from cci.foundation.models import ResponseFlag

#: decision -> the review status it leads to
DECISIONS = {"exclude": "confirmed", "restore": "restored"}
STATUS_LABELS = {
    "pending": _l("pending review"),
    "confirmed": _l("excluded (confirmed)"),
    "restored": _l("restored"),
}
REASON_MAX = 2000
#: statuses a rule may still change: decided responses keep the reviewer's decision
UNDECIDED = (None, "pending")


class ReviewError(ValueError):
    """A decision that cannot be taken; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


# --- what the rules judge ---------------------------------------------------------------


class JudgedAnswer(Protocol):
    counted: bool


class Judged(Protocol):
    """What the rules judge and their flags settle: a stored :class:`Response`, or the
    :class:`cci.collection.intake.Draft` of one about to be stored (read-only members are
    properties, so both the ORM's columns and a dataclass's fields fit)."""

    quality_flags: list[Any]
    counted: bool
    review_status: str | None

    @property
    def id(self) -> int | None: ...

    @property
    def region_id(self) -> int: ...

    @property
    def office_id(self) -> int: ...

    @property
    def campaign_id(self) -> int: ...

    @property
    def answers(self) -> Sequence[JudgedAnswer]: ...


# --- rules -------------------------------------------------------------------------------


def all_rules(channel=None) -> list[QualityRule]:
    """The rules that apply to a response received by ``channel`` (None: every plugin rule)."""
    registry = current_app.extensions["cci.registry"]
    return list(registry.quality_rules.values()) + list(channel.quality_rules if channel else ())


def rule_params(rule: QualityRule) -> dict[str, Any] | None:
    """The rule's parameters with the ``QUALITY_RULES`` overrides; None if switched off."""
    overrides = (current_app.config.get("QUALITY_RULES") or {}).get(rule.key) or {}
    params = {**rule.params, **overrides}
    if params.pop("enabled", True) is False:
        return None
    return params


def rule_labels() -> dict[str, Any]:
    """rule key -> label, for every rule of the plugins and of every channel."""
    registry = current_app.extensions["cci.registry"]
    labels: dict[str, Any] = {}
    for channel in registry.channels.values():
        labels.update({rule.key: rule.label for rule in channel.quality_rules})
    labels.update({key: rule.label for key, rule in registry.quality_rules.items()})
    return labels


@dataclass
class Finding:
    rule: QualityRule
    params: dict[str, Any]
    reason: str


def _active_rules(channel=None) -> list[tuple[QualityRule, dict[str, Any]]]:
    """(rule, params) of the rules switched on (of two rules with one key, the plugin's)."""
    active: list[tuple[QualityRule, dict[str, Any]]] = []
    seen: set[str] = set()
    for rule in all_rules(channel):
        if rule.key in seen:
            continue
        seen.add(rule.key)
        params = rule_params(rule)
        if params is not None:
            active.append((rule, params))
    return active


def single_rules(channel=None) -> list[tuple[QualityRule, dict[str, Any]]]:
    """(rule, params) of the rules checked one response at a time: those without a batch
    check (:func:`evaluate_many` runs the others once the batch is stored)."""
    return [(rule, params) for rule, params in _active_rules(channel)
            if rule.check_many is None]


def evaluate(response: Judged,
             rules: list[tuple[QualityRule, dict[str, Any]]]) -> list[Finding]:
    """Every rule of ``rules`` (:func:`single_rules`) that fires for the response."""
    findings: list[Finding] = []
    # The look-backs read stored responses only: flushing the pending ones before each query
    # would make a batch (an import) quadratic.
    with db.no_autoflush:
        for rule, params in rules:
            reason = rule.check(response, db, params)
            if reason:
                findings.append(Finding(rule, params, str(reason)))
    return findings


#: {region id: {stored response id: [(rule key, reason), …]}}: the stored responses a batch's
#: findings flag too, under the region of the response whose finding names them
Related = dict[int, dict[int, list[tuple[str, str]]]]


def add_related(related: Related, region_id: int, rule_key: str,
                others: dict[int, Any] | None) -> None:
    for response_id, reason in (others or {}).items():
        related.setdefault(region_id, {}).setdefault(response_id, []).append(
            (rule_key, str(reason)))


def evaluate_many(responses: Sequence[Judged], channel=None,
                  related: Related | None = None) -> tuple[list[list[dict]], Related]:
    """The batch checks over stored responses (with ids): per response the flags that fired,
    and the related stored responses to flag too, added to ``related`` (:data:`Related`).

    A rule sees one region's responses at a time, in that region's scope, unless it declares
    ``across_regions`` (it filters by region itself): then it gets the whole batch at once."""
    flags: list[list[dict]] = [[] for _ in responses]
    related = {} if related is None else related
    rules = [(rule, check_many, params) for rule, params in _active_rules(channel)
             if (check_many := rule.check_many) is not None]
    if not rules:
        return flags, related
    every = list(range(len(responses)))
    parts = tenancy.by_region(every, lambda position: responses[position].region_id)
    for rule, check_many, params in rules:
        calls = [(None, every)] if rule.across_regions else list(parts.items())
        for region_id, positions in calls:
            with (contextlib.nullcontext() if region_id is None
                  else tenancy.narrowed(region_id, "check the answers")):
                verdicts = check_many([responses[p] for p in positions], db, params)
            for position, (reason, others) in zip(positions, verdicts, strict=True):
                if reason:
                    flags[position].append({"rule": rule.key, "reason": str(reason)})
                add_related(related, responses[position].region_id, rule.key, others)
    return flags, related


def settle(response: Judged) -> list[dict]:
    """Deduplicate ``quality_flags`` and set the review status and ``counted`` (on the answers
    too) from them; returns the flags, one per rule."""
    unique: list[dict] = []
    for flag in response.quality_flags or []:
        rule = str(flag.get("rule") or "")[:64]
        if rule and rule not in {f["rule"] for f in unique}:
            unique.append({**flag, "rule": rule})
    if len(unique) != len(response.quality_flags or []):
        response.quality_flags = unique
    if unique and response.review_status is None:
        response.review_status = "pending"
    counted = not unique or response.review_status == "restored"
    response.counted = counted
    for answer in response.answers:
        answer.counted = counted
    return unique


def flag_values(response: Judged, rule: str, reason: Any) -> dict[str, Any]:
    """A flag row's columns (for a bulk insert)."""
    return {"response_id": response.id, "region_id": response.region_id,
            "office_id": response.office_id, "campaign_id": response.campaign_id,
            "rule": rule, "reason": str(reason or ""), "created_at": utcnow()}


def _flag_row(response: Response, rule: str, reason: Any) -> ResponseFlag:
    return ResponseFlag(region_id=response.region_id, office_id=response.office_id,
                        campaign_id=response.campaign_id, rule=rule, reason=str(reason or ""))


def flag_stored(wanted: dict[int, list[tuple[str, str]]]) -> list[int]:
    """Flag stored responses ``{id: [(rule, reason), …]}`` unless a reviewer has decided on
    them; returns the ids newly excluded."""
    if not wanted:
        return []
    excluded = []
    for other in db.scalars(
        select(Response)
        .where(Response.id.in_(wanted), or_(Response.review_status.is_(None),
                                            Response.review_status == "pending"))
        .options(selectinload(Response.flags))
    ):
        have = {flag.rule for flag in other.flags}
        added = []
        for rule, reason in wanted[other.id]:  # one flag per rule: several findings may name it
            if rule not in have:
                have.add(rule)
                added.append((rule, reason))
        if not added:
            continue
        for rule, reason in added:
            other.flags.append(_flag_row(other, rule, reason))
        other.quality_flags = list(other.quality_flags or []) + [
            {"rule": rule, "reason": reason} for rule, reason in added]
        other.review_status = "pending"
        if other.counted:
            other.counted = False
            excluded.append(other.id)
    if excluded:
        db.execute(update(Answer).where(Answer.response_id.in_(excluded))
                   .values(counted=False).execution_options(synchronize_session=False))
    return excluded


def flag_related(related: Related, skip: set[int]) -> list[int]:
    """:func:`flag_stored` of each region's related responses (but those in ``skip``: the
    batch's own), in that region's scope: a finding never flags another region's response.
    Returns the ids newly excluded."""
    excluded: list[int] = []
    if related:
        db.flush()  # what the caller's transaction holds, in the caller's scope
    for region_id, wanted in related.items():
        wanted = {key: found for key, found in wanted.items() if key not in skip}
        if wanted:
            with tenancy.narrowed(region_id, "flag related answers"):
                excluded += flag_stored(wanted)
                db.flush()  # in this scope: the objects are this region's
    return excluded


# --- counts for result pages -------------------------------------------------------------


@dataclass
class ExcludedCounts:
    rows: list[tuple[str, Any, int]]  # (rule key, label, excluded responses)
    total: int  # distinct responses excluded (a response may be flagged by several rules)
    pending: int  # of those, still waiting for a review


def excluded_by_rule(campaign_id: int, region_id: int) -> ExcludedCounts:
    """How many responses each rule excluded from a campaign in a region (database counts)."""
    labels = rule_labels()
    base = (ResponseFlag.campaign_id == campaign_id, ResponseFlag.region_id == region_id,
            Response.counted.is_(False))
    rows = db.execute(
        select(ResponseFlag.rule, func.count())
        .join(Response, Response.id == ResponseFlag.response_id)
        .where(*base)
        .group_by(ResponseFlag.rule)
        .order_by(func.count().desc(), ResponseFlag.rule)
    ).all()
    total, pending = db.execute(
        select(func.count(func.distinct(Response.id)),
               func.count(func.distinct(Response.id)).filter(Response.review_status == "pending"))
        .select_from(ResponseFlag)
        .join(Response, Response.id == ResponseFlag.response_id)
        .where(*base)
    ).one()
    return ExcludedCounts([(rule, labels.get(rule, rule), int(n)) for rule, n in rows],
                          int(total or 0), int(pending or 0))


# --- the review queue --------------------------------------------------------------------


def review_query(status: str | None = "pending", rule: str | None = None,
                 office_id: int | None = None):
    """Flagged responses in the current scope: ``status`` pending/confirmed/restored, or None
    for all of them; newest first."""
    query = select(Response).where(Response.review_status.is_not(None))
    if status:
        query = query.where(Response.review_status == status)
    if rule:
        query = query.where(Response.flags.any(ResponseFlag.rule == rule))
    if office_id:
        query = query.where(Response.office_id == office_id)
    return query


def review_page(query, limit: int, offset: int) -> tuple[int, list[Response]]:
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit).offset(offset)
        .options(selectinload(Response.flags), selectinload(Response.answers))
    ).all()
    return total, list(rows)


def _state(response: Response) -> dict[str, Any]:
    return {"review_status": response.review_status, "counted": response.counted,
            "rules": [flag.rule for flag in response.flags]}


def clean_reason(reason: Any) -> str:
    text = (reason if isinstance(reason, str) else "").strip()
    if not text:
        raise ReviewError("reason", _("Give a reason for the decision."))
    if len(text) > REASON_MAX:
        raise ReviewError("reason", _("The reason is too long (at most %(n)d characters).",
                                      n=REASON_MAX))
    return text


def decide(response: Response, decision: str, reason: Any, user) -> None:
    """Confirm the exclusion of a flagged response or restore it (not committed).

    ``user`` is who decides (recorded on the response and in the audit log).
    """
    if decision not in DECISIONS:
        raise ReviewError("decision", _("Choose to exclude or to restore."))
    text = clean_reason(reason)
    if response.review_status is None:
        raise ReviewError("response", _("This response was not flagged by any rule."), 409)
    before = _state(response)
    counted = decision == "restore"
    response.review_status = DECISIONS[decision]
    response.counted = counted
    response.reviewed_by_id = user.id
    response.reviewed_at = utcnow()
    response.review_reason = text
    db.execute(update(Answer).where(Answer.response_id == response.id)
               .values(counted=counted).execution_options(synchronize_session=False))
    entry = audit.record("response.review", response, before=before,
                         after={**_state(response), "decision": decision, "reason": text},
                         actor=user.email)
    entry.actor_id = user.id

