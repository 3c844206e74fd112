"""Federal pages: every region at a glance."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from cci.foundation.db import db
from cci.foundation.directory import regions_holding_sample_data
from cci.foundation.directory import regions_with_office_counts
from cci.foundation.models import Region
from cci.web.views.areas import federal_bp


@federal_bp.route("/")
@login_required
def regions():
    rows = db.execute(regions_with_office_counts().order_by(Region.name)).all()
    return render_template("federal/regions.html", rows=rows,
                           sample_regions=regions_holding_sample_data())
