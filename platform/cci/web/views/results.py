"""The region's results: index and stars with their trend and coverage, the offices as rows
(the metric chosen by the reader, loaded a page at a time), and an indicator's page with the
distribution of the answers behind it; the office page's results."""

from __future__ import annotations

from collections.abc import Sequence

from flask import abort
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from cci.collection import quality
from cci.collection.campaigns import visible_campaigns
from cci.collection.comment_themes import THEME_KEYS
from cci.foundation.access import may_open
from cci.foundation.db import db
from cci.foundation.models import Checklist
from cci.foundation.models import ComputationRun
from cci.foundation.models import Office
from cci.index import compute
from cci.index import dashboards
from cci.index import distributions
from cci.index.comments import comment_counts
from cci.index.distributions import NOT_SURE
from cci.index.reports import DISAGREEMENT_GAP
from cci.index.reports import disagreements
from cci.index.reports import pairs_compared
from cci.index.reports import region_report
from cci.methodology.contract import RESPONDENT_TYPES
from cci.web import charts
from cci.web import dashboard_tables
from cci.web import exports
from cci.web.comment_text import theme_name
from cci.web.numbers import number
from cci.web.views import found_or_404
from cci.web.views.areas import region_bp
from cci.web.views.checklist_photos import listings as photo_listings


def published_versions(campaign_id: int) -> list[str]:
    return list(db.scalars(
        select(ComputationRun.methodology_key).distinct()
        .where(ComputationRun.campaign_id == campaign_id,
               ComputationRun.status == "succeeded", ComputationRun.is_draft.is_(False))
    ))


def chosen(campaign_id: int | None = None):
    """(campaigns, campaign, version, versions, run) of the region's results from the query
    string; 404 for a campaign or version that is not there."""
    campaigns = visible_campaigns()
    if not campaigns:
        return campaigns, None, None, [], None
    campaign_id = campaign_id or request.args.get("campaign", type=int) or campaigns[0].id
    campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    version = request.args.get("version") or campaign.methodology_key
    if version not in current_app.extensions["cci.registry"].indicator_sets:
        abort(404)
    versions = sorted(set(published_versions(campaign.id)) | {campaign.methodology_key})
    return campaigns, campaign, version, versions, compute.current_run(campaign.id, version)


@region_bp.route("/results")
@login_required
def results():
    campaigns, campaign, version, versions, run = chosen()
    if campaign is None:
        return render_template("results/region.html", campaigns=[], report=None)
    report = region_report(run, g.region.id) if run else None
    pending = db.scalar(
        select(ComputationRun).where(ComputationRun.campaign_id == campaign.id,
                                     ComputationRun.methodology_key == version,
                                     ComputationRun.status.in_(("queued", "running")))
        .order_by(ComputationRun.id.desc()).limit(1)
    )
    indicator_set = current_app.extensions["cci.registry"].indicator_set(version)
    points = dashboards.trend(g.region.id, version) if report else []
    return render_template(
        "results/region.html", campaigns=campaigns, campaign=campaign, version=version,
        versions=versions, report=report,
        indicator_set=indicator_set, pending=pending,
        option_labels=option_labels(indicator_set),
        excluded=quality.excluded_by_rule(campaign.id, g.region.id),
        points=points, trend_chart=trend_chart(points, _("Region index by campaign")),
        trend_export=("region.results_trend_export",
                      {"campaign": campaign.id, "version": version}),
        warnings=dashboards.coverage_warnings(report.coverage) if report else [],
        rule_labels=quality.rule_labels(), channel_labels=channel_labels(),
        **offices_table(report, indicator_set),
    )


#: offices a page of the per-office table shows (the next are loaded on demand)
PER_PAGE = 25


def metric_choices(indicator_set) -> list[tuple[str, str]]:
    """What the per-office table can show: the index, a group, or an indicator."""
    return [("index", _("Index")),
            *((f"group:{code}", f"{code}. {title}")
              for code, title in indicator_set.groups.items()),
            *((f"indicator:{i.code}", f"{i.code} {i.title}") for i in indicator_set.indicators)]


