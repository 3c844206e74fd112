"""Server-rendered pages. Region pages live under /r/<code>/, federal ones under /federal/."""

from __future__ import annotations

from flask import abort
from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Regexp

from cci.foundation.db import ID_MAX
from cci.foundation.db import db


def form_ids(name: str = "ids") -> list[int]:
    """The ids ticked in a form (checkboxes named ``name``), sorted, each once; what is not
    a plain number in range (a crafted "²" or 20 digits) is ignored rather than a 500."""
    return sorted({int(v) for v in request.form.getlist(name)
                   if v.isascii() and v.isdigit() and int(v) <= ID_MAX})


def email_field(**render_kw) -> EmailField:
    """An e-mail address a person types: required, at most 254 characters, of an address's
    shape (wtforms' Email() needs the email_validator package, which is not installed)."""
    return EmailField(_l("E-mail"), render_kw=render_kw or None, validators=[
        DataRequired(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$", message=_l("Enter a valid e-mail address."))])


def found_or_404(model, row_id: int):
    """The row, or a 404: another region's row is not found in a region's scope (tenancy), so
    whether it exists is not told either."""
    row = db.get(model, row_id)
    if row is None:
        abort(404)
    return row
