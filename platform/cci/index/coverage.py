"""What a run's index rests on, computed by the region job and stored with the run.

Two things a reader must see beside an index, so that a region cannot look good on a handful
of answers, on its main office alone, or on offices measured from one side only:

- an office's *standing*: which respondent types and whether the objective (checklist) part
  its index rests on; an office missing one of them has a partial index and is ranked apart
  from the offices measured on every side (the reasons are stored, not guessed at read time);
- *coverage*: offices measured out of the network, answers by channel and respondent type,
  responses excluded by each quality rule, answers verified by a visit code, checklists filled.

Every count is a GROUP BY in the database; the region job writes them into the ``detail`` of
the run's index rows, so a published figure and its coverage never move.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Checklist
from cci.foundation.models import Response
from cci.foundation.models import ResponseFlag
from cci.foundation.models import SurveyInvitation
from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.contract import IndicatorSet
from cci.methodology.figures import RegionData
from cci.methodology.figures import RegionResult

#: why an office's index is partial (stored codes; pages say them in words)
NO_OBJECTIVE = "no_objective"


def missing_type(respondent_type: str) -> str:
    return f"no_{respondent_type}"


def standing(figures, indicator_set: IndicatorSet) -> dict[str, Any]:
    """What an office's index rests on, from its computed figures: the respondent types with
    a value on some scored subjective indicator, whether some scored objective indicator has
    a value, and the reasons its index is partial (empty: measured on every side)."""
    scored = {f"indicator:{i.code}": i.kind for i in indicator_set.indicators if i.scored}
    types = sorted({f.respondent_type for f in figures
                    if f.value is not None and f.respondent_type in RESPONDENT_TYPES
                    and scored.get(f.metric) == "subjective"},
                   key=RESPONDENT_TYPES.index)
    objective = any(f.value is not None and f.respondent_type is None
                    and scored.get(f.metric) == "objective" for f in figures)
    has_objective = any(i.kind == "objective" and i.scored for i in indicator_set.indicators)
    partial = [missing_type(t) for t in RESPONDENT_TYPES if t not in types]
    if has_objective and not objective:
        partial.append(NO_OBJECTIVE)
    return {"measured_types": types, "objective_measured": objective, "partial": partial}


def _office_counts(campaign_id: int, region_id: int) -> dict[int | None, dict[str, Any]]:
    """Per office (and for the region, key None): the database's counts."""
    by_office: dict[int | None, dict[str, Any]] = {}

    def slot(office_id):
        return by_office.setdefault(office_id, {
            "answers": {}, "excluded": {}, "excluded_total": 0, "verified": 0, "responses": 0,
            "checklists": 0})

    counted = (Response.campaign_id == campaign_id, Response.region_id == region_id,
               Response.counted)
    for office_id, channel, rtype, n, verified in db.execute(
            select(Response.office_id, Response.channel, Response.respondent_type, func.count(),
                   func.count(SurveyInvitation.id))
            .outerjoin(SurveyInvitation, SurveyInvitation.response_id == Response.id)
            .where(*counted)
            .group_by(Response.office_id, Response.channel, Response.respondent_type)):
        entry = slot(office_id)
        entry["answers"].setdefault(channel, {})[rtype] = int(n)
        entry["responses"] += int(n)
        entry["verified"] += int(verified)
    excluded = (ResponseFlag.campaign_id == campaign_id, ResponseFlag.region_id == region_id,
                Response.counted.is_(False))
    for office_id, rule, n in db.execute(
            select(ResponseFlag.office_id, ResponseFlag.rule, func.count())
            .join(Response, Response.id == ResponseFlag.response_id).where(*excluded)
            .group_by(ResponseFlag.office_id, ResponseFlag.rule)):
        slot(office_id)["excluded"][rule] = int(n)
    for office_id, n in db.execute(
            select(ResponseFlag.office_id, func.count(func.distinct(Response.id)))
            .select_from(ResponseFlag).join(Response, Response.id == ResponseFlag.response_id)
            .where(*excluded).group_by(ResponseFlag.office_id)):
        slot(office_id)["excluded_total"] = int(n)
    # checklists filled per office, and those filled once for the region (no office)
    for checklist_office, n in db.execute(
            select(Checklist.office_id, func.count(func.distinct(Checklist.indicator)))
            .where(Checklist.campaign_id == campaign_id, Checklist.region_id == region_id)
            .group_by(Checklist.office_id)):
        slot(checklist_office)["checklists"] = int(n)
    return by_office


