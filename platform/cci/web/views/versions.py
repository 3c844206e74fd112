"""The methodology owner's workbench (federal): derived versions from draft to publication,
the approval of installed versions, and the register of proposals."""

from __future__ import annotations

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
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs 3.2
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import MethodologyProposal
from cci.foundation.models import MethodologyVersion
from cci.foundation.models import Region
from cci.foundation.roles import Role
from cci.methodology import versions
from cci.methodology.parameters import SECTIONS
from cci.methodology.parameters import tunables
from cci.web import version_forms
from cci.web.views import found_or_404
from cci.web.views.areas import federal_bp

OWNERS = (Role.ADMIN, Role.METHODOLOGY_OWNER)
#: a second person *with the methodology-owner role* reviews
REVIEWERS = (Role.METHODOLOGY_OWNER,)


def _sets():
    return current_app.extensions["cci.registry"].indicator_sets


def _last_campaign_id() -> int | None:
    return db.scalar(select(Campaign.id).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
                     .limit(1))


@federal_bp.route("/versions/")
@roles_required(*OWNERS)
def versions_index():
    sets = _sets()
    approved = versions.approved_packages(sets)
    packages = [s for key, s in sorted(sets.items()) if not s.derived_from]
    return render_template("versions/index.html", rows=versions.version_rows("derived"),
                           packages=packages, approved=approved, sets=sets,
                           labels=versions.STATUS_LABELS)


@federal_bp.route("/versions/new", methods=["GET", "POST"])
@roles_required(*OWNERS)
def version_new():
    sets = _sets()
    base_key = request.values.get("base") or ""
    base = sets.get(base_key) if base_key else None
    if base is None:
        abort(404)
    form, rows = version_forms.build(base, {}, title=_("%(title)s, changed", title=base.title))
    if request.method == "POST" and form.validate_on_submit():
        try:
            version = versions.create_draft(sets, base_key, form.title_.data or "",
                                            version_forms.changes(form, rows), current_user)
        except versions.VersionError as exc:
            db.rollback()
            _show(form, rows, exc)
        else:
            db.commit()
            flash(_("Draft «%(title)s» saved.", title=version.title), "success")
            return redirect(url_for("federal.version", version_id=version.id))
    return render_template("versions/edit.html", form=form, rows=_sections(rows, form), base=base,
                           version=None), (400 if _has_errors(form) else 200)


def _show(form, rows, exc: versions.VersionError) -> None:
    version_forms.show_errors(form, rows, exc.errors)
    if "title" in exc.errors:
        form.title_.errors = [*form.title_.errors, exc.errors["title"]]
    flash(exc.message, "error")


def _has_errors(form) -> bool:
    return any(field.errors for field in form)


def _sections(rows, form):
    """The form's rows by section, each with whether it holds a refused value (shown open)."""
    grouped: dict[str, list] = {key: [] for key in SECTIONS}
    for row in rows:
        grouped[row.tunable.section].append(row)
    return [(key, SECTIONS[key], items,
             any(form[name].errors for row in items for name in row.names))
            for key, items in grouped.items() if items]


def _changed_rows(base, overrides):
    """Each change of a version: what, the base's value, the version's."""
    declared = {t.key: t for t in tunables(base)}
    return [(declared[key], declared[key].value, value) for key, value in overrides.items()
            if key in declared]


@federal_bp.route("/versions/<int:version_id>", methods=["GET", "POST"])
@roles_required(*OWNERS)
def version(version_id: int):
    row = found_or_404(MethodologyVersion, version_id)
    if row.kind != "derived":
        abort(404)
    sets = _sets()
    base = sets.get(row.base_key)
    form = rows = None
    if base is not None and row.status in versions.EDITABLE:
        form, rows = version_forms.build(base, row.overrides, title=row.title)
        if request.method == "POST" and form.validate_on_submit():
            try:
                versions.update_draft(sets, row, form.title_.data or "",
                                      version_forms.changes(form, rows), current_user)
            except versions.VersionError as exc:
                db.rollback()
                _show(form, rows, exc)
            else:
                db.commit()
                flash(_("Draft saved."), "success")
                return redirect(url_for("federal.version", version_id=row.id))
    elif request.method == "POST":
        flash(_("A published version cannot be changed: derive a new one from it.")
              if row.status == "published" else
              _("The version is under review: it can be changed once it is returned."), "error")
        return redirect(url_for("federal.version", version_id=row.id)), 303
    preview_key = row.key if row.status == "published" else versions.draft_key(row.id)
    return render_template(
        "versions/detail.html", v=row, base=base, form=form,
        rows=_sections(rows, form) if rows else [], labels=versions.STATUS_LABELS,
        changed=_changed_rows(base, row.overrides) if base else [],
        preview_key=preview_key, last_campaign=_last_campaign_id(),
        may_review=current_user.has_role(*REVIEWERS) and row.created_by_id != current_user.id,
    ), (400 if form is not None and _has_errors(form) else 200)


def _step(version_id: int, action) -> object:
    row = found_or_404(MethodologyVersion, version_id)
    if row.kind != "derived":
        abort(404)
    try:
        action(row)
    except versions.VersionError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
    return redirect(url_for("federal.version", version_id=version_id))


@federal_bp.route("/versions/<int:version_id>/submit", methods=["POST"])
@roles_required(*OWNERS)
def version_submit(version_id: int):
    def act(row):
        versions.submit(row, current_user)
        flash(_("Submitted for review: a second methodology owner approves it."), "success")
    return _step(version_id, act)


