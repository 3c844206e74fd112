"""The distribution of answers behind each subjective figure, stored with the run.

The region job counts the region's counted answers per office, respondent type, item and
answer (a scale point, yes/no, an option, or «Затрудняюсь ответить») in one GROUP BY, and the
region's in another, and writes the counts into the ``detail["answers"]`` of the run's
per-respondent-type indicator rows: ``{item: {answer: count}}``. The indicator page reads them,
so the distribution shown beside a published figure is the one it was computed from; no single
respondent's answers are ever read or listed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.methodology.contract import IndicatorSet
from cci.methodology.figures import RegionResult

#: the key of «Затрудняюсь ответить» (an answer with neither a value nor an option)
NOT_SURE = "na"

Counts = dict[tuple[Any, str, str], dict[str, int]]  # (office or None, type, item) -> counts


def _key(value: int | None, choice: str | None) -> str:
    if choice is not None:
        return choice
    return NOT_SURE if value is None else str(value)


def _count(campaign_id: int, region_id: int, by_office: bool) -> Counts:
    office = Answer.office_id if by_office else None
    columns = [Answer.respondent_type, Answer.item, Answer.value, Answer.choice, func.count()]
    group = [Answer.respondent_type, Answer.item, Answer.value, Answer.choice]
    if office is not None:
        columns.insert(0, office)
        group.insert(0, office)
    out: Counts = {}
    for row in db.execute(select(*columns).where(
            Answer.campaign_id == campaign_id, Answer.region_id == region_id, Answer.counted)
            .group_by(*group)):
        values = tuple(row)
        office_id = values[0] if by_office else None
        rtype, item, value, choice, n = values[1:] if by_office else values
        out.setdefault((office_id, rtype, item), {})[_key(value, choice)] = int(n)
    return out


def items_of(indicator_set: IndicatorSet) -> dict[str, tuple[str, ...]]:
    """{indicator metric: the items its answers come from} (a composite: its components')."""
    by_code = {i.code: i for i in indicator_set.indicators}
    out = {}
    for indicator in indicator_set.indicators:
        items = list(indicator.items)
        for component in indicator.components:
            items.extend(by_code[component].items if component in by_code else ())
        if items:
            out[f"indicator:{indicator.code}"] = tuple(dict.fromkeys(items))
    return out


def annotate(result: RegionResult, campaign_id: int, indicator_set: IndicatorSet) -> None:
    """Write the answers' distributions into the result's subjective figures (per office and
    for the region, per respondent type; a pooled figure gets every type's)."""
    items = items_of(indicator_set)
    if not items:
        return
    offices = _count(campaign_id, result.region_id, by_office=True)
    region = _count(campaign_id, result.region_id, by_office=False)
    types: dict[Any, set[str]] = {}
    for office_id, rtype, _item in (*offices, *region):
        types.setdefault(office_id, set()).add(rtype)

    def attach(figures, counts: Counts, office_id) -> None:
        for figure in figures:
            keys = items.get(figure.metric)
            if not keys:
                continue
            wanted = [figure.respondent_type] if figure.respondent_type else \
                sorted(types.get(office_id, ()))
            answers = {}
            for rtype in wanted:
                per_item = {item: counts[(office_id, rtype, item)] for item in keys
                            if (office_id, rtype, item) in counts}
                if per_item:
                    answers[rtype] = per_item
            if answers:
                figure.detail["answers"] = answers

    for office in result.offices:
        attach(office.figures, offices, office.office_id)
    attach(result.figures, region, None)
