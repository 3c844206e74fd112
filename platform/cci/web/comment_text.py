"""Comments as people read them: personal data masked (cci.collection.personal_data), theme
and channel names in words. Used by the pages and the API alike, so neither shows a phone
number, an e-mail address or a name that a respondent typed."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _

from cci.collection import personal_data
from cci.collection.comment_themes import THEME_KEYS
from cci.collection.comment_themes import THEME_NAMES
from cci.foundation.roles import Role
from cci.index.comments import BANDS

#: who reads comments: everyone but the contact centre's operators (free text may name people)
READERS = (Role.ADMIN, Role.FEDERAL_ANALYST, Role.METHODOLOGY_OWNER, Role.REGIONAL_ADMIN,
           Role.AUDITOR)
RESPONDENT_TYPES = ("job_seeker", "employer")


def scale_items(indicator_set) -> list[str]:
    """The keys of the 1..10 agreement items (a response's mean score is theirs)."""
    return [item.key for item in indicator_set.items if item.kind == "scale"]


def profile_items(indicator_set) -> dict:
    """Respondent type -> its profile questions."""
    return {t: indicator_set.items_for(t, "profile") for t in RESPONDENT_TYPES}


def masked(text: str | None) -> str:
    return personal_data.mask(text, {
        personal_data.PHONE: _("[phone]"),
        personal_data.EMAIL: _("[e-mail]"),
        personal_data.NAME: _("[name]"),
    })


def theme_name(key: str) -> str:
    return THEME_NAMES.get(key, key)


def channel_names() -> dict[str, str]:
    """Channel key -> its name: the installed channels', and the ways in that are not
    channels (imports, the API, the sample data)."""
    registry = current_app.extensions["cci.registry"]
    return {"import": _("file import"), "api": _("API"), "sample": _("sample data")} | {
        key: str(channel.label) for key, channel in registry.channels.items()}


def respondent_type_name(key: str) -> str:
    return _("job seekers") if key == "job_seeker" else _("employers")


def read_filters(args, respondent_types=("job_seeker", "employer")) -> tuple[dict, dict]:
    """The comment filters of a query string: (the values read, {parameter: what it must
    be} for each value that does not fit). Empty values are no filter."""
    values: dict = {}
    invalid: dict[str, str] = {}

    def text(name: str) -> str:
        return (args.get(name) or "").strip()

    if text("office"):
        if text("office").isascii() and text("office").isdigit() and int(text("office")) < 2**31:
            values["office_id"] = int(text("office"))
        else:
            invalid["office"] = "an office id"
    for name, key, allowed in (("respondent_type", "respondent_type", respondent_types),
                               ("band", "band", BANDS), ("theme", "theme", THEME_KEYS)):
        if text(name):
            if text(name) in allowed:
                values[key] = text(name)
            else:
                invalid[name] = ", ".join(allowed)
    if text("channel"):
        values["channel"] = text("channel")[:32]
    if text("q"):
        if personal_data.spans(text("q")[:200]):
            # what is hidden in the comments is not looked for either: a match would tell
            # that a comment names that person, phone or address
            invalid["q"] = "no names, phone numbers or e-mail addresses"
        else:
            values["q"] = text("q")[:200]
    for name, key in (("from", "date_from"), ("to", "date_to")):
        if text(name):
            try:
                values[key] = dt.date.fromisoformat(text(name))
            except ValueError:
                invalid[name] = "a date, YYYY-MM-DD"
    return values, invalid
