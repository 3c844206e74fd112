"""Customer journey maps: a region's maps and the templates it adopts; the federal templates,
every region's maps and where they depart from the template. The grid is edited in place
(htmx) while a version is a draft; XLSX and PDF exports of any version. A region's or
office's map shows its figures (cci.index.map_figures); every map has a stage × touchpoint
heat map of one metric, across the region's offices or, federal, across regions."""

from __future__ import annotations

import datetime as dt

from flask import Response
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from htmx_flask import request as htmx_request
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.comment_themes import THEME_NAMES
from cci.foundation import improvement_actions
from cci.foundation import journey_maps
from cci.foundation.access import may_open
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import JourneyMapVersion
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.roles import Role
from cci.index import cx_compute
from cci.index import cx_reports
from cci.index import map_figures
from cci.methodology.cx import CxMetric
from cci.web import exports
from cci.web import map_exports
from cci.web.moments import region_zone
from cci.web.views import found_or_404
from cci.web.views.areas import federal_bp
from cci.web.views.areas import region_bp

#: who changes a region's maps (and its offices')
REGION_EDITORS = (Role.ADMIN, Role.REGIONAL_ADMIN)
#: who changes the federal templates
TEMPLATE_EDITORS = (Role.ADMIN, Role.METHODOLOGY_OWNER)
#: who reads every region's maps and the departures from the template
FEDERAL_READERS = (Role.ADMIN, Role.FEDERAL_ANALYST, Role.METHODOLOGY_OWNER)

EDIT_FIELDS = ("stage", "touchpoint", "row", "index", "delta", "title", "citizen_goal", "code",
               "text")


def _version(journey_map: JourneyMap) -> JourneyMapVersion:
    """The version asked for (``?version=N``), or the draft, or the newest published one."""
    versions = journey_maps.versions_of(journey_map)
    if not versions:
        abort(404)
    number = request.args.get("version", type=int)
    if number is None:
        return journey_maps.draft_of(journey_map) or versions[-1]
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        abort(404)
    return found


def _urls(area: str, journey_map: JourneyMap, version: JourneyMapVersion) -> dict[str, str]:
    map_id = journey_map.id
    return {
        "page": url_for(f"{area}.map_detail", map_id=map_id),
        "edit": url_for(f"{area}.map_edit", map_id=map_id),
        "draft": url_for(f"{area}.map_draft", map_id=map_id),
        "publish": url_for(f"{area}.map_publish", map_id=map_id),
        "xlsx": url_for(f"{area}.map_xlsx", version=version.number, map_id=map_id),
        "pdf": url_for(f"{area}.map_pdf", version=version.number, map_id=map_id),
    }


def _grid_context(area: str, journey_map: JourneyMap, version: JourneyMapVersion,
                  may_edit: bool, error: str | None = None) -> dict:
    _base, base_content = journey_maps.version_content(version.based_on_id)
    # the region's date, as the actions' own pages count their days overdue
    today = dt.datetime.now(region_zone(g.get("region"))).date()
    return {
        "m": journey_map, "version": version, "content": version.content,
        "versions": journey_maps.versions_of(journey_map),
        "editable": may_edit and version.status == "draft", "may_edit": may_edit,
        "urls": _urls(area, journey_map, version), "rows": journey_maps.ROWS,
        "touchpoint_choices": journey_maps.TOUCHPOINTS, "metric_choices": cx_reports.map_metrics(),
        "departures": (journey_maps.departures(base_content, version.content)
                       if base_content else None),
        "may_act": area == "region" and may_open("region.action_new"),
        "barrier_actions": _barrier_actions(journey_map) if area == "region" else {},
        "action_labels": improvement_actions.STATUS_LABELS,
        "open_action_statuses": improvement_actions.OPEN_STATUSES,
        "days_overdue": lambda action: improvement_actions.days_overdue(action, today),
        "error": error,
        "figs": figures(journey_map),
        "heat_url": url_for(f"{area}.map_heat", map_id=journey_map.id),
    }


