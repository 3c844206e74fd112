"""Respondents' comments as pages and the API read them: who commented (shares with n), the
themes counted per office and region, and the comments themselves, filtered and paginated.

Everything is counted by the database over quality-valid responses only (``counted``: not
excluded by a quality rule); themes are read from ``comment_themes``, written once when the
comments were classified (:func:`cci.collection.comment_themes.classify_pending`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from zoneinfo import ZoneInfo

from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from cci.collection.comment_themes import THEME_KEYS
from cci.collection.comment_themes import has_text
from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.foundation.models import CommentTheme
from cci.foundation.models import Response

#: score bands of a response: the mean of its agreement (1..10) answers
BANDS = ("low", "middle", "high")
#: the mean score up to which a response is in the low band
LOW_MAX = 5


@dataclass
class Counts:
    """Responses and comments of one office (or of the region), per respondent type."""

    responses: dict[str, int] = field(default_factory=dict)
    commented: dict[str, int] = field(default_factory=dict)
    #: theme key -> respondent type -> comments with the theme
    themes: dict[str, dict[str, int]] = field(default_factory=dict)

    def n(self, respondent_type: str | None = None) -> int:
        return _pick(self.responses, respondent_type)

    def n_commented(self, respondent_type: str | None = None) -> int:
        return _pick(self.commented, respondent_type)

    def share(self, respondent_type: str | None = None) -> float | None:
        n = self.n(respondent_type)
        return self.n_commented(respondent_type) / n if n else None

    def theme(self, key: str, respondent_type: str | None = None) -> int:
        return _pick(self.themes.get(key, {}), respondent_type)

    def theme_share(self, key: str, respondent_type: str | None = None) -> float | None:
        """The share of the comments that have the theme."""
        n = self.n_commented(respondent_type)
        return self.theme(key, respondent_type) / n if n else None

    def add(self, other: Counts) -> None:
        for mine, theirs in ((self.responses, other.responses),
                             (self.commented, other.commented)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        for theme, per_type in other.themes.items():
            target = self.themes.setdefault(theme, {})
            for key, value in per_type.items():
                target[key] = target.get(key, 0) + value


def _pick(values: dict[str, int], respondent_type: str | None) -> int:
    return values.get(respondent_type, 0) if respondent_type else sum(values.values())


@dataclass
class CommentCounts:
    """A campaign's counts per region and per office (offices without responses absent)."""

    offices: dict[int, Counts]
    regions: dict[int, Counts]
    #: comments not yet classified (they arrived after the last computation)
    pending: int


def comment_counts(campaign_id: int, region_id: int | None = None,
                   office_id: int | None = None) -> CommentCounts:
    """Shares of respondents who commented and themes, per office and region, in the current
    scope (a region's, or every region in the federal one). Three GROUP BYs."""
    where = [Response.campaign_id == campaign_id, Response.counted.is_(True)]
    if region_id is not None:
        where.append(Response.region_id == region_id)
    if office_id is not None:
        where.append(Response.office_id == office_id)
    offices: dict[int, Counts] = defaultdict(Counts)
    office_region: dict[int, int] = {}
    for region, office, rtype, n, commented in db.execute(
        select(Response.region_id, Response.office_id, Response.respondent_type,
               func.count(), func.count(case((has_text(), 1))))
        .where(*where)
        .group_by(Response.region_id, Response.office_id, Response.respondent_type)
    ):
        offices[office].responses[rtype] = n
        offices[office].commented[rtype] = commented
        office_region[office] = region
    for office, rtype, theme, n in db.execute(
        select(Response.office_id, Response.respondent_type, CommentTheme.theme, func.count())
        .join(CommentTheme, CommentTheme.response_id == Response.id)
        .where(*where)
        .group_by(Response.office_id, Response.respondent_type, CommentTheme.theme)
    ):
        offices[office].themes.setdefault(theme, {})[rtype] = n
    pending = db.scalar(
        select(func.count()).select_from(Response)
        .where(*where, Response.comment.is_not(None), has_text(),
               ~exists().where(CommentTheme.response_id == Response.id))) or 0
    regions: dict[int, Counts] = defaultdict(Counts)
    for office, counts in offices.items():
        regions[office_region[office]].add(counts)
    return CommentCounts(offices=dict(offices), regions=dict(regions), pending=pending)


