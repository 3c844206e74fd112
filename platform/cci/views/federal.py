"""Federal pages: every region at a glance."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required
from sqlalchemy import func
from sqlalchemy import select

from cci.db import db
from cci.models import Office
from cci.models import Region
from cci.views.areas import federal_bp


@federal_bp.route("/")
@login_required
def regions():
    office_counts = (
        select(Office.region_id, func.count(Office.id).label("n"))
        .where(Office.active.is_(True))
        .group_by(Office.region_id)
        .subquery()
    )
    rows = db.execute(
        select(Region, func.coalesce(office_counts.c.n, 0))
        .outerjoin(office_counts, office_counts.c.region_id == Region.id)
        .order_by(Region.name)
    ).all()
    return render_template("federal/regions.html", rows=rows)
