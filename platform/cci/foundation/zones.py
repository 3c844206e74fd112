"""Time zones as Russians name them: by their offset from Moscow («МСК+4»)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
MINUS = "\u2212"  # a real minus sign, as typeset, not a hyphen


def zone_label(zone: dt.tzinfo | str, at: dt.datetime | None = None) -> str:
    """«МСК», «МСК+4», «МСК−1», «МСК+3:30»: the zone's offset from Moscow at that moment.
    «МСК» is the convention's own name (like a unit), not an interface phrase to translate."""
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone)
    at = at or dt.datetime.now(dt.UTC)
    offset = at.astimezone(zone).utcoffset() or dt.timedelta()
    moscow = at.astimezone(MOSCOW).utcoffset() or dt.timedelta()
    minutes = int((offset - moscow).total_seconds() // 60)
    if minutes == 0:
        return "МСК"
    sign = "+" if minutes > 0 else MINUS
    hours, rest = divmod(abs(minutes), 60)
    return f"МСК{sign}{hours}" + (f":{rest:02d}" if rest else "")


#: Russia's time zones, west to east, with the city people name each by
RUSSIAN_ZONES = (
    ("Europe/Kaliningrad", "Калининград"), ("Europe/Moscow", "Москва"),
    ("Europe/Samara", "Самара"), ("Asia/Yekaterinburg", "Екатеринбург"),
    ("Asia/Omsk", "Омск"), ("Asia/Krasnoyarsk", "Красноярск"), ("Asia/Irkutsk", "Иркутск"),
    ("Asia/Yakutsk", "Якутск"), ("Asia/Vladivostok", "Владивосток"),
    ("Asia/Magadan", "Магадан"), ("Asia/Kamchatka", "Петропавловск-Камчатский"),
)


def zone_choices() -> list[tuple[str, str]]:
    """(zone, «МСК+4 — Красноярск») for a form's choice of a Russian time zone."""
    return [(zone, f"{zone_label(zone)} — {city}") for zone, city in RUSSIAN_ZONES]
