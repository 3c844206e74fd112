"""Federal pages: every region at a glance, and the federal overview of a run's results
(also shown, as the benchmark, to a region's users: region-level figures only)."""

from __future__ import annotations

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
from cci.index.reports import FederalOverview
from cci.index.reports import RegionLine
from cci.index.reports import federal_overview
from cci.web.inputs import clean_text
from cci.web.views.areas import federal_bp
from cci.web.views.areas import region_bp
from cci.web.views.results import published_versions

NETWORKS = ("centralized", "decentralized")
SORTS = ("rank", "name", "index")


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


def read_filters() -> dict:
    network = request.args.get("network", "")
    stars = request.args.get("stars", type=int)
    sort = request.args.get("sort", "rank")
    return {
        "network": network if network in NETWORKS else "",
        "stars": stars if stars in (1, 2, 3, 4, 5) else None,
        "q": (clean_text(request.args.get("q", "")) or "")[:100],
        "sort": sort if sort in SORTS else "rank",
    }


def shown_lines(overview: FederalOverview, filters: dict) -> list[RegionLine]:
    """The overview's regions, filtered and sorted as asked (ranks stay the federation's)."""
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


def overview_context() -> dict:
    campaigns, campaign, version, versions, run = chosen_run()
    overview = federal_overview(run) if run is not None else None
    filters = read_filters()
    return {
        "campaigns": campaigns, "campaign": campaign, "version": version, "versions": versions,
        "overview": overview, "filters": filters,
        "lines": shown_lines(overview, filters) if overview else [],
        "own_region": g.region.id if g.get("area") == "region" else None,
    }
