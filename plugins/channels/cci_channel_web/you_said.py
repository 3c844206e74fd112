"""«Вы сказали — мы сделали»: an office's public page (no login) under its survey's address,
``/s/<region>/<office>/you-said``: the respondents' feedback worked through (closed cases
by theme) and the improvements made (actions done), with no personal data. It answers the
evaluation stage's questions «увидят ли мой отзыв? проведут ли работу?»; the survey's thanks
screen links to it."""

from __future__ import annotations

from flask import render_template
from flask import url_for

from cci.plugin_api import masked_text
from cci.plugin_api import resolved_feedback

from cci_channel_web.public import _office_or_404
from cci_channel_web.public import bp


@bp.route("/<region_code>/<office_code>/you-said")
def you_said(region_code: str, office_code: str):
    office = _office_or_404(region_code, office_code)
    return render_template("web_survey/you_said.html", office=office,
                           resolved=resolved_feedback(office), masked=masked_text,
                           prefs_url=url_for("web_survey.prefs"))
