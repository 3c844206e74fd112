"""A region's comments: who commented (shares with n), the themes per office, and the comments
themselves with search and filters, personal data masked."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cci.collection.campaigns import visible_campaigns
from cci.collection.comment_themes import THEME_KEYS
from cci.foundation import tenancy
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.index.comments import LOW_MAX
from cci.index.comments import CommentFilters
from cci.index.comments import Counts
from cci.index.comments import channels_used
from cci.index.comments import comment_counts
from cci.index.comments import comment_page
from cci.web import charts
from cci.web.comment_text import READERS
from cci.web.comment_text import channel_names
from cci.web.comment_text import masked
from cci.web.comment_text import read_filters
from cci.web.comment_text import scale_items
from cci.web.comment_text import theme_name
from cci.web.views.areas import region_bp

PER_PAGE = 20


def chosen_campaign(campaigns: list[Campaign]) -> Campaign:
    campaign_id = request.args.get("campaign", type=int) or campaigns[0].id
    campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    return campaign


def band_labels(positive_min: int) -> dict[str, str]:
    return {
        "low": _("low scores (mean up to %(n)s)", n=LOW_MAX),
        "middle": _("middle scores (mean above %(low)s, below %(high)s)", low=LOW_MAX,
                    high=positive_min),
        "high": _("high scores (mean %(n)s and above)", n=positive_min),
    }


@region_bp.route("/comments")
@roles_required(*READERS)
def comments():
    if current_user.is_federal and request.args.get("region") not in (None, "", g.region.code):
        # a federal reader picks another region: the same page there
        args: dict[str, Any] = request.args.to_dict()
        code = args.pop("region")
        args.pop("campaign", None)  # another region's campaigns differ
        with tenancy.federal_scope("pick a region"):
            if db.scalar(select(Region.id).where(Region.code == code)) is None:
                abort(404)
        return redirect(url_for("region.comments", region_code=code, **args))
    campaigns = visible_campaigns()
    if not campaigns:
        return render_template("comments/index.html", campaigns=[], campaign=None)
    campaign = chosen_campaign(campaigns)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(
        campaign.methodology_key)
    positive_min = int(indicator_set.parameter("positive_min"))
    values, invalid = read_filters(request.args)
    if invalid.pop("q", None):
        flash(_("The search does not look for names, phone numbers or e-mail addresses: "
                "they are hidden in the comments."), "error")
    if invalid:
        names = {"office": _("Office"), "respondent_type": _("Respondents"),
                 "band": _("Scores"), "theme": _("Theme"), "from": _("From"), "to": _("To")}
        flash(_("Some filters were not understood and are not applied: %(names)s.",
                names=", ".join(names.get(k, k) for k in sorted(invalid))), "error")
    offices = db.scalars(select(Office).order_by(Office.kind.desc(), Office.code)).all()
    if values.get("office_id") not in (None, *(o.id for o in offices)):
        abort(404)
    filters = CommentFilters(campaign_id=campaign.id, region_id=g.region.id,
                             timezone=g.region.timezone, **values)
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    page = comment_page(filters, scale_items=scale_items(indicator_set),
                        positive_min=positive_min, page=page_number, per_page=PER_PAGE)
    next_args: dict[str, Any] = {**request.args.to_dict(), "page": page.page + 1,
                                 "campaign": campaign.id}
    context = {
        "page": page, "filters": filters, "masked": masked, "theme_name": theme_name,
        "channels": channel_names(), "bands": band_labels(positive_min),
        "offices_by_id": {o.id: o for o in offices},
        "next_url": url_for("region.comments", **next_args),
    }
    if request.headers.get("HX-Request") and request.args.get("page"):
        return render_template("comments/_list.html", **context)  # "show more"
    counts = comment_counts(campaign.id, g.region.id, filters.office_id)
    rtype = filters.respondent_type
    shown_offices = [o for o in offices if filters.office_id in (None, o.id)]
    region_counts = counts.regions.get(g.region.id)
    share_chart = charts.bars(
        _("Share of respondents who left a comment, per cent"),
        [o.name for o in shown_offices],
        [_percent(counts.offices.get(o.id), rtype) for o in shown_offices], range_=(0, 100))
    theme_chart = charts.bars(
        _("Comments by theme, per cent of the comments"), [theme_name(k) for k in THEME_KEYS],
        [_theme_percent(region_counts, k, rtype) for k in THEME_KEYS], range_=(0, 100))
    return render_template(
        "comments/index.html", campaigns=campaigns, campaign=campaign, offices=offices,
        shown_offices=shown_offices, counts=counts, region_counts=region_counts,
        theme_keys=THEME_KEYS, share_chart=share_chart, theme_chart=theme_chart,
        channel_keys=channels_used(campaign.id, g.region.id),
        regions=_regions() if current_user.is_federal else [], **context)


def _percent(counts: Counts | None, rtype: str | None) -> float | None:
    share = counts.share(rtype) if counts else None
    return None if share is None else 100 * share


def _theme_percent(counts: Counts | None, key: str, rtype: str | None) -> float | None:
    share = counts.theme_share(key, rtype) if counts else None
    return None if share is None else 100 * share


def _regions() -> list[Region]:
    with tenancy.federal_scope("the region choice of a federal reader"):
        return list(db.scalars(select(Region).order_by(Region.name)))