def figures(journey_map: JourneyMap) -> dict | None:
    """What the grid shows beside its metrics for the map's scope (an office, or the region):
    the current CX run's cells, the index indicators each touchpoint feeds, the themes of
    touchpoint comments and complaints over the run's period; None for a federal template."""
    scope = map_figures.scope_of(journey_map)
    if scope is None:
        return None
    region = db.get(Region, scope.region_id)
    assert region is not None
    run, cells = map_figures.metric_cells(scope)

    def trend_url(metric: str, touchpoint: str) -> str:
        return url_for("region.cx_trend", region_code=region.code, metric_code=metric,
                       touchpoint=touchpoint, office=scope.office_id)

    return {
        "run": run, "cells": cells, "metrics": cx_reports.installed(),
        "period_last": run.period_end - dt.timedelta(days=1) if run is not None else None,
        "links": map_figures.indicator_links(scope),
        "themes": (map_figures.theme_counts(scope, run.period_start, run.period_end)
                   if run is not None else {}),
        "theme_names": THEME_NAMES, "trend_url": trend_url,
        "scope": {"region_code": region.code, "office_id": scope.office_id},
    }


def _barrier_actions(journey_map: JourneyMap) -> dict[tuple[str, str, str], list]:
    """The actions made of the map's barriers, by (stage, touchpoint, barrier text): the map
    shows which barriers are being worked on, in any of its versions."""
    found: dict[tuple[str, str, str], list] = {}
    rows = db.scalars(select(ImprovementAction).join(JourneyMapVersion).where(
        JourneyMapVersion.map_id == journey_map.id).order_by(ImprovementAction.id))
    for action in rows:
        key = (action.stage_key, action.touchpoint_code, action.barrier)
        found.setdefault(key, []).append(action)
    return found


def _grid_page(area: str, journey_map: JourneyMap, may_edit: bool):
    version = _version(journey_map)
    return render_template("maps/map.html", region=g.get("region"),
                           **_grid_context(area, journey_map, version, may_edit))


def _edit(area: str, journey_map: JourneyMap):
    version = journey_maps.draft_of(journey_map)
    error = None
    if version is None:
        error = _("A published version never changes; start a new draft to change the map.")
        version = journey_maps.latest_published(journey_map)
        assert version is not None
    else:
        params = {name: request.form.get(name) for name in EDIT_FIELDS}
        try:
            said = journey_maps.edit(version, request.form.get("op", ""), params, current_user,
                                     cx_reports.map_metrics())
        except journey_maps.MapError as exc:
            db.rollback()
            error = str(exc)
        else:
            db.commit()
            if not htmx_request.htmx:
                flash(said[:1].upper() + said[1:] + ".", "success")
    if htmx_request.htmx:
        return render_template("maps/_grid.html", **_grid_context(
            area, journey_map, version, True, error)), 200 if error is None else 422
    if error:
        flash(error, "error")
    return redirect(url_for(f"{area}.map_detail", map_id=journey_map.id))


def _new_draft(area: str, journey_map: JourneyMap):
    try:
        version = journey_maps.new_draft(journey_map, current_user)
    except journey_maps.MapError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for(f"{area}.map_detail", map_id=journey_map.id))
    db.commit()
    flash(_("Draft version %(n)s: change the map, then publish it.", n=version.number),
          "success")
    return redirect(url_for(f"{area}.map_detail", map_id=journey_map.id))


def _publish(area: str, journey_map: JourneyMap):
    version = journey_maps.draft_of(journey_map)
    if version is None:
        flash(_("There is no draft to publish."), "error")
        return redirect(url_for(f"{area}.map_detail", map_id=journey_map.id))
    try:
        journey_maps.publish(version, current_user)
    except journey_maps.MapError as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        flash(_("Version %(n)s published: it no longer changes.", n=version.number), "success")
    return redirect(url_for(f"{area}.map_detail", map_id=journey_map.id,
                            version=version.number))


