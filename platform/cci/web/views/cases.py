"""A region's cases (comments and low ratings the office answers): the list with filters by
status and office, one case with its comment masked, who works on it, the answer (e-mailed
when the respondent left a contact) and closing it."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cci.collection import case_contacts
from cci.collection import cases as cases_
from cci.collection.touchpoints import questions
from cci.foundation import mail
from cci.foundation.access import roles_required
from cci.foundation.db import db
from cci.foundation.models import Case
from cci.foundation.models import Office
from cci.methodology.cx import TOUCHPOINTS
from cci.web.comment_text import masked
from cci.web.comment_text import theme_name
from cci.web.views import found_or_404
from cci.web.views.areas import region_bp

PER_PAGE = 50


def _id_arg(name: str) -> int | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        abort(404)
    return int(text)


def rating_words(case: Case) -> str:
    """«2 из 5 — Плохо», or «—» without a rating."""
    if case.rating is None:
        return "—"
    asked = questions().get(case.question or "")
    words = asked[0].label(case.rating) if asked else str(case.rating)
    scale = (_("%(value)s of %(low)s–%(high)s", value=case.rating, low=case.scale_low,
               high=case.scale_high) if case.scale_high is not None else str(case.rating))
    return scale if words == str(case.rating) else f"{scale} — {words}"


def source_words(case: Case) -> str:
    label = str(cases_.SOURCE_LABELS[case.source_kind])
    if case.touchpoint:
        label += f" · {TOUCHPOINTS.get(case.touchpoint, case.touchpoint)}"
    return label


@region_bp.route("/cases/")
@roles_required(*cases_.HANDLERS)
def cases():
    status = request.args.get("status") or ""
    if status not in ("", "open", *cases_.STATUS_LABELS):
        abort(404)
    office_id = _id_arg("office")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total, rows = cases_.page_of(current_user, status, office_id, page, PER_PAGE,
                                 selectinload(Case.office), selectinload(Case.assignee))
    offices = select(Office).order_by(Office.name)
    if current_user.office_id is not None:
        offices = offices.where(Office.id == current_user.office_id)
    found = {case_id: [theme_name(t) for t in keys]
             for case_id, keys in cases_.themes([c.id for c in rows]).items()}
    return render_template(
        "cases/index.html", region=g.region, rows=rows, total=total, page=page,
        per_page=PER_PAGE, status=status, office_id=office_id,
        offices=db.scalars(offices).all(), labels=cases_.STATUS_LABELS,
        themes=found, masked=masked, rating_words=rating_words,
        source_words=source_words)


@region_bp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@roles_required(*cases_.HANDLERS)
def case(case_id: int):
    item = found_or_404(Case, case_id)
    if not cases_.may_handle(current_user, item):
        abort(404)  # another office's case: not told it exists
    errors: dict[str, str] = {}
    if request.method == "POST":
        act = request.form.get("act")
        try:
            if act == "assign":
                cases_.assign(item, request.form.get("assignee_id"), current_user)
                message = _("The case is assigned.")
            elif act == "answer":
                sent = cases_.answer(item, request.form.get("answer"), current_user)
                message = (_("The answer is saved and e-mailed to the respondent.") if sent
                           else _("The answer is saved."))
            elif act == "close":
                cases_.close(item, current_user)
                message = _("The case is closed.")
            else:
                abort(400)
        except cases_.CaseError as exc:
            db.rollback()
            errors[exc.field] = exc.message
        except mail.MailError:
            db.rollback()
            current_app.logger.warning("case %s: the answer was not e-mailed", item.id,
                                       exc_info=True)
            errors["answer"] = _("The mail server did not take the answer; nothing is saved. "
                                 "Try again later.")
        else:
            db.commit()
            flash(message, "success")
            return redirect(url_for("region.case", case_id=item.id))
    return render_template(
        "cases/detail.html", region=g.region, c=item, labels=cases_.STATUS_LABELS,
        comment=masked(item.comment),
        themes=[theme_name(t) for t in cases_.themes([item.id]).get(item.id, [])],
        rating=rating_words(item), source=source_words(item),
        has_contact=case_contacts.of(item) is not None, assignees=cases_.assignees(item),
        errors=errors, draft=request.form.get("answer", "") if errors else "",
        open_=item.status in cases_.OPEN_STATUSES), 400 if errors else 200
