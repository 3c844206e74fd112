"""Log in and out. Failed attempts are throttled per account and per address."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from cci.foundation import login_sessions
from cci.foundation import mail
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import User
from cci.foundation.passwords import dummy_hash
from cci.foundation.passwords import hash_password
from cci.foundation.passwords import needs_rehash
from cci.foundation.passwords import verify_password
from cci.web import login_codes
from cci.web import throttle

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


#: Where the session cookie keeps the key of the server-side login session.
SESSION_KEY = "login_session"
#: ... and, between a login's password and its e-mailed code, the code's id and the next page
CODE_KEY = "login_code"
CODE_NEXT_KEY = "login_code_next"


def idle_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The user of a live server-side session (cci.foundation.login_sessions); None once it
    was ended (logout, logout everywhere, a password change), idled out, or the account was
    deactivated, whatever copy of the cookie is presented."""
    if not (user_id.isascii() and user_id.isdigit()):
        return None  # not a session this version opened
    return login_sessions.resolve(session.get(SESSION_KEY), int(user_id), idle_timeout())


def start_session(user: User) -> None:
    """Log ``user`` in with a new server-side session (committed)."""
    key = login_sessions.open_session(user, idle_timeout())
    db.commit()
    login_user(user)
    session[SESSION_KEY] = key


def end_session() -> None:
    """Log out: the server forgets this session, so a copy of its cookie opens nothing."""
    login_sessions.end(session.pop(SESSION_KEY, None))
    db.commit()
    logout_user()


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the e-mail"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def home_url(user) -> str:
    if user.is_federal:
        return url_for("federal.regions")
    return url_for("region.home", region_code=user.region.code)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def throttled_message(wait: int) -> str:
    minutes = max(1, (wait + 59) // 60)
    return ngettext(
        "Too many failed attempts. Try again in %(num)d minute.",
        "Too many failed attempts. Try again in %(num)d minutes.",
        minutes,
    )


def authenticate(email: str, password: str) -> User | None:
    with tenancy.federal_scope("authenticate"):
        user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(dummy_hash(), password)  # same work whether or not the account exists
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        # DataRequired passed for both
        assert form.email.data is not None and form.password.data is not None
        email = form.email.data.strip().lower()
        attempt = throttle.begin(email, request.remote_addr)
        if attempt.refused:
            flash(throttled_message(attempt.wait), "error")
            status = 429
        else:
            user = authenticate(email, form.password.data)
            if user is None:
                flash(_("Wrong e-mail or password."), "error")
                status = 401
            elif login_codes.needed(user, throttle.account_failures(attempt)):
                # the attempt stays counted: a right password asks for a code only so often
                try:
                    session[CODE_KEY] = login_codes.issue(user)
                except mail.MailError:
                    current_app.logger.exception("the login code could not be sent")
                    flash(_("The login code could not be sent by e-mail. Try again later."),
                          "error")
                    status = 503
                else:
                    session[CODE_NEXT_KEY] = _safe_next(request.args.get("next"))
                    return redirect(url_for("auth.login_code"))
            else:
                throttle.succeeded(attempt)
                return _complete_login(user, form.password.data,
                                       _safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _complete_login(user: User, password: str | None, next_url: str | None):
    with tenancy.federal_scope("record login"):
        if password is not None and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        start_session(user)
    response = redirect(next_url or home_url(user))
    login_codes.remember_browser(response, user)
    return response


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a login while the account is guessed at: the e-mailed code."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    if CODE_KEY not in session:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        assert form.code.data is not None  # DataRequired passed
        user = login_codes.redeem(session.get(CODE_KEY), form.code.data)
        if user is not None:
            session.pop(CODE_KEY, None)
            return _complete_login(user, None, session.pop(CODE_NEXT_KEY, None))
        form.code.errors = [*form.code.errors, _(
            "The code is wrong or no longer valid. Check it, or log in again to receive a new "
            "one.")]
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/code.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


#: what a user whose password an administrator gave may open before setting their own
OPEN_BEFORE_OWN_PASSWORD = frozenset({"account.password", "account.end_sessions",
                                      "auth.logout", "static"})


def _own_password_first():
    """A password an administrator gave (and so knows) opens only the page that changes it:
    every other staff page sends the user there. The API (tokens) is not a session's."""
    if (request.endpoint is None or request.endpoint in OPEN_BEFORE_OWN_PASSWORD
            or request.path.startswith("/api/") or not current_user.is_authenticated
            or not current_user.password_must_change):
        return None
    flash(_("Your password was given by an administrator: set your own to go on."), "info")
    return redirect(url_for("account.password"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.before_request(_own_password_first)
