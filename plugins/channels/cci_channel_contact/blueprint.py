"""The console's blueprint, mounted by the core under a region: ``/r/<region_code>/contact``.

It enters the region the same way the core's region pages do: the region code in the URL,
visible to the logged-in user or 404, and the request's tenant scope set to that region. The
pages then look like any region page (``g.area == "region"``: the region's menu applies).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import g
from flask_login import current_user
from sqlalchemy import select

from cci import tenancy
from cci.access import can_see_region
from cci.access import enter_scope
from cci.db import db
from cci.models import Region

URL_PREFIX = "/r/<region_code>/contact"

bp = Blueprint("contact_center", __name__,
               template_folder=str(Path(__file__).parent / "templates"))


@bp.url_value_preprocessor
def _enter_region(_endpoint, values) -> None:
    code = (values or {}).pop("region_code", None)
    g.area = "region"
    if not current_user.is_authenticated:
        return  # login_required sends the visitor to the login page
    region = db.scalar(select(Region).where(Region.code == code)) if code else None
    # Another region's console does not exist for a regional user: 404, not 403.
    if region is None or not can_see_region(current_user, region):
        abort(404)
    g.region = region
    enter_scope(tenancy.Scope(region_id=region.id, reason=f"contact centre {region.code}"))


@bp.url_defaults
def _add_region_code(_endpoint, values) -> None:
    if "region_code" not in values and getattr(g, "region", None) is not None:
        values["region_code"] = g.region.code
