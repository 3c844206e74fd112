"""The auditors' checklists of a region: what is filled, and one form per indicator.

Nothing here is written per methodology version: the columns, the forms and their fields
come from the campaign's plugin set (``indicator.checklist``), and whether an indicator is
filled per office or once for the region follows the set's ``level`` and the region's network
type. The score preview is the set's own formula run over the filled checklists.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from htmx_flask import request as htmx_request
from sqlalchemy import select
from wtforms import RadioField
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs 3.2
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError

from cci.collection import recompute
from cci.collection.campaigns import visible_campaigns
from cci.collection.checklists import VIEW_ROLES
from cci.collection.checklists import can_edit
from cci.collection.photos import ACCEPT_ATTRIBUTE
from cci.collection.photos import MAX_BYTES
from cci.collection.photos import MAX_PER_PARAMETER
from cci.foundation import audit
from cci.foundation.access import roles_required
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Checklist
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import User
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.figures import OfficeData
from cci.methodology.figures import RegionData
from cci.methodology.values import NegativeNumber
from cci.methodology.values import parse_amount
from cci.web import numbers
from cci.web.views import checklist_photos
from cci.web.views.areas import region_bp

log = logging.getLogger("cci.checklists")

REGION_TARGET = "region"
EVIDENCE_MAX = 2000
YES, NO = "yes", "no"


# --- what is filled where (from the set's contract only) -----------------------------------


def fillable(indicator_set: IndicatorSet) -> list[Indicator]:
    """Objective indicators that auditors fill: those with a checklist of their own (a
    composite is computed from its components and has none)."""
    return [i for i in indicator_set.indicators
            if i.kind == "objective" and not i.components and i.checklist]


def filled_for_region(indicator: Indicator, region: Region) -> bool:
    """A network-level indicator is filled once for a centralized region, else per office."""
    return indicator.level == "network" and region.network_type == "centralized"


def _indicator_set(campaign: Campaign) -> IndicatorSet | None:
    try:
        return current_app.extensions["cci.registry"].indicator_set(campaign.methodology_key)
    except LookupError:
        return None


def _campaign(campaign_id: int | None, campaigns: list[Campaign]) -> Campaign | None:
    if campaign_id is None:
        return campaigns[0] if campaigns else None
    for campaign in campaigns:
        if campaign.id == campaign_id:
            return campaign
    abort(404)


def _offices() -> list[Office]:
    return list(db.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.code)))


# --- the table ---------------------------------------------------------------------------------


@dataclass
class Cell:
    url: str
    filled: bool
    preview: str | None = None  # the set's score, formatted
    reason: str | None = None  # why the score cannot be computed yet


@dataclass
class Row:
    label: str
    cells: list[Cell | None]  # None: not filled at this level
    is_region: bool = False


@region_bp.route("/checklists/")
@login_required
@roles_required(*VIEW_ROLES)
def checklists():
    campaigns = visible_campaigns()
    campaign = _campaign(request.args.get("campaign", type=int), campaigns)
    context: dict[str, Any] = {"campaigns": campaigns, "campaign": campaign}
    if campaign is not None:
        context.update(_table(campaign))
    partial = htmx_request.htmx and not request.headers.get("HX-History-Restore-Request")
    template = "checklists/_table.html" if partial else "checklists/index.html"
    response = current_app.make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


def _table(campaign: Campaign) -> dict[str, Any]:
    region: Region = g.region
    indicator_set = _indicator_set(campaign)
    if indicator_set is None:
        return {"indicator_set": None, "indicators": [], "rows": [], "filled": 0, "total": 0}
    indicators = fillable(indicator_set)
    offices = _offices()
    stored: dict[tuple[int | None, str], dict[str, Any]] = {
        (row.office_id, row.indicator): row.values
        for row in db.scalars(select(Checklist).where(Checklist.campaign_id == campaign.id)
                              .order_by(Checklist.id))
    }
    scores = _preview(indicator_set, campaign, region, offices, stored)

    def cell(indicator: Indicator, office_id: int | None) -> Cell:
        target = REGION_TARGET if office_id is None else str(office_id)
        url = url_for("region.checklist", campaign_id=campaign.id, target=target,
                      indicator_code=indicator.code)
        if (office_id, indicator.code) not in stored:
            return Cell(url, filled=False)
        value, reason = scores.get((office_id, indicator.code), (None, None))
        preview = numbers.number(value, 2) if value is not None else None
        return Cell(url, filled=True, preview=preview, reason=reason)

    rows = [
        Row(f"{office.code} — {office.name}",
            [None if filled_for_region(i, region) else cell(i, office.id) for i in indicators])
        for office in offices
    ]
    if any(filled_for_region(i, region) for i in indicators):
        rows.append(Row(_("Whole region"),
                        [cell(i, None) if filled_for_region(i, region) else None
                         for i in indicators], is_region=True))
    cells = [c for row in rows for c in row.cells if c is not None]
    return {"indicator_set": indicator_set, "indicators": indicators, "rows": rows,
            "filled": sum(c.filled for c in cells), "total": len(cells)}


def _preview(indicator_set: IndicatorSet, campaign: Campaign, region: Region,
             offices: list[Office], stored: dict) -> dict[tuple[int | None, str], tuple]:
    """Each filled checklist's score by the set's own formula, over the checklists alone
    (an in-memory computation of the region without answers: cheap)."""
    data = RegionData(
        region_id=region.id, code=region.code, name=region.name,
        network_type=region.network_type,
        offices=[OfficeData(o.id, o.code, o.name, o.kind,
                            checklists={code: values for (office_id, code), values
                                        in stored.items() if office_id == o.id})
                 for o in offices],
        checklists={code: values for (office_id, code), values in stored.items()
                    if office_id is None},
        source_methodology=campaign.methodology_key,
    )
    try:
        result = indicator_set.compute_region(data)
    except Exception:  # a preview must never break the page
        log.exception("checklist preview failed for campaign %s, region %s",
                      campaign.id, region.code)
        return {}
    scores: dict[tuple[int | None, str], tuple] = {}

    def collect(office_id: int | None, figures) -> None:
        for figure in figures:
            if figure.metric.startswith("indicator:") and figure.respondent_type is None:
                code = figure.metric.split(":", 1)[1]
                scores[(office_id, code)] = (figure.value, figure.reason)

    for office in result.offices:
        collect(office.office_id, office.figures)
    collect(None, result.figures)
    return scores


# --- the form ------------------------------------------------------------------------------------


class RequiredRadio(RadioField):
    """A radio group whose empty answer is reported by its required validator alone."""

    def pre_validate(self, form) -> None:
        if self.data is None or self.process_errors:
            return
        # WTForms 3.3 yields SelectChoice objects; the 3.2 stubs still say tuples.
        if not any(choice.selected for choice in self.iter_choices()):  # type: ignore[attr-defined]
            raise ValidationError(_("Choose one of the options."))


def _number_validator(form, field) -> None:
    try:
        field.number = parse_amount(field.data or "")
    except NegativeNumber:
        raise StopValidation(_("The number cannot be negative.")) from None
    except ValueError:
        raise StopValidation(_("Enter a number, e.g. 1250 or 12,5.")) from None


def _value_field(param: ChecklistParam):
    if param.kind == "number":
        return StringField(param.label, validators=[
            InputRequired(message=_l("Enter a number.")), _number_validator])
    if param.kind == "choice":
        options = [SelectChoice(o.key, o.label) for o in param.options]
        return RequiredRadio(param.label, choices=options,
                             validators=[InputRequired(message=_l("Choose one of the options."))])
    options = [SelectChoice(YES, _l("Present")), SelectChoice(NO, _l("Absent"))]
    return RequiredRadio(param.label, choices=options,
                         validators=[InputRequired(message=_l('Choose "Present" or "Absent".'))])


def form_class(indicator: Indicator) -> type[FlaskForm]:
    """A form for one indicator's checklist: a value and an evidence note per parameter."""
    fields: dict[str, Any] = {}
    for param in indicator.checklist:
        fields[f"value__{param.key}"] = _value_field(param)
        fields[f"evidence__{param.key}"] = TextAreaField(
            _l("Evidence (optional)"),
            validators=[Optional(), Length(max=EVIDENCE_MAX,
                                           message=_l("At most %(max)d characters."))],
            render_kw={"rows": 2})
    return type(f"ChecklistForm_{indicator.key}", (FlaskForm,), fields)


