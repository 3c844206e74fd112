"""The web survey channel: a public survey link per office and per region, one question per
screen (works without JavaScript; htmx makes it smooth), a printable A4 poster with a QR code,
and one-time invitations tied to a real visit.

Registered through the ``cci.channels`` entry point ``web``; the core knows it only as a
:class:`cci.collection.channels.Channel`. The questionnaire flow, the drafts and the invitations are
the core's (:mod:`cci.collection.survey`), so other channels reuse them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cci.plugin_api import Channel
from cci.plugin_api import hookimpl

from cci_channel_web.public import KEY
from cci_channel_web.public import URL_PREFIX
from cci_channel_web.public import bp
from cci_channel_web.staff import STAFF_PREFIX
from cci_channel_web.staff import staff_bp
from cci_channel_web.touchpoint import touchpoint as _touchpoint_view  # noqa: F401 - its route
from cci_channel_web.you_said import you_said as _you_said_view  # noqa: F401 - its route

LABEL = "Веб-анкета"
#: What a web response's ``meta`` holds (see :func:`cci.collection.survey.request_meta` and
#: :func:`cci.collection.survey.finish`).
METADATA_FIELDS = (
    "ip_hash",          # salted SHA-256 of the address (salt: the app's SECRET_KEY)
    "user_agent",
    "timings",          # {step key: seconds spent on it}
    "session",          # the draft's token
    "staff_session",    # answered while logged in as staff
    "invitation_code",  # the one-time code, when the survey was opened with one
    "verified",         # True when tied to a real visit by an invitation code
)



def describe_source(response) -> list[tuple[str, str]]:
    """Whether an invitation ties the answer to a visit, and whether staff were logged in."""
    meta = response.meta or {}
    lines = []
    if meta.get("invitation_code"):
        lines.append((str(_l("Invitation code")), str(meta["invitation_code"])))
    if meta.get("staff_session"):
        lines.append((str(_l("Answered")), str(_l("in a staff member's logged-in session"))))
    return lines


CHANNEL = Channel(
    key=KEY,
    label=LABEL,
    describe_source=describe_source,
    blueprints=((bp, URL_PREFIX), (staff_bp, STAFF_PREFIX)),
    metadata_fields=METADATA_FIELDS,
    description="Анкета по ссылке или QR-коду: ссылка офиса и региона, плакат для печати, "
                "одноразовые приглашения после визита",
    region_links=((_l("Web survey"), "web_survey_staff.links"),),
)


@hookimpl
def register_channels():
    return [CHANNEL]
