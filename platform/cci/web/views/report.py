"""The printable region report: the page (A4 print CSS), the same as PDF (made by a job with
progress, then kept for its run), and its tables as one workbook."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from cci.collection.campaigns import visible_campaigns
from cci.foundation import jobs
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import JobRecord
from cci.index import compute
from cci.web import exports
from cci.web import region_report
from cci.web.views.areas import region_bp
from cci.web.views.results import published_versions

PDF_MIMETYPE = "application/pdf"


def _chosen() -> dict:
    """The campaign and version asked for (the latest campaign with published results by
    default) and its current run; 404 for a campaign or version that is not there."""
    campaigns = visible_campaigns()
    if not campaigns:
        abort(404)
    campaign_id = request.args.get("campaign", type=int)
    campaign: Campaign | None
    if campaign_id is None:
        campaign = compute.latest_with_results(campaigns) or campaigns[0]
    else:
        campaign = next((c for c in campaigns if c.id == campaign_id), None)
    if campaign is None:
        abort(404)
    version = request.args.get("version") or campaign.methodology_key
    if version not in current_app.extensions["cci.registry"].indicator_sets:
        abort(404)
    return {
        "campaigns": campaigns, "campaign": campaign, "version": version,
        "versions": sorted(set(published_versions(campaign.id)) | {campaign.methodology_key}),
        "run": compute.current_run(campaign.id, version),
    }


def _name(run) -> str:
    return f"report-{g.region.code}-{run.campaign_id}-{run.methodology_key}-run{run.id}"


@region_bp.route("/report")
@login_required
def report():
    context = _chosen()
    run = context.pop("run")
    printed = region_report.build(run, g.region) if run is not None else None
    return render_template("report/region.html", printed=printed, display=exports.display,
                           **context)


@region_bp.route("/report.pdf")
@login_required
def report_pdf():
    """The PDF when it is made; else the job that makes it is queued (once) and the reader
    waits on a page that shows its progress."""
    context = _chosen()
    run = context["run"]
    if run is None:
        abort(404)
    body = region_report.stored_pdf(run, g.region.id)
    if body is not None:
        return exports.download(body, PDF_MIMETYPE, f"{_name(run)}.pdf")
    job = jobs.enqueue(
        region_report.PDF_JOB, title=_("Region report (PDF): %(region)s, %(campaign)s",
                                       region=g.region.name, campaign=context["campaign"].name),
        dedupe_key=f"{region_report.PDF_JOB}:{run.id}", user_id=current_user.id,
        timeout=600, run_id=run.id, base_url=request.url_root)
    return redirect(url_for("region.report_pdf_wait", job_id=job.id,
                            campaign=context["campaign"].id, version=context["version"]))


@region_bp.route("/report/pdf/<int:job_id>")
@login_required
def report_pdf_wait(job_id: int):
    """The PDF's job: its progress (the page refreshes itself), then the download."""
    context = _chosen()
    job = db.get(JobRecord, job_id)
    if job is None or job.name != region_report.PDF_JOB:
        abort(404)
    run = context["run"]
    ready = run is not None and region_report.stored_pdf(run, g.region.id) is not None
    return render_template("report/pdf_wait.html", job=job, ready=ready, **context)


@region_bp.route("/report.xlsx")
@login_required
def report_xlsx():
    context = _chosen()
    run = context["run"]
    if run is None:
        abort(404)
    printed = region_report.build(run, g.region)
    return exports.download(exports.to_xlsx_book(printed.workbook_tables(), printed.provenance),
                            exports.XLSX_MIMETYPE, f"{_name(run)}.xlsx")
