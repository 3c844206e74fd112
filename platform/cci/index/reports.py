"""Reading a run's stored figures for pages and the API (no computation here)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import aliased

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.foundation.models import RunResult
from cci.index import compute
from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.figures import INDEX_DECIMALS

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

    @property
    def partial(self) -> list[str]:
        """Why the office's index is partial (stored by the run, cci.index.coverage): codes
        such as ``no_employer`` or ``no_objective``; empty when measured on every side, or
        when the run is older than this record."""
        return list(self.index.detail.get("partial", [])) if self.index else []

    @property
    def comparable(self) -> bool:
        """Ranked with the offices measured on every side."""
        return self.ranked and not self.partial

    @property
    def coverage(self) -> dict[str, Any]:
        return self.index.detail.get("coverage", {}) if self.index else {}

    @property
    def standing(self) -> str:
        """Which ranking the office is in: comparable, partial (ranked apart) or unranked."""
        return "comparable" if self.comparable else "partial" if self.ranked else "unranked"


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
    def coverage(self) -> dict[str, Any]:
        return self.index.detail.get("coverage", {}) if self.index else {}

    @property
    def comparable(self) -> list[OfficeReport]:
        return [o for o in self.offices if o.comparable]

    @property
    def partial(self) -> list[OfficeReport]:
        """Ranked offices with a partial index: ranked apart, among themselves."""
        return [o for o in self.offices if o.ranked and o.partial]

    @property
    def unranked(self) -> list[OfficeReport]:
        return [o for o in self.offices if not o.ranked]

    def office(self, office_id: int) -> OfficeReport | None:
        return next((o for o in self.offices if o.office.id == office_id), None)

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
    # offices measured on every side are ranked together; those with a partial index (one
    # respondent type, or no objective part) apart, among themselves
    comparable = rank_with_ties([o for o in present if o.comparable])
    partial = rank_with_ties([o for o in present if o.ranked and o.partial])
    unranked = [o for o in present if not o.ranked]
    return RegionReport(run, campaign, indicator_set, region_figures,
                        comparable + partial + unranked)


def rank_with_ties(offices: list[OfficeReport]) -> list[OfficeReport]:
    """Sorted by index, highest first, each office's rank set: offices whose index is the
    same as shown (to one decimal) share a place, and the next place skips as many (1, 1, 3)."""
    ordered = sorted(offices, key=lambda o: (_descending_index(o), o.office.code))
    previous: float | None = None
    for position, office in enumerate(ordered, start=1):
        assert office.index is not None and office.index.value is not None
        shown = round(office.index.value, INDEX_DECIMALS)
        office.rank = position if shown != previous else ordered[position - 2].rank
        previous = shown
    return ordered


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


# --- the federal overview: every region of a run, and the federation ----------------------


@dataclass(frozen=True)
class Shown:
    """A stored figure as pages show it (a plain copy: the overview reads rows of other
    regions in a deliberate federal scope, and hands no ORM row out of it)."""

    metric: str
    respondent_type: str | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    stars: int | None
    n_valid: int | None
    insufficient: bool
    detail: dict[str, Any]
    n_positive: int | None = None


@dataclass
class RegionLine:
    region_id: int
    code: str
    name: str
    network_type: str
    index: Shown | None
    groups: dict[str, Shown]
    offices_measured: int | None
    offices_in_network: int | None
    answers: int | None
    rank: tuple[int, int] | None = None
    #: since the previous campaign (see :func:`add_movement`)
    previous: Shown | None = None
    change: float | None = None
    #: "up" / "down": the two intervals do not overlap; "within": they do; None: no interval
    #: to judge by (a region measured in one office has none) or no previous index
    movement: str | None = None

    @property
    def rank_label(self) -> str:
        if self.rank is None:
            return "—"
        best, worst = self.rank
        return str(best) if best == worst else f"{best}–{worst}"


@dataclass
class FederalOverview:
    run: ComputationRun
    campaign: Campaign
    indicator_set: Any
    federation: dict[Key, Shown]
    lines: list[RegionLine]
    previous: FederalOverview | None = None

    @property
    def index(self) -> Shown | None:
        return self.federation.get(("index", None))

    def group(self, code: str) -> Shown | None:
        return self.federation.get((f"group:{code}", None))

    @property
    def change(self) -> tuple[float | None, str | None]:
        """The federal index's change since the previous campaign (see :func:`movement`)."""
        return movement(self.index, self.previous.index if self.previous else None)

    def stars_distribution(self) -> dict[int, int]:
        """How many regions have each number of stars (5 down to 1)."""
        counts = dict.fromkeys((5, 4, 3, 2, 1), 0)
        for line in self.lines:
            if line.index is not None and line.index.stars in counts:
                counts[line.index.stars] += 1
        return counts

    def by_network(self) -> dict[str, tuple[float | None, int]]:
        """Centralized against decentralized networks: the plain mean of the region indices of
        each kind (each region counted once) and how many regions it rests on."""
        out: dict[str, tuple[float | None, int]] = {}
        for kind in ("centralized", "decentralized"):
            values = [line.index.value for line in self.lines if line.network_type == kind
                      and line.index is not None and line.index.value is not None]
            out[kind] = (sum(values) / len(values) if values else None, len(values))
        return out

    def moved(self, direction: str) -> list[RegionLine]:
        """The regions whose index rose ("up") or fell ("down") beyond both intervals, the
        largest change first."""
        lines = [line for line in self.lines if line.movement == direction]
        return sorted(lines, key=lambda line: -abs(line.change or 0.0))


