"""Region pages: the region, its offices, and exports."""

from __future__ import annotations

import csv
import io

from flask import Response
from flask import abort
from flask import g
from flask import render_template
from flask_login import login_required
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.directory import regions_holding_sample_data
from cci.foundation.models import Office
from cci.web.views.areas import region_bp


@region_bp.route("/")
@login_required
def home():
    # the main office first
    offices = db.scalars(select(Office).order_by(Office.kind.desc(), Office.code)).all()
    return render_template("region/home.html", region=g.region, offices=offices,
                           holds_sample=g.region.id in regions_holding_sample_data())


@region_bp.route("/offices/<int:office_id>")
@login_required
def office(office_id: int):
    item = db.get(Office, office_id)
    if item is None:
        abort(404)
    return render_template("region/office.html", region=g.region, office=item)


OFFICE_EXPORT_COLUMNS = ("code", "name", "address", "kind", "active", "is_sample")


@region_bp.route("/offices.csv")
@login_required
def offices_csv():
    offices = db.scalars(select(Office).order_by(Office.code)).all()
    buffer = io.StringIO()
    # Excel in Russian locales expects ';' and a BOM to read UTF-8 correctly.
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(OFFICE_EXPORT_COLUMNS)
    for office_row in offices:
        writer.writerow([getattr(office_row, column) for column in OFFICE_EXPORT_COLUMNS])
    filename = f"offices-{g.region.code}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
