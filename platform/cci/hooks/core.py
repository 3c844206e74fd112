"""The core's own hook implementations, registered like any other plugin: its jobs and its
built-in quality rules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import current_app

from cci.hooks.specs import hookimpl


def sync_tenants_job(report, directory: str | None = None) -> dict:
    from cci.foundation.tenants_sync import sync

    # No progress reports from inside sync(): it writes in one transaction, and on SQLite a
    # progress update (a transaction of its own) would wait for it until "database is locked".
    result = sync(
        Path(directory or current_app.config["TENANTS_DIR"]),
        actor="system: tenants sync job",
    )
    return {"lines": result.lines(), "changed": result.changed}


@hookimpl
def register_jobs():
    from cci.collection import cases
    from cci.collection import cx_imports
    from cci.collection import imports
    from cci.collection import recompute
    from cci.collection import retention
    from cci.index import compute
    from cci.index import cx_alerts
    from cci.index import cx_compute

    return {
        # the run, then its cells that turned red told to the staff
        cx_compute.JOB: cx_alerts.compute_job,
        cases.COLLECT_JOB: cases.collect_job,
        cx_imports.JOB: cx_imports.import_job,
        retention.PURGE_JOB: retention.purge_job,
        "tenants.sync": sync_tenants_job,
        "runs.region": compute.compute_region_job,
        "runs.federal": compute.compute_federal_job,
        recompute.JOB: compute.recompute_job,
        "imports.run": imports.import_job,
    }


@hookimpl
def register_quality_rules():
    from cci.collection import quality_rules

    return list(quality_rules.RULES)


def _region_url(endpoint: str, obj, **values) -> str | None:
    """A page in the object's region area (the log links only what its reader may open)."""
    from flask import url_for

    region = getattr(obj, "region", None)
    return url_for(endpoint, region_code=region.code, **values) if region is not None else None


def _in_region_url(endpoint: str, row, **values) -> str | None:
    """A page of the row's region area, the row naming its region by id only."""
    from flask import url_for

    from cci.foundation.db import db
    from cci.foundation.models import Region

    region = db.get(Region, row.region_id) if row.region_id is not None else None
    return url_for(endpoint, region_code=region.code, **values) if region is not None else None


def _journey_map_url(row) -> str | None:
    from flask import url_for

    if row.region_id is None:
        return url_for("federal.map_detail", map_id=row.id)
    return _in_region_url("region.map_detail", row, map_id=row.id)


def _checklist_url(row) -> str | None:
    target = "region" if row.office_id is None else str(row.office_id)
    return _region_url("region.checklist", row, campaign_id=row.campaign_id, target=target,
                       indicator_code=row.indicator)


def _checklist_name(row) -> str:
    where = row.office.name if row.office is not None else row.region.name
    return f"{row.indicator} · {where} · {row.campaign.name}"


def _checklist_words(row) -> dict[str, str]:
    """The checklist's parameters by their labels in the campaign's methodology version."""
    from cci.hooks.manager import installed_set

    try:
        indicator = installed_set(row.campaign.methodology_key).indicator(row.indicator)
    except (LookupError, KeyError):
        return {}
    return {param.key: param.label for param in indicator.checklist}


def _complaint_channels() -> dict:
    from cci.collection.complaints import CHANNELS

    return dict(CHANNELS)


def _touchpoint_word(code: str) -> str:
    from flask_babel import gettext

    from cci.methodology.cx import TOUCHPOINTS

    return str(TOUCHPOINTS[code]) if code in TOUCHPOINTS else gettext("every touchpoint")


def _metric_title(code: str) -> str:
    """A CX metric as its definition titles it («Уровень обслуживания 80/20», not «SL»)."""
    from cci.index.cx_reports import metric_title

    return metric_title(code)


def _job_url(job) -> str | None:
    from flask import url_for

    if job.region is None:
        return url_for("federal.jobs.detail", job_id=job.id)
    return _region_url("region.jobs.detail", job, job_id=job.id)


def _methodology_title(key: str) -> str:
    """A methodology version by its title («ИКЦ-2023»), or its key when it is not installed."""
    try:
        return str(current_app.extensions["cci.registry"].indicator_set(key).title)
    except LookupError:
        return key


class _RuleLabels(Mapping):
    """The quality rules' labels, read when the log is shown: the rules are the plugins', and
    this vocabulary is built while they are still being collected."""

    def _labels(self) -> dict:
        from cci.collection import quality

        return quality.rule_labels()

    def __getitem__(self, key):
        return self._labels()[key]

    def __iter__(self):
        return iter(self._labels())

    def __len__(self) -> int:
        return len(self._labels())


