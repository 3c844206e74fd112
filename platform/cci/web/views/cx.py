"""CX metrics pages: a region's metrics per office and touchpoint against its targets, the
metric × touchpoint heat map of its offices, one cell's trend and the data behind it, the
targets, and the federal analyst's view across regions. Pages read stored runs only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

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
from sqlalchemy import select

from cci.collection import complaints
from cci.collection import cx_imports
from cci.collection.imports import UploadError
from cci.collection.imports import check_upload
from cci.collection.intake import IntakeError
from cci.foundation import audit
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.jobs import enqueue
from cci.foundation.models import CxComplaint
from cci.foundation.models import CxImport
from cci.foundation.models import CxRun
from cci.foundation.models import CxTarget
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.roles import Role
from cci.index import cx_compute
from cci.index import cx_reports
from cci.methodology.cx import TOUCHPOINTS
from cci.methodology.values import parse_number
from cci.web import charts
from cci.web import exports
from cci.web.moments import region_zone
from cci.web.numbers import number
from cci.web.views.areas import federal_bp
from cci.web.views.areas import region_bp

MANAGERS = (Role.ADMIN, Role.FEDERAL_ANALYST, Role.REGIONAL_ADMIN)
FEDERAL = (Role.ADMIN, Role.FEDERAL_ANALYST)


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar quarter holding ``day``: [first day, first day of the next)."""
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    end = dt.date(first.year + (first.month + 3 > 12), (first.month + 2) % 12 + 1, 1)
    return first, end


def form_period(run: CxRun | None) -> tuple[dt.date, dt.date]:
    """The form's first and last day: the shown run's period, so that a recomputation is one
    click; without a run, the current quarter."""
    if run is not None:
        return run.period_start, run.period_end - dt.timedelta(days=1)
    first, end = quarter_of(utcnow().date())
    return first, end - dt.timedelta(days=1)


def _period_from_form() -> tuple[dt.date, dt.date] | None:
    try:
        start = dt.date.fromisoformat(request.form.get("period_start", ""))
        last = dt.date.fromisoformat(request.form.get("period_last", ""))
    except ValueError:
        flash(_("Give the period's first and last day as dates."), "error")
        return None
    if last < start:
        flash(_("The period ends before it starts."), "error")
        return None
    if (last - start).days >= cx_compute.MAX_DAYS:
        flash(_("A period of at most %(days)d days.", days=cx_compute.MAX_DAYS), "error")
        return None
    return start, last + dt.timedelta(days=1)


def _request_run(region: Region | None):
    period = _period_from_form()
    if period is None:
        return False
    run = cx_compute.new_run(period[0], period[1], current_user.id)
    audit.record("cx.compute", run, after={"period_start": period[0].isoformat(),
                                           "period_end": period[1].isoformat()},
                 region_id=region.id if region is not None else None, user=current_user)
    db.commit()
    enqueue(cx_compute.JOB, title=_("CX metrics, %(start)s–%(end)s",
                                    start=period[0].strftime("%d.%m.%Y"),
                                    end=(period[1] - dt.timedelta(days=1)).strftime("%d.%m.%Y")),
            user_id=current_user.id, run_id=run.id)
    flash(_("The computation is queued; the page shows it once it has finished."), "success")
    return True


def _pending(region_id: int | None) -> CxRun | None:
    query = select(CxRun).where(CxRun.status.in_(("queued", "running")))
    query = query.where(CxRun.region_id == region_id) if region_id is not None else \
        query.where(CxRun.region_id.is_(None))
    return db.scalar(query.order_by(CxRun.id.desc()).limit(1))


# --- a region -------------------------------------------------------------------------------


