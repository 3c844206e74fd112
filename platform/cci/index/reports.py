"""Reading a run's stored figures for pages and the API (no computation here)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import RunResult
from cci.methodology.contract import RESPONDENT_TYPES

Key = tuple[str, str | None]  # (metric, respondent type)


@dataclass
class OfficeReport:
    office: Office
    figures: dict[Key, RunResult] = field(default_factory=dict)
    rank: int | None = None

    @property
    def index(self) -> RunResult | None:
        return self.figures.get(("index", None))

    @property
    def ranked(self) -> bool:
        return bool(self.index is not None and self.index.detail.get("ranked")
                    and self.index.value is not None)

    @property
    def responses(self) -> dict[str, int]:
        return self.index.detail.get("responses", {}) if self.index else {}


@dataclass
class RegionReport:
    run: ComputationRun
    campaign: Campaign
    indicator_set: Any
    figures: dict[Key, RunResult]
    offices: list[OfficeReport]

    @property
    def index(self) -> RunResult | None:
        return self.figures.get(("index", None))

    @property
    def respondent_types(self) -> list[str]:
        """Every perspective, in the methodology's order: a column with no figure says «—»
        rather than disappearing."""
        return list(RESPONDENT_TYPES)

    def indicators(self, kind: str | None = None):
        return [i for i in self.indicator_set.indicators if kind is None or i.kind == kind]


def _descending_index(office: OfficeReport) -> float:
    # only ranked offices are sorted, and a ranked office has an index with a value
    assert office.index is not None and office.index.value is not None
    return -office.index.value


def region_report(run: ComputationRun, region_id: int) -> RegionReport:
    """The run's figures for one region (in the current tenant scope)."""
    campaign = db.get_one(Campaign, run.campaign_id)  # a run's campaign is never deleted
    indicator_set = current_app.extensions["cci.registry"].indicator_set(run.methodology_key)
    offices = {o.id: OfficeReport(o) for o in db.scalars(
        select(Office).where(Office.region_id == region_id).order_by(Office.code))}
    region_figures: dict[Key, RunResult] = {}
    for row in db.scalars(select(RunResult).where(RunResult.run_id == run.id,
                                                  RunResult.region_id == region_id)):
        key = (row.metric, row.respondent_type)
        if row.level == "region":
            region_figures[key] = row
        elif row.office_id in offices:
            offices[row.office_id].figures[key] = row
    present = [o for o in offices.values() if o.figures]
    ranked = sorted((o for o in present if o.ranked), key=_descending_index)
    for position, office in enumerate(ranked, start=1):
        office.rank = position
    unranked = [o for o in present if not o.ranked]
    return RegionReport(run, campaign, indicator_set, region_figures, ranked + unranked)


def figure_json(row: RunResult | None) -> dict | None:
    if row is None:
        return None
    return {
        "metric": row.metric,
        "respondent_type": row.respondent_type,
        "value": row.value,
        "n_valid": row.n_valid,
        "n_positive": row.n_positive,
        "ci95": [row.ci_low, row.ci_high] if row.ci_low is not None else None,
        "insufficient": row.insufficient,
        "not_computable_reason": row.detail.get("reason"),
        "stars": row.stars,
        # a mean's effective n (what its ci95 rests on), and a distribution with the
        # channels offered it is checked against (the pages show these two)
        **{key: row.detail[key] for key in _DETAIL_SHOWN if key in row.detail},
    }


_DETAIL_SHOWN = ("n_effective", "distribution", "offered", "offered_in", "offices_checked")
