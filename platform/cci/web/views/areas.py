"""The two areas of the site: a region (/r/<code>/…) and the federation (/federal/…).

Entering an area sets the request's tenant scope; pages shared by both areas (users, audit,
jobs) are blueprints nested in each, and link within their area through :func:`area_url`.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.access import can_see_region
from cci.foundation.access import enter_scope
from cci.foundation.db import db
from cci.foundation.models import Region


def _enter_region(_endpoint, values) -> None:
    code = (values or {}).pop("region_code", None)
    g.area = "region"
    if not current_user.is_authenticated:
        # Decided here, once, for every page of the area (a channel's staff page without
        # login_required included): a visitor goes to the login page and comes back.
        abort(current_app.login_manager.unauthorized())  # type: ignore[attr-defined]
    region = db.scalar(select(Region).where(Region.code == code)) if code else None
    # Another region's pages do not exist for a regional user: 404, not 403.
    if region is None or not can_see_region(current_user, region):
        abort(404)
    g.region = region
    enter_scope(tenancy.Scope(region_id=region.id, reason=f"region page {region.code}"))


def _add_region_code(_endpoint, values) -> None:
    if "region_code" not in values and getattr(g, "region", None) is not None:
        values["region_code"] = g.region.code


def region_area_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint whose routes take ``<region_code>`` and run in that region's scope, with
    the same access rule as the core's region pages: an anonymous visitor is sent to the login
    page, a user who may not see the region gets 404. Channel plugins mount their staff pages
    with it under ``/r/<region_code>/…`` and check roles with ``roles_required``."""
    blueprint = Blueprint(name, import_name, **kwargs)
    blueprint.url_value_preprocessor(_enter_region)
    blueprint.url_defaults(_add_region_code)
    return blueprint


region_bp = region_area_blueprint("region", __name__, url_prefix="/r/<region_code>")
federal_bp = Blueprint("federal", __name__, url_prefix="/federal")


@federal_bp.url_value_preprocessor
def _enter_federal(_endpoint, _values) -> None:
    g.area = "federal"
    if current_user.is_authenticated:
        if not current_user.is_federal:
            abort(404)
        enter_scope(tenancy.Scope(region_id=None, reason=f"federal page, user {current_user.id}"))


def area_url(endpoint: str, **values) -> str:
    """url_for within the current area: ``area_url("admin.users")``."""
    return url_for(f"{g.get('area', 'federal')}.{endpoint}", **values)