def previous_run(run: ComputationRun) -> ComputationRun | None:
    """The current run, of the same methodology version, of the latest campaign that ended
    before this run's campaign began: what «since the previous campaign» compares with."""
    campaign = db.get_one(Campaign, run.campaign_id)
    with tenancy.federal_scope("the federal overview: the previous campaign"):
        # one query (every view of the overview asks): the earlier campaigns' current runs,
        # the latest campaign first, and of a campaign its current run (the highest id)
        return db.scalar(
            select(ComputationRun).join(Campaign, Campaign.id == ComputationRun.campaign_id)
            .where(Campaign.ends_on < campaign.starts_on,
                   ComputationRun.methodology_key == run.methodology_key,
                   *compute.shown_runs())
            .order_by(Campaign.ends_on.desc(), Campaign.id.desc(), ComputationRun.id.desc())
            .limit(1))


def _bounds(row: Shown) -> tuple[float, float] | None:
    return None if row.ci_low is None or row.ci_high is None else (row.ci_low, row.ci_high)


def movement(now: Shown | None, before: Shown | None) -> tuple[float | None, str | None]:
    """(change, how it stands against the intervals) of an index between two runs: "up" or
    "down" when the two 95% intervals do not overlap, "within" when they do, None when one
    of them has no interval (nothing to judge the change by) or an index is missing."""
    if now is None or before is None or now.value is None or before.value is None:
        return None, None
    change = now.value - before.value
    here, there = _bounds(now), _bounds(before)
    if here is None or there is None:
        return change, None
    if here[0] > there[1]:
        return change, "up"
    if here[1] < there[0]:
        return change, "down"
    return change, "within"


def add_movement(overview: FederalOverview, previous: FederalOverview) -> None:
    """Each region's index in the previous campaign, its change, and whether the change goes
    beyond the two intervals."""
    overview.previous = previous
    before = {line.region_id: line.index for line in previous.lines}
    for line in overview.lines:
        line.previous = before.get(line.region_id)
        line.change, line.movement = movement(line.index, line.previous)


def rank_ranges(intervals: dict[Any, tuple[float, float, float]]) -> dict[Any, tuple[int, int]]:
    """{key: (best, worst) place} from {key: (value, low, high)}, higher is better: a place
    is certain only against the entries whose interval does not overlap this one's. Best =
    1 + the entries surely above (their low above this high), worst = the entries not surely
    below (their high at or above this low, this one included). An entry without an interval
    is its value alone (low = high = value), so equal values share a range. Counted by
    bisection over the sorted bounds (85 regions, every page view)."""
    lows = sorted(low for _value, low, _high in intervals.values())
    highs = sorted(high for _value, _low, high in intervals.values())
    ranks = {}
    for key, (_value, low, high) in intervals.items():
        above = len(lows) - bisect.bisect_right(lows, high)  # others' low > this high
        not_below = len(highs) - bisect.bisect_left(highs, low)  # highs >= this low
        ranks[key] = (1 + above, not_below)
    return ranks


def _shown(row) -> Shown:
    return Shown(row.metric, row.respondent_type, row.value, row.ci_low, row.ci_high, row.stars,
                 row.n_valid, bool(row.insufficient), dict(row.detail or {}), row.n_positive)


_COLUMNS = (RunResult.region_id, RunResult.metric, RunResult.respondent_type, RunResult.value,
            RunResult.ci_low, RunResult.ci_high, RunResult.stars, RunResult.n_valid,
            RunResult.insufficient, RunResult.detail, RunResult.n_positive)


