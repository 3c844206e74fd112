"""The printable region report: a run's stored figures for one region on A4 — the index and
its stars, perspectives, groups, offices, indicators, coverage, and where every number comes
from — as an HTML page with print CSS and as the same page rendered to PDF by WeasyPrint.

Every table of the report is an :class:`cci.web.exports.Table` (the page shows it, the XLSX
takes it whole) and every chart sits beside the table it draws. Nothing is recomputed: the
figures are the run's rows; the counts by respondent type are summed in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask import g
from flask import render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from cci.collection import quality
from cci.collection.comment_themes import THEME_KEYS
from cci.collection.comment_themes import THEME_NAMES
from cci.foundation import jobs
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.hooks.specs import hookimpl
from cci.index import dashboards
from cci.index.comments import Counts
from cci.index.comments import comment_counts
from cci.index.reports import RegionReport
from cci.index.reports import region_report
from cci.methodology import wording
from cci.methodology.contract import RESPONDENT_TYPES
from cci.web import charts
from cci.web import exports
from cci.web.exports import Column
from cci.web.exports import Table
from cci.web.numbers import number
from cci.web.numbers import percent


def respondent_label(kind: str) -> str:
    return {"job_seeker": _("job seekers"), "employer": _("employers")}.get(kind, kind)


@dataclass
class Section:
    """A part of the report: a table, and the chart that draws it (if any)."""

    key: str  # the table's id on the page (the chart links to it)
    title: str
    table: Table
    chart: charts.Chart | None = None
    note: str = ""


@dataclass
class Coverage:
    offices_measured: int
    offices_in_network: int
    answers: int
    by_type: dict[str, int]
    excluded: quality.ExcludedCounts
    #: codes (cci.index.dashboards.coverage_warnings), said by the results/_warnings macro
    warnings: list[str] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)
    #: False for a run computed before coverage was stored with it
    recorded: bool = True


@dataclass
class PrintedReport:
    region: Region
    report: RegionReport
    coverage: Coverage
    sections: list[Section]
    provenance: list[tuple[str, Any]]  # of every table (the XLSX's sheet)
    parameters: list[tuple[str, str, bool]]  # label, value, a platform default
    facts: list[tuple[str, Any]]  # the provenance on the page (the parameters: a table)

    @property
    def run(self) -> ComputationRun:
        return self.report.run

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def workbook_tables(self) -> list[Table]:
        return [section.table for section in self.sections]


def build(run: ComputationRun, region: Region) -> PrintedReport:
    report = region_report(run, region.id)
    indicator_set = report.indicator_set
    provenance = exports.run_provenance(run, report.campaign,
                                        methodology_title=indicator_set.title,
                                        filters={"region": region.code})
    coverage = _coverage(report)
    sections = [
        _trend(report, region, provenance),
        _perspectives(report, provenance),
        _groups(report, provenance),
        _offices(report, provenance),
        _groups_by_office(report, provenance),
        _indicators(report, provenance),
        _answers_by_type(coverage, provenance),
        _excluded(coverage, provenance),
        *_comments(report, region, provenance),
    ]
    facts = exports.run_provenance(run, report.campaign,
                                   methodology_title=indicator_set.title, on_page=True)
    return PrintedReport(region, report, coverage, sections, provenance,
                         _parameters(run, indicator_set), facts)


def _parameters(run: ComputationRun, indicator_set) -> list[tuple[str, str, bool]]:
    """The parameters the run computed with (as it stored them), named and worded as the
    methodology pages word them; a platform default is marked. What the run stored beside
    them (a derived version's base and changes) is the version's own page's to tell."""
    known = indicator_set.parameters
    return [(str(known[key].label), wording.parameter_value(indicator_set, key, value),
             bool(known[key].is_default))
            for key, value in run.parameters.items() if key in known]


# --- coverage -------------------------------------------------------------------------------


def _coverage(report: RegionReport) -> Coverage:
    """What the region's index rests on, as the run stored it (cci.index.coverage), with the
    dashboards' warnings: a printed figure and the page's never disagree."""
    cov = report.coverage
    detail = report.index.detail if report.index is not None else {}
    labels = quality.rule_labels()
    excluded = sorted(cov.get("excluded", {}).items(), key=lambda item: (-item[1], item[0]))
    return Coverage(
        offices_measured=int(cov.get("offices_measured", detail.get("offices", 0)) or 0),
        offices_in_network=int(cov.get("offices_in_network",
                                       detail.get("offices_in_network", len(report.offices)))
                               or 0),
        answers=int(cov.get("responses", 0)),
        by_type={kind: int(cov.get("by_type", {}).get(kind, 0)) for kind in RESPONDENT_TYPES},
        excluded=quality.ExcludedCounts(
            [(rule, labels.get(rule, rule), int(n)) for rule, n in excluded],
            int(cov.get("excluded_total", 0)), 0),
        warnings=dashboards.coverage_warnings(cov), stored=cov, recorded=bool(cov))


# --- the sections ---------------------------------------------------------------------------


def _series(rows: list[list[Any]], label: int, value: int
            ) -> tuple[list[str], list[float | None]]:
    """A bar chart's labels and values: two columns of a section's table, in its order."""
    return [str(row[label]) for row in rows], [row[value] for row in rows]


def _percent_format(value: float) -> str:
    return percent(value)


TREND_CAMPAIGNS = 8  # the latest campaigns the trend shows


def _federal_indices(run_ids: list[int]) -> dict[int, float | None]:
    """The runs' federal indices, by run id: the benchmark beside the region's, read in a
    named scope, in one statement."""
    with tenancy.federal_scope("the region report: the federal index as benchmark"):
        return dict(db.execute(select(RunResult.run_id, RunResult.value).where(
            RunResult.run_id.in_(run_ids), RunResult.metric == "index",
            RunResult.respondent_type.is_(None), RunResult.level == "federation",
            RunResult.region_id.is_(None))).all())


def _trend(report: RegionReport, region: Region, provenance) -> Section:
    """The region's index in its campaigns up to this one, under the same methodology
    version, each from its campaign's current run (named; the dashboards' trend), beside the
    federal index."""
    points = [p for p in dashboards.trend(region.id, report.run.methodology_key)
              if p.campaign.starts_on <= report.campaign.starts_on][-TREND_CAMPAIGNS:]
    federal = _federal_indices([p.run.id for p in points])
    rows: list[list[Any]] = [[p.campaign.name, p.run.id, p.value, p.stars,
                              federal.get(p.run.id)] for p in points]
    table = Table(_("Index over the campaigns"),
                  [Column(_("Campaign"), "text"), Column(_("Run"), "int"),
                   Column(_("Region index"), "index"), Column(_("Stars"), "int"),
                   Column(_("Federal index"), "index")], rows, provenance)
    measured = [row for row in rows if row[2] is not None]
    chart = charts.lines(
        _("Index over the campaigns"), [row[0] for row in rows],
        {region.name: [row[2] for row in rows], _("Federation"): [row[4] for row in rows]},
        range_=(0, 100)) if len(measured) > 1 else None
    return Section("trend", _("Index over the campaigns"), table, chart, _(
        "Each campaign's figures come from its current run of this methodology version; a "
        "newer run of a campaign is a new series, never an edit of the old one."))


def _perspectives(report: RegionReport, provenance) -> Section:
    rows = []
    for kind in RESPONDENT_TYPES:
        figure = report.figures.get(("perspective", kind))
        rows.append([respondent_label(kind), figure.value if figure else None,
                     figure.detail.get("offices") if figure and figure.value is not None
                     else None])
    table = Table(_("Index by respondent type"),
                  [Column(_("Respondents"), "text"), Column(_("Index"), "index"),
                   Column(_("Offices measured"), "int")], rows, provenance)
    chart = charts.bars(_("Index by respondent type"), *_series(rows, 0, 1), range_=(0, 100))
    return Section("perspectives", _("Index by respondent type"), table, chart)


def _groups(report: RegionReport, provenance) -> Section:
    rows = []
    for code, title in report.indicator_set.groups.items():
        figure = report.figures.get((f"group:{code}", None))
        rows.append([f"{code}. {title}", figure.value if figure else None,
                     figure.detail.get("offices") if figure and figure.value is not None
                     else None])
    table = Table(_("Groups"),
                  [Column(_("Group"), "text"), Column(_("Share"), "share"),
                   Column(_("Offices measured"), "int")], rows, provenance)
    chart = charts.bars(_("Groups"), *_series(rows, 0, 1), value_format=_percent_format,
                        range_=(0, 1))
    return Section("groups", _("Groups"), table, chart)


def _offices(report: RegionReport, provenance) -> Section:
    rows = []
    for office in report.offices:
        index = office.index
        per_type = [office.figures.get(("perspective", kind)) for kind in RESPONDENT_TYPES]
        rows.append([
            office.rank, office.office.code, office.office.name,
            index.value if index else None, index.stars if index else None,
            *[f.value if f else None for f in per_type],
            *[office.responses.get(kind) for kind in RESPONDENT_TYPES],
            "" if office.ranked else _("not ranked: below the minimum sample"),
        ])
    columns = [Column(_("Rank"), "int"), Column(_("Code"), "text"), Column(_("Office"), "text"),
               Column(_("Index"), "index"), Column(_("Stars"), "int"),
               *[Column(_("Index: %(who)s", who=respondent_label(k)), "index")
                 for k in RESPONDENT_TYPES],
               *[Column(_("Answers: %(who)s", who=respondent_label(k)), "int")
                 for k in RESPONDENT_TYPES],
               Column(_("Note"), "text")]
    table = Table(_("Offices"), columns, rows, provenance, freeze_columns=3)
    measured = [row for row in rows if row[3] is not None]
    chart = charts.bars(_("Offices by index"), *_series(measured, 2, 3),
                        range_=(0, 100)) if measured else None
    return Section("offices", _("Offices"), table, chart,
                   _("Offices without enough answers are shown but not ranked."))


def _groups_by_office(report: RegionReport, provenance) -> Section:
    groups = list(report.indicator_set.groups)
    rows = []
    for office in report.offices:
        rows.append([office.office.code, office.office.name, *[
            (f.value if (f := office.figures.get((f"group:{code}", None))) else None)
            for code in groups]])
    columns = [Column(_("Code"), "text"), Column(_("Office"), "text"),
               *[Column(f"{code}. {title}", "share")
                 for code, title in report.indicator_set.groups.items()]]
    table = Table(_("Groups by office"), columns, rows, provenance,
                  freeze_columns=2)
    return Section("groups-by-office", _("Groups by office"), table)


def _indicators(report: RegionReport, provenance) -> Section:
    labels = _option_labels(report.indicator_set)
    rows = []
    for indicator in report.indicators():
        figure = report.figures.get((f"indicator:{indicator.code}", None))
        rows.append([
            indicator.code, indicator.title,
            figure.value if figure else None, figure.n_valid if figure else None,
            figure.ci_low if figure else None, figure.ci_high if figure else None,
            _indicator_note(indicator, figure, labels.get(indicator.code, {})),
        ])
    columns = [Column(_("Code"), "text"), Column(_("Indicator"), "text"),
               Column(_("Share"), "share"), Column(_("Answers (n)"), "int"),
               Column(_("Interval from"), "share"), Column(_("Interval to"), "share"),
               Column(_("Note"), "text")]
    table = Table(_("Indicators"), columns, rows, provenance,
                  freeze_columns=2)
    return Section("indicators", _("Indicators"), table, note=_(
        "Each share is shown with its number of valid answers (n) and its 95% Wilson "
        "interval."))


def _option_labels(indicator_set) -> dict[str, dict[str, str]]:
    """{indicator code: {option key: its words}}: a distribution reads in words, not in the
    keys the answers are stored with."""
    labels: dict[str, dict[str, str]] = {}
    for indicator in indicator_set.indicators:
        for key in indicator.items:
            try:
                item = indicator_set.item(key)
            except KeyError:
                continue
            for option in item.options or ():
                labels.setdefault(indicator.code, {})[option.key] = str(option.label)
    return labels


def _indicator_note(indicator, figure: RunResult | None, labels: dict[str, str]) -> str:
    parts = []
    if not indicator.scored:
        parts.append(_("reported, not in the index"))
    if figure is not None and figure.value is None:
        distribution = figure.detail.get("distribution")
        if distribution:
            parts.append(", ".join(f"{labels.get(option, option)}: {count}"
                                   for option, count in distribution.items() if count)
                         or _("no answers"))
        elif figure.insufficient:
            parts.append(_("insufficient data"))
        elif figure.detail.get("reason"):
            parts.append(str(figure.detail["reason"]))
    return "; ".join(parts)


def _answers_by_type(coverage: Coverage, provenance) -> Section:
    rows = [[respondent_label(kind), count] for kind, count in coverage.by_type.items()]
    table = Table(_("Answers by respondent type"),
                  [Column(_("Respondents"), "text"), Column(_("Answers"), "int")], rows,
                  provenance)
    chart = charts.bars(_("Answers by respondent type"), *_series(rows, 0, 1),
                        value_format=_whole)
    return Section("answers", _("Answers by respondent type"), table, chart)


def _whole(value: float) -> str:
    return number(value)


def _excluded(coverage: Coverage, provenance) -> Section:
    rows = [[label, count] for _key, label, count in coverage.excluded.rows]
    table = Table(_("Excluded by data-quality rules"),
                  [Column(_("Rule"), "text"), Column(_("Responses excluded"), "int")], rows,
                  provenance)
    return Section("excluded", _("Excluded by data-quality rules"), table)


def _comments(report: RegionReport, region: Region, provenance) -> list[Section]:
    """Who commented (per respondent type) and the comments' themes in the region, counted by
    the database as the comments page counts them (cci.index.comments), quality-valid
    responses only."""
    counts = comment_counts(report.campaign.id, region.id)
    region_counts = counts.regions.get(region.id, Counts())
    kinds: list[str | None] = [*RESPONDENT_TYPES, None]
    who_rows = [[respondent_label(kind) if kind else _("all respondents"),
                 region_counts.n(kind), region_counts.n_commented(kind),
                 region_counts.share(kind)] for kind in kinds]
    who = Table(_("Respondents who left a comment"),
                [Column(_("Respondents"), "text"), Column(_("Answers"), "int"),
                 Column(_("Comments"), "int"), Column(_("Share who commented"), "share")],
                who_rows, provenance, bold_rows=frozenset({len(who_rows) - 1}))
    who_chart = charts.bars(_("Respondents who left a comment"), *_series(who_rows, 0, 3),
                            value_format=_percent_format, range_=(0, 1))
    theme_rows = [[THEME_NAMES.get(key, key), region_counts.theme(key),
                   region_counts.theme_share(key)] for key in THEME_KEYS]
    themes = Table(_("Themes of the comments"),
                   [Column(_("Theme"), "text"), Column(_("Comments"), "int"),
                    Column(_("Share of the comments"), "share")], theme_rows, provenance)
    theme_chart = charts.bars(_("Comments by theme"), *_series(theme_rows, 0, 1),
                              value_format=_whole) if region_counts.n_commented() else None
    note = _("A comment may have several themes; one with none is counted as «Other». Counted "
             "over the quality-valid responses of the campaign.")
    if counts.pending:
        note += " " + ngettext(
            "%(num)d comment has no themes yet: they are found at the next computation.",
            "%(num)d comments have no themes yet: they are found at the next computation.",
            counts.pending)
    return [Section("comments", _("Respondents who left a comment"), who, who_chart),
            Section("comment-themes", _("Themes of the comments"), themes, theme_chart, note)]


# --- PDF ---------------------------------------------------------------------------------
#
# A large region's PDF takes seconds to lay out (60 offices: 3–10 s here), so it is made by a
# job with progress and kept in Redis for its run: a run's figures never change, so neither
# does its report, and the next reader gets the file at once.

PDF_JOB = "reports.region_pdf"
PDF_KEEP_SECONDS = 7 * 24 * 3600
Progress = Callable[..., None]


def pdf_key(run: ComputationRun, region_id: int) -> str:
    return f"cci:region-report-pdf:{run.id}:{run.input_fingerprint[:16]}:{region_id}"


def stored_pdf(run: ComputationRun, region_id: int) -> bytes | None:
    return current_app.extensions["cci.redis"].get(pdf_key(run, region_id))


def page(printed: PrintedReport, **context: Any) -> str:
    """The report page (``for_pdf``: without the screen's toolbar)."""
    return render_template("report/region.html", printed=printed,
                           campaign=printed.report.campaign,
                           version=printed.run.methodology_key,
                           display=exports.display, **context)


def render_pdf(run: ComputationRun, region: Region, base_url: str,
               report: Progress = lambda *_args: None) -> tuple[bytes, int]:
    """The report of a run for a region as PDF, and its number of pages (in a request
    context: templates, g.region)."""
    report(0.05, _("Reading the run's figures"))
    printed = build(run, region)
    report(0.25, _("Drawing the charts and tables"))
    html = page(printed, for_pdf=True)
    report(0.4, _("Laying out the pages"))
    document = _weasy_document(html, base_url, static_reader)
    report(0.85, _("Writing the PDF"))
    return document.write_pdf(), len(document.pages)


def pdf_job(report: Progress, run_id: int, base_url: str) -> dict:
    """The job: renders the region's report of the run and keeps it for the download."""
    scope = tenancy.current_scope()
    region = db.get(Region, scope.region_id) if scope and scope.region_id else None
    run = db.get(ComputationRun, run_id)
    if region is None or run is None or run.status != "succeeded":
        raise jobs.InputError("no published run of this region to report")
    with current_app.test_request_context("/", base_url=base_url):
        g.area, g.region = "region", region
        body, pages = render_pdf(run, region, base_url, report)
    current_app.extensions["cci.redis"].set(pdf_key(run, region.id), body,
                                            ex=PDF_KEEP_SECONDS)
    return {"run": run.id, "bytes": len(body), "lines": [ngettext(
        "The report's PDF is ready: %(num)d page.", "The report's PDF is ready: %(num)d pages.",
        pages)]}


@hookimpl
def register_jobs():
    return {PDF_JOB: pdf_job}


def _weasy_document(html: str, base_url: str, static: Callable[[str], bytes | None]):
    """WeasyPrint's laid-out document of a page. It fetches nothing from the network: the
    page's own stylesheet comes from ``static`` (a path under the static URL → its bytes),
    charts are data URIs, anything else is refused."""
    import weasyprint  # imported when used: Pango loads on the first PDF, not at start
    from weasyprint.urls import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    home = urlsplit(base_url).netloc

    class LocalOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc == home:
                body = static(parts.path)
                if body is not None:
                    return URLFetcherResponse(url, body, {"Content-Type": _mime(parts.path)})
            raise ValueError(f"not fetched for the PDF: {url}")

    return weasyprint.HTML(string=html, base_url=base_url,
                           url_fetcher=LocalOnly(allowed_protocols=("data", "http", "https"))
                           ).render()


def _mime(path: str) -> str:
    return {"css": "text/css", "svg": "image/svg+xml", "png": "image/png"}.get(
        path.rsplit(".", 1)[-1], "application/octet-stream")


def static_reader(path: str) -> bytes | None:
    """A file of the app's static folder by its URL path («/static/css/report.css»)."""
    from werkzeug.security import safe_join

    prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"
    if not path.startswith(prefix) or current_app.static_folder is None:
        return None
    found = safe_join(current_app.static_folder, path[len(prefix):])
    if found is None:
        return None
    try:
        with open(found, "rb") as handle:
            return handle.read()
    except OSError:
        return None