@region_bp.route("/cx", methods=["GET", "POST"])
@login_required
def cx_metrics():
    if request.method == "POST":
        if not current_user.has_role(*MANAGERS):
            abort(403)
        _request_run(g.region)
        return redirect(url_for("region.cx_metrics"))
    run = cx_compute.current_run(g.region.id)
    metrics = cx_reports.installed()
    region_targets = cx_reports.targets(g.region.id)
    offices = list(db.scalars(select(Office).where(Office.region_id == g.region.id)
                              .order_by(Office.code)))
    office_cells = cx_reports.cells(run, "office", region_targets) if run else []
    region_cells = cx_reports.cells(run, "region", region_targets) if run else []
    tables = []
    for code, metric in metrics.items():
        mine = [c for c in office_cells if c.metric == code]
        regional = [c for c in region_cells if c.metric == code]
        if not mine and not regional:
            continue
        touchpoints = [t for t in metric.touchpoints
                       if any(c.touchpoint == t for c in mine + regional)]
        by_office = {(c.office_id, c.touchpoint): c for c in mine}
        rows = [(office, [by_office.get((office.id, t)) for t in touchpoints])
                for office in offices if any((office.id, t) in by_office for t in touchpoints)]
        region_row = [next((c for c in regional if c.touchpoint == t), None)
                      for t in touchpoints]
        tables.append({"metric": metric, "touchpoints": touchpoints, "rows": rows,
                       "region_row": region_row, "chart": _offices_chart(metric, rows,
                                                                         touchpoints)})
    heat = _heat(metrics, office_cells, region_cells)
    default_start, default_last = form_period(run)
    return render_template(
        "cx/region.html", run=run, tables=tables, heat=heat, touchpoint_names=TOUCHPOINTS,
        pending=_pending(g.region.id), may_manage=current_user.has_role(*MANAGERS),
        default_start=default_start, default_last=default_last,
        period_last=run.period_end - dt.timedelta(days=1) if run else None)


def _offices_chart(metric, rows, touchpoints) -> charts.Chart | None:
    """The offices' values at the metric's first touchpoint (insufficient ones draw no bar),
    beside the metric's table."""
    if not rows or not touchpoints:
        return None
    labels = [office.name for office, _line in rows]
    values = [None if line[0] is None or line[0].insufficient else line[0].value
              for _office, line in rows]
    if all(v is None for v in values):
        return None
    return charts.bars(f"{metric.title} · {TOUCHPOINTS[touchpoints[0]]}", labels, values,
                       value_format=lambda v: number(v, 1))


def _heat(metrics, office_cells, region_cells) -> dict:
    """Metric × touchpoint: the region's value and how many offices are green, amber, red."""
    touchpoints = [t for t in TOUCHPOINTS if any(c.touchpoint == t for c in region_cells)]
    rows = []
    for code in metrics:
        line = []
        for t in touchpoints:
            region = next((c for c in region_cells if c.metric == code and c.touchpoint == t),
                          None)
            counts = {s: sum(1 for c in office_cells if c.metric == code and c.touchpoint == t
                             and c.status == s) for s in ("green", "amber", "red")}
            line.append((region, counts))
        if any(region is not None for region, _counts in line):
            rows.append((metrics[code], line))
    return {"touchpoints": touchpoints, "rows": rows}


@region_bp.route("/cx/trend/<metric_code>/<touchpoint>")
@login_required
def cx_trend(metric_code: str, touchpoint: str):
    metric = cx_reports.installed().get(metric_code)
    if metric is None or touchpoint not in TOUCHPOINTS:
        abort(404)
    office_id = request.args.get("office", type=int)
    office = None
    if office_id is not None:
        office = db.get(Office, office_id)
        if office is None or office.region_id != g.region.id:
            abort(404)
    run = cx_compute.current_run(g.region.id)
    if run is None:
        abort(404)
    return _trend_page(run, metric, touchpoint, g.region, office,
                       url_for("region.cx_metrics"))


