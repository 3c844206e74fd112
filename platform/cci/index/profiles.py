"""Respondent profiles (gender, age, ownership, headcount…): how the quality-valid respondents
of a campaign are distributed over each profile question's options, per office and region and
per respondent type, counted by the database.

The answers are read where the channels store them, ``responses.profile`` (JSON), through
SQLAlchemy's JSON path expression (``->>`` on PostgreSQL, ``json_extract`` on SQLite): one
GROUP BY per question, over the campaign's responses of one respondent type.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import func
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import Response
from cci.methodology.contract import Item

#: the bucket of respondents who left a question unanswered
NOT_GIVEN = ""


@dataclass
class Distribution:
    """One profile question's answers: option key -> respondents, per office and in all."""

    item: Item
    respondent_type: str
    #: office id -> option key (NOT_GIVEN: no answer) -> respondents
    offices: dict[int, dict[str, int]] = field(default_factory=dict)

    def counts(self, office_id: int | None = None) -> dict[str, int]:
        if office_id is not None:
            return self.offices.get(office_id, {})
        total: dict[str, int] = defaultdict(int)
        for per_office in self.offices.values():
            for key, n in per_office.items():
                total[key] += n
        return dict(total)

    def answered(self, office_id: int | None = None) -> int:
        """n: the respondents who answered the question."""
        return sum(n for key, n in self.counts(office_id).items() if key != NOT_GIVEN)

    def not_given(self, office_id: int | None = None) -> int:
        return self.counts(office_id).get(NOT_GIVEN, 0)

    def share(self, option: str, office_id: int | None = None) -> float | None:
        n = self.answered(office_id)
        return self.counts(office_id).get(option, 0) / n if n else None

    def options(self) -> list[tuple[str, str]]:
        """(key, label) of the question's options, then any other value found in the data
        (an option of an earlier wording), shown as stored."""
        known = [(o.key, str(o.label)) for o in self.item.options]
        keys = {k for k, _ in known}
        extra = sorted(k for k in self.counts() if k != NOT_GIVEN and k not in keys)
        return known + [(k, k) for k in extra]


def profile_distributions(campaign_id: int, items_by_type: dict[str, list[Item]], *,
                          region_id: int | None = None,
                          office_id: int | None = None) -> list[Distribution]:
    """Every profile question of each respondent type: counts per office and option, of the
    campaign's quality-valid responses in the current scope."""
    result = []
    for rtype, items in items_by_type.items():
        where = [Response.campaign_id == campaign_id, Response.counted.is_(True),
                 Response.respondent_type == rtype]
        if region_id is not None:
            where.append(Response.region_id == region_id)
        if office_id is not None:
            where.append(Response.office_id == office_id)
        for item in items:
            value = func.coalesce(Response.profile[item.key].as_string(), NOT_GIVEN)
            found = Distribution(item=item, respondent_type=rtype)
            for office, option, n in db.execute(
                select(Response.office_id, value, func.count()).where(*where)
                .group_by(Response.office_id, value)
            ):
                found.offices.setdefault(office, {})[option] = n
            result.append(found)
    return result
