"""The region's results page: index, stars, groups and every indicator per office."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask_login import login_required
from sqlalchemy import select

from cci.collection import quality
from cci.collection.campaigns import visible_campaigns
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.index import compute
from cci.index.reports import region_report
from cci.web.views.areas import region_bp


def published_versions(campaign_id: int) -> list[str]:
    return list(db.scalars(
        select(ComputationRun.methodology_key).distinct()
        .where(ComputationRun.campaign_id == campaign_id,
               ComputationRun.status == "succeeded", ComputationRun.is_draft.is_(False))
    ))


@region_bp.route("/results")
@login_required
def results():
    campaigns = visible_campaigns()
    if not campaigns:
        return render_template("results/region.html", campaigns=[], report=None)
    campaign_id = request.args.get("campaign", type=int) or campaigns[0].id
    campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    versions = published_versions(campaign.id)
    version = request.args.get("version") or campaign.methodology_key
    registry = current_app.extensions["cci.registry"]
    if version not in registry.indicator_sets:
        abort(404)
    run = compute.current_run(campaign.id, version)
    report = region_report(run, g.region.id) if run else None
    pending = db.scalar(
        select(ComputationRun).where(ComputationRun.campaign_id == campaign.id,
                                     ComputationRun.methodology_key == version,
                                     ComputationRun.status.in_(("queued", "running")))
        .order_by(ComputationRun.id.desc()).limit(1)
    )
    indicator_set = registry.indicator_set(version)
    return render_template(
        "results/region.html", campaigns=campaigns, campaign=campaign, version=version,
        versions=sorted(set(versions) | {campaign.methodology_key}), report=report,
        indicator_set=indicator_set, pending=pending,
        option_labels=option_labels(indicator_set),
        excluded=quality.excluded_by_rule(campaign.id, g.region.id),
    )


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
