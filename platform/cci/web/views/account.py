"""The user's own account: the password, and API tokens (created here, shown once, revocable)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from cci.foundation import audit
from cci.foundation import login_sessions
from cci.foundation import notifications
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import ApiToken
from cci.foundation.passwords import MIN_LENGTH
from cci.foundation.passwords import hash_password
from cci.foundation.passwords import policy_problem
from cci.foundation.passwords import verify_password
from cci.web import throttle
from cci.web.views.auth import SESSION_KEY
from cci.web.views.auth import end_session
from cci.web.views.auth import idle_timeout
from cci.web.views.auth import throttled_message

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. «выгрузка в BI»."),
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("At least %(n)d characters.", n=MIN_LENGTH),
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The new passwords do not match.")),
        ],
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; the current one is checked (and its guesses throttled)."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        # DataRequired passed for both
        assert form.current_password.data is not None and form.new_password.data is not None
        user = current_user._get_current_object()
        problem = policy_problem(form.new_password.data, user.email)
        # Guessing the current password here is guessing the login password: same limit.
        attempt = throttle.begin(user.email, request.remote_addr)
        if attempt.refused:
            form.current_password.errors = [
                *form.current_password.errors, throttled_message(attempt.wait)]
            status = 429
        elif not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors = [
                *form.current_password.errors, _("The current password is wrong.")
            ]
            status = 400
        elif problem:
            throttle.succeeded(attempt)
            form.new_password.errors = [*form.new_password.errors, problem]
            status = 400
        elif form.new_password.data == form.current_password.data:
            throttle.succeeded(attempt)
            form.new_password.errors = [
                *form.new_password.errors,
                _("The new password must differ from the current one."),
            ]
            status = 400
        else:
            throttle.succeeded(attempt)
            user.password_hash = hash_password(form.new_password.data)
            user.password_must_change = False
            # the account's other sessions end; this one goes on
            login_sessions.end_all(user, keep=session.get(SESSION_KEY))
            audit.record("user.password_change", user)
            db.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("account.password"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "account/password.html", form=form, sessions=login_sessions.count(
            current_user, idle_timeout()), email_choices=notifications.EMAIL_CHOICES), status


@bp.route("/sessions/end", methods=["POST"])
@login_required
def end_sessions():
    """Log out everywhere: every session of the account ends, this one too."""
    user = current_user._get_current_object()
    login_sessions.end_all(user)
    audit.record("user.logout_everywhere", user)
    db.commit()
    end_session()
    flash(_("You have logged out on all devices."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        assert form.name.data is not None  # DataRequired passed
        row, new_token = tokens.issue(current_user, form.name.data)
        db.flush()
        audit.record("token.create", row, after={"name": row.name, "prefix": row.prefix})
        db.commit()
        form = TokenForm(formdata=None)
    rows = db.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("account/tokens.html", form=form, tokens=rows, new_token=new_token)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    tokens.revoke(row)
    audit.record("token.revoke", row, after={"name": row.name, "prefix": row.prefix})
    db.commit()
    flash(_("Token «%(name)s» revoked.", name=row.name), "success")
    return redirect(url_for("account.api_tokens"))