def _download(journey_map: JourneyMap, kind: str):
    version = _version(journey_map)
    name = f"journey-map-{journey_map.id}-v{version.number}"
    if kind == "xlsx":
        return Response(map_exports.xlsx(journey_map, version, figures(journey_map)), headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    html = render_template("maps/print.html", m=journey_map, version=version,
                           content=version.content, rows=journey_maps.ROWS,
                           region=_region_of(journey_map), figs=figures(journey_map))
    return Response(map_exports.pdf(html), headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{name}.pdf"'})


def _region_of(journey_map: JourneyMap) -> Region | None:
    region_id = journey_maps.owner_region(journey_map)
    return None if region_id is None else db.get(Region, region_id)


# --- a region's maps ---------------------------------------------------------------------


@region_bp.route("/maps/")
@login_required
def maps():
    own = journey_maps.maps_of_region(g.region.id)
    versions = journey_maps.versions_by_map(own)
    offices = db.scalars(select(Office).where(Office.active.is_(True))
                         .order_by(Office.kind.desc(), Office.code)).all()
    return render_template("maps/region_index.html", region=g.region, maps=own,
                           templates=journey_maps.templates(), offices=offices,
                           latest={m.id: journey_maps.published_in(versions[m.id]) for m in own},
                           drafts={m.id: journey_maps.draft_in(versions[m.id]) for m in own},
                           may_edit=may_open("region.map_adopt"))


@region_bp.route("/maps/templates/<int:map_id>")
@login_required
def map_template(map_id: int):
    template = journey_maps.template_by_id(map_id)
    if template is None:
        abort(404)
    version = journey_maps.latest_published(template)
    if version is None:
        abort(404)
    return render_template("maps/template_preview.html", region=g.region, m=template,
                           version=version, content=version.content, rows=journey_maps.ROWS)


@region_bp.route("/maps/adopt", methods=["POST"])
@login_required
@roles_required(*REGION_EDITORS)
def map_adopt():
    template = journey_maps.template_by_id(request.form.get("template_id", type=int) or 0)
    office_id = request.form.get("office_id", type=int)
    office = db.get(Office, office_id) if office_id else None
    if template is None or (office_id and office is None):
        flash(_("Choose a template and, for an office's map, the office."), "error")
        return redirect(url_for("region.maps"))
    try:
        journey_map = journey_maps.adopt(template, g.region, office, current_user)
    except journey_maps.MapError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("region.maps"))
    db.commit()
    flash(_("The template is adopted as a draft: adapt it to the region, then publish it."),
          "success")
    return redirect(url_for("region.map_detail", map_id=journey_map.id))


@region_bp.route("/maps/<int:map_id>")
@login_required
def map_detail(map_id: int):
    return _grid_page("region", found_or_404(JourneyMap, map_id),
                      may_open("region.map_edit"))


@region_bp.route("/maps/<int:map_id>/edit", methods=["POST"])
@login_required
@roles_required(*REGION_EDITORS)
def map_edit(map_id: int):
    return _edit("region", found_or_404(JourneyMap, map_id))


@region_bp.route("/maps/<int:map_id>/draft", methods=["POST"])
@login_required
@roles_required(*REGION_EDITORS)
def map_draft(map_id: int):
    return _new_draft("region", found_or_404(JourneyMap, map_id))


@region_bp.route("/maps/<int:map_id>/publish", methods=["POST"])
@login_required
@roles_required(*REGION_EDITORS)
def map_publish(map_id: int):
    return _publish("region", found_or_404(JourneyMap, map_id))


@region_bp.route("/maps/<int:map_id>.xlsx")
@login_required
def map_xlsx(map_id: int):
    return _download(found_or_404(JourneyMap, map_id), "xlsx")


@region_bp.route("/maps/<int:map_id>.pdf")
@login_required
def map_pdf(map_id: int):
    return _download(found_or_404(JourneyMap, map_id), "pdf")


# --- federal: templates and every region's maps ------------------------------------------


def _federal_map(map_id: int) -> JourneyMap:
    return found_or_404(JourneyMap, map_id)


def _template(map_id: int) -> JourneyMap:
    journey_map = _federal_map(map_id)
    if journey_maps.owner_region(journey_map) is not None:
        abort(404)  # a region's map is changed by the region
    return journey_map


@federal_bp.route("/maps/", endpoint="maps")
@login_required
@roles_required(*FEDERAL_READERS)
def federal_maps():
    adopted = journey_maps.departures_by_region()
    regions = {r.id: r for r in db.scalars(select(Region))}
    templates = journey_maps.templates()
    versions = journey_maps.versions_by_map(templates)
    return render_template("maps/federal_index.html", templates=templates,
                           adopted=adopted, regions=regions,
                           latest={t.id: journey_maps.published_in(versions[t.id])
                                   for t in templates})


@federal_bp.route("/maps/<int:map_id>", endpoint="map_detail")
@login_required
@roles_required(*FEDERAL_READERS)
def federal_map_detail(map_id: int):
    journey_map = _federal_map(map_id)
    return _grid_page("federal", journey_map,
                      journey_maps.owner_region(journey_map) is None
                      and may_open("federal.map_edit"))


@federal_bp.route("/maps/<int:map_id>/edit", methods=["POST"], endpoint="map_edit")
@login_required
@roles_required(*TEMPLATE_EDITORS)
def federal_map_edit(map_id: int):
    return _edit("federal", _template(map_id))


@federal_bp.route("/maps/<int:map_id>/draft", methods=["POST"], endpoint="map_draft")
@login_required
@roles_required(*TEMPLATE_EDITORS)
def federal_map_draft(map_id: int):
    return _new_draft("federal", _template(map_id))


@federal_bp.route("/maps/<int:map_id>/publish", methods=["POST"], endpoint="map_publish")
@login_required
@roles_required(*TEMPLATE_EDITORS)
def federal_map_publish(map_id: int):
    return _publish("federal", _template(map_id))


@federal_bp.route("/maps/<int:map_id>.xlsx", endpoint="map_xlsx")
@login_required
@roles_required(*FEDERAL_READERS)
def federal_map_xlsx(map_id: int):
    return _download(_federal_map(map_id), "xlsx")


@federal_bp.route("/maps/<int:map_id>.pdf", endpoint="map_pdf")
@login_required
@roles_required(*FEDERAL_READERS)
def federal_map_pdf(map_id: int):
    return _download(_federal_map(map_id), "pdf")


# --- the stage × touchpoint heat map ---------------------------------------------------------


def _heat_context(area: str, journey_map: JourneyMap, everything: bool = False) -> dict:
    """One metric (``?metric=``) of the map across the region's offices (a region's page) or
    across the regions (the federal page): a page of rows (``?page=``), or every row."""
    version = _version(journey_map)
    content = version.content
    choices = map_figures.map_metrics(content, cx_reports.installed())
    code = request.args.get("metric") or (choices[0].code if choices else "")
    metric = next((m for m in choices if m.code == code), None)
    page = request.args.get("page", 1, type=int)
    federal = area == "federal"
    if not choices and not code and not everything and page == 1:
        # the map lists no metric: the page says so rather than being missing
        return {"m": journey_map, "version": version, "metric": None, "choices": choices,
                "federal": federal, "heat_url": url_for(f"{area}.map_heat",
                                                        map_id=journey_map.id),
                "region": g.get("region")}
    if metric is None or page < 1:
        abort(404)
    run = cx_compute.current_run(None if federal else g.region.id)
    query = select(Region).order_by(Region.name) if federal else select(Office).where(
        Office.region_id == g.region.id, Office.active.is_(True)).order_by(Office.code)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    if not everything:
        query = query.offset((page - 1) * map_figures.PER_PAGE).limit(map_figures.PER_PAGE)
    rows: list = list(db.scalars(query))
    if page > 1 and not rows:
        abort(404)
    columns = map_figures.heat_columns(content, metric)
    return {
        "m": journey_map, "version": version, "metric": metric, "choices": choices,
        "run": run, "federal": federal, "columns": columns, "rows": rows,
        "cells": map_figures.heat_cells(run, metric, rows, federal) if run else {},
        "total": map_figures.heat_total(run, metric, federal) if run else {},
        "spans": map_figures.stage_spans(columns),
        "page": page, "pages": max(1, -(-total // map_figures.PER_PAGE)),
        "total_rows": total,
        "heat_url": url_for(f"{area}.map_heat", map_id=journey_map.id),
        "export_url": lambda fmt: url_for(f"{area}.map_heat_export", map_id=journey_map.id,
                                          fmt=fmt, metric=metric.code,
                                          version=version.number),
        "period_last": run.period_end - dt.timedelta(days=1) if run else None,
        "trend_url": lambda row, touchpoint: (
            (url_for("federal.cx_federal_trend", region_id=row.id, metric_code=metric.code,
                     touchpoint=touchpoint) if may_open("federal.cx_federal_trend") else None)
            if federal else
            url_for("region.cx_trend", metric_code=metric.code, touchpoint=touchpoint,
                    office=row.id)),
        "touchpoint_names": journey_maps.TOUCHPOINTS, "region": g.get("region"),
    }


def _heat_page(area: str, journey_map: JourneyMap):
    context = _heat_context(area, journey_map)
    if htmx_request.htmx:
        return render_template("maps/_heat.html", **context)
    return render_template("maps/heat.html", **context)


def heat_table(context: dict) -> exports.Table:
    """The heat map as a table to take away: a row per office (region) and the region's
    (federation's) row, per column the value (empty below the minimum n), n and the status in
    words."""
    metric: CxMetric = context["metric"]
    words = {"green": _("meets the target"),
             "amber": _("below the target, within the margin of error"),
             "red": _("below the target"), None: ""}
    columns = [exports.Column(_("Region") if context["federal"] else _("Office"))]
    kind, digits = value_kind(metric)
    for stage, tp in context["columns"]:
        head = f"{stage['title']} · {tp['title']}"
        columns += [exports.Column(f"{head}: {metric.title}, {metric.scale}".rstrip(", "),
                                   kind),
                    exports.Column(f"{head}: n", "number"),
                    exports.Column(_("%(column)s: status", column=head))]

    def line(name: str, cell_of) -> list:
        out: list = [name]
        for _stage, tp in context["columns"]:
            cell = cell_of(tp["code"])
            if cell is None:
                out += [None, None, ""]
            elif cell.insufficient:
                out += [None, _count(cell.n), _("insufficient data")]
            else:
                value = (None if cell.value is None else
                         round(cell.value, digits) if digits else round(cell.value))
                out += [value, _count(cell.n), words[cell.status]]
        return out

    lines = [line(row.name, lambda code, row=row: context["cells"].get((row.id, code)))
             for row in context["rows"]]
    lines.append(line(_("The federation") if context["federal"] else _("The region"),
                      context["total"].get))
    run = context["run"]
    provenance = [(_("Map"), _("%(title)s, version %(n)s", title=context["m"].title,
                               n=context["version"].number)),
                  (_("Metric"), f"{metric.title}: {metric.definition}")]
    if run is not None:
        provenance.append((_("Period"), f"{run.period_start:%d.%m.%Y}–"
                                        f"{run.period_end - dt.timedelta(days=1):%d.%m.%Y}, "
                                        f"{_('computation %(n)s', n=run.version)}"))
    return exports.Table(f"{context['m'].title}: {metric.title}", columns, lines,
                         provenance=provenance, freeze_columns=1,
                         bold_rows=frozenset({len(lines) - 1}))


def value_kind(metric: CxMetric) -> tuple[str, int]:
    """A metric's value column as the page shows the value (cx/_cell.html's ``figure``): the
    export's kind and the decimals it is rounded to. A value in % is 0–100, not a fraction:
    one decimal («index»); seconds and a balance whole («int»); anything else two decimals."""
    if metric.scale == "%":
        return "index", 1
    if metric.scale == "с" or metric.kind == "balance":
        return "int", 0
    return "number", 2


def _count(n: float) -> float | int:
    """n as a whole number where it is one (answers, calls), as stored otherwise."""
    return int(n) if float(n).is_integer() else n


def _heat_export(area: str, journey_map: JourneyMap, fmt: str):
    context = _heat_context(area, journey_map, everything=True)
    name = f"heat-map-{journey_map.id}-{context['metric'].code}"
    return exports.response(heat_table(context), fmt, name)


@region_bp.route("/maps/<int:map_id>/heat")
@login_required
def map_heat(map_id: int):
    return _heat_page("region", found_or_404(JourneyMap, map_id))


@region_bp.route("/maps/<int:map_id>/heat.<any(csv, xlsx):fmt>")
@login_required
def map_heat_export(map_id: int, fmt: str):
    return _heat_export("region", found_or_404(JourneyMap, map_id), fmt)


@federal_bp.route("/maps/<int:map_id>/heat", endpoint="map_heat")
@login_required
@roles_required(*FEDERAL_READERS)
def federal_map_heat(map_id: int):
    return _heat_page("federal", _federal_map(map_id))


@federal_bp.route("/maps/<int:map_id>/heat.<any(csv, xlsx):fmt>", endpoint="map_heat_export")
@login_required
@roles_required(*FEDERAL_READERS)
def federal_map_heat_export(map_id: int, fmt: str):
    return _heat_export("federal", _federal_map(map_id), fmt)
