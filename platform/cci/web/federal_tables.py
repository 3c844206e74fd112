"""The federal overview as a table of numbers: the same columns in the CSV and XLSX exports
(numbers as numbers; the XLSX with a formatted header, frozen panes and the run's provenance
on a sheet of its own) and the API's JSON of each region."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from cci.index.reports import FederalOverview
from cci.index.reports import RegionLine
from cci.index.reports import Shown
from cci.web import exports
from cci.web.inputs import clean_text

NETWORKS = ("centralized", "decentralized")
SORTS = ("rank", "name", "index")

def read_filters() -> dict:
    """The overview's filters from the query string; a value not offered is no filter."""
    network = request.args.get("network", "")
    stars = request.args.get("stars", type=int)
    sort = request.args.get("sort", "rank")
    return {
        "network": network if network in NETWORKS else "",
        "stars": stars if stars in (1, 2, 3, 4, 5) else None,
        "q": clean_text(request.args.get("q", ""))[:100],
        "sort": sort if sort in SORTS else "rank",
    }


def shown_lines(overview: FederalOverview, filters: dict) -> list[RegionLine]:
    """The overview's regions, filtered and sorted as asked (ranks stay the federation's):
    by rank, by name, or the lowest index first (regions without one last)."""
    lines = list(overview.lines)
    if filters["network"]:
        lines = [line for line in lines if line.network_type == filters["network"]]
    if filters["stars"]:
        lines = [line for line in lines if line.index and line.index.stars == filters["stars"]]
    if filters["q"]:
        needle = filters["q"].casefold()
        lines = [line for line in lines
                 if needle in line.name.casefold() or needle in line.code.casefold()]
    if filters["sort"] == "name":
        lines.sort(key=lambda line: line.name)
    elif filters["sort"] == "index":
        lines.sort(key=lambda line: (line.index is None or line.index.value is None,
                                     line.index.value if line.index and line.index.value
                                     is not None else 0.0, line.name))
    return lines


def columns(overview: FederalOverview) -> list[tuple[str, str]]:
    """(label, kind) of every column, in order."""
    return [
        (_("Rank"), "text"), (_("Rank from"), "int"), (_("Rank to"), "int"),
        (_("Code"), "text"), (_("Region"), "text"), (_("Network"), "text"),
        (_("Index"), "index"), (_("Stars"), "int"),
        (_("Interval from"), "index"), (_("Interval to"), "index"),
        (_("Offices measured"), "int"), (_("Offices in the network"), "int"),
        (_("Answers"), "int"),
        *[(f"{code}. {title}", "share") for code, title in overview.indicator_set.groups.items()],
        *([(_("Index before"), "index"), (_("Change of the index"), "index"),
           (_("Beyond the intervals"), "text")] if overview.previous else []),
    ]


def _value(row: Shown | None, attribute: str = "value") -> float | None:
    return None if row is None else getattr(row, attribute)


def rows(overview: FederalOverview, lines: list[RegionLine]) -> list[list[Any]]:
    """The federation first, then the regions as shown; None where there is no figure."""
    # the words of the table, translated once (not once a line)
    moved = {"up": _("rose"), "down": _("fell"), "within": _("no")}

    def _movement_label(movement: str | None) -> str:
        return moved.get(movement, "") if movement else ""

    networks = {"centralized": _("centralized"), "decentralized": _("decentralized")}

    def _network(kind: str) -> str:
        return networks.get(kind, networks["decentralized"])

    groups = list(overview.indicator_set.groups)
    federation = overview.index
    out: list[list[Any]] = [[
        "", None, None, "", _("Federation"), "",
        _value(federation), _value(federation, "stars"),
        _value(federation, "ci_low"), _value(federation, "ci_high"),
        None, None, _value(federation, "n_valid"),
        *[_value(overview.group(code)) for code in groups],
        *([_value(overview.previous.index), overview.change[0],
           _movement_label(overview.change[1])] if overview.previous else []),
    ]]
    for line in lines:
        best, worst = line.rank if line.rank else (None, None)
        out.append([
            line.rank_label if line.rank else "", best, worst, line.code, line.name,
            _network(line.network_type),
            _value(line.index), _value(line.index, "stars"),
            _value(line.index, "ci_low"), _value(line.index, "ci_high"),
            line.offices_measured, line.offices_in_network, line.answers,
            *[_value(line.groups.get(code)) for code in groups],
            *([_value(line.previous), line.change, _movement_label(line.movement)]
              if overview.previous else []),
        ])
    return out


def table(overview: FederalOverview, lines: list[RegionLine], filters: dict) -> exports.Table:
    """The table as exported: the federation's line first (in bold), the region's code and
    name kept in view beside the header."""
    run, campaign = overview.run, overview.campaign
    return exports.Table(
        title=_("Regions"),
        columns=[exports.Column(label, kind) for label, kind in columns(overview)],
        rows=rows(overview, lines),
        provenance=exports.run_provenance(run, campaign,
                                          methodology_title=overview.indicator_set.title,
                                          filters=filters),
        freeze_columns=5, bold_rows=frozenset({0}))


def export_csv(overview: FederalOverview, lines: list[RegionLine], filters: dict | None = None
               ) -> str:
    return exports.to_csv(table(overview, lines, filters or {}))


def export_xlsx(overview: FederalOverview, lines: list[RegionLine], filters: dict) -> bytes:
    return exports.to_xlsx(table(overview, lines, filters))


def figure_brief(row: Shown | None) -> dict | None:
    if row is None:
        return None
    return {"value": row.value, "stars": row.stars, "n_valid": row.n_valid,
            "ci95": [row.ci_low, row.ci_high] if row.ci_low is not None else None}


def region_json(line: RegionLine) -> dict:
    return {
        "region": line.code, "name": line.name, "network_type": line.network_type,
        "rank": {"best": line.rank[0], "worst": line.rank[1]} if line.rank else None,
        "index": figure_brief(line.index),
        "offices_measured": line.offices_measured,
        "offices_in_network": line.offices_in_network,
        "answers": line.answers,
        "groups": {code: shown.value for code, shown in sorted(line.groups.items())},
        "movement": None if line.change is None else {
            "previous": line.previous.value if line.previous else None,
            "change": line.change, "beyond_intervals": line.movement},
    }