def federal_overview(run: ComputationRun, *, groups: bool = True) -> FederalOverview:
    """Every region of a run with its index, interval, stars, coverage, groups and rank range,
    and the federation's figures. Reads only region- and federation-level rows, in the
    federal scope (a regional user sees the published region indices and the federal
    benchmark, never another region's offices). ``groups=False``: the indices alone (what
    the movement since a previous campaign compares)."""
    campaign = db.get_one(Campaign, run.campaign_id)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(run.methodology_key)
    with tenancy.federal_scope("the federal overview: region and federation figures"):
        regions = sorted(campaign.regions, key=lambda r: r.name)
        rows = db.execute(
            select(*_COLUMNS).where(RunResult.run_id == run.id,
                                    RunResult.level.in_(("region", "federation")),
                                    RunResult.respondent_type.is_(None),
                                    (RunResult.metric == "index")
                                    | (RunResult.metric.like("group:%") if groups
                                       else RunResult.metric == "index"))
        ).all()
        network = dict(db.execute(
            select(Office.region_id, func.count()).where(Office.active.is_(True))
            .group_by(Office.region_id)).all())
        federation: dict[Key, Shown] = {}
        by_region: dict[int, dict[str, Shown]] = {}
        for row in rows:
            if row.region_id is None:
                federation[(row.metric, row.respondent_type)] = _shown(row)
            else:
                by_region.setdefault(row.region_id, {})[row.metric] = _shown(row)
        lines = [_line(region, by_region.get(region.id, {}), network.get(region.id))
                 for region in regions]
    intervals = {
        line.region_id: (line.index.value,
                         line.index.ci_low if line.index.ci_low is not None else line.index.value,
                         line.index.ci_high if line.index.ci_high is not None
                         else line.index.value)
        for line in lines if line.index is not None and line.index.value is not None
    }
    by_id = {line.region_id: line for line in lines}
    for key, rank in rank_ranges(intervals).items():
        by_id[key].rank = rank
    lines.sort(key=lambda line: (line.rank is None,
                                 -(line.index.value if line.index and line.index.value is not None
                                   else 0.0), line.name))
    return FederalOverview(run, campaign, indicator_set, federation, lines)


_FIND = object()


def federal_overview_with_movement(run: ComputationRun,
                                   before: ComputationRun | object | None = _FIND
                                   ) -> FederalOverview:
    """:func:`federal_overview`, with the movement since the previous campaign when there is
    one with published results of the same version (``before``: that run, already found)."""
    overview = federal_overview(run)
    if before is _FIND:
        before = previous_run(run)
    if isinstance(before, ComputationRun):
        add_movement(overview, federal_overview(before, groups=False))
    return overview


def _line(region, figures: dict[str, Shown], in_network: int | None) -> RegionLine:
    index = figures.get("index")
    detail = index.detail if index else {}
    return RegionLine(
        region_id=region.id, code=region.code, name=region.name,
        network_type=region.network_type, index=index,
        groups={metric.split(":", 1)[1]: shown for metric, shown in figures.items()
                if metric.startswith("group:")},
        offices_measured=detail.get("offices") if index else None,
        # as the run saw the network; a run from before it was kept: the network today
        offices_in_network=detail.get("offices_in_network", in_network),
        answers=index.n_valid if index else None,
    )


# --- the federation's own figures: every indicator, group and perspective -----------------


def federation_figures(run: ComputationRun) -> dict[Key, Shown]:
    """Every figure the run's federal job stored for the federation (level "federation"):
    per indicator, group, perspective and part, per respondent type and pooled. Rows without
    a region, read in a deliberate federal scope: the federal averages every reader may see."""
    with tenancy.federal_scope("the federation's figures"):
        rows = db.execute(select(*_COLUMNS).where(
            RunResult.run_id == run.id, RunResult.level == "federation")).all()
    return {(row.metric, row.respondent_type): _shown(row) for row in rows}


@dataclass
class FigureLine:
    """One line of the federation's table: a figure per respondent type and pooled (None)."""

    metric: str
    code: str
    title: str
    kind: str
    cells: dict[str | None, Shown | None]

    @property
    def pooled(self) -> Shown | None:
        return self.cells.get(None)


#: the columns of the federation's table: each respondent type, then pooled
PERSPECTIVES: tuple[str | None, ...] = (*RESPONDENT_TYPES, None)


def federation_lines(indicator_set, figures: dict[Key, Shown]) -> dict[str, list[FigureLine]]:
    """The federation's figures as tables: "summary" (the index, the perspectives, the
    subjective and objective parts), "groups", and "indicators" in the set's order (only
    those the run stored a figure of)."""

    def line(metric: str, code: str, title: str, kind: str = "") -> FigureLine:
        return FigureLine(metric, code, title, kind,
                          {rtype: figures.get((metric, rtype)) for rtype in PERSPECTIVES})

    summary = [line(metric, "", "", "") for metric in
               ("index", "perspective", "part:subjective", "part:objective")
               if any(key[0] == metric for key in figures)]
    groups = [line(f"group:{code}", code, title) for code, title in indicator_set.groups.items()
              if any(key[0] == f"group:{code}" for key in figures)]
    indicators = [line(f"indicator:{i.code}", i.code, i.title, i.kind)
                  for i in indicator_set.indicators
                  if any(key[0] == f"indicator:{i.code}" for key in figures)]
    return {"summary": summary, "groups": groups, "indicators": indicators}