def offices_table(report, indicator_set) -> dict:
    """The per-office table's context: the chosen metric and one page of offices."""
    metric = request.args.get("metric") or "index"
    choices = metric_choices(indicator_set)
    if metric not in dict(choices):
        abort(404)
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    offices = report.offices if report else []
    shown = offices[(page - 1) * PER_PAGE:page * PER_PAGE]
    return {"metric": metric, "metric_choices": choices, "table_offices": shown,
            "table_page": page, "table_more": len(offices) > page * PER_PAGE,
            "table_first": offices[(page - 1) * PER_PAGE - 1] if page > 1 and offices else None}


@region_bp.route("/results/offices")
@login_required
def results_offices():
    """The per-office table alone (htmx): another metric, or the next page of rows."""
    _campaigns, campaign, version, _versions, run = chosen()
    if run is None:
        abort(404)
    report = region_report(run, g.region.id)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(version)
    template = "results/_office_rows.html" if request.args.get("page", 1, type=int) > 1 \
        else "results/_offices.html"
    return render_template(template, report=report, campaign=campaign, version=version,
                           option_labels=option_labels(indicator_set),
                           **offices_table(report, indicator_set))


@region_bp.route("/results/indicators/<indicator>")
@login_required
def indicator(indicator: str):
    """One indicator of the region: its value, n and interval, per respondent type, and the
    distribution of the answers behind it."""
    return _indicator_page(indicator, None)


@region_bp.route("/offices/<int:office_id>/indicators/<indicator>")
@login_required
def office_indicator(office_id: int, indicator: str):
    """The same for one office of the region."""
    return _indicator_page(indicator, found_or_404(Office, office_id))


def _indicator_context(code: str, office: Office | None) -> dict:
    campaigns, campaign, version, versions, run = chosen()
    if run is None:
        abort(404)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(version)
    found = next((i for i in indicator_set.indicators if i.code == code), None)
    if found is None:
        abort(404)
    figures = dashboards.indicator_figures(run, g.region.id, code,
                                           office.id if office is not None else None)
    return {"campaigns": campaigns, "campaign": campaign, "version": version,
            "versions": versions, "run": run, "indicator": found,
            "indicator_set": indicator_set, "office": office, "figures": figures,
            "tables": distribution_tables(indicator_set, found, figures),
            "labels": option_labels(indicator_set).get(code), "types": RESPONDENT_TYPES}


def _indicator_page(code: str, office: Office | None):
    return render_template("results/indicator.html", **_indicator_context(code, office))


@region_bp.route("/results/indicators/<indicator>/answers.<any(csv, xlsx):fmt>")
@login_required
def indicator_export(indicator: str, fmt: str):
    """The answers behind one indicator of the region, as a spreadsheet."""
    return _indicator_export(indicator, None, fmt)


@region_bp.route("/offices/<int:office_id>/indicators/<indicator>/answers.<any(csv, xlsx):fmt>")
@login_required
def office_indicator_export(office_id: int, indicator: str, fmt: str):
    return _indicator_export(indicator, found_or_404(Office, office_id), fmt)


def _indicator_export(code: str, office: Office | None, fmt: str):
    context = _indicator_context(code, office)
    where = office.name if office is not None else g.region.name
    table = dashboard_tables.distribution_table(
        context["tables"], f"{code}: {where}", context["run"], context["campaign"],
        context["indicator_set"].title)
    name = f"answers-{g.region.code}-{office.code + '-' if office else ''}{code}-" \
           f"run{context['run'].id}"
    return exports.response(table, fmt, name)


