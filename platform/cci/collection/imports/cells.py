"""Reading one cell as people fill it: text, blanks, dates and times in the Russian way."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from cci.methodology.values import word


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious «.0», dates as ДД.ММ.ГГГГ, trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value).replace("\xa0", " ").strip()


def is_blank(value: Any) -> bool:
    return cell_text(value) == ""


def cell_word(value: Any) -> str:
    """A cell compared as a word (see :func:`cci.methodology.values.word`)."""
    return word(cell_text(value))


_RU_DATE = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)


def parse_moment(value: Any, timezone: str) -> dt.datetime:
    """ДД.ММ.ГГГГ [ЧЧ:ММ[:СС]], ISO 8601, or an Excel date cell; local times are the region's.

    A date without a time is taken at noon, so its local date is the date written.
    Returns an aware UTC datetime; raises ValueError.
    """
    zone = zoneinfo.ZoneInfo(timezone)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        from openpyxl.utils.datetime import from_excel

        value = from_excel(value)  # an Excel serial date in a cell formatted as a number
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(12, 0))
    else:
        text = cell_text(value)
        match = _RU_DATE.fullmatch(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            year_number = int(year) + (2000 if len(year) == 2 else 0)
            if hour is None:
                moment = dt.datetime(year_number, int(month), int(day), 12, 0, tzinfo=zone)
            else:
                moment = dt.datetime(year_number, int(month), int(day), int(hour), int(minute),
                                     int(second or 0), tzinfo=zone)
        elif re.match(r"\d{4}-\d{2}-\d{2}", text):
            moment = dt.datetime.fromisoformat(text)
            if len(text) == 10:
                moment = moment.replace(hour=12)
        else:
            raise ValueError(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)