@hookimpl
def register_audit_vocabulary():
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    from cci.collection.cases import STATUS_LABELS as CASE_STATUS_LABELS
    from cci.collection.quality import STATUS_LABELS
    from cci.foundation import models as m
    from cci.foundation.audit import AuditObject
    from cci.foundation.audit import AuditVocabulary
    from cci.foundation.improvement_actions import STATUS_LABELS as ACTION_STATUS_LABELS
    from cci.foundation.notifications import EMAIL_CHOICES as NOTIFICATION_EMAIL
    from cci.foundation.roles import ROLE_LABELS
    from cci.foundation.zones import zone_label

    return AuditVocabulary(
        actions={
            "user.create": _l("User created"),
            "user.activate": _l("User activated"),
            "user.deactivate": _l("User deactivated"),
            "user.password_change": _l("Password changed"),
            "user.logout_everywhere": _l("Logged out on every device"),
            "user.notification_email": _l("Notification e-mail chosen"),
            "user.password_reset_request": _l("Password-reset link asked for"),
            "user.password_reset_send": _l("Password-reset link sent by an administrator"),
            "user.password_reset": _l("Password set with a link from an e-mail"),
            "token.create": _l("API token issued"),
            "token.revoke": _l("API token revoked"),
            "region.create": _l("Region added"),
            "region.update": _l("Region changed"),
            "office.create": _l("Office added"),
            "office.update": _l("Office changed"),
            "office.deactivate": _l("Office deactivated"),
            "office.activate": _l("Office switched on again"),
            "tenants.sync": _l("Regions and offices reloaded from files"),
            "campaign.create": _l("Campaign created"),
            "campaign.update": _l("Campaign changed"),
            "checklist.create": _l("Checklist filled"),
            "checklist.update": _l("Checklist changed"),
            "checklist.photo_add": _l("Photo added to a checklist"),
            "checklist.photo_remove": _l("Photo removed from a checklist"),
            "import.responses": _l("Answers imported"),
            "import.checklists": _l("Checklists imported"),
            "response.review": _l("Review decision on an answer"),
            "survey_invitation.issue": _l("Survey invitation issued"),
            "job.retry": _l("Job queued again"),
            "methodology_version.create": _l("Derived methodology version drafted"),
            "methodology_version.update": _l("Draft methodology version changed"),
            "methodology_version.submit": _l("Methodology version submitted for review"),
            "methodology_version.approve": _l("Methodology version approved and published"),
            "methodology_version.return": _l("Methodology version returned for changes"),
            "methodology_version.approve_package": _l("Installed methodology version approved"),
            "proposal.create": _l("Methodology proposal registered"),
            "proposal.update": _l("Methodology proposal changed"),
            "proposal.delete": _l("Methodology proposal removed"),
            "journey_map.seed": _l("Journey map template loaded"),
            "journey_map.adopt": _l("Journey map template adopted"),
            "journey_map.edit": _l("Journey map draft changed"),
            "journey_map.new_draft": _l("Journey map draft started"),
            "journey_map.publish": _l("Journey map version published"),
            "improvement_action.create": _l("Barrier made an improvement action"),
            "improvement_action.update": _l("Improvement action changed"),
            "cx.target": _l("CX metric target set"),
            "cx.compute": _l("CX metrics computation requested"),
            "cx.import": _l("CX counts file uploaded"),
            "cx.complaint": _l("Complaint registered"),
            "case.assign": _l("Case assigned"),
            "case.answer": _l("Case answered"),
            "case.close": _l("Case closed"),
        },
        objects={
            "User": AuditObject(_l("User"), m.User, lambda u: u.email),
            "ApiToken": AuditObject(_l("API token"), m.ApiToken,
                                    lambda t: f"{t.name} ({t.prefix}…)"),
            "Region": AuditObject(_l("Region"), m.Region, lambda r: r.name,
                                  lambda r: url_for("region.home", region_code=r.code)),
            "Office": AuditObject(_l("Office"), m.Office, lambda o: f"{o.name} ({o.code})",
                                  lambda o: _region_url("region.office", o, office_id=o.id)),
            "Campaign": AuditObject(_l("Campaign"), m.Campaign, lambda c: c.name,
                                    lambda c: url_for("federal.campaign", campaign_id=c.id)),
            "Checklist": AuditObject(_l("Checklist"), m.Checklist, _checklist_name,
                                     _checklist_url, _checklist_words),
            "ImportRecord": AuditObject(
                _l("Import"), m.ImportRecord, lambda r: r.filename,
                lambda r: _region_url("region.import_detail", r, import_id=r.id)),
            "JobRecord": AuditObject(_l("Job"), m.JobRecord, lambda j: str(j.title), _job_url),
            "Response": AuditObject(_l("Answer"), m.Response, lambda r: f"№{r.id}"),
            "SurveyInvitation": AuditObject(_l("Survey invitation"), m.SurveyInvitation,
                                            lambda i: i.code),
            "MethodologyVersion": AuditObject(
                _l("Methodology version"), m.MethodologyVersion, lambda v: v.title,
                lambda v: (url_for("federal.version", version_id=v.id) if v.kind == "derived"
                           else url_for("federal.versions_index"))),
            "MethodologyProposal": AuditObject(
                _l("Methodology proposal"), m.MethodologyProposal,
                lambda p: f"№{p.id}", lambda p: url_for("federal.proposal", proposal_id=p.id)),
            "JourneyMap": AuditObject(_l("Journey map"), m.JourneyMap, lambda j: j.title,
                                      _journey_map_url),
            "ImprovementAction": AuditObject(
                _l("Improvement action"), m.ImprovementAction, lambda a: a.title,
                lambda a: _in_region_url("region.action", a, action_id=a.id)),
            "CxTarget": AuditObject(_l("CX metric target"), m.CxTarget,
                                    lambda t: f"{t.metric} · {_touchpoint_word(t.touchpoint)}"),
            "CxComplaint": AuditObject(_l("Complaint"), m.CxComplaint,
                                       lambda c: f"{c.topic} · {c.received_on:%d.%m.%Y}"),
            "Case": AuditObject(_l("Case"), m.Case, lambda c: f"№{c.id}",
                                lambda c: _in_region_url("region.case", c, case_id=c.id)),
            "CxImport": AuditObject(_l("CX counts import"), m.CxImport, lambda r: r.filename),
            "CxRun": AuditObject(_l("CX metrics computation"), m.CxRun,
                                 lambda r: f"{r.period_start:%d.%m.%Y}–{r.period_end:%d.%m.%Y}"
                                           f" · v{r.version}"),
        },
        fields={
            "email": _l("E-mail"), "full_name": _l("Full name"), "role": _l("Role"),
            "region_id": _l("Region"), "office_id": _l("Office"),
            "campaign_id": _l("Campaign"), "active": _l("Active"), "name": _l("Name"),
            "prefix": _l("Token prefix"), "user": _l("User"), "code": _l("Code"),
            "network_type": _l("Network"), "timezone": _l("Time zone"),
            "is_sample": _l("Sample data"), "address": _l("Address"), "kind": _l("Type"),
            "starts_on": _l("Start"), "ends_on": _l("End"),
            "methodology_key": _l("Methodology version"), "regions": _l("Regions"),
            "values": _l("Values"), "evidence": _l("Evidence"), "photos": _l("Photos"),
            "file": _l("File"),
            "rows": _l("Rows"), "review_status": _l("Review"), "counted": _l("Counted"),
            "answers_counted": _l("Answers counted"), "decision": _l("Decision"),
            "reason": _l("Reason"), "service": _l("Service"), "visit_date": _l("Visit date"),
            "expires_at": _l("Valid until"), "rules": _l("Quality rules"),
            "status": _l("Status"), "opens": _l("Opens at"), "closes": _l("Closes at"),
            "created": _l("Added"), "updated": _l("Updated"), "existing": _l("Already there"),
            "title": _l("Title"), "review_comment": _l("Reviewer's comment"),
            "base_key": _l("Based on"), "changed": _l("Changed parameters"),
            "proposed_by": _l("Proposed by"), "summary": _l("Proposal"),
            "indicator": _l("Indicator"), "version_key": _l("Implemented by"),
            "version": _l("Version"), "change": _l("Change"),
            "department": _l("Responsible department"), "owner_id": _l("Owner"),
            "due_on": _l("Due date"), "action_status": _l("Action status"),
            "metric_code": _l("Metric"), "target": _l("Target"),
            "metric": _l("Metric"), "touchpoint": _l("Touchpoint"),
            "period_start": _l("Period start"), "period_end": _l("Period end"),
            "topic": _l("Topic"), "channel": _l("Channel"),
            "notification_email": _l("Notification e-mail"),
            "case_status": _l("Case status"), "assignee_id": _l("Assignee"),
            "answered": _l("Answer written"), "reply_sent": _l("Answer e-mailed"),
        },
        references={"region_id": "Region", "office_id": "Office", "campaign_id": "Campaign",
                    "owner_id": "User", "assignee_id": "User"},
        values={
            "role": {role.value: label for role, label in ROLE_LABELS.items()},
            "review_status": STATUS_LABELS,
            "rules": _RuleLabels(),
            "touchpoint": _touchpoint_word,
            "channel": _complaint_channels(),
            "notification_email": NOTIFICATION_EMAIL,
            "timezone": zone_label,
            "methodology_key": _methodology_title,
            "base_key": _methodology_title,
            "version_key": _methodology_title,
            "decision": {"restore": _l("count it"), "exclude": _l("exclude it"),
                         "pending": _l("not decided"), "accepted": _l("accepted"),
                         "rejected": _l("rejected"), "deferred": _l("deferred")},
            "kind": {"main": _l("main office"), "branch": _l("branch")},
            "status": {"queued": _l("queued"), "running": _l("running"),
                       "retrying": _l("waiting to retry"), "finished": _l("finished"),
                       "failed": _l("failed"), "draft": _l("draft"),
                       "submitted": _l("submitted for review"),
                       "returned": _l("returned for changes"),
                       "published": _l("published version")},
            "network_type": {"centralized": _l("centralized"),
                             "decentralized": _l("decentralized")},
            "action_status": ACTION_STATUS_LABELS,
            "case_status": CASE_STATUS_LABELS,
            "metric_code": _metric_title,
            "metric": _metric_title,
        },
    )