@region_bp.route("/results/offices.<any(csv, xlsx):fmt>")
@login_required
def results_offices_export(fmt: str):
    """Every office of the per-office table (not only the page shown), as a spreadsheet."""
    _campaigns, campaign, version, _versions, run = chosen()
    if run is None:
        abort(404)
    report = region_report(run, g.region.id)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(version)
    metric = offices_table(report, indicator_set)["metric"]
    label = dict(metric_choices(indicator_set))[metric]
    name = f"offices-{g.region.code}-{campaign.id}-{version}-run{run.id}"
    return exports.response(
        dashboard_tables.offices_table(report, metric, label, g.region.name), fmt, name)


@region_bp.route("/results/trend.<any(csv, xlsx):fmt>")
@login_required
def results_trend_export(fmt: str):
    """The region's index by campaign, as a spreadsheet."""
    _campaigns, _campaign, version, _versions, _run = chosen()
    if version is None:
        abort(404)
    points = dashboards.trend(g.region.id, version)
    return exports.response(
        dashboard_tables.trend_table(points, _("Region index by campaign")), fmt,
        f"trend-{g.region.code}-{version}")


@region_bp.route("/offices/<int:office_id>/trend.<any(csv, xlsx):fmt>")
@login_required
def office_trend_export(office_id: int, fmt: str):
    """An office's index by campaign, as a spreadsheet."""
    office = found_or_404(Office, office_id)
    _campaigns, _campaign, version, _versions, _run = chosen()
    if version is None:
        abort(404)
    points = dashboards.trend(g.region.id, version, office.id)
    return exports.response(
        dashboard_tables.trend_table(points, _("Office index by campaign")), fmt,
        f"trend-{g.region.code}-{office.code}-{version}")


def answer_label(item, key: str) -> str:
    if key == NOT_SURE:
        return _("Hard to say")
    if item is not None and item.kind == "yesno":
        return _("Yes") if key == "1" else _("No") if key == "0" else key
    if item is not None and item.options:
        return next((str(o.label) for o in item.options if o.key == key), key)
    return key


def answer_order(item, keys) -> list[str]:
    """Scale points from the highest, options in the item's order, «hard to say» last."""
    if item is not None and item.options:
        known = [o.key for o in item.options if o.key in keys]
        return known + sorted(k for k in keys if k not in known and k != NOT_SURE) + \
            ([NOT_SURE] if NOT_SURE in keys else [])
    if item is not None and item.kind == "scale":
        numbers = [str(v) for v in range(item.scale_max, item.scale_min - 1, -1)]
        return numbers + ([NOT_SURE] if NOT_SURE in keys else [])
    return sorted((k for k in keys if k != NOT_SURE), reverse=True) + \
        ([NOT_SURE] if NOT_SURE in keys else [])


def distribution_tables(indicator_set, indicator, figures) -> list[dict]:
    """One table per item: its answers as rows, a count column per respondent type, and a
    chart of the same counts."""
    tables = []
    for key in distributions.items_of(indicator_set).get(f"indicator:{indicator.code}", ()):
        try:
            item = indicator_set.item(key)
        except KeyError:
            item = None
        present = {rtype: figures.answers.get(rtype, {}).get(key, {}) for rtype in RESPONDENT_TYPES}
        keys = {k for counts in present.values() for k in counts}
        if not keys:
            continue
        rows = [(answer_label(item, k), [present[t].get(k, 0) for t in RESPONDENT_TYPES])
                for k in answer_order(item, keys)]
        text = item.text if item is not None else {}
        title = next((text[t] for t in RESPONDENT_TYPES if t in text), key)
        series: dict[str, Sequence[float | None]] = {
            type_label(t): [counts[i] for _label, counts in rows]
                  for i, t in enumerate(RESPONDENT_TYPES) if present[t]}
        tables.append({
            "key": key, "title": title, "rows": rows,
            "totals": [sum(present[t].values()) for t in RESPONDENT_TYPES],
            "chart": charts.stacked(title, [label for label, _c in rows], series,
                                    value_format=lambda v: number(v)),
        })
    return tables


def type_label(rtype: str) -> str:
    return _("job seekers") if rtype == "job_seeker" else _("employers")