def _trend_page(run: CxRun, metric, touchpoint: str, region: Region, office: Office | None,
                back_url: str):
    """One cell's months in a run (an office's, or the region's): the chart, and the table of
    the numerators and denominators behind it."""
    level = "office" if office is not None else "region"
    months = cx_reports.months(run, metric.code, touchpoint, level,
                               office.id if office is not None else None, region.id)
    if not months:
        abort(404)
    target = cx_reports.target_for(cx_reports.targets(region.id), metric.code, touchpoint)
    labels = [f"{m.month:%m.%Y}" for m in months]
    series: dict[str, Sequence[float | None]] = {
        _("Value"): [None if m.insufficient else m.value for m in months]}
    if target is not None:
        series[_("Target")] = [target] * len(months)
    chart = charts.lines(f"{metric.title} · {TOUCHPOINTS[touchpoint]}", labels, series,
                         value_format=lambda v: number(v, 1))
    return render_template("cx/trend.html", run=run, metric=metric, touchpoint=touchpoint,
                           touchpoint_names=TOUCHPOINTS, office=office, months=months,
                           trend_chart=chart, target=target, region=region,
                           back_url=back_url)


@region_bp.route("/cx/targets", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def cx_targets():
    metrics = cx_reports.installed()
    if request.method == "POST":
        code = request.form.get("metric", "")
        touchpoint = request.form.get("touchpoint", "")
        metric = metrics.get(code)
        if metric is None or (touchpoint and touchpoint not in metric.touchpoints):
            flash(_("Choose a metric and one of its touchpoints."), "error")
            return redirect(url_for("region.cx_targets"))
        raw = request.form.get("target", "").strip()
        try:
            value = parse_number(raw)
        except ValueError:
            flash(_("The target must be a number."), "error")
            return redirect(url_for("region.cx_targets"))
        low, high = metric.bounds
        if not low <= value <= high:
            flash(_("The target must be within the metric's range."), "error")
            return redirect(url_for("region.cx_targets"))
        cx_reports.set_target(g.region.id, metric.code, touchpoint, value, current_user)
        flash(_("The target is saved."), "success")
        return redirect(url_for("region.cx_targets"))
    rows = list(db.scalars(select(CxTarget).where(CxTarget.region_id == g.region.id)
                           .order_by(CxTarget.metric, CxTarget.touchpoint)))
    return render_template("cx/targets.html", metrics=metrics, targets=rows,
                           touchpoint_names=TOUCHPOINTS)


@region_bp.route("/cx/imports", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def cx_imports_page():
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload is not None else b""
        try:
            filename = check_upload(upload.filename or "" if upload else "", data)
        except UploadError as exc:
            flash(exc.message, "error")
            return redirect(url_for("region.cx_imports_page"))
        record = CxImport(region_id=g.region.id, filename=filename, content=data,
                          size=len(data), status="queued", created_by_id=current_user.id)
        db.add(record)
        db.flush()
        audit.record("cx.import", record, after={"file": filename}, region_id=g.region.id,
                     user=current_user)
        db.commit()
        job = enqueue(cx_imports.JOB, title=_("CX counts: %(file)s", file=filename),
                      user_id=current_user.id, import_id=record.id)
        record.job_id = job.id
        db.commit()
        flash(_("The file is queued for import."), "success")
        return redirect(url_for("region.cx_imports_page"))
    records = list(db.scalars(select(CxImport).order_by(CxImport.id.desc()).limit(20)))
    return render_template("cx/imports.html", records=records, kinds=cx_imports.KINDS,
                           columns=cx_imports.COLUMNS, touchpoint_names=TOUCHPOINTS)


@region_bp.route("/cx/imports/template.<any(csv, xlsx):fmt>")
@roles_required(*MANAGERS)
def cx_imports_template(fmt: str):
    """A file to fill: the columns, and a row per kind of count for the region's first office
    at its usual touchpoint, with today's date and the value left for the person to write
    (a file sent back unfilled is refused, never stored as zeros)."""
    office = db.scalar(select(Office.code).where(Office.active.is_(True))
                       .order_by(Office.code).limit(1))
    today = dt.datetime.now(region_zone(g.region)).date()
    columns = cx_imports.COLUMNS
    table = exports.Table(
        title=_("CX counts"),
        columns=[exports.Column(columns["day"], "date"), exports.Column(columns["office"]),
                 exports.Column(columns["touchpoint"], width=28),
                 exports.Column(columns["kind"], width=30),
                 exports.Column(columns["count"], "int")],
        rows=[(today, office or "", str(TOUCHPOINTS[cx_imports.USUAL_TOUCHPOINT[code]]), name, None)
              for code, name in cx_imports.KINDS.items()])
    return exports.response(table, fmt, f"cx-counts-{g.region.code}")


@region_bp.route("/cx/complaints", methods=["GET", "POST"])
@roles_required(*MANAGERS, Role.OPERATOR)
def cx_complaints():
    if request.method == "POST":
        form = request.form
        try:
            received = dt.date.fromisoformat(form.get("received_on", ""))
        except ValueError:
            flash(_("Give the day the complaint was received."), "error")
            return redirect(url_for("region.cx_complaints"))
        try:
            complaints.register(
                g.region.id, channel=form.get("channel", ""), topic=form.get("topic", ""),
                received_on=received, office_id=form.get("office", type=int),
                touchpoint=form.get("touchpoint") or None, summary=form.get("summary"),
                user=current_user)
        except IntakeError as exc:
            db.rollback()
            flash(exc.message, "error")
            return redirect(url_for("region.cx_complaints"))
        db.commit()
        flash(_("The complaint is registered."), "success")
        return redirect(url_for("region.cx_complaints"))
    today = utcnow().date()
    start = today - dt.timedelta(days=90)
    rows = list(db.scalars(select(CxComplaint).order_by(CxComplaint.received_on.desc(),
                                                        CxComplaint.id.desc()).limit(50)))
    offices = list(db.scalars(select(Office).where(Office.region_id == g.region.id,
                                                   Office.active).order_by(Office.code)))
    return render_template(
        "cx/complaints.html", rows=rows, offices=offices, channels=complaints.CHANNELS,
        touchpoint_names=TOUCHPOINTS, today=today, start=start,
        counts=complaints.counts(g.region.id, start, today + dt.timedelta(days=1)))


# --- across regions --------------------------------------------------------------------------


@federal_bp.route("/cx/trend/<int:region_id>/<metric_code>/<touchpoint>")
@roles_required(*FEDERAL)
def cx_federal_trend(region_id: int, metric_code: str, touchpoint: str):
    """A region's months of a cell in the federal run (the federal heat map's click)."""
    metric = cx_reports.installed().get(metric_code)
    region = db.get(Region, region_id)
    run = cx_compute.current_run(None)
    if metric is None or touchpoint not in TOUCHPOINTS or region is None or run is None:
        abort(404)
    return _trend_page(run, metric, touchpoint, region, None, url_for("federal.cx_federal"))


@federal_bp.route("/cx", methods=["GET", "POST"])
@roles_required(*FEDERAL)
def cx_federal():
    if request.method == "POST":
        _request_run(None)
        return redirect(url_for("federal.cx_federal"))
    run = cx_compute.current_run(None)
    metrics = cx_reports.installed()
    regions = list(db.scalars(select(Region).order_by(Region.name)))
    region_cells = cx_reports.cells(run, "region") if run else []
    federal_cells = cx_reports.cells(run, "federation") if run else []
    columns = sorted({(c.metric, c.touchpoint) for c in federal_cells},
                     key=lambda k: (list(metrics).index(k[0]) if k[0] in metrics else 99,
                                    list(TOUCHPOINTS).index(k[1])))
    by_region = {(c.region_id, c.metric, c.touchpoint): c for c in region_cells}
    rows = [(region, [by_region.get((region.id, m, t)) for m, t in columns])
            for region in regions if any((region.id, m, t) in by_region for m, t in columns)]
    federation = {(c.metric, c.touchpoint): c for c in federal_cells}
    default_start, default_last = form_period(run)
    return render_template(
        "cx/federal.html", run=run, metrics=metrics, columns=columns, rows=rows,
        federation=[federation.get(k) for k in columns], touchpoint_names=TOUCHPOINTS,
        pending=_pending(None), default_start=default_start, default_last=default_last,
        period_last=run.period_end - dt.timedelta(days=1) if run else None)