@federal_bp.route("/versions/<int:version_id>/approve", methods=["POST"])
@roles_required(*REVIEWERS)
def version_approve(version_id: int):
    def act(row):
        versions.approve(_sets(), row, current_user)
        flash(_("Version «%(title)s» is published and offered for new campaigns.",
                title=row.title), "success")
    return _step(version_id, act)


@federal_bp.route("/versions/<int:version_id>/return", methods=["POST"])
@roles_required(*REVIEWERS)
def version_return(version_id: int):
    def act(row):
        versions.return_for_changes(row, current_user, request.form.get("comment", ""))
        flash(_("Returned to its author with your comment."), "success")
    return _step(version_id, act)


@federal_bp.route("/versions/packages/<key>/approve", methods=["POST"])
@roles_required(*REVIEWERS)
def package_approve(key: str):
    sets = _sets()
    if key not in sets:
        abort(404)
    try:
        versions.approve_package(sets, key, current_user)
    except versions.VersionError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(_("Version «%(title)s» is approved for new campaigns.", title=sets[key].title),
              "success")
    return redirect(url_for("federal.versions_index"))


# --- proposals --------------------------------------------------------------------------------


class ProposalForm(FlaskForm):
    summary = TextAreaField(_l("What is proposed"), validators=[DataRequired(), Length(max=4000)])
    region = SelectField(_l("Proposed by the region"))
    proposed_by = StringField(_l("Proposed by (a working group, a person)"),
                              validators=[Length(max=300)])
    indicator = StringField(_l("Indicator"), validators=[Length(max=100)],
                            description=_l("Its code, e.g. O-III.2"))
    decision = SelectField(_l("Decision"), choices=[
        SelectChoice(k, v) for k, v in versions.DECISION_LABELS.items()])
    reason = TextAreaField(_l("Reason for the decision"), validators=[Length(max=4000)])
    version_key = SelectField(_l("Implemented by the version"))


def _proposal_form(proposal: MethodologyProposal | None) -> ProposalForm:
    form = ProposalForm(obj=proposal)
    if proposal is not None and request.method == "GET":
        form.region.data = proposal.region.code if proposal.region else ""
    form.region.choices = [SelectChoice("", "—")] + [
        SelectChoice(r.code, r.name) for r in db.scalars(select(Region).order_by(Region.name))]
    form.version_key.choices = [SelectChoice("", "—")] + [
        SelectChoice(k, s.title) for k, s in sorted(_sets().items())]
    return form


def _seeded() -> None:
    if versions.seed_declared(_sets()):
        db.commit()


@federal_bp.app_template_global()
def methodology_change_log(key: str) -> list[MethodologyProposal]:
    """The change log of a version for its page (``methodologies/_changelog.html``)."""
    _seeded()
    return versions.change_log(key)


@federal_bp.app_template_global()
def proposals_by_indicator(key: str) -> dict[str, list[MethodologyProposal]]:
    """The accepted proposals a version implements, by each indicator code they name: the
    «proposal behind it» of the difference of two versions."""
    out: dict[str, list[MethodologyProposal]] = {}
    for proposal in methodology_change_log(key):
        for code in (part.strip() for part in proposal.indicator.split(",")):
            if code:
                out.setdefault(code, []).append(proposal)
    return out


@federal_bp.route("/proposals/")
@roles_required(*OWNERS)
def proposals():
    _seeded()
    decision = request.args.get("decision") or ""
    query = select(MethodologyProposal).order_by(MethodologyProposal.version_key,
                                                 MethodologyProposal.number,
                                                 MethodologyProposal.id)
    if decision in versions.DECISION_LABELS:
        query = query.where(MethodologyProposal.decision == decision)
    return render_template("versions/proposals.html", proposals=list(db.scalars(query)),
                           decisions=versions.DECISION_LABELS, decision=decision, sets=_sets())


def _save_proposal(form: ProposalForm, proposal: MethodologyProposal | None):
    try:
        saved = versions.save_proposal(_sets(), form.data, current_user, proposal)
    except versions.VersionError as exc:
        db.rollback()
        for name, message in exc.errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        return None
    db.commit()
    flash(_("Proposal saved."), "success")
    return redirect(url_for("federal.proposal", proposal_id=saved.id))


@federal_bp.route("/proposals/new", methods=["GET", "POST"])
@roles_required(*OWNERS)
def proposal_new():
    form = _proposal_form(None)
    if request.method == "POST" and form.validate_on_submit():
        done = _save_proposal(form, None)
        if done is not None:
            return done
    return render_template("versions/proposal.html", form=form, proposal=None), (
        400 if _has_errors(form) else 200)


@federal_bp.route("/proposals/<int:proposal_id>", methods=["GET", "POST"])
@roles_required(*OWNERS)
def proposal(proposal_id: int):
    item = found_or_404(MethodologyProposal, proposal_id)
    form = _proposal_form(item)
    if request.method == "POST" and form.validate_on_submit():
        done = _save_proposal(form, item)
        if done is not None:
            return done
    return render_template("versions/proposal.html", form=form, proposal=item), (
        400 if _has_errors(form) else 200)


@federal_bp.route("/proposals/<int:proposal_id>/delete", methods=["POST"])
@roles_required(*OWNERS)
def proposal_delete(proposal_id: int):
    item = found_or_404(MethodologyProposal, proposal_id)
    try:
        versions.delete_proposal(item, current_user)
    except versions.VersionError as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(url_for("federal.proposal", proposal_id=proposal_id))
    db.commit()
    flash(_("Proposal removed."), "success")
    return redirect(url_for("federal.proposals"))
