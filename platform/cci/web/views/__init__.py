"""Server-rendered pages. Region pages live under /r/<code>/, federal ones under /federal/."""

from __future__ import annotations

from flask import request

from cci.foundation.db import ID_MAX


def form_ids(name: str = "ids") -> list[int]:
    """The ids ticked in a form (checkboxes named ``name``), sorted, each once; what is not
    a plain number in range (a crafted "²" or 20 digits) is ignored rather than a 500."""
    return sorted({int(v) for v in request.form.getlist(name)
                   if v.isascii() and v.isdigit() and int(v) <= ID_MAX})
