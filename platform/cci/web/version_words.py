"""What differs between two methodology versions, said in words for the comparison page and
its exports: per indicator (its formula, checklist, points, whether it counts), and the
set's parameters that reach it (the positive answer's threshold reaches every subjective one)."""

from __future__ import annotations

from flask_babel import gettext as _

from cci.index.comparison import IndicatorVersions
from cci.methodology.diff import Diff
from cci.methodology.diff import changes_in_words

#: a set's parameters that change every subjective indicator's figure (the core reads them:
#: the positive answer's threshold, the answers an office needs for a figure)
SUBJECTIVE_PARAMETERS = ("positive_min", "min_sample")


def parameter_words(changes: Diff) -> list[str]:
    """The set-wide parameters that differ, e.g. «Порог положительного ответа: было 9–10,
    стало 8–10»."""
    return [change.text for change in changes_in_words(changes.old, changes.new)
            if change.section == "parameter"]


def indicator_words(line: IndicatorVersions, changes: Diff) -> list[str]:
    """Why this indicator's figure may differ between the versions, one sentence a reason
    (the differences in words of :func:`cci.methodology.diff.changes_in_words`, and for a
    subjective indicator the set's parameters that reach it); empty when nothing differs."""
    if line.status == "added":
        return [_("Added in the second version.")]
    if line.status == "removed":
        return [_("Removed in the second version.")]
    reaching = SUBJECTIVE_PARAMETERS if line.kind == "subjective" else ()
    return [change.text + "." for change in changes_in_words(changes.old, changes.new)
            if (change.section == "indicator" and change.ref == line.code)
            or (change.section == "parameter" and change.ref in reaching)]