# --- respondents against auditors: the same theme, two sides ----------------------------------

#: The platform's default rule of disagreement: a pair's subjective figure (the office's
#: respondents, pooled over their types) and its objective one (the auditors' checklist), both
#: computed on the same 0–1 scale, differ by at least this much (30 percentage points).
DISAGREEMENT_GAP = 0.3
#: float noise: 0.7 − 0.4 is 0.2999…; a gap shown as 30 points counts
_GAP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Disagreement:
    """One office's pair whose two sides disagree (see :data:`DISAGREEMENT_GAP`)."""

    region_id: int
    office_id: int
    office_code: str
    office_name: str
    subjective: str  # indicator codes
    objective: str
    subjective_value: float
    objective_value: float
    subjective_n: int | None

    @property
    def gap(self) -> float:
        return self.subjective_value - self.objective_value

    @property
    def respondents_higher(self) -> bool:
        """True: respondents rate the theme above what the auditors found."""
        return self.gap > 0


def disagreements(run: ComputationRun, region_id: int | None,
                  gap: float = DISAGREEMENT_GAP, *,
                  office_id: int | None = None) -> list[Disagreement]:
    """The offices of a region whose declared pairs (``IndicatorSet.theme_pairs``) disagree in
    the run's stored figures: both sides computed (the subjective one on enough answers) and
    at least ``gap`` apart. Read in the current scope (a region's own offices; ``region_id``
    None: every region the scope sees; ``office_id``: that office only), by office code then
    the set's order of pairs. One query: the office rows of the two sides, joined."""
    rows = db.execute(_pairs_query(
        run, region_id, Office.region_id, Office.id, Office.code, Office.name, "s.metric",
        "o.metric", "s.value", "o.value", "s.n_valid", gap=gap, office_id=office_id)
    ).all() if _pairs(run) else []
    order = {f"indicator:{p.subjective}": n for n, p in enumerate(_pairs(run))}
    found = [Disagreement(region, office_id, code, name, s_metric.split(":", 1)[1],
                          o_metric.split(":", 1)[1], s_value, o_value, n)
             for region, office_id, code, name, s_metric, o_metric, s_value, o_value, n in rows]
    return sorted(found, key=lambda d: (d.office_code, order[f"indicator:{d.subjective}"]))


def pairs_compared(run: ComputationRun, region_id: int | None, *,
                   office_id: int | None = None) -> int:
    """How many (office, pair) had both sides computed: what :func:`disagreements` looked at
    (none compared and none disagreeing are different news)."""
    if not _pairs(run):
        return 0
    return db.scalar(select(func.count()).select_from(
        _pairs_query(run, region_id, Office.id, office_id=office_id).subquery())) or 0


def _pairs(run: ComputationRun) -> list:
    return list(current_app.extensions["cci.registry"].indicator_set(
        run.methodology_key).theme_pairs)


def _pairs_query(run: ComputationRun, region_id: int | None, *columns,
                 gap: float | None = None, office_id: int | None = None):
    """The office rows of both sides of every declared pair, joined per office: both computed
    (the subjective side on enough answers), at least ``gap`` apart when given. Columns named
    "s.…"/"o.…" are those of the subjective/objective side."""
    s, o = aliased(RunResult), aliased(RunResult)
    sides = {"s": s, "o": o}
    chosen = [getattr(sides[c.split(".")[0]], c.split(".")[1]) if isinstance(c, str) else c
              for c in columns]
    query = (
        select(*chosen)
        .select_from(s)
        .join(o, and_(o.run_id == s.run_id, o.office_id == s.office_id))
        .join(Office, Office.id == s.office_id)
        .where(s.run_id == run.id, s.level == "office",
               o.level == "office", s.respondent_type.is_(None), o.respondent_type.is_(None),
               s.value.is_not(None), o.value.is_not(None), s.insufficient.is_(False),
               or_(*[and_(s.metric == f"indicator:{p.subjective}",
                          o.metric == f"indicator:{p.objective}") for p in _pairs(run)]))
    )
    if region_id is not None:
        query = query.where(s.region_id == region_id)
    if office_id is not None:
        query = query.where(s.office_id == office_id)
    if gap is not None:
        query = query.where(func.abs(s.value - o.value) >= gap - _GAP_TOLERANCE)
    return query
