"""The region and office dashboards' tables as exports (cci.web.exports): the offices with the
metric the reader chose and what each index rests on, the index across campaigns, and the
distribution of the answers behind an indicator. The same stored figures the pages show."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from cci.index.reports import OfficeReport
from cci.index.reports import RegionReport
from cci.methodology.contract import RESPONDENT_TYPES
from cci.web import exports


def type_label(rtype: str) -> str:
    return _("job seekers") if rtype == "job_seeker" else _("employers")


def standing_label(office: OfficeReport) -> str:
    return {"comparable": _("Measured on every side: ranked together"),
            "partial": _("Partial index: ranked apart"),
            "unranked": _("Not ranked: below the minimum sample")}[office.standing]


def reason_label(code: str) -> str:
    return {"no_objective": _("no checklists: the objective part is missing"),
            "no_employer": _("employers not measured"),
            "no_job_seeker": _("job seekers not measured")}.get(code, _("partially measured"))


def _value(row, attribute: str = "value") -> Any:
    return getattr(row, attribute) if row is not None else None


def offices_table(report: RegionReport, metric: str, metric_label: str,
                  region_name: str) -> exports.Table:
    """Every office (not only the page shown), in the page's order: its rank and ranking, why
    its index is partial, the index with its interval, the chosen metric pooled (with n and
    interval) and per respondent type, and its coverage."""
    kind = "index" if metric == "index" else "share"
    chosen = [] if metric == "index" else [
        exports.Column(metric_label, kind), exports.Column(_("n"), "int"),
        exports.Column(_("Interval from"), kind), exports.Column(_("Interval to"), kind)]
    columns = [
        exports.Column(_("Rank"), "int"), exports.Column(_("Ranking")),
        exports.Column(_("Why partial")), exports.Column(_("Code")), exports.Column(_("Office")),
        exports.Column(_("Index"), "index"), exports.Column(_("Interval from"), "index"),
        exports.Column(_("Interval to"), "index"), exports.Column(_("Stars"), "int"),
        *chosen,
        *(exports.Column(f"{metric_label}: {type_label(t)}" if metric != "index"
                         else f"{_('Index')}: {type_label(t)}", kind)
          for t in RESPONDENT_TYPES),
        *(exports.Column(f"{_('Answers')}: {type_label(t)}", "int") for t in RESPONDENT_TYPES),
        exports.Column(_("Verified by a visit code"), "int"),
        exports.Column(_("Excluded by quality rules"), "int"),
        exports.Column(_("Checklists filled"), "int"),
    ]
    rows = []
    for office in report.offices:
        pooled = office.figures.get((metric, None))
        per_type = [office.figures.get(("perspective" if metric == "index" else metric, t))
                    for t in RESPONDENT_TYPES]
        coverage = office.coverage
        rows.append([
            office.rank, standing_label(office),
            "; ".join(reason_label(code) for code in office.partial) if office.ranked else None,
            office.office.code, office.office.name,
            _value(office.index), _value(office.index, "ci_low"), _value(office.index, "ci_high"),
            _value(office.index, "stars"),
            *([] if metric == "index" else [
                _value(pooled), _value(pooled, "n_valid"), _value(pooled, "ci_low"),
                _value(pooled, "ci_high")]),
            *(_value(row) for row in per_type),
            *(office.responses.get(t, 0) for t in RESPONDENT_TYPES),
            coverage.get("verified"), coverage.get("excluded_total"),
            coverage.get("checklists_filled"),
        ])
    return exports.Table(
        title=f"{region_name}: {metric_label}"[:200], columns=columns, rows=rows,
        provenance=exports.run_provenance(report.run, report.campaign,
                                          methodology_title=report.indicator_set.title,
                                          filters={"metric": metric}),
        freeze_columns=5)


def trend_table(points, title: str) -> exports.Table:
    """The index by campaign, each line naming its run (the runs' provenance is their own:
    a line per run here)."""
    columns = [
        exports.Column(_("Campaign")), exports.Column(_("Period")),
        exports.Column(_("Run"), "int"), exports.Column(_("Index"), "index"),
        exports.Column(_("Interval from"), "index"), exports.Column(_("Interval to"), "index"),
        exports.Column(_("Stars"), "int"),
        *(exports.Column(f"{_('Index')}: {type_label(t)}", "index") for t in RESPONDENT_TYPES),
        exports.Column(_("Answers"), "int"), exports.Column(_("Data fingerprint")),
    ]
    rows = [[p.campaign.name, f"{p.campaign.starts_on.isoformat()} — "
             f"{p.campaign.ends_on.isoformat()}", p.run.id, p.value, p.ci_low, p.ci_high,
             p.stars, *(p.perspectives.get(t) for t in RESPONDENT_TYPES), p.n_valid,
             p.run.input_fingerprint] for p in points]
    provenance = exports.run_provenance(points[-1].run, points[-1].campaign) if points else ()
    return exports.Table(title=title, columns=columns, rows=rows, provenance=provenance,
                         freeze_columns=1)


def distribution_table(tables: list[dict], title: str, run, campaign,
                       methodology_title: str) -> exports.Table:
    """The answers behind an indicator: a line per item and answer, a count per respondent
    type."""
    columns = [exports.Column(_("Question")), exports.Column(_("Answer option")),
               *(exports.Column(type_label(t), "int") for t in RESPONDENT_TYPES)]
    rows = [[table["title"], label, *counts] for table in tables
            for label, counts in table["rows"]]
    return exports.Table(title=title, columns=columns, rows=rows,
                         provenance=exports.run_provenance(run, campaign,
                                                           methodology_title=methodology_title),
                         freeze_columns=2)
