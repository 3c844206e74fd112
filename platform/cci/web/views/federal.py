"""Federal pages: every region at a glance, and the federal overview of a run's results
(also shown, as the benchmark, to a region's users: region-level figures only)."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask_babel import get_locale
from flask_login import login_required

from cci.collection.campaigns import visible_campaigns
from cci.foundation.db import db
from cci.foundation.directory import regions_holding_sample_data
from cci.foundation.directory import regions_with_office_counts
from cci.foundation.models import Campaign
from cci.foundation.models import Region
from cci.index import compute
from cci.index.comparison import compare_versions
from cci.index.reports import DISAGREEMENT_GAP
from cci.index.reports import disagreements
from cci.index.reports import federal_overview_with_movement
from cci.index.reports import federation_figures
from cci.index.reports import federation_lines
from cci.index.reports import pairs_compared
from cci.index.reports import previous_run
from cci.web import compare_tables
from cci.web import exports
from cci.web import federal_charts
from cci.web import federal_tables
from cci.web import overview_cache
from cci.web.federal_tables import read_filters
from cci.web.federal_tables import shown_lines
from cci.web.moments import reader_region
from cci.web.moments import region_zone
from cci.web.version_words import indicator_words
from cci.web.version_words import parameter_words
from cci.web.views.areas import federal_bp
from cci.web.views.areas import region_bp
from cci.web.views.results import option_labels
from cci.web.views.results import published_versions


@federal_bp.route("/")
@login_required
def regions():
    context = overview_context(page=True)

    def directory() -> str:
        return render_template(
            "federal/_directory.html",
            rows=db.execute(regions_with_office_counts().order_by(Region.name)).all(),
            sample_regions=regions_holding_sample_data())

    # the directory is the same for every federal reader until a region, an office or a
    # sample campaign changes (the fingerprint of the names the overview shows covers them)
    directory_html = overview_cache.fragment(overview_cache.directory_key(
        locale=str(get_locale()), directory=context["names_fingerprint"]), directory)
    return render_template("federal/regions.html", directory_html=directory_html, **context)


@region_bp.route("/federal")
@login_required
def federal_benchmark():
    """The published region indices and the federal average, for a region's users."""
    return render_template("federal/benchmark.html", **overview_context(page=True))


@federal_bp.route("/overview.<any(csv, xlsx):fmt>")
@login_required
def overview_export(fmt: str):
    """The overview's table as shown (filters and order), as a spreadsheet."""
    return _export(fmt)


@region_bp.route("/federal.<any(csv, xlsx):fmt>")
@login_required
def federal_benchmark_export(fmt: str):
    return _export(fmt)


def _export(fmt: str) -> Response:
    context = overview_context()
    overview = context["overview"]
    if overview is None:
        abort(404)
    name = f"federal-{overview.campaign.id}-{overview.run.methodology_key}-run{overview.run.id}"
    return exports.response(
        federal_tables.table(overview, context["lines"], context["filters"]), fmt, name)


def chosen_run():
    """(campaigns, campaign, version, versions, run) from the query string: a campaign of the
    current scope and a methodology version; 404 for one that is not there."""
    campaigns = visible_campaigns()
    if not campaigns:
        return campaigns, None, None, [], None
    campaign_id = request.args.get("campaign", type=int)
    campaign: Campaign | None
    if campaign_id is None:
        # the latest campaign with published results, else the latest
        campaign = compute.latest_with_results(campaigns) or campaigns[0]
    else:
        campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    version = request.args.get("version") or campaign.methodology_key
    if version not in current_app.extensions["cci.registry"].indicator_sets:
        abort(404)
    versions = sorted(set(published_versions(campaign.id)) | {campaign.methodology_key})
    return campaigns, campaign, version, versions, compute.current_run(campaign.id, version)


def overview_context(page: bool = False) -> dict:
    """What the overview's page (``page``: the results as a rendered fragment, kept for the
    run -- see :mod:`cci.web.overview_cache`) and its exports (``overview`` and ``lines``)
    show."""
    campaigns, campaign, version, versions, run = chosen_run()
    filters = read_filters()
    context = {
        "campaigns": campaigns, "campaign": campaign, "version": version, "versions": versions,
        "filters": filters,
        "own_region": g.region.id if g.get("area") == "region" else None,
        # the table's links to itself as a spreadsheet: the same campaign, version, filters
        "export_args": {**{k: v for k, v in filters.items() if v},
                        "campaign": campaign.id, "version": version} if campaign else {},
    }
    if page:
        before = previous_run(run) if run is not None else None
        context["names_fingerprint"] = overview_cache.directory_fingerprint(
            *(run.campaign_id,) if run else (), *(before.campaign_id,) if before else ())
        context["results_html"] = (_results_fragment(run, before, context) if run is not None
                                   else None)
        return context
    overview = federal_overview_with_movement(run) if run is not None else None
    return {**context, "overview": overview,
            "lines": shown_lines(overview, context["filters"]) if overview else []}


