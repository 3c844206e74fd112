"""Two methodology versions side by side on the same campaign: each region's index and rank
range under both, and per indicator what differs between the versions and the federation's
figure under each. Reads the two runs' stored region and federation rows only."""

from __future__ import annotations

from dataclasses import dataclass

from cci.index.reports import FederalOverview
from cci.index.reports import Shown
from cci.index.reports import federal_overview
from cci.index.reports import federation_figures
from cci.methodology.contract import DeclaredChange
from cci.methodology.diff import Diff
from cci.methodology.diff import IndicatorChange
from cci.methodology.diff import diff


@dataclass
class RegionVersions:
    region_id: int
    code: str
    name: str
    a: Shown | None
    b: Shown | None
    rank_a: tuple[int, int] | None
    rank_b: tuple[int, int] | None

    @property
    def difference(self) -> float | None:
        """The index under B less the index under A."""
        if self.a is None or self.b is None or self.a.value is None or self.b.value is None:
            return None
        return self.b.value - self.a.value

    @property
    def rank_change(self) -> int | None:
        """Places gained under B, by the best place of each range (positive: higher)."""
        if self.rank_a is None or self.rank_b is None:
            return None
        return self.rank_a[0] - self.rank_b[0]


@dataclass
class IndicatorVersions:
    code: str
    title: str
    kind: str
    #: "same", "changed", "added" (in B only) or "removed" (in A only)
    status: str
    change: IndicatorChange | None
    a: Shown | None  # the federation's pooled figure under each version
    b: Shown | None

    @property
    def difference(self) -> float | None:
        if self.a is None or self.b is None or self.a.value is None or self.b.value is None:
            return None
        return self.b.value - self.a.value


@dataclass
class VersionComparison:
    a: FederalOverview
    b: FederalOverview
    diff: Diff
    regions: list[RegionVersions]
    indicators: list[IndicatorVersions]

    def explained_by(self, code: str) -> list[DeclaredChange]:
        """The pilot's changes that explain an indicator's difference: those a version
        declares (``IndicatorSet.change_log``, the newer version's) naming the indicator."""
        found: dict[tuple[int, str], DeclaredChange] = {}
        for indicator_set in (self.a.indicator_set, self.b.indicator_set):
            for change in indicator_set.change_log:
                if code in change.indicators:
                    found.setdefault((change.number, change.summary), change)
        return [found[key] for key in sorted(found)]

    def general_changes(self) -> list[DeclaredChange]:
        """The declared changes that name no indicator (a formula, a threshold, the
        questionnaires): they may explain any indicator's difference."""
        found = {(c.number, c.summary): c for s in (self.a.indicator_set, self.b.indicator_set)
                 for c in s.change_log if not c.indicators}
        return [found[key] for key in sorted(found)]


def rank_label(rank: tuple[int, int] | None) -> str:
    if rank is None:
        return "—"
    return str(rank[0]) if rank[0] == rank[1] else f"{rank[0]}–{rank[1]}"


def compare_versions(run_a, run_b, *, indicators: bool = True) -> VersionComparison:
    """Runs of the same campaign under versions A and B. ``indicators=False`` leaves the
    federation's per-indicator figures out (a region's reader gets the region table only)."""
    a, b = federal_overview(run_a), federal_overview(run_b)
    under_b = {line.region_id: line for line in b.lines}
    regions = []
    for line in a.lines:  # A's order: by A's rank
        other = under_b.get(line.region_id)
        regions.append(RegionVersions(
            line.region_id, line.code, line.name, line.index, other.index if other else None,
            line.rank, other.rank if other else None))
    changes = diff(a.indicator_set, b.indicator_set)
    return VersionComparison(a, b, changes, regions,
                             _indicators(run_a, run_b, changes) if indicators else [])


def _indicators(run_a, run_b, changes: Diff) -> list[IndicatorVersions]:
    figures_a, figures_b = federation_figures(run_a), federation_figures(run_b)
    changed = {c.code: c for c in changes.changed}
    added = {i.code for i in changes.added}
    out = []
    for indicator in changes.new.indicators:
        status = ("added" if indicator.code in added else
                  "changed" if indicator.code in changed else "same")
        out.append(IndicatorVersions(
            indicator.code, indicator.title, indicator.kind, status, changed.get(indicator.code),
            figures_a.get((f"indicator:{indicator.code}", None)),
            figures_b.get((f"indicator:{indicator.code}", None))))
    for indicator in changes.removed:
        out.append(IndicatorVersions(
            indicator.code, indicator.title, indicator.kind, "removed", None,
            figures_a.get((f"indicator:{indicator.code}", None)), None))
    return out
