"""Getting back in after a forgotten password: a one-time link by e-mail.

«Забыли пароль?» on the login page asks for the address. The answer is the same whether an
account has it or not, and takes the same time: the request only counts itself (bounded per
e-mail and per address, cci.web.throttle) and hands the look-up and the e-mail to a thread
(cci.foundation.background), which sends nothing for an address no active account has. The
link (cci.foundation.password_resets) opens a page that sets a new password under the
password policy and ends every session of the account. An administrator sends the same link
to a user of their scope from the users page (:func:`send_link`, cci.web.views.admin); the
administrator never sees or sets the password.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from cci.foundation import audit
from cci.foundation import background
from cci.foundation import mail
from cci.foundation import password_resets
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import User
from cci.foundation.password_resets import LinkState
from cci.foundation.passwords import MIN_LENGTH
from cci.foundation.passwords import policy_problem
from cci.web import throttle
from cci.web.views import email_field
from cci.web.views.auth import bp
from cci.web.views.auth import end_session
from cci.web.views.auth import home_url

log = logging.getLogger("cci.password_reset")

#: what the throttle counts the requests under (cci.web.throttle.count_request)
THROTTLE_KIND = "password-reset"


class ForgotForm(FlaskForm):
    email = email_field(autocomplete="email")


class ResetForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("At least %(n)d characters.", n=MIN_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The new passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def reset_link(token: str) -> str:
    """The link of ``token`` as e-mailed: under CCI_PUBLIC_URL when it is set (a request's
    own Host header cannot then point a link elsewhere), else at the request's address."""
    public = current_app.config.get("PUBLIC_URL", "")
    if public:
        return public + url_for("auth.reset_password", token=token)
    return url_for("auth.reset_password", token=token, _external=True)


def _minutes() -> int:
    return current_app.config["PASSWORD_RESET_MINUTES"]


def compose(email: str, link: str, administrator: str | None = None) -> tuple[str, str]:
    """The subject and body of the e-mail carrying ``link`` to ``email``."""
    if administrator:
        opening = _("The administrator %(admin)s has asked for a new password of your account "
                    "%(email)s on the client-centricity index platform.",
                    admin=administrator, email=email)
        closing = _("Until you set a new password, the current one keeps working.")
    else:
        opening = _("Someone, perhaps you, has asked to reset the password of the account "
                    "%(email)s on the client-centricity index platform.", email=email)
        closing = _("If it was not you, ignore this message: your password stays as it is.")
    how = ngettext("To set a new password, open this link within %(num)d minute; it works once:",
                   "To set a new password, open this link within %(num)d minutes; it works once:",
                   _minutes())
    return _("Setting a new password"), f"{opening}\n\n{how}\n\n{link}\n\n{closing}\n"


def _mail_if_known(email: str, token: str, subject: str, body: str, actor: str,
                   address: str | None) -> None:
    """After the response: store the link and send it if an active account has ``email``;
    otherwise nothing (nothing is sent to an address no account has)."""
    with tenancy.federal_scope("password-reset request"):
        user = db.scalar(select(User).where(User.email == email))
        if user is None or not user.active:
            log.info("a password-reset link was asked for an address of no active account")
            return
        password_resets.store(user, token)
        entry = audit.record("user.password_reset_request", user, actor=actor)
        entry.ip = address
        db.commit()
        recipient = user.email
    mail.send(recipient, subject, body)


def send_link(user: User, administrator: User) -> None:
    """An administrator's reset: e-mail ``user`` a new link at once (committed, audited).
    Raises :class:`cci.foundation.mail.MailError` when the mail server refuses it."""
    token = password_resets.new_token()
    password_resets.store(user, token)
    db.commit()
    subject, body = compose(user.email, reset_link(token), administrator.email)
    mail.send(user.email, subject, body)
    audit.record("user.password_reset_send", user)
    db.commit()


def _too_many(wait: int) -> str:
    minutes = max(1, (wait + 59) // 60)
    return ngettext(
        "Too many requests for a password-reset link. Try again in %(num)d minute.",
        "Too many requests for a password-reset link. Try again in %(num)d minutes.",
        minutes,
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = ForgotForm()
    status = 200
    if form.validate_on_submit():
        assert form.email.data is not None  # DataRequired passed
        email = form.email.data.strip().lower()
        # The same work for every address, whether an account has it or not: count the
        # request, make a token and the message, and leave the rest to another thread.
        wait = throttle.count_request(THROTTLE_KIND, email, request.remote_addr,
                                      current_app.config["PASSWORD_RESET_MAX_REQUESTS"])
        if wait:
            form.email.errors = [*form.email.errors, _too_many(wait)]
            status = 429
        else:
            token = password_resets.new_token()
            subject, body = compose(email, reset_link(token))
            background.submit(_mail_if_known, email, token, subject, body,
                              _("the «Forgot your password?» form"), request.remote_addr)
            return render_template("auth/forgot_sent.html", email=email,
                                   minutes=_minutes())
    elif request.method == "POST":
        status = 400
    return render_template("auth/forgot.html", form=form), status


def _refused(state: LinkState):
    if state is LinkState.EXPIRED:
        message = ngettext(
            "This link has expired: a link works for %(num)d minute. Ask for a new one.",
            "This link has expired: a link works for %(num)d minutes. Ask for a new one.",
            _minutes())
        status = 410
    else:
        message = _("This link does not work: it has been used already, a newer link has been "
                    "sent, the password has been changed since, or the link was copied "
                    "incompletely. Ask for a new one.")
        status = 404
    return render_template("auth/reset_refused.html", message=message), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The page the e-mailed link opens: a new password, under the policy."""
    g.log_path = "/password/reset/…"  # the token stays out of the request log
    state, user = password_resets.look_up(token)
    if state is not LinkState.VALID or user is None:
        response, status = _refused(state)
        return response, status, {"Cache-Control": "no-store"}
    form = ResetForm()
    status = 200
    if form.validate_on_submit():
        assert form.new_password.data is not None  # DataRequired passed
        problem = policy_problem(form.new_password.data, user.email)
        if problem:
            form.new_password.errors = [*form.new_password.errors, problem]
            status = 400
        else:
            with tenancy.federal_scope("set a password with a reset link"):
                changed = password_resets.redeem(token, form.new_password.data)
                if changed is None:  # used by a simultaneous request
                    response, status = _refused(LinkState.INVALID)
                    return response, status, {"Cache-Control": "no-store"}
                # the owner proved who they are: their guesses from here no longer hold them
                throttle.forget_failures(changed.email, request.remote_addr)
                audit.record("user.password_reset", changed, user=changed)
                db.commit()
            if current_user.is_authenticated:
                end_session()  # whoever was logged in this browser
            flash(_("Your new password is set, and every session of the account has ended. "
                    "Log in with the new password."), "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 400
    return (render_template("auth/reset.html", form=form, email=user.email), status,
            {"Cache-Control": "no-store"})