def checklist_form(indicator: Indicator, row: Checklist | None = None) -> FlaskForm:
    """The form of one indicator's checklist (a value and an evidence note per parameter),
    filled from the stored ``row`` on a GET; a submitted form stands alone (an evidence note
    left out is cleared). Fields are ``value__<param>`` and ``evidence__<param>``."""
    data = {}
    if row is not None and request.method != "POST":
        for param in indicator.checklist:
            data[f"value__{param.key}"] = _initial(param, row.values.get(param.key))
            data[f"evidence__{param.key}"] = row.evidence.get(param.key, "")
    return form_class(indicator)(data=data)


def _initial(param: ChecklistParam, value: Any) -> Any:
    if value is None:
        return None
    if param.kind == "bool":
        return YES if value is True or str(value).lower() in ("1", "true", "yes") else NO
    if param.kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value).replace(".", ",") if not float(value).is_integer() else str(int(value))
    return str(value)


def _cleaned(form: FlaskForm, indicator: Indicator) -> tuple[dict, dict]:
    values: dict[str, Any] = {}
    evidence: dict[str, str] = {}
    for param in indicator.checklist:
        field = form[f"value__{param.key}"]
        if param.kind == "number":
            values[param.key] = field.number
        elif param.kind == "choice":
            values[param.key] = field.data
        else:
            values[param.key] = field.data == YES
        note = (form[f"evidence__{param.key}"].data or "").strip()
        if note:
            evidence[param.key] = note
    return values, evidence