def channel_labels() -> dict[str, str]:
    """Channels by name: the installed channels' labels, and the paths in that are not
    channels (a file import, the sample data, the batch API)."""
    channels = current_app.extensions["cci.registry"].channels
    return {"import": _("file import"), "sample": _("sample data"), "api": _("API"),
            **{key: str(channel.label) for key, channel in channels.items()}}


def trend_chart(points, title: str):
    """The index across campaigns, a line per respondent type beside it; None for fewer than
    one point."""
    if not points:
        return None
    labels = [f"{p.campaign.name} (№{p.run.id})" for p in points]
    series: dict[str, Sequence[float | None]] = {_("Index"): [p.value for p in points]}
    for rtype in RESPONDENT_TYPES:
        values = [p.perspectives.get(rtype) for p in points]
        if any(v is not None for v in values):
            series[type_label(rtype)] = values
    return charts.lines(title, labels, series, range_=(0, 100))


def office_results(office: Office) -> dict:
    """The office page's results: the chosen campaign's figures of the office, its standing
    and coverage, its trend, and the checklists with the auditors' evidence."""
    campaigns, campaign, version, versions, run = chosen()
    if run is None and request.args.get("campaign") is None:
        # the latest campaign with published results
        candidate = compute.latest_with_results(campaigns)
        if candidate is not None:
            campaigns, campaign, version, versions, run = chosen(candidate.id)
    if run is None:
        return {"campaigns": campaigns, "campaign": campaign, "version": version,
                "versions": versions, "report": None, "row": None}
    report = region_report(run, g.region.id)
    indicator_set = report.indicator_set
    points = dashboards.trend(g.region.id, version, office.id)
    checklists = db.scalars(select(Checklist).where(
        Checklist.campaign_id == campaign.id,
        (Checklist.office_id == office.id) | Checklist.office_id.is_(None))).all()
    by_code = {i.code: i for i in indicator_set.indicators}
    photos = photo_listings(checklists)
    return {
        "campaigns": campaigns, "campaign": campaign, "version": version, "versions": versions,
        "report": report, "row": report.office(office.id), "indicator_set": indicator_set,
        "option_labels": option_labels(indicator_set), "points": points,
        "trend_chart": trend_chart(points, _("Office index by campaign")),
        "trend_export": ("region.office_trend_export",
                         {"office_id": office.id, "campaign": campaign.id, "version": version}),
        "checklists": [(by_code.get(c.indicator), c, photos.get(c.id, {})) for c in checklists
                       if c.indicator in by_code],
        "may_see_photos": may_open("region.checklist_photo"),
        "rule_labels": quality.rule_labels(), "channel_labels": channel_labels(),
        **office_comments(office, campaign.id),
        "disagreements": disagreements(run, g.region.id, office_id=office.id),
        "pairs_compared": pairs_compared(run, g.region.id, office_id=office.id),
        "disagreement_gap": DISAGREEMENT_GAP,
    }


def office_comments(office: Office, campaign_id: int) -> dict:
    """Who commented at the office and the comments' themes (counted as the comments page
    counts them), for those who may read the comments page."""
    if not may_open("region.comments"):
        return {"comments": None}
    counts = comment_counts(campaign_id, g.region.id, office.id).offices.get(office.id)
    return {"comments": counts, "theme_keys": THEME_KEYS, "theme_name": theme_name}


def option_labels(indicator_set) -> dict[str, dict[str, str]]:
    """{indicator code: {option key: its label}} of the choice items: a distribution is
    shown in words, not in the keys the answers are stored with."""
    labels: dict[str, dict[str, str]] = {}
    for indicator in indicator_set.indicators:
        for key in indicator.items:
            try:
                item = indicator_set.item(key)
            except KeyError:
                continue
            if item.options:
                labels.setdefault(indicator.code, {}).update(
                    {option.key: str(option.label) for option in item.options})
    return labels
