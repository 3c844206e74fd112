"""API of the methodology owner's workbench: the declared parameters of a version, derived
versions (draft, review, publication), the approval of packaged versions, the register of
proposals and a version's change log. Reading: every token; changing: methodology owners (and
administrators); approving and returning: methodology owners other than the author."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask import g
from flask import jsonify
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import MethodologyProposal
from cci.foundation.models import MethodologyVersion
from cci.foundation.roles import Role
from cci.methodology import versions
from cci.methodology.parameters import tunables
from cci.web.api.blueprint import bp
from cci.web.api.blueprint import json_object
from cci.web.api.docs import list_of
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.resources import iso_datetime
from cci.web.api.schemas import SCHEMAS

OWNERS = (Role.ADMIN, Role.METHODOLOGY_OWNER)
REVIEWERS = (Role.METHODOLOGY_OWNER,)
_nullable_string = {"type": ["string", "null"]}
_nullable_time = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS.update({
    "DeclaredParameter": {
        "type": "object",
        "required": ["key", "section", "label", "kind", "value", "minimum", "maximum", "unit"],
        "properties": {
            "key": {"type": "string", "description": "parameter:<key>, points:<code>:<param>, "
                                                     "wording:<item>:<type>, label:<code>:<param>,"
                                                     " description[:<code>]"},
            "section": {"type": "string",
                        "enum": ["parameter", "points", "wording", "label", "description"]},
            "label": {"type": "string"},
            "kind": {"type": "string", "enum": ["integer", "number", "numbers", "weights",
                                                "bands", "mapping", "text"]},
            "value": {},
            "minimum": {"type": ["number", "null"]},
            "maximum": {"type": ["number", "null"]},
            "unit": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "string"}},
        },
    },
    "DerivedVersion": {
        "type": "object",
        "required": ["id", "title", "base", "status", "key", "number", "changes", "author_id",
                     "reviewer_id", "review_comment", "created_at", "submitted_at",
                     "published_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "base": {"type": "string", "description": "key of the version it derives from"},
            "status": {"type": "string",
                       "enum": ["draft", "submitted", "returned", "published"]},
            "key": {**_nullable_string, "description": "its key once published"},
            "number": {"type": ["integer", "null"]},
            "changes": {"type": "object", "description": "declared parameter key → new value"},
            "author_id": {"type": ["integer", "null"]},
            "reviewer_id": {"type": ["integer", "null"]},
            "review_comment": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "submitted_at": _nullable_time,
            "published_at": _nullable_time,
        },
    },
    "DerivedVersionInput": {
        "type": "object",
        "required": ["base", "title"],
        "properties": {
            "base": {"type": "string"},
            "title": {"type": "string", "maxLength": 200},
            "changes": {"type": "object"},
        },
    },
    "DerivedVersionChange": {
        "type": "object",
        "properties": {"title": {"type": "string", "maxLength": 200},
                       "changes": {"type": "object"}},
    },
    "ReviewReturn": {
        "type": "object",
        "required": ["comment"],
        "properties": {"comment": {"type": "string"}},
    },
    "PackageApproval": {
        "type": "object",
        "required": ["key", "approved"],
        "additionalProperties": False,
        "properties": {"key": {"type": "string"}, "approved": {"type": "boolean"}},
    },
    "Proposal": {
        "type": "object",
        "required": ["id", "region", "proposed_by", "summary", "indicator", "decision",
                     "reason", "version", "number"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "region": {**_nullable_string, "description": "code of the proposing region"},
            "proposed_by": {"type": "string"},
            "summary": {"type": "string"},
            "indicator": {"type": "string"},
            "decision": {"type": "string",
                         "enum": ["pending", "accepted", "rejected", "deferred"]},
            "reason": {"type": "string"},
            "version": {"type": "string", "description": "key of the implementing version"},
            "number": {"type": ["integer", "null"]},
        },
    },
    "ProposalInput": {
        "type": "object",
        "properties": {
            "summary": {"type": "string"}, "region": {"type": "string"},
            "proposed_by": {"type": "string"}, "indicator": {"type": "string"},
            "decision": {"type": "string",
                         "enum": ["pending", "accepted", "rejected", "deferred"]},
            "reason": {"type": "string"}, "version": {"type": "string"},
        },
    },
})


def _sets():
    return current_app.extensions["cci.registry"].indicator_sets


def _require(*roles: Role) -> None:
    if not g.api_user.has_role(*roles):
        raise ApiError(403)


def _refused(exc: versions.VersionError, status: int = 422) -> ApiError:
    return ApiError(status, "refused" if status == 409 else None, exc.message,
                    details=exc.errors or None)


def version_json(row: MethodologyVersion) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "base": row.base_key, "status": row.status,
            "key": row.key, "number": row.number, "changes": dict(row.overrides or {}),
            "author_id": row.created_by_id, "reviewer_id": row.reviewed_by_id,
            "review_comment": row.review_comment or "",
            "created_at": iso_datetime(row.created_at),
            "submitted_at": iso_datetime(row.submitted_at),
            "published_at": iso_datetime(row.published_at)}


def proposal_json(row: MethodologyProposal) -> dict[str, Any]:
    return {"id": row.id, "region": row.region.code if row.region else None,
            "proposed_by": row.proposed_by, "summary": row.summary, "indicator": row.indicator,
            "decision": row.decision, "reason": row.reason, "version": row.version_key,
            "number": row.number}


@bp.get("/methodologies/<key>/parameters")
@operation("What a derived version of this version may change: type, range, unit, value",
           tags=["methodology versions"], response=list_of("DeclaredParameter"))
def declared_parameters(key: str):
    indicator_set = _sets().get(key)
    if indicator_set is None or (key.startswith("draft-") and not g.api_user.has_role(*OWNERS)):
        raise ApiError(404)
    return jsonify(items=[{
        "key": t.key, "section": t.section, "label": t.label, "kind": t.kind, "value": t.value,
        "minimum": t.minimum, "maximum": t.maximum, "unit": t.unit, "choices": list(t.choices),
    } for t in tunables(indicator_set)])


@bp.get("/methodologies/<key>/change-log")
@operation("The accepted proposals a version implements", tags=["proposals"],
           response=list_of("Proposal"))
def version_change_log(key: str):
    if key not in _sets():
        raise ApiError(404)
    if versions.seed_declared(_sets()):
        db.commit()
    return jsonify(items=[proposal_json(p) for p in versions.change_log(key)])


@bp.post("/methodologies/<key>/approval")
@operation("Approve an installed package's version for new campaigns (methodology owners)",
           tags=["methodology versions"], response=ref("PackageApproval"), status=201,
           errors=(403, 404, 409))
def approve_package(key: str):
    _require(*REVIEWERS)
    sets = _sets()
    if key not in sets:
        raise ApiError(404)
    try:
        versions.approve_package(sets, key, g.api_user)
    except versions.VersionError as exc:
        db.rollback()
        raise _refused(exc, 409) from exc
    db.commit()
    return jsonify(key=key, approved=True), 201


@bp.get("/derived-versions")
@operation("Derived versions, drafts included (methodology owners)",
           tags=["methodology versions"], response=list_of("DerivedVersion"), errors=(403,))
def derived_versions():
    _require(*OWNERS)
    return jsonify(items=[version_json(v) for v in versions.version_rows("derived")])


@bp.post("/derived-versions")
@operation("Draft a derived version: a base version and changes of its declared parameters",
           tags=["methodology versions"], response=ref("DerivedVersion"),
           request_body=ref("DerivedVersionInput"), status=201, errors=(403, 422))
def create_derived_version():
    _require(*OWNERS)
    body = json_object()
    changes = body.get("changes") or {}
    if not isinstance(changes, dict):
        raise ApiError(422, message="Изменения — объект JSON.", details={"field": "changes"})
    try:
        row = versions.create_draft(_sets(), str(body.get("base") or ""),
                                    str(body.get("title") or ""), changes, g.api_user)
    except versions.VersionError as exc:
        db.rollback()
        raise _refused(exc) from exc
    db.commit()
    return jsonify(version_json(row)), 201


def _derived_or_404(version_id: int) -> MethodologyVersion:
    row = db.get(MethodologyVersion, version_id)
    if row is None or row.kind != "derived":
        raise ApiError(404)
    return row


@bp.get("/derived-versions/<int:version_id>")
@operation("One derived version (methodology owners)", tags=["methodology versions"],
           response=ref("DerivedVersion"), errors=(403, 404))
def derived_version(version_id: int):
    _require(*OWNERS)
    return jsonify(version_json(_derived_or_404(version_id)))


@bp.patch("/derived-versions/<int:version_id>")
@operation("Change a draft (a submitted or published version is refused with 409)",
           tags=["methodology versions"], response=ref("DerivedVersion"),
           request_body=ref("DerivedVersionChange"), errors=(403, 404, 409, 422))
def change_derived_version(version_id: int):
    _require(*OWNERS)
    row = _derived_or_404(version_id)
    body = json_object()
    changes = body.get("changes", row.overrides)
    if not isinstance(changes, dict):
        raise ApiError(422, message="Изменения — объект JSON.", details={"field": "changes"})
    try:
        versions.update_draft(_sets(), row, str(body.get("title", row.title)), changes,
                              g.api_user)
    except versions.VersionError as exc:
        locked = row.status not in versions.EDITABLE
        db.rollback()
        raise _refused(exc, 409 if locked else 422) from exc
    db.commit()
    return jsonify(version_json(row))


def _step(version_id: int, roles: tuple[Role, ...], action) -> Any:
    _require(*roles)
    row = _derived_or_404(version_id)
    try:
        action(row)
    except versions.VersionError as exc:
        db.rollback()
        raise _refused(exc, 409) from exc
    db.commit()
    return jsonify(version_json(row))


@bp.post("/derived-versions/<int:version_id>/submit")
@operation("Submit a draft for review", tags=["methodology versions"],
           response=ref("DerivedVersion"), errors=(403, 404, 409))
def submit_derived_version(version_id: int):
    return _step(version_id, OWNERS, lambda row: versions.submit(row, g.api_user))


@bp.post("/derived-versions/<int:version_id>/approve")
@operation("Approve and publish a submitted version (a methodology owner other than its "
           "author)", tags=["methodology versions"], response=ref("DerivedVersion"),
           errors=(403, 404, 409))
def approve_derived_version(version_id: int):
    return _step(version_id, REVIEWERS,
                 lambda row: versions.approve(_sets(), row, g.api_user))


@bp.post("/derived-versions/<int:version_id>/return")
@operation("Return a submitted version to its author with a comment",
           tags=["methodology versions"], response=ref("DerivedVersion"),
           request_body=ref("ReviewReturn"), errors=(403, 404, 409, 422))
def return_derived_version(version_id: int):
    _require(*REVIEWERS)
    body = json_object()
    comment = body.get("comment")
    if not isinstance(comment, str) or not comment.strip():
        raise ApiError(422, message="Нужен комментарий: что изменить.",
                       details={"field": "comment"})
    return _step(version_id, REVIEWERS,
                 lambda row: versions.return_for_changes(row, g.api_user, comment))


# --- proposals ------------------------------------------------------------------------------


@bp.get("/proposals")
@operation("The register of proposals (methodology owners)", tags=["proposals"],
           response=list_of("Proposal"), errors=(403,))
def proposals():
    _require(*OWNERS)
    if versions.seed_declared(_sets()):
        db.commit()
    rows = db.scalars(select(MethodologyProposal).order_by(MethodologyProposal.id))
    return jsonify(items=[proposal_json(p) for p in rows])


def _proposal_values(body: dict, row: MethodologyProposal | None) -> dict[str, Any]:
    current = proposal_json(row) if row is not None else {}
    values = {name: body.get(name, current.get(name)) for name in
              ("summary", "region", "proposed_by", "indicator", "decision", "reason")}
    values["version_key"] = body.get("version", current.get("version"))
    return values


@bp.post("/proposals")
@operation("Register a proposal", tags=["proposals"], response=ref("Proposal"),
           request_body=ref("ProposalInput"), status=201, errors=(403, 422))
def create_proposal():
    _require(*OWNERS)
    body = json_object()
    try:
        row = versions.save_proposal(_sets(), _proposal_values(body, None), g.api_user)
    except versions.VersionError as exc:
        db.rollback()
        raise _refused(exc) from exc
    db.commit()
    return jsonify(proposal_json(row)), 201


def _proposal_or_404(proposal_id: int) -> MethodologyProposal:
    row = db.get(MethodologyProposal, proposal_id)
    if row is None:
        raise ApiError(404)
    return row


@bp.get("/proposals/<int:proposal_id>")
@operation("One proposal", tags=["proposals"], response=ref("Proposal"), errors=(403, 404))
def proposal(proposal_id: int):
    _require(*OWNERS)
    return jsonify(proposal_json(_proposal_or_404(proposal_id)))


@bp.patch("/proposals/<int:proposal_id>")
@operation("Change a proposal: its decision, reason, implementing version",
           tags=["proposals"], response=ref("Proposal"), request_body=ref("ProposalInput"),
           errors=(403, 404, 422))
def change_proposal(proposal_id: int):
    _require(*OWNERS)
    row = _proposal_or_404(proposal_id)
    body = json_object()
    try:
        versions.save_proposal(_sets(), _proposal_values(body, row), g.api_user, row)
    except versions.VersionError as exc:
        db.rollback()
        raise _refused(exc) from exc
    db.commit()
    return jsonify(proposal_json(row))


@bp.delete("/proposals/<int:proposal_id>")
@operation("Remove a proposal registered by mistake (one a package declares stays: 409)",
           tags=["proposals"], status=204, errors=(403, 404, 409))
def delete_proposal(proposal_id: int):
    _require(*OWNERS)
    row = _proposal_or_404(proposal_id)
    try:
        versions.delete_proposal(row, g.api_user)
    except versions.VersionError as exc:
        db.rollback()
        raise _refused(exc, 409) from exc
    db.commit()
    return "", 204
