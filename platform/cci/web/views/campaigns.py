"""Campaigns (federal): list, create, edit, their runs; and the preview of a new version."""

from __future__ import annotations

import datetime as dt

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from htmx_flask import request as htmx_request
from jinja2_fragments.flask import render_block
from sqlalchemy import func
from sqlalchemy import select
from wtforms import DateField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import Length

from cci.collection.campaigns import CampaignError
from cci.collection.campaigns import quarter
from cci.collection.campaigns import save_campaign
from cci.foundation.db import db
from cci.foundation.jobs import JobError
from cci.foundation.models import Campaign
from cci.foundation.models import ComputationRun
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.foundation.models import campaign_regions
from cci.foundation.roles import Role
from cci.index import compute
from cci.methodology import versions
from cci.web.views import found_or_404
from cci.web.views.areas import federal_bp

MANAGERS = (Role.ADMIN, Role.METHODOLOGY_OWNER)


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("Quarterly campaigns are named like «2025-Q2»."))
    methodology_key = SelectField(_l("Methodology version"), validators=[DataRequired()])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    regions = SelectMultipleField(
        _l("Regions"), validators=[DataRequired()],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput())


def _form(campaign: Campaign | None = None) -> CampaignForm:
    registry = current_app.extensions["cci.registry"]
    # only approved versions are offered; a campaign keeps the version it has
    keys = versions.offered(registry.indicator_sets)
    if campaign is not None and campaign.methodology_key not in keys:
        keys.append(campaign.methodology_key)
    if campaign is None and request.method == "GET":
        # A campaign is federal: the quarter of the moment in UTC proposes its dates.
        name, first, last = quarter(dt.datetime.now(dt.UTC).date())
        form = CampaignForm(name=name, starts_on=first, ends_on=last,
                            methodology_key=max((k for k in keys
                                                 if not registry.indicator_sets[k].derived_from),
                                                default=None))
    else:
        form = CampaignForm(obj=campaign)
        if campaign is not None and request.method == "GET":
            form.regions.data = [r.code for r in campaign.regions]
    form.methodology_key.choices = [(k, registry.indicator_sets[k].title) for k in keys
                                    if k in registry.indicator_sets]
    form.regions.choices = [(r.code, r.name)
                            for r in db.scalars(select(Region).order_by(Region.name))]
    return form


def _require_manager():
    if not current_user.has_role(*MANAGERS):
        abort(403)


def _save(form: CampaignForm, *, campaign: Campaign | None = None,
          user_id: int | None = None) -> Campaign:
    """save_campaign with a validated form's values."""
    # DataRequired passed for each
    assert (form.name.data is not None and form.starts_on.data is not None
            and form.ends_on.data is not None and form.regions.data is not None)
    return save_campaign(name=form.name.data, methodology_key=form.methodology_key.data,
                         starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                         region_codes=form.regions.data, campaign=campaign, user_id=user_id)


@federal_bp.route("/campaigns/", methods=["GET", "POST"])
@login_required
def campaigns():
    form = _form()
    if request.method == "POST":
        _require_manager()
        if form.validate_on_submit():
            try:
                campaign = _save(form, user_id=current_user.id)
            except CampaignError as exc:
                db.rollback()
                form.name.errors = [*form.name.errors, str(exc)]
            else:
                db.commit()
                flash(_("Campaign «%(name)s» created.", name=campaign.name), "success")
                return redirect(url_for("federal.campaign", campaign_id=campaign.id))
    # each campaign with its count of regions, counted in the database (not by loading them)
    regions = (select(func.count()).where(campaign_regions.c.campaign_id == Campaign.id)
               .scalar_subquery())
    listing = db.execute(select(Campaign, regions)
                         .order_by(Campaign.starts_on.desc(), Campaign.id.desc())).all()
    return render_template("campaigns/index.html", campaigns=listing, form=form,
                           can_manage=current_user.has_role(*MANAGERS)), (
        400 if form.errors else 200)


@federal_bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def campaign(campaign_id: int):
    item = found_or_404(Campaign, campaign_id)
    form = _form(item)
    if request.method == "POST":
        _require_manager()
        if form.validate_on_submit():
            try:
                _save(form, campaign=item)
            except CampaignError as exc:
                db.rollback()
                form.name.errors = [*form.name.errors, str(exc)]
            else:
                db.commit()
                flash(_("Campaign saved."), "success")
                return redirect(url_for("federal.campaign", campaign_id=item.id))
    runs = db.scalars(select(ComputationRun).where(ComputationRun.campaign_id == item.id)
                      .order_by(ComputationRun.id.desc())).all()
    context = {"campaign": item, "runs": runs, "form": form,
               "can_manage": current_user.has_role(*MANAGERS)}
    if htmx_request.htmx:
        return render_block("campaigns/detail.html", "runs", **context), 200, {"Vary": "HX-Request"}
    return render_template("campaigns/detail.html", **context), (400 if form.errors else 200), {
        "Vary": "HX-Request"}


