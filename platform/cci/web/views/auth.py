"""Log in and out. Failed attempts are throttled per account and per address."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Flask
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
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
from wtforms.validators import DataRequired
from wtforms.validators import Length

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import User
from cci.foundation.passwords import dummy_hash
from cci.foundation.passwords import hash_password
from cci.foundation.passwords import needs_rehash
from cci.foundation.passwords import verify_password
from cci.web import throttle

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The user of a session ("id:mark", see User.get_id): None once the account is
    deactivated or its password changed since the session was opened."""
    user_id, _sep, mark = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or not mark:
        return None  # not a session this version opened
    # Runs before the request's scope exists: reading the account itself is the auth step.
    with tenancy.federal_scope("load the logged-in user"):
        user = db.get(User, int(user_id))
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(mark, user.session_mark()) else None


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
        wait = throttle.seconds_locked(email, request.remote_addr)
        if wait:
            minutes = max(1, (wait + 59) // 60)
            flash(
                ngettext(
                    "Too many failed attempts. Try again in %(num)d minute.",
                    "Too many failed attempts. Try again in %(num)d minutes.",
                    minutes,
                ),
                "error",
            )
            status = 429
        else:
            user = authenticate(email, form.password.data)
            if user is None:
                throttle.record_failure(email, request.remote_addr)
                flash(_("Wrong e-mail or password."), "error")
                status = 401
            else:
                throttle.clear_account(email)
                with tenancy.federal_scope("record login"):
                    if needs_rehash(user.password_hash):
                        user.password_hash = hash_password(form.password.data)
                    user.last_login_at = utcnow()
                    db.commit()
                login_user(user)
                return redirect(_safe_next(request.args.get("next")) or home_url(user))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
