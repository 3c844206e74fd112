"""What the core hands a methodology set (aggregates) and what the set hands back (figures).

The core fills :class:`RegionData` from GROUP BY queries, never from individual answers;
a set returns :class:`RegionResult`, which the core stores as the run's immutable rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
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


def wilson(positive: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (95% by default)."""
    if n <= 0:
        return None, None
    p = positive / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def stars_for(index: float | None, bands: list[float] | tuple[float, ...]) -> int | None:
    """Stars for an index: bands are the thresholds of 5, 4, 3 and 2 stars, else 1."""
    if index is None:
        return None
    for stars, threshold in zip((5, 4, 3, 2), bands):
        if index >= threshold:
            return stars
    return 1


def mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
