"""Methodology versions: the list, one version in full, and the difference of two, all in words
(:mod:`cci.methodology.wording`, :func:`cci.methodology.diff.changes_in_words`)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_login import login_required

from cci.methodology import wording
from cci.methodology.diff import changes_in_words
from cci.methodology.diff import diff

bp = Blueprint("methodologies", __name__, url_prefix="/methodologies")

#: what the pages write a version with
WORDS = {
    "parameter_value": wording.parameter_value,
    "indicator_texts": wording.indicator_texts,
    "questionnaire": wording.questionnaire,
    "section_title": wording.section_title,
}


def _registry():
    return current_app.extensions["cci.registry"]


@bp.route("/")
@login_required
def index():
    sets = sorted(_registry().indicator_sets.values(), key=lambda s: s.key)
    return render_template("methodologies/index.html", sets=sets,
                           titles={s.key: s.title for s in sets})


@bp.route("/<key>")
@login_required
def detail(key: str):
    sets = _registry().indicator_sets
    indicator_set = sets.get(key)
    if indicator_set is None:
        abort(404)
    return render_template("methodologies/detail.html", s=indicator_set,
                           base=sets.get(indicator_set.based_on or ""),
                           questionnaire_note=indicator_set.questionnaire_note,
                           **WORDS)


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
    old, new = sets[old_key], sets[new_key]
    return render_template("methodologies/diff.html", d=diff(old, new),
                           entries=changes_in_words(old, new),
                           sets=sorted(sets.values(), key=lambda s: s.key),
                           old_key=old_key, new_key=new_key)
