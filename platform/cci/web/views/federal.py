"""Federal pages: every region at a glance, and the federal overview of a run's results
(also shown, as the benchmark, to a region's users: region-level figures only)."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask_login import login_required

from cci.collection.campaigns import visible_campaigns
from cci.foundation.db import db
from cci.foundation.directory import regions_holding_sample_data
from cci.foundation.directory import regions_with_office_counts
from cci.foundation.models import Campaign
from cci.foundation.models import Region
from cci.index import compute
from cci.index.reports import federal_overview_with_movement
from cci.web import exports
from cci.web import federal_tables
from cci.web.federal_tables import read_filters
from cci.web.federal_tables import shown_lines
from cci.web.views.areas import federal_bp
from cci.web.views.areas import region_bp
from cci.web.views.results import published_versions


@federal_bp.route("/")
@login_required
def regions():
    rows = db.execute(regions_with_office_counts().order_by(Region.name)).all()
    return render_template("federal/regions.html", rows=rows,
                           sample_regions=regions_holding_sample_data(), **overview_context())


@region_bp.route("/federal")
@login_required
def federal_benchmark():
    """The published region indices and the federal average, for a region's users."""
    return render_template("federal/benchmark.html", **overview_context())


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
        campaign = next((c for c in campaigns
                         if compute.current_run(c.id, c.methodology_key)), campaigns[0])
    else:
        campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    version = request.args.get("version") or campaign.methodology_key
    if version not in current_app.extensions["cci.registry"].indicator_sets:
        abort(404)
    versions = sorted(set(published_versions(campaign.id)) | {campaign.methodology_key})
    return campaigns, campaign, version, versions, compute.current_run(campaign.id, version)


def overview_context() -> dict:
    campaigns, campaign, version, versions, run = chosen_run()
    overview = federal_overview_with_movement(run) if run is not None else None
    filters = read_filters()
    return {
        "campaigns": campaigns, "campaign": campaign, "version": version, "versions": versions,
        "overview": overview, "filters": filters,
        "lines": shown_lines(overview, filters) if overview else [],
        "own_region": g.region.id if g.get("area") == "region" else None,
        # the table's links to itself as a spreadsheet: the same campaign, version, filters
        "export_args": {**{k: v for k, v in filters.items() if v},
                        "campaign": campaign.id, "version": version} if campaign else {},
    }