def _results_fragment(run, before, context: dict):
    """The overview's results for the run (and ``before``, the previous campaign's), rendered
    once per key and kept: a published run never changes, so neither does what is rendered
    from it (the key and why it is enough: :mod:`cci.web.overview_cache`)."""
    regional = g.get("area") == "region"
    indicator_set = current_app.extensions["cci.registry"].indicator_set(run.methodology_key)
    key = overview_cache.fragment_key(
        run, before, filters=context["filters"], area="region" if regional else "federal",
        region_id=context["own_region"], locale=str(get_locale()),
        zone=region_zone(reader_region()).key,
        directory=context["names_fingerprint"],
        methodology=" ".join(map(str, (indicator_set.key, indicator_set.version,
                                       indicator_set.package_version))))

    def render() -> str:
        overview = federal_overview_with_movement(run, before)
        return render_template(
            "federal/_overview_results.html", **context, overview=overview,
            lines=shown_lines(overview, context["filters"]), regional=regional,
            export_endpoint=("region.federal_benchmark_export" if regional
                             else "federal.overview_export"),
            compare_endpoint="region.region_compare" if regional else "federal.compare",
            federation=federation_lines(overview.indicator_set,
                                        federation_figures(overview.run)),
            charts=federal_charts.overview_charts(overview),
            movement_lines=federal_charts.movement_lines(overview),
            option_labels=option_labels(overview.indicator_set))

    return overview_cache.fragment(key, render)


# --- two methodology versions side by side ------------------------------------------------


def compare_context() -> dict:
    """The campaign and the two versions (``a``, ``b``) from the query string: by default the
    campaign's two versions with published results, its own first."""
    campaigns, campaign, _version, _versions, _run = chosen_run()
    out: dict = {"campaigns": campaigns, "campaign": campaign, "comparison": None,
                 "versions": [], "a": None, "b": None,
                 "regional": g.get("area") == "region", "indicator_words": indicator_words,
                 "own_region": g.region.id if g.get("area") == "region" else None}
    if campaign is None:
        return out
    installed = current_app.extensions["cci.registry"].indicator_sets
    published = [v for v in published_versions(campaign.id) if v in installed]
    versions = sorted(published, key=lambda v: (v != campaign.methodology_key, v))
    a = request.args.get("a") or (versions[0] if versions else None)
    b = request.args.get("b") or next((v for v in versions if v != a), None)
    for chosen in (a, b):
        if chosen is not None and chosen not in installed:
            abort(404)
    out.update(versions=versions, a=a, b=b)
    run_a = compute.current_run(campaign.id, a) if a else None
    run_b = compute.current_run(campaign.id, b) if b else None
    if run_a is not None and run_b is not None and a != b:
        out["comparison"] = compare_versions(run_a, run_b, indicators=not out["regional"])
        out["parameter_words"] = parameter_words(out["comparison"].diff)
    return out


@federal_bp.route("/compare")
@login_required
def compare():
    return render_template("federal/compare.html", **compare_context())


@region_bp.route("/federal/compare")
@login_required
def region_compare():
    """The same, for a region's users: the table of region indices only."""
    return render_template("federal/compare.html", **compare_context())


@federal_bp.route("/compare.<any(csv, xlsx):fmt>")
@login_required
def compare_export(fmt: str):
    return _compare_export(fmt)


@region_bp.route("/federal/compare.<any(csv, xlsx):fmt>")
@login_required
def region_compare_export(fmt: str):
    return _compare_export(fmt)


def _compare_export(fmt: str) -> Response:
    context = compare_context()
    comparison = context["comparison"]
    if comparison is None:
        abort(404)
    name = (f"versions-{context['campaign'].id}-{comparison.a.run.methodology_key}"
            f"-{comparison.b.run.methodology_key}")
    if fmt == "csv":
        body: str | bytes = compare_tables.export_csv(comparison)
        mimetype = "text/csv"  # Flask adds the charset
    else:
        body = compare_tables.export_xlsx(comparison)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# --- respondents against auditors -------------------------------------------------------------


@region_bp.route("/agreement")
@login_required
def agreement():
    """The region's offices where respondents' view and the auditors' checklist of the same
    theme disagree (the rule: :data:`cci.index.reports.DISAGREEMENT_GAP`)."""
    campaigns, campaign, version, versions, run = chosen_run()
    found = disagreements(run, g.region.id) if run is not None else []
    indicator_set = current_app.extensions["cci.registry"].indicator_set(version) \
        if version else None
    by_office: dict[int, list] = {}
    for item in found:
        by_office.setdefault(item.office_id, []).append(item)
    return render_template(
        "federal/agreement.html", campaigns=campaigns, campaign=campaign, version=version,
        versions=versions, run=run, by_office=by_office, indicator_set=indicator_set,
        compared=pairs_compared(run, g.region.id) if run is not None else 0,
        gap=DISAGREEMENT_GAP)
