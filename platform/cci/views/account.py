"""The user's own account: API tokens (created here, shown once, revocable)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from cci import audit
from cci import tokens
from cci.db import db
from cci.models import ApiToken

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. «выгрузка в BI»."),
    )


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
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