@dataclass
class Target:
    campaign: Campaign
    indicator_set: IndicatorSet
    indicator: Indicator
    office: Office | None  # None: the region's own checklist

    @property
    def office_id(self) -> int | None:
        return None if self.office is None else self.office.id


def _resolve(campaign_id: int, target: str, indicator_code: str) -> Target:
    """The campaign, indicator and office of a form URL, or 404 for anything that is not one
    of this region's checklists at the level the set and the network say."""
    campaign = _campaign(campaign_id, visible_campaigns())
    if campaign is None:
        abort(404)
    indicator_set = _indicator_set(campaign)
    if indicator_set is None:
        abort(404)
    indicator = next((i for i in fillable(indicator_set) if i.code == indicator_code), None)
    if indicator is None:
        abort(404)
    at_region = filled_for_region(indicator, g.region)
    if target == REGION_TARGET:
        if not at_region:
            abort(404)
        return Target(campaign, indicator_set, indicator, None)
    # an office's id, within the database's INTEGER (past it, PostgreSQL fails on the query)
    if at_region or not re.fullmatch(r"[0-9]{1,10}", target) or int(target) > ID_MAX:
        abort(404)
    office = db.get(Office, int(target))  # another region's office: None (tenant scope)
    if office is None or not office.active:
        abort(404)
    return Target(campaign, indicator_set, indicator, office)


def _stored(target: Target) -> Checklist | None:
    office_filter = (Checklist.office_id.is_(None) if target.office is None
                     else Checklist.office_id == target.office.id)
    return db.scalar(select(Checklist).where(
        Checklist.campaign_id == target.campaign.id,
        Checklist.indicator == target.indicator.code, office_filter,
    ).order_by(Checklist.id).limit(1))


@region_bp.route("/checklists/<int:campaign_id>/<target>/<indicator_code>",
                 methods=["GET", "POST"])
@login_required
@roles_required(*VIEW_ROLES)
def checklist(campaign_id: int, target: str, indicator_code: str):
    where = _resolve(campaign_id, target, indicator_code)
    editable = can_edit(current_user, where.office_id)
    if request.method == "POST" and not editable:
        abort(403)
    row = _stored(where)
    indicator = where.indicator
    form = checklist_form(indicator, row)
    status = 200
    photo_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        prepared, photo_errors = checklist_photos.read_uploads(indicator, row)
        if not photo_errors:  # nothing is saved while a photo is refused
            values, evidence = _cleaned(form, indicator)
            saved = _save(where, row, values, evidence, prepared)
            if saved:
                flash(_("Checklist saved."), "success")
            else:
                flash(_("Nothing changed."), "success")
            return redirect(url_for("region.checklists", campaign=where.campaign.id))
    if request.method == "POST":
        status = 400
    params = [(param, form[f"value__{param.key}"], form[f"evidence__{param.key}"])
              for param in indicator.checklist]
    auditor = db.get(User, row.auditor_id) if row is not None and row.auditor_id else None
    return render_template(
        "checklists/form.html", form=form, where=where, params=params, row=row,
        auditor=auditor, editable=editable, photos=checklist_photos.listing(row),
        photo_errors=photo_errors, photo_field=checklist_photos.field_name,
        photo_accept=ACCEPT_ATTRIBUTE, photo_limits=(MAX_BYTES // (1024 * 1024),
                                                     MAX_PER_PARAMETER),
        target_label=_("Whole region") if where.office is None
        else f"{where.office.code} — {where.office.name}",
    ), status


CHECKLIST_FIELDS = ("campaign_id", "office_id", "indicator")


def _save(where: Target, row: Checklist | None, values: dict, evidence: dict,
          photos: dict) -> bool:
    """Upsert the checklist with its new photos, audit it and schedule a recompute; False
    when nothing changed."""
    # One writer per region at a time: the region's own checklist (office NULL) is not kept
    # unique by the database, so concurrent first saves must not both insert.
    db.execute(select(Region.id).where(Region.id == g.region.id).with_for_update())
    row = _stored(where) or row
    if row is not None and row.values == values and row.evidence == evidence:
        if not photos:
            return False
        checklist_photos.attach(row, photos)  # evidence only: the figures do not change
        db.commit()
        return True
    before = None
    if row is None:
        row = Checklist(campaign_id=where.campaign.id, office_id=where.office_id,
                        indicator=where.indicator.code)
        db.add(row)
    else:
        before = {**audit.snapshot(row, CHECKLIST_FIELDS),
                  "values": dict(row.values), "evidence": dict(row.evidence)}
    row.values = values
    row.evidence = evidence
    row.auditor_id = current_user.id
    db.flush()
    after = {**audit.snapshot(row, CHECKLIST_FIELDS), "values": values, "evidence": evidence}
    audit.record("checklist.update" if before else "checklist.create", row,
                 before=before, after=after)
    checklist_photos.attach(row, photos)
    db.commit()
    if not recompute.follow([where.campaign.id]):
        flash(_("The index will be recalculated later: the job queue is unavailable now."),
              "error")
    return True
