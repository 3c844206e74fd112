"""What the core hands a methodology set (aggregates) and what the set hands back (figures).

The core fills :class:`RegionData` from GROUP BY queries, never from individual answers;
a set returns :class:`RegionResult`, which the core stores as the run's immutable rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class ItemCounts:
    """Aggregates of one item in one office for one respondent type."""

    n_valid: int = 0  # answers with a value; «Затрудняюсь ответить» is not counted
    n_high: int = 0  # scale answers >= the set's positive_min
    n_yes: int = 0  # yes/no answers that are «Да»
    choices: Mapping[str, int] = field(default_factory=dict)  # choice items: option -> count


@dataclass
class OfficeData:
    office_id: int
    code: str
    name: str
    kind: str
    #: (respondent_type, item key) -> counts
    answers: dict[tuple[str, str], ItemCounts] = field(default_factory=dict)
    #: indicator code -> checklist values filled for this office
    checklists: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: respondent_type -> number of counted responses
    responses: dict[str, int] = field(default_factory=dict)

    def counts(self, respondent_type: str, item: str) -> ItemCounts:
        return self.answers.get((respondent_type, item), ItemCounts())


@dataclass
class RegionData:
    region_id: int
    code: str
    name: str
    network_type: str
    offices: list[OfficeData]
    #: indicator code -> checklist values filled once for the whole region
    checklists: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the methodology version the campaign collected its data with
    source_methodology: str = ""


@dataclass
class Figure:
    """One figure: an indicator, group, perspective or index value with its evidence."""

    metric: str
    value: float | None
    respondent_type: str | None = None
    n_valid: int | None = None
    n_positive: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    insufficient: bool = False
    #: why the figure could not be computed (shown to people), None when it was
    reason: str | None = None
    stars: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class OfficeResult:
    office_id: int
    figures: list[Figure]
    index: float | None
    stars: int | None
    #: offices below the minimum sample are shown but not ranked
    ranked: bool


@dataclass
class RegionResult:
    region_id: int
    offices: list[OfficeResult]
    figures: list[Figure]
    index: float | None
    stars: int | None


@dataclass
class FederalResult:
    index: float | None
    stars: int | None
    regions_counted: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureAggregate:
    """One region-level figure (metric, respondent type) of a run summed over the regions in
    the database: what the federation's figure of it is computed from (no row is read one by
    one). Sums are over the regions where the figure has a value."""

    metric: str
    respondent_type: str | None
    regions: int  # regions with a value
    value_sum: float = 0.0
    value_squares: float = 0.0  # Σ value², for the spread of the regions' values
    n_valid: int | None = None  # Σ n over the regions with a value (None: no region has an n)
    n_positive: int | None = None  # Σ positive answers, when every region with a value has it
    #: shares (region figures with an interval): Σ over those regions of their share adjusted
    #: as :func:`mean_interval` does, Σ of its variance term, and Σ of their effective n
    share_regions: int = 0
    share_adjusted_sum: float = 0.0
    share_variance_sum: float = 0.0
    share_n_sum: float = 0.0


@dataclass
class FederalData:
    """What the federal roll-up hands a methodology set: every region's index (as
    :class:`RegionResult` without offices) and every region figure aggregated in the database."""

    regions: list[RegionResult]
    figures: list[FigureAggregate]


def interval_of_shares(aggregate: FigureAggregate, value: float,
                       z: float = Z_95) -> tuple[float | None, float | None, float | None]:
    """:func:`mean_interval` of the regions' shares, from the database's sums: (low, high,
    effective n); None when no region's figure is a share with an n."""
    k = aggregate.share_regions
    if k == 0 or aggregate.share_variance_sum <= 0:
        return None, None, None
    centre = aggregate.share_adjusted_sum / k
    variance = aggregate.share_variance_sum / (k * k)
    n_effective = min(aggregate.share_n_sum, centre * (1 - centre) / variance)
    low, high = _wilson_at(value, n_effective, z)
    return low, high, n_effective


