"""The themes of respondents' comments, found by Russian morphology (pymorphy3, in-process).

The default themes are those the 2022 pilot's content analysis reported most often. A theme
is a set of keywords given as lemmas (a keyword of several words is a sequence of lemmas):
a comment has the theme when one of its words, in any form, has a keyword's lemma. A comment
may have several themes, or none («Прочее», :data:`OTHER`).

:func:`themes_of` is the whole classifier (text in, theme keys out); :func:`classify_pending`
stores the themes of a region's comments not yet classified, once, so that pages count them
with a GROUP BY (``comment_themes``); :func:`classify_cx_pending` does the same for the
comments of touchpoint surveys and for complaints (``cx_comment_themes``), the journey map's
«контент-анализ».
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pymorphy3
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from cci.foundation.db import db
from cci.foundation.models import CommentTheme
from cci.foundation.models import CxCommentTheme
from cci.foundation.models import CxComplaint
from cci.foundation.models import Response
from cci.foundation.models import TouchpointAnswer


@dataclass(frozen=True)
class Theme:
    key: str
    #: the name people read (Russian, as the pilot's report words it)
    name: str
    #: keywords: each a tuple of lemmas that follow one another in the text
    keywords: tuple[tuple[str, ...], ...] = ()


def _kw(*phrases: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(phrase.split()) for phrase in phrases)


OTHER = "other"

#: The pilot's themes (job seekers' four, and the employers' wish for better candidates).
THEMES: tuple[Theme, ...] = (
    Theme("gratitude", "Благодарность ЦЗН и сотрудникам", _kw(
        "спасибо", "благодарить", "благодарность", "благодарный", "признательный",
        "признательность", "молодец")),
    Theme("office_comfort", "Комфорт в офисе ЦЗН (вода, кондиционер)", _kw(
        "кулер", "кондиционер", "кондиционирование", "питьевой", "вода", "жарко", "жара",
        "душно", "духота", "холодно", "тесно", "теснота", "туалет", "стул", "скамейка",
        "сидеть")),
    Theme("remote_portal", "Дистанционное взаимодействие и портал «Работа России»", _kw(
        "работа россия", "портал", "ецп", "госуслуга", "сайт", "онлайн", "дистанционный",
        "дистанционно", "удалённо", "удалённый", "интернет", "компьютер", "личный кабинет",
        "электронный", "приложение", "зависать", "тормозить")),
    Theme("curator_contact", "Больше личного общения с куратором", _kw(
        "куратор", "консультант", "лично", "очно", "очный", "личный общение",
        "живой общение", "личный встреча", "личный приём", "личный контакт")),
    Theme("candidate_selection", "Подбор кандидатов на вакансии", _kw(
        "подбор", "подбирать", "подобрать", "отбор", "отбирать", "кандидат", "кандидатура",
        "соискатель")),
)

THEME_NAMES: dict[str, str] = {t.key: t.name for t in THEMES} | {OTHER: "Прочее"}
#: every key a stored row may hold, in the order pages list them
THEME_KEYS: tuple[str, ...] = (*(t.key for t in THEMES), OTHER)

_WORD = re.compile(r"[а-яёa-z]+(?:-[а-яёa-z]+)*", re.IGNORECASE)


@functools.cache
def analyzer() -> pymorphy3.MorphAnalyzer:
    """One analyzer per process: loading the dictionaries takes about a second."""
    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=50_000)
def lemmas(word: str) -> frozenset[str]:
    """Every normal form the word may have (a form that is ambiguous matches each reading),
    with ё read as е."""
    return frozenset(p.normal_form.replace("ё", "е")
                     for p in analyzer().parse(word.lower().replace("ё", "е")))


def _normalised(keywords: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(lemma.replace("ё", "е") for lemma in kw) for kw in keywords)


def themes_of(text: str | None, themes: Iterable[Theme] = THEMES) -> tuple[str, ...]:
    """The theme keys of a comment, in the themes' order; ``("other",)`` when it has text
    but no theme, ``()`` when it is empty."""
    words = [lemmas(m.group()) for m in _WORD.finditer(text or "")]
    if not words:
        return ()
    found = []
    for theme in themes:
        if any(_has(words, kw) for kw in _normalised(theme.keywords)):
            found.append(theme.key)
    return tuple(found) or (OTHER,)


def _has(words: list[frozenset[str]], keyword: tuple[str, ...]) -> bool:
    size = len(keyword)
    return any(all(keyword[j] in words[i + j] for j in range(size))
               for i in range(len(words) - size + 1))


def has_text():
    """SQL: the response has a comment that is more than blanks."""
    return func.length(func.trim(Response.comment)) > 0


def classify_pending(region_id: int, campaign_id: int) -> int:
    """Store the themes of the region's comments of the campaign that have none yet, in the
    current transaction; returns how many comments were classified. A comment's themes are
    written once (its text never changes)."""
    pending = db.execute(
        select(Response.id, Response.comment)
        .where(Response.region_id == region_id, Response.campaign_id == campaign_id,
               Response.comment.is_not(None), has_text(),
               ~exists().where(CommentTheme.response_id == Response.id))
        .order_by(Response.id)
    ).all()
    rows = [{"response_id": response_id, "region_id": region_id, "theme": key}
            for response_id, comment in pending for key in themes_of(comment)]
    if rows:
        db.execute(insert(CommentTheme), rows)
    return len(pending)


#: texts read and classified at a time: a federation's first run reads them in pages
BATCH = 5000


def classify_cx_pending(region_id: int | None = None) -> int:
    """Store the themes of touchpoint answers' comments and of complaints (topic and gist)
    not yet classified — of one region, or (None) of every region the scope sees — in the
    current transaction; returns how many texts were classified. Each is classified once."""
    a, c = TouchpointAnswer, CxComplaint
    answers = select(a.id, a.region_id, a.office_id, a.touchpoint, a.submitted_at,
                     a.comment).where(
        a.comment.is_not(None), func.length(func.trim(a.comment)) > 0,
        ~exists().where(CxCommentTheme.source == "answer", CxCommentTheme.source_id == a.id))
    complaints = select(c.id, c.region_id, c.office_id, c.touchpoint, c.received_on,
                        c.topic + ". " + func.coalesce(c.summary, "")).where(
        ~exists().where(CxCommentTheme.source == "complaint",
                        CxCommentTheme.source_id == c.id))
    if region_id is not None:
        answers = answers.where(a.region_id == region_id)
        complaints = complaints.where(c.region_id == region_id)
    # a complaint always has a theme (its topic is required): «Прочее» when none is found
    return (_classify("answer", answers, a.id, ())
            + _classify("complaint", complaints, c.id, (OTHER,)))


def _classify(source: str, query, key, fallback: tuple[str, ...]) -> int:
    """Classify the texts of ``query`` (id, region, office, touchpoint, moment, text) a page
    at a time, in the order of their ids."""
    done, last = 0, 0
    while True:
        page = db.execute(query.where(key > last).order_by(key).limit(BATCH)).all()
        if not page:
            return done
        rows = [{"source": source, "source_id": id_, "region_id": region, "office_id": office,
                 "touchpoint": touchpoint, "day": _utc_day(at), "theme": theme}
                for id_, region, office, touchpoint, at, text in page
                for theme in themes_of(text) or fallback]
        if rows:
            db.execute(insert(CxCommentTheme), rows)
        done += len(page)
        last = page[-1][0]


def _utc_day(at) -> dt.date:
    """The UTC day of a moment, as the CX runs count months (a naive one is UTC already; a
    date is a day)."""
    if not isinstance(at, dt.datetime):
        return at
    return (at.astimezone(dt.UTC) if at.tzinfo is not None else at).date()
