"""A region's respondent profiles: each profile question's distribution per office and in the
region, per respondent type (counts and shares with n), as a chart and a table."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from cci.collection.campaigns import visible_campaigns
from cci.foundation.db import db
from cci.foundation.models import Office
from cci.index.profiles import profile_distributions
from cci.web import charts
from cci.web.comment_text import profile_items
from cci.web.comment_text import respondent_type_name
from cci.web.views.areas import region_bp
from cci.web.views.comments import chosen_campaign


@region_bp.route("/profiles")
@login_required
def profiles():
    campaigns = visible_campaigns()
    if not campaigns:
        return render_template("profiles/index.html", campaigns=[], campaign=None)
    campaign = chosen_campaign(campaigns)
    indicator_set = current_app.extensions["cci.registry"].indicator_set(
        campaign.methodology_key)
    offices = db.scalars(select(Office).order_by(Office.kind.desc(), Office.code)).all()
    office_id = request.args.get("office", type=int)
    office = next((o for o in offices if o.id == office_id), None)
    if office_id is not None and office is None:
        abort(404)
    distributions = profile_distributions(campaign.id, profile_items(indicator_set),
                                          region_id=g.region.id, office_id=office_id)
    shown_offices = [office] if office else list(offices)
    figures = []
    for d in distributions:
        options = d.options()
        title = f"{d.item.for_type(d.respondent_type)} ({respondent_type_name(d.respondent_type)})"
        chart = charts.bars(
            _("%(question)s: share of respondents, per cent", question=title),
            [label for _key, label in options],
            [None if d.share(key) is None else 100 * (d.share(key) or 0)
             for key, _label in options], range_=(0, 100)) if d.answered() else None
        figures.append({"d": d, "title": title, "options": options, "chart": chart})
    return render_template(
        "profiles/index.html", campaigns=campaigns, campaign=campaign, offices=offices,
        office=office, shown_offices=shown_offices, figures=figures)
