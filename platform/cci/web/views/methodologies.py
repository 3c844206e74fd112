"""Methodology versions: the list, one version in full, and the difference of two."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_login import login_required

from cci.methodology.diff import diff

bp = Blueprint("methodologies", __name__, url_prefix="/methodologies")


def _registry():
    return current_app.extensions["cci.registry"]


@bp.route("/")
@login_required
def index():
    sets = sorted(_registry().indicator_sets.values(), key=lambda s: s.key)
    return render_template("methodologies/index.html", sets=sets)


@bp.route("/<key>")
@login_required
def detail(key: str):
    indicator_set = _registry().indicator_sets.get(key)
    if indicator_set is None:
        abort(404)
    return render_template("methodologies/detail.html", s=indicator_set)


@bp.route("/diff")
@login_required
def compare():
    sets = _registry().indicator_sets
    old_key = request.args.get("old") or next(iter(sorted(sets)), None)
    new_key = request.args.get("new") or (sets[old_key].based_on and old_key)
    if new_key is None:
        new_key = next((k for k, s in sets.items() if s.based_on == old_key), old_key)
    if old_key not in sets or new_key not in sets:
        abort(404)
    return render_template("methodologies/diff.html", d=diff(sets[old_key], sets[new_key]),
                           sets=sorted(sets), old_key=old_key, new_key=new_key)
