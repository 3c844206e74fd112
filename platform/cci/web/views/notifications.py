"""The user's notifications (cci.foundation.notifications): the page «Уведомления», marking one
or all read (htmx swaps the item or the list, and the count in the header), opening one's
subject, and the choice of e-mail made on the account page."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from htmx_flask import request as htmx_request

from cci.foundation import audit
from cci.foundation import notifications
from cci.foundation import tenancy
from cci.foundation.access import scope_for_user
from cci.foundation.db import db

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread() -> dict:
    """The header's count, read only where the menu shows it."""
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        if tenancy.current_scope() is not None:
            return notifications.unread_count(current_user)
        # an error page rendered after the request's scope ended: the user's own
        with tenancy.scoped(scope_for_user(current_user)):
            return notifications.unread_count(current_user)
    return {"unread_notifications": unread_notifications}


def _list(status: int = 200):
    rows = notifications.of_user(current_user)
    template = "notifications/_list.html" if htmx_request.htmx else "notifications/index.html"
    return render_template(template, rows=rows, kinds=notifications.KINDS,
                           unread=notifications.unread_count(current_user),
                           oob=bool(htmx_request.htmx)), status


@bp.route("/")
@login_required
def index():
    return _list()


def _own(notification_id: int):
    row = notifications.own(current_user, notification_id)
    if row is None:
        abort(404)
    return row


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    row = _own(notification_id)
    notifications.mark_read(row)
    db.commit()
    if htmx_request.htmx:
        return render_template("notifications/_item.html", item=row, kinds=notifications.KINDS,
                               unread=notifications.unread_count(current_user), oob=True)
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    notifications.mark_all_read(current_user)
    db.commit()
    if htmx_request.htmx:
        return _list()
    return redirect(url_for("notifications.index"))


@bp.route("/<int:notification_id>/open")
@login_required
def open_subject(notification_id: int):
    """The subject's page; the notification is read by then."""
    row = _own(notification_id)
    notifications.mark_read(row)
    db.commit()
    # a path of the platform's own (never another site, even if a row said so)
    target = row.url if row.url.startswith("/") and not row.url.startswith("//") else None
    return redirect(target or url_for("notifications.index"))


@bp.route("/email", methods=["POST"])
@login_required
def email_choice():
    choice = request.form.get("notification_email", "")
    if choice not in notifications.EMAIL_CHOICES:
        flash(_("Choose one of the options."), "error")
        return redirect(url_for("account.password") + "#notification-email")
    user = current_user._get_current_object()
    before = user.notification_email
    if notifications.set_email_choice(user, choice):
        audit.record("user.notification_email", user, before={"notification_email": before},
                     after={"notification_email": choice})
        db.commit()
    flash(_("Saved: %(choice)s.", choice=notifications.EMAIL_CHOICES[choice]), "success")
    return redirect(url_for("account.password") + "#notification-email")
