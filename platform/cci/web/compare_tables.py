"""The comparison of two methodology versions as tables of numbers (CSV and XLSX through
:mod:`cci.web.exports`, both runs' provenance on a sheet of its own), and as the API's JSON."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from cci.index.comparison import VersionComparison
from cci.index.comparison import rank_label
from cci.methodology.contract import DeclaredChange
from cci.web import exports
from cci.web import federal_tables
from cci.web.version_words import indicator_words


def region_columns(c: VersionComparison) -> list[tuple[str, str]]:
    a, b = c.a.indicator_set.title, c.b.indicator_set.title
    return [(_("Code"), "text"), (_("Region"), "text"),
            (_("Index, %(version)s", version=a), "index"),
            (_("Rank, %(version)s", version=a), "text"),
            (_("Index, %(version)s", version=b), "index"),
            (_("Rank, %(version)s", version=b), "text"),
            (_("Difference of the index"), "index"), (_("Places gained"), "int")]


def region_rows(c: VersionComparison) -> list[list[Any]]:
    return [[r.code, r.name, r.a.value if r.a else None, rank_label(r.rank_a),
             r.b.value if r.b else None, rank_label(r.rank_b), r.difference, r.rank_change]
            for r in c.regions]


def indicator_columns(c: VersionComparison) -> list[tuple[str, str]]:
    a, b = c.a.indicator_set.title, c.b.indicator_set.title
    return [(_("Indicator"), "text"), (_("Title"), "text"), (_("What differs"), "text"),
            (_("Explained by the change"), "text"),
            (_("Federation, %(version)s", version=a), "share"),
            (_("Federation, %(version)s", version=b), "share"),
            (_("Difference"), "share")]


def indicator_rows(c: VersionComparison) -> list[list[Any]]:
    return [[i.code, i.title, " ".join(indicator_words(i, c.diff)) or _("nothing"),
             "; ".join(change_label(change) for change in c.explained_by(i.code)),
             i.a.value if i.a else None, i.b.value if i.b else None, i.difference]
            for i in c.indicators]


def change_label(change: DeclaredChange) -> str:
    """«Изменение 05: …», as the methodology's register numbers the pilot's changes."""
    return _("Change %(number)s: %(summary)s", number=f"{change.number:02d}",
             summary=change.summary)


def _tables(c: VersionComparison) -> list[exports.Table]:
    def table(title: str, header: list[tuple[str, str]], rows: list[list[Any]]) -> exports.Table:
        return exports.Table(title=title, columns=[exports.Column(label, kind)
                                                   for label, kind in header],
                             rows=rows, freeze_columns=2)
    tables = [table(_("Regions"), region_columns(c), region_rows(c))]
    if c.indicators:
        tables.append(table(_("Indicators"), indicator_columns(c), indicator_rows(c)))
    return tables


def export_csv(c: VersionComparison) -> str:
    """The regions, then (for the federal reader) the indicators after an empty line."""
    return "\n".join(exports.to_csv(table).lstrip("\ufeff") if position else exports.to_csv(table)
                     for position, table in enumerate(_tables(c)))


def export_xlsx(c: VersionComparison) -> bytes:
    """A sheet per table and one provenance sheet holding both runs'."""
    provenance = [line for overview in (c.a, c.b)
                  for line in exports.run_provenance(
                      overview.run, overview.campaign,
                      methodology_title=overview.indicator_set.title)]
    return exports.to_xlsx_book(_tables(c), provenance)


def _rank(rank: tuple[int, int] | None) -> dict | None:
    return {"best": rank[0], "worst": rank[1]} if rank else None


def comparison_json(c: VersionComparison, regions) -> dict:
    return {
        "a": {"methodology": c.a.run.methodology_key, "run": c.a.run.id,
              "federal_index": federal_tables.figure_brief(c.a.index)},
        "b": {"methodology": c.b.run.methodology_key, "run": c.b.run.id,
              "federal_index": federal_tables.figure_brief(c.b.index)},
        "regions": [{"region": r.code, "name": r.name,
                     "a": federal_tables.figure_brief(r.a), "b": federal_tables.figure_brief(r.b),
                     "rank_a": _rank(r.rank_a), "rank_b": _rank(r.rank_b),
                     "difference": r.difference, "places_gained": r.rank_change}
                    for r in regions],
        "indicators": [{"code": i.code, "title": i.title, "status": i.status,
                        "differs": indicator_words(i, c.diff),
                        "changes": [{"number": change.number, "summary": change.summary}
                                    for change in c.explained_by(i.code)],
                        "a": federal_tables.figure_brief(i.a),
                        "b": federal_tables.figure_brief(i.b), "difference": i.difference}
                       for i in c.indicators],
    }