@federal_bp.route("/campaigns/<int:campaign_id>/runs", methods=["POST"])
@login_required
def start_run(campaign_id: int):
    _require_manager()
    if db.get(Campaign, campaign_id) is None:
        abort(404)
    try:
        run, created = compute.start_run(campaign_id, user_id=current_user.id)
    except JobError:
        flash(_("The job queue is unavailable; try again in a minute."), "error")
    else:
        flash(_("Computation started.") if created
              else _("The data have not changed since run №%(id)d; its results stand.", id=run.id),
              "success" if created else "info")
    return redirect(url_for("federal.campaign", campaign_id=campaign_id))


# --- preview of a version over a past campaign --------------------------------------------


def _index_rows(
        run: ComputationRun | None) -> dict[tuple[str, int | None, int | None], float | None]:
    if run is None:
        return {}
    rows = db.execute(select(RunResult.level, RunResult.region_id, RunResult.office_id,
                             RunResult.value)
                      .where(RunResult.run_id == run.id, RunResult.metric == "index",
                             RunResult.respondent_type.is_(None)))
    return {(level, region_id, office_id): value for level, region_id, office_id, value in rows}


def _ranks(values: dict) -> dict:
    ordered = sorted((k for k, v in values.items() if v is not None), key=lambda k: -values[k])
    return {key: position for position, key in enumerate(ordered, start=1)}


def _not_computable(run: ComputationRun | None, indicator_set) -> dict[str, set[str]]:
    """Scored indicators the candidate could not compute from the campaign's data, with why."""
    if run is None:
        return {}
    scored = {f"indicator:{i.code}" for i in indicator_set.indicators if i.scored}
    reasons: dict[str, set[str]] = {}
    for metric, detail in db.execute(
        select(RunResult.metric, RunResult.detail).where(
            RunResult.run_id == run.id, RunResult.level == "office", RunResult.value.is_(None),
            RunResult.respondent_type.is_(None), RunResult.insufficient.is_(False))
    ):
        if metric in scored and detail.get("incompatible"):
            reasons.setdefault(metric.split(":", 1)[1], set()).add(detail["reason"])
    return dict(sorted(reasons.items()))


@federal_bp.route("/preview", methods=["GET", "POST"])
@login_required
def preview():
    """Compute a candidate version over a past campaign as a draft and compare it."""
    _require_manager()
    registry = current_app.extensions["cci.registry"]
    campaigns = db.scalars(
        select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())).all()
    campaign_id = (request.values.get("campaign", type=int)
                   or (campaigns[0].id if campaigns else None))
    candidate = request.values.get("candidate") or max(registry.indicator_sets, default=None)
    item = db.get(Campaign, campaign_id) if campaign_id else None
    if item is None or candidate not in registry.indicator_sets:
        return render_template("campaigns/preview.html", campaigns=campaigns, campaign=None,
                               sets=registry.indicator_sets, candidate=candidate)
    if request.method == "POST":
        try:
            compute.start_run(item.id, candidate, draft=True, user_id=current_user.id)
        except JobError:
            flash(_("The job queue is unavailable; try again in a minute."), "error")
        return redirect(url_for("federal.preview", campaign=item.id, candidate=candidate))
    base_run = compute.current_run(item.id, item.methodology_key)
    draft = db.scalar(select(ComputationRun).where(
        ComputationRun.campaign_id == item.id, ComputationRun.methodology_key == candidate,
        ComputationRun.is_draft.is_(True)).order_by(ComputationRun.id.desc()).limit(1))
    base = _index_rows(base_run)
    new = _index_rows(draft if draft and draft.status == "succeeded" else None)
    regions = {r.id: r for r in item.regions}
    region_keys = [k for k in (base.keys() | new.keys()) if k[0] == "region"]
    office_keys = [k for k in (base.keys() | new.keys()) if k[0] == "office"]
    from cci.foundation.models import Office

    offices = {o.id: o for o in db.scalars(select(Office).where(
        Office.id.in_([k[2] for k in office_keys])))} if office_keys else {}
    context = {
        "campaigns": campaigns, "campaign": item, "sets": registry.indicator_sets,
        "candidate": candidate, "base_run": base_run, "draft": draft,
        "regions": regions, "offices": offices,
        "region_rows": _compare(region_keys, base, new),
        "office_rows": _compare(office_keys, base, new),
        "not_computable": _not_computable(draft, registry.indicator_set(candidate)),
    }
    if htmx_request.htmx:
        return render_block("campaigns/preview.html", "comparison", **context), 200, {
            "Vary": "HX-Request"}
    return render_template("campaigns/preview.html", **context), 200, {"Vary": "HX-Request"}


def _compare(keys, base, new):
    base_ranks = _ranks({k: base.get(k) for k in keys})
    new_ranks = _ranks({k: new.get(k) for k in keys})
    rows = []
    for key in keys:
        a, b = base.get(key), new.get(key)
        rows.append({
            "region_id": key[1], "office_id": key[2], "base": a, "new": b,
            "delta": (b - a) if a is not None and b is not None else None,
            "base_rank": base_ranks.get(key), "new_rank": new_ranks.get(key),
        })
    return sorted(rows, key=lambda r: (r["new_rank"] or 10**6, r["base_rank"] or 10**6))