#: Student's t, 97.5th percentile, by degrees of freedom (1–30); beyond, the normal's z
_T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
          2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
          2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_975(degrees: int) -> float:
    return _T_975[degrees - 1] if degrees <= len(_T_975) else Z_95


def spread_interval(count: int, total: float, squares: float, *, low: float = 0.0,
                    high: float = 100.0) -> tuple[float | None, float | None]:
    """The 95% interval of a plain mean of ``count`` values from their sum and sum of squares
    (Student's t, the sample's standard deviation), kept within [low, high]; None for fewer
    than two values (one value has no spread to measure)."""
    if count < 2:
        return None, None
    centre = total / count
    variance = max(0.0, (squares - count * centre * centre) / (count - 1))
    half = t_975(count - 1) * math.sqrt(variance / count)
    return max(low, centre - half), min(high, centre + half)


def wilson(positive: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (95% by default)."""
    if n <= 0:
        return None, None
    return _wilson_at(positive / n, n, z)


def _wilson_at(p: float, n: float, z: float) -> tuple[float, float]:
    # n need not be whole: the effective sample size of a mean of shares (mean_interval)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def effective_n(figure: Figure) -> float | None:
    """The sample size a share figure's interval rests on: its n, or the effective n of a
    mean of shares (:func:`mean_interval`)."""
    return figure.detail.get("n_effective", figure.n_valid)


def mean_interval(parts: Sequence[tuple[float | None, float | None]], *,
                  same_people: bool = False,
                  z: float = Z_95) -> tuple[float | None, float | None, float | None]:
    """The interval of an unweighted mean of shares, each part ``(share, n)``: (low, high,
    effective n). A mean over respondent types or offices is not one proportion, so the
    pooled count's interval would not describe it (1 of 1 and 0 of 100 average to 0.5, and
    101 answers' interval lies near 0.01). Instead the mean's variance is the sum of its
    parts' (each part's share adjusted as Agresti and Coull do, so a share of 0 or 1 still
    varies), and Wilson's interval is taken at the sample size one proportion would need for
    that variance (the effective n, as for a stratified survey estimate; Korn and Graubard).
    That n is at most the answers counted (``same_people``: parts answered by the same
    respondents, e.g. the four information items, at most the largest part's n). With one
    part this is Wilson's interval of that share. A part without a share or an n (the n of
    a figure that has none) is left out."""
    present = [(share, n) for share, n in parts if share is not None and n and n > 0]
    if not present:
        return None, None, None
    k = len(present)
    z2 = z * z
    adjusted = [((share * n + z2 / 2) / (n + z2), n) for share, n in present]
    variance = sum(a * (1 - a) / n for a, n in adjusted) / (k * k)
    centre = sum(a for a, _ in adjusted) / k
    cap = max(n for _, n in present) if same_people else sum(n for _, n in present)
    n_effective = min(cap, centre * (1 - centre) / variance)
    value = sum(share for share, _ in present) / k
    low, high = _wilson_at(value, n_effective, z)
    return low, high, n_effective


#: An index is shown (pages, exports of figures for people) to this many decimals.
INDEX_DECIMALS = 1


def stars_for(index: float | None, bands: list[float] | tuple[float, ...]) -> int | None:
    """Stars for an index: bands are the thresholds of 5, 4, 3 and 2 stars, else 1. They are
    the stars of the index as shown, to :data:`INDEX_DECIMALS`: 89.96 is shown as 90.0, and
    90.0 with four stars would contradict the bands people read."""
    if index is None:
        return None
    # compared exactly, as decimals: the index as shown against the band as written
    shown = Decimal(str(round(index, INDEX_DECIMALS) + 0.0))
    # a version may set fewer bands: below the last one given, an office has 1 star
    for stars, threshold in zip((5, 4, 3, 2), bands, strict=False):
        if shown >= Decimal(str(threshold)):
            return stars
    return 1


def mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