def _region_totals(campaign_id: int, region_id: int) -> dict[str, Any]:
    """The region's own sums (a GROUP BY without the office), for its coverage."""
    answers: dict[str, dict[str, int]] = {}
    responses = verified = 0
    for channel, rtype, n, v in db.execute(
            select(Response.channel, Response.respondent_type, func.count(),
                   func.count(SurveyInvitation.id))
            .outerjoin(SurveyInvitation, SurveyInvitation.response_id == Response.id)
            .where(Response.campaign_id == campaign_id, Response.region_id == region_id,
                   Response.counted)
            .group_by(Response.channel, Response.respondent_type)):
        answers.setdefault(channel, {})[rtype] = int(n)
        responses += int(n)
        verified += int(v)
    excluded_where = (ResponseFlag.campaign_id == campaign_id,
                      ResponseFlag.region_id == region_id, Response.counted.is_(False))
    excluded = {rule: int(n) for rule, n in db.execute(
        select(ResponseFlag.rule, func.count())
        .join(Response, Response.id == ResponseFlag.response_id).where(*excluded_where)
        .group_by(ResponseFlag.rule))}
    excluded_total = db.scalar(
        select(func.count(func.distinct(Response.id))).select_from(ResponseFlag)
        .join(Response, Response.id == ResponseFlag.response_id).where(*excluded_where)) or 0
    return {"answers": answers, "responses": responses, "verified": verified,
            "excluded": excluded, "excluded_total": int(excluded_total)}


def _totals(answers: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The answers' sums by respondent type and by channel (of the few counts above)."""
    by_type: dict[str, int] = {}
    for per_type in answers.values():
        for rtype, n in per_type.items():
            by_type[rtype] = by_type.get(rtype, 0) + n
    return {"by_type": by_type,
            "by_channel": {channel: sum(per_type.values())
                           for channel, per_type in answers.items()}}


def checklists_expected(indicator_set: IndicatorSet) -> int:
    """The checklists an office's objective part is scored from (components included)."""
    return sum(1 for i in indicator_set.indicators if i.kind == "objective" and not i.components)


def annotate(result: RegionResult, data: RegionData, campaign_id: int,
             indicator_set: IndicatorSet) -> None:
    """Write each office's standing and coverage, and the region's coverage, into the
    ``detail`` of the result's index figures (before the region's rows are stored)."""
    counts = _office_counts(campaign_id, data.region_id)
    region_wide = counts.get(None, {}).get("checklists", 0)
    expected = checklists_expected(indicator_set)
    kinds = {o.office_id: o.kind for o in data.offices}
    measured: list[int] = []
    partial_offices = 0
    checklists_filled = 0
    for office in result.offices:
        index = next((f for f in office.figures
                      if f.metric == "index" and f.respondent_type is None), None)
        if index is None:
            continue
        own = counts.get(office.office_id, {})
        filled = min(expected, own.get("checklists", 0) + region_wide)
        checklists_filled += filled
        office_standing = standing(office.figures, indicator_set)
        index.detail.update(office_standing)
        index.detail["coverage"] = {
            "answers": own.get("answers", {}), **_totals(own.get("answers", {})),
            "responses": own.get("responses", 0),
            "verified": own.get("verified", 0), "excluded": own.get("excluded", {}),
            "excluded_total": own.get("excluded_total", 0),
            "checklists_filled": filled, "checklists_expected": expected,
        }
        if index.value is not None:
            measured.append(office.office_id)
            if office_standing["partial"]:
                partial_offices += 1
    main = [o for o, kind in kinds.items() if kind == "main"]
    region = _region_totals(campaign_id, data.region_id)
    coverage = {
        **region, **_totals(region["answers"]),
        "offices_in_network": len(data.offices), "offices_measured": len(measured),
        "offices_partial": partial_offices,
        "main_offices": len(main), "main_offices_measured": sum(1 for o in measured if o in main),
        "checklists_filled": checklists_filled,
        "checklists_expected": expected * len(data.offices),
    }
    for figure in result.figures:
        if figure.metric == "index" and figure.respondent_type is None:
            figure.detail["coverage"] = coverage