@dataclass(frozen=True)
class CommentFilters:
    campaign_id: int
    region_id: int | None = None
    office_id: int | None = None
    respondent_type: str | None = None
    channel: str | None = None
    band: str | None = None
    theme: str | None = None
    #: a part of the text
    q: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    #: the time zone the dates are days of
    timezone: str = "Europe/Moscow"


@dataclass(frozen=True)
class CommentLine:
    response: Response
    mean_score: float | None
    themes: tuple[str, ...]


@dataclass(frozen=True)
class CommentPage:
    lines: list[CommentLine]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def mean_score(scale_items: list[str]):
    """SQL: a response's mean agreement answer (1..10; «Затрудняюсь» left out)."""
    return (select(func.avg(Answer.value))
            .where(Answer.response_id == Response.id, Answer.item.in_(scale_items),
                   Answer.value.is_not(None))
            .correlate(Response).scalar_subquery())


def band_condition(band: str, scale_items: list[str], positive_min: int):
    score = mean_score(scale_items)
    if band == "low":
        return score <= LOW_MAX
    if band == "middle":
        return (score > LOW_MAX) & (score < positive_min)
    return score >= positive_min


def _day_start(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone))


def comment_page(filters: CommentFilters, *, scale_items: list[str], positive_min: int,
                 page: int = 1, per_page: int = 25) -> CommentPage:
    """The quality-valid comments that pass the filters, newest first, one page of them."""
    f = filters
    where = [Response.campaign_id == f.campaign_id, Response.counted.is_(True),
             Response.comment.is_not(None), has_text()]
    if f.region_id is not None:
        where.append(Response.region_id == f.region_id)
    if f.office_id is not None:
        where.append(Response.office_id == f.office_id)
    if f.respondent_type:
        where.append(Response.respondent_type == f.respondent_type)
    if f.channel:
        where.append(Response.channel == f.channel)
    if f.band:
        where.append(band_condition(f.band, scale_items, positive_min))
    if f.theme:
        where.append(exists().where(CommentTheme.response_id == Response.id,
                                    CommentTheme.theme == f.theme))
    if f.q.strip():
        # SQLite folds the case of Latin letters only: the words as typed, lowercase and
        # capitalised are all looked for
        words = f.q.strip()
        where.append(or_(*(Response.comment.ilike(f"%{_escaped(v)}%", escape="\\")
                           for v in {words, words.lower(), words.capitalize()})))
    if f.date_from:
        where.append(Response.submitted_at >= _day_start(f.date_from, f.timezone))
    if f.date_to:
        where.append(Response.submitted_at
                     < _day_start(f.date_to + dt.timedelta(days=1), f.timezone))
    total = db.scalar(select(func.count()).select_from(Response).where(*where)) or 0
    rows = db.execute(
        select(Response, mean_score(scale_items)).where(*where)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    themes: dict[int, list[str]] = defaultdict(list)
    if rows:
        for response_id, theme in db.execute(
            select(CommentTheme.response_id, CommentTheme.theme)
            .where(CommentTheme.response_id.in_([r.id for r, _ in rows]))
        ):
            themes[response_id].append(theme)
    order = {key: i for i, key in enumerate(THEME_KEYS)}
    lines = [CommentLine(response=r, mean_score=None if score is None else float(score),
                         themes=tuple(sorted(themes[r.id], key=lambda k: order.get(k, 99))))
             for r, score in rows]
    return CommentPage(lines=lines, total=total, page=page, per_page=per_page)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def channels_used(campaign_id: int, region_id: int | None = None) -> list[str]:
    """The channels the campaign's comments came through (for the filter)."""
    where = [Response.campaign_id == campaign_id, Response.comment.is_not(None)]
    if region_id is not None:
        where.append(Response.region_id == region_id)
    return list(db.scalars(select(Response.channel).distinct().where(*where)
                           .order_by(Response.channel)))
