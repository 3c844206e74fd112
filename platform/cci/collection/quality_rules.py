"""The built-in data-quality rules, a core plugin (``cci.hooks.manager.DEFAULT_PLUGINS``).

Each rule is a :class:`cci.collection.channels.QualityRule` whose thresholds are its ``params``; the
defaults below can be overridden per rule with the configuration ``QUALITY_RULES``
(``{"burst": {"max_responses": 20}}``; ``{"enabled": False}`` switches a rule off; from the
environment: ``CCI_QUALITY_RULES`` as JSON). Reasons are stored with the flag, in Russian.

=================  ==========================================================================
rule               fires when (default parameters)
=================  ==========================================================================
``too_fast``       finished − started < ``min_seconds`` (20) seconds, or less than
                   ``min_seconds_per_item`` (1.5) seconds per question on average. Reads
                   ``started_at``/``submitted_at`` and ``meta["timings"]`` (seconds per
                   question: ``{item: seconds}`` or a list) when present.
``straight_lining`` at least ``min_items`` (8) scale answers, all the same value, given in less
                   than ``max_seconds`` (120) when the start and finish are known.
``burst``          at least ``max_responses`` (10) responses within ``minutes`` (5) from one
                   device (``meta["device_id"]``), one IP hash (``meta["ip_hash"]``) or one
                   operator (``meta["operator_id"]``), counted in the region.
                   The earlier responses of the burst are flagged too. Checks a whole batch
                   at once (an import's rows).
``outside_hours``  a kiosk answer (``meta["device_id"]``) submitted outside its office's opening
                   hours in the office's time zone (the region's, unless the office has its
                   own); an office without hours of its own: ``opens``–``closes`` ("08:00"–
                   "20:00").
``staff_session``  ``meta["staff_session"]`` is true: answered in a staff member's session.
``near_duplicate`` the same answers as another response of the same office and respondent type
                   to at least ``min_share`` (0.9) of the items, within ``minutes`` (30);
                   responses with fewer than ``min_items`` (5) answers are not checked, and at
                   most ``max_candidates`` (100) nearest in time are compared in full. The
                   other response is flagged too. Checks a whole import at once.
``code_reused``    ``meta["invitation_code"]`` was already used by another response of the
                   region within ``days`` (90).
=================  ========================================================================== """

from __future__ import annotations

import bisect
import datetime as dt
import math
import zoneinfo
from typing import Any
from typing import overload

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from cci.collection.channels import QualityRule
from cci.foundation.models import Answer
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response

#: meta key -> how the reason names the source of a burst
BURST_SOURCES = (
    ("device_id", "с одного киоска"),
    ("ip_hash", "с одного IP-адреса"),
    ("operator_id", "от одного оператора"),
)


#: what a batch check returns per response: (reason or None, {stored response id: reason})
Verdict = tuple[str | None, dict[int, str]]


@overload
def _utc(moment: dt.datetime) -> dt.datetime: ...
@overload
def _utc(moment: None) -> None: ...
@overload
def _utc(moment: dt.datetime | None) -> dt.datetime | None: ...
def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _number(value: float) -> str:
    """A number as Russian writes it, one decimal at most: 1,5; 20."""
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def meta_equals(key: str, value: Any):
    """SQL: ``meta[key] == value``, compared as text on PostgreSQL (JSONB) and SQLite (JSON)."""
    return cast(Response.meta[key].as_string(), String) == str(value)


def _submitted(response: Response) -> dt.datetime:
    # None until the response is flushed: the column default applies at INSERT.
    submitted_at: dt.datetime | None = response.submitted_at
    return _utc(submitted_at) or dt.datetime.now(dt.UTC)


# --- too fast ----------------------------------------------------------------------------


def _timings(meta: dict) -> list[float]:
    raw = (meta or {}).get("timings")
    values = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else ()
    return [float(v) for v in values
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0]


def too_fast(response: Response, session, params: dict) -> str | None:
    timings = _timings(response.meta)
    started, submitted = _utc(response.started_at), _utc(response.submitted_at)
    if started is not None and submitted is not None:
        total = (submitted - started).total_seconds()
    elif timings:
        total = sum(timings)
    else:
        return None
    if total < 0:
        return "время начала анкеты позже времени её окончания"
    questions = len(timings) if timings else len(response.answers)
    per_item = (sum(timings) if timings else total) / max(1, questions)
    if total < params["min_seconds"]:
        return (f"анкета заполнена за {_number(total)} с "
                f"(порог — {_number(params['min_seconds'])} с)")
    if per_item < params["min_seconds_per_item"]:
        return (f"в среднем {_number(per_item)} с на вопрос "
                f"(порог — {_number(params['min_seconds_per_item'])} с)")
    return None


# --- straight-lining ---------------------------------------------------------------------


def straight_lining(response: Response, session, params: dict) -> str | None:
    registry = current_app.extensions["cci.registry"]
    try:
        indicator_set = registry.indicator_set(response.methodology_key)
    except LookupError:
        return None
    kinds = {item.key: item.kind for item in indicator_set.items}
    values = [a.value for a in response.answers
              if kinds.get(a.item) == "scale" and a.value is not None]
    if len(values) < params["min_items"] or len(set(values)) != 1:
        return None
    # A satisfied client sincerely answers 10 to everything; taking one's time over it is
    # what sets them apart from a form filled in to order, so a slow enough answer passes.
    started, submitted = _utc(response.started_at), _utc(response.submitted_at)
    limit = params.get("max_seconds")
    # Nested, not merged: merged, mypy's redundant-expr rejects the guard on ``submitted`` (typed
    # as never None), which stays as cheap insurance.
    if limit and started is not None and submitted is not None:  # noqa: SIM102
        if (submitted - started).total_seconds() >= limit:
            return None
    return f"все ответы по шкале одинаковые: {len(values)} раз «{values[0]}»"


# --- bursts ------------------------------------------------------------------------------


def _burst_reason(words: str, count: int, params: dict) -> str:
    return (f"ответов {words} за {_number(params['minutes'])} мин: {count} "
            f"(порог — {params['max_responses']})")


def burst(response: Response, session, params: dict) -> str | None:
    """One stored response: :func:`burst_many` of it alone."""
    return burst_many([response], session, params)[0][0]


def _source_timelines(responses: list[Response], session, window: dt.timedelta):
    """{(region, meta key, value): [(submitted, id), …] sorted} of the stored responses (the
    batch's own included) from the sources of the batch, in each source's region, around
    the batch's moments: one query per kind of source, for every region of the batch."""
    wanted: dict[str, dict[tuple[int, str], list[dt.datetime]]] = {}
    for response in responses:
        for key, _words in BURST_SOURCES:
            value = (response.meta or {}).get(key)
            if value not in (None, ""):
                wanted.setdefault(key, {}).setdefault(
                    (response.region_id, str(value)), []).append(_submitted(response))
    timelines: dict[tuple[int, str, str], list[tuple[dt.datetime, int]]] = {}
    for key, by_source in wanted.items():
        source = cast(Response.meta[key].as_string(), String)
        ranges = _windows([m for moments in by_source.values() for m in moments], window)
        for response_id, region_id, submitted, value in session.execute(
            select(Response.id, Response.region_id, Response.submitted_at, source)
            .where(Response.region_id.in_(sorted({region for region, _value in by_source})),
                   source.in_(sorted({value for _region, value in by_source})),
                   or_(*(Response.submitted_at.between(lo, hi) for lo, hi in ranges)))
        ):
            if (region_id, value) in by_source:  # a source counts in its own region only
                timelines.setdefault((region_id, key, value), []).append((_utc(submitted),
                                                                          response_id))
    for timeline in timelines.values():
        timeline.sort()
    return timelines


def burst_many(responses: list[Response], session, params: dict) -> list[Verdict]:
    """The batch check (an import, or one answer stored in the request): the batch is stored, so
    its own responses count; a burst's earlier responses are flagged too, stored or in the
    batch."""
    window = dt.timedelta(minutes=params["minutes"])
    timelines = _source_timelines(responses, session, window)
    verdicts: list[Verdict] = [(None, {}) for _ in responses]
    in_series: dict[int, str] = {}  # response id -> reason, of a burst another one closes
    for position, response in enumerate(responses):
        submitted = _submitted(response)
        for key, words in BURST_SOURCES:
            value = (response.meta or {}).get(key)
            if value in (None, ""):
                continue
            timeline = timelines.get((response.region_id, key, str(value)), [])
            first = bisect.bisect_left(timeline, (submitted - window, -1))
            last = bisect.bisect_right(timeline, (submitted, float("inf")))
            if last - first < params["max_responses"]:
                continue
            reason = _burst_reason(words, last - first, params)
            earlier = {response_id: "в серии: " + reason
                       for _moment, response_id in timeline[first:last]
                       if response_id != response.id}
            verdicts[position] = (reason, earlier)
            for response_id, text in earlier.items():
                in_series.setdefault(response_id, text)
            break
    batch = {r.id: position for position, r in enumerate(responses)}
    out: list[Verdict] = []
    for position, (verdict, related) in enumerate(verdicts):
        if verdict is None and responses[position].id in in_series:
            verdict = in_series[responses[position].id]
        out.append((verdict, {k: v for k, v in related.items() if k not in batch}))
    return out


# --- kiosk outside office hours ----------------------------------------------------------


def _clock(text: str) -> dt.time:
    hours, _, minutes = str(text).partition(":")
    return dt.time(int(hours) % 24, int(minutes or 0))


def _office_hours(session, office_id: int) -> tuple[str, str | None, str | None] | None:
    """(time zone, opens, closes) of an office: its own zone and hours where it has them, else
    its region's zone; remembered for the session (a request or a job): a batch asks for every
    response, of any office, so every office's is read at once."""
    known = session.info.setdefault("cci.office_hours", {})
    if office_id not in known:
        rows = session.execute(
            select(Office.id, func.coalesce(Office.timezone, Region.timezone), Office.opens,
                   Office.closes).join(Region, Region.id == Office.region_id)).all()
        known.update({row[0]: tuple(row[1:]) for row in rows})
        known.setdefault(office_id, None)
    return known[office_id]


def outside_hours(response: Response, session, params: dict) -> str | None:
    if (response.meta or {}).get("device_id") in (None, ""):
        return None
    hours = _office_hours(session, response.office_id)
    if hours is None:
        return None
    timezone, office_opens, office_closes = hours
    local = _submitted(response).astimezone(zoneinfo.ZoneInfo(timezone))
    opens = _clock(office_opens or params["opens"])
    closes = _clock(office_closes or params["closes"])
    if opens <= local.time() < closes:
        return None
    return (f"ответ с киоска в {local:%H:%M} по местному времени, вне часов работы "
            f"({opens:%H:%M}–{closes:%H:%M})")


# --- staff session -----------------------------------------------------------------------


def staff_session(response: Response, session, params: dict) -> str | None:
    if (response.meta or {}).get("staff_session") is True:
        return "ответ дан в браузере, где открыт сеанс сотрудника"
    return None


# --- near-duplicates ---------------------------------------------------------------------
#
# Two responses are near-duplicates when they give the same answer to at least ``min_share`` of
# the items either answered: same / |union| >= share, i.e. they differ in at most
# (1 - share) * |union| <= K = floor((1 - share) * L) of the group's L items. Cut the items into
# K + 1 fixed blocks: a pair that differs in at most K items agrees on a whole block
# (pigeonhole). So candidates are found by equal block signatures in a dictionary, and only
# those are compared in full: exact, and linear in the responses instead of quadratic — an
# import of thousands of answers in one office checks in a fraction of a second.

_ABSENT = ("absent",)  # an item a response did not answer (never equal to an answer)


class _Record:
    __slots__ = ("answers", "key", "submitted")

    def __init__(self, key, submitted: dt.datetime, answers: dict[str, tuple]):
        self.key = key  # the response id (None for a response not stored yet)
        self.submitted = submitted
        self.answers = answers


def _answers_of(response: Response) -> dict[str, tuple]:
    return {a.item: (a.value, a.choice) for a in response.answers}


def _windows(moments: list[dt.datetime], window: dt.timedelta, most: int = 50):
    """The merged [t - window, t + window] ranges around the moments (one range if many)."""
    moments = sorted(moments)
    ranges: list[list[dt.datetime]] = []
    for moment in moments:
        if ranges and moment - window <= ranges[-1][1]:
            ranges[-1][1] = moment + window
        else:
            ranges.append([moment - window, moment + window])
    return ranges if len(ranges) <= most else [[ranges[0][0], ranges[-1][1]]]


def _stored_records(session, groups: dict[tuple[int, int, str], list[dt.datetime]],
                    window: dt.timedelta, skip: set[int]) -> dict[tuple, list[_Record]]:
    """Per (region, office, respondent type), the stored responses within the window of any
    of its moments: one read for every office of a batch (an import may have answers from
    many offices and regions, each alone in its group)."""
    ranges = {group: _windows(moments, window) for group, moments in groups.items()}
    heads: dict[tuple, list[tuple[int, dt.datetime]]] = {group: [] for group in groups}
    regions = sorted({region for region, _office, _type in groups})
    for response_id, region_id, office_id, respondent_type, submitted in session.execute(
        select(Response.id, Response.region_id, Response.office_id, Response.respondent_type,
               Response.submitted_at)
        .where(Response.region_id.in_(regions),
               Response.office_id.in_(sorted({office for _region, office, _type in groups})),
               or_(*(Response.submitted_at.between(lo, hi) for lo, hi in
                     _windows([m for moments in groups.values() for m in moments], window))))
    ):
        group, submitted = (region_id, office_id, respondent_type), _utc(submitted)
        if response_id not in skip and group in groups and any(
                lo <= submitted <= hi for lo, hi in ranges[group]):
            heads[group].append((response_id, submitted))
    answers: dict[int, dict[str, tuple]] = {response_id: {} for rows in heads.values()
                                            for response_id, _ in rows}
    ids = list(answers)
    for chunk in range(0, len(ids), 1000):
        for response_id, item, value, choice in session.execute(
            select(Answer.response_id, Answer.item, Answer.value, Answer.choice)
            .where(Answer.region_id.in_(regions),
                   Answer.response_id.in_(ids[chunk:chunk + 1000]))
        ):
            answers[response_id][item] = (value, choice)
    return {group: [_Record(response_id, submitted, answers[response_id])
                    for response_id, submitted in rows] for group, rows in heads.items()}


def _signatures(record: _Record, blocks: list[list[str]]):
    for number, block in enumerate(blocks):
        yield number, tuple(record.answers.get(item, _ABSENT) for item in block)


def _compare(mine: dict[str, tuple], theirs: dict[str, tuple]) -> tuple[int, int]:
    items = mine.keys() | theirs.keys()
    same = sum(1 for item in items if mine.get(item, _ABSENT) == theirs.get(item, _ABSENT))
    return same, len(items)


def near_duplicates_many(responses: list[Response], session,
                         params: dict) -> list[list[tuple[int, int, int]]]:
    """For each response, ``(response id, same answers, items compared)`` of the office's
    responses of the same type within ``minutes`` that give the same answers to at least
    ``min_share`` of the items, best first; at most ``max_candidates`` nearest in time are
    compared in full. Responses with fewer than ``min_items`` answers are not checked.

    The responses of the list are compared with the stored ones and with each other (those
    with an id: a batch already inserted, whose ids are left out of the stored look-back).
    """
    window = dt.timedelta(minutes=params["minutes"])
    found: list[list[tuple[int, int, int]]] = [[] for _ in responses]
    groups: dict[tuple, list[int]] = {}
    for position, response in enumerate(responses):
        if len(response.answers) >= params["min_items"]:
            key = (response.region_id, response.office_id, response.respondent_type)
            groups.setdefault(key, []).append(position)
    if not groups:
        return found
    # Ids are None until a batch is flushed, whatever Mapped[int] says.
    ids: list[int | None] = [r.id for r in responses]
    batch_ids = {i for i in ids if i is not None}
    stored = _stored_records(session, {group: [_submitted(responses[p]) for p in positions]
                                       for group, positions in groups.items()},
                             window, batch_ids)
    for group, positions in groups.items():
        mine = [_Record(responses[p].id, _submitted(responses[p]), _answers_of(responses[p]))
                for p in positions]
        matches = _matches(mine, stored[group], window, params)
        for position, found_here in zip(positions, matches, strict=True):
            found[position] = found_here
    return found


def _matches(mine: list[_Record], stored: list[_Record], window: dt.timedelta,
             params: dict) -> list[list[tuple[int, int, int]]]:
    """For each of ``mine``, its near-duplicates among ``mine`` and ``stored`` (one office and
    respondent type). Records that share a block of answers are candidates (a match may
    differ in at most ``spare`` items, so it equals one of ``spare + 1`` disjoint blocks);
    the nearest in time are compared in full."""
    share = params["min_share"]
    records = mine + stored
    items = sorted(set().union(*(r.answers.keys() for r in records)))
    spare = math.floor((1 - share) * len(items) + 1e-9)  # differences a match may have
    blocks = [items[b::spare + 1] for b in range(spare + 1)]
    buckets: dict[tuple, list[int]] = {}
    for index, record in enumerate(records):
        for signature in _signatures(record, blocks):
            buckets.setdefault(signature, []).append(index)
    out = []
    for index, record in enumerate(mine):
        near = {other for signature in _signatures(record, blocks)
                for other in buckets[signature] if other != index}
        candidates = sorted(
            (other for other in near
             if abs(records[other].submitted - record.submitted) <= window),
            key=lambda o: (abs(records[o].submitted - record.submitted),
                           -(records[o].key or 0)))[:params["max_candidates"]]
        matches = []
        for other in candidates:
            same, total = _compare(record.answers, records[other].answers)
            key = records[other].key
            if key is not None and same / total >= share:
                matches.append((key, same, total))
        matches.sort(key=lambda row: (-row[1] / row[2], -row[0]))
        out.append(matches)
    return out


def near_duplicates(response: Response, session, params: dict) -> list[tuple[int, int, int]]:
    return near_duplicates_many([response], session, params)[0]


def _duplicate_reason(same: int, total: int, params: dict) -> str:
    return (f"совпадает {same} из {total} ответов "
            f"({round(100 * same / total)} %) в том же офисе в пределах "
            f"{_number(params['minutes'])} мин")


def _copy_of(match: tuple[int, int, int], params: dict) -> str:
    response_id, same, total = match
    return f"почти копия ответа №{response_id}: " + _duplicate_reason(same, total, params)


def _has_copy(same: int, total: int, params: dict) -> str:
    return "есть почти копия этого ответа: " + _duplicate_reason(same, total, params)


def near_duplicate(response: Response, session, params: dict) -> str | None:
    found = near_duplicates(response, session, params)
    return _copy_of(found[0], params) if found else None


def near_duplicate_many(responses: list[Response], session, params: dict) -> list[Verdict]:
    """The batch check (an import, or one answer): one look-back for all of them."""
    batch = {r.id for r in responses}
    verdicts: list[Verdict] = []
    for matches in near_duplicates_many(responses, session, params):
        if not matches:
            verdicts.append((None, {}))
            continue
        related = {response_id: _has_copy(same, total, params)
                   for response_id, same, total in matches if response_id not in batch}
        verdicts.append((_copy_of(matches[0], params), related))
    return verdicts


# --- invitation codes --------------------------------------------------------------------


def code_reused(response: Response, session, params: dict) -> str | None:
    code = (response.meta or {}).get("invitation_code")
    if code in (None, ""):
        return None
    query = (
        select(Response.id)
        .where(Response.region_id == response.region_id,
               Response.submitted_at >= _submitted(response) - dt.timedelta(days=params["days"]),
               meta_equals("invitation_code", code))
        .order_by(Response.id).limit(1)
    )
    if response.id is not None:
        query = query.where(Response.id != response.id)
    other = session.scalar(query)
    if other is None:
        return None
    return f"код приглашения уже использован в ответе №{other}"


RULES = (
    QualityRule("too_fast", _l("Too fast"), too_fast,
                {"min_seconds": 20, "min_seconds_per_item": 1.5}),
    QualityRule("straight_lining", _l("Same answer to every question"), straight_lining,
                {"min_items": 8, "max_seconds": 120}),
    QualityRule("burst", _l("Burst from one source"), burst,
                {"max_responses": 10, "minutes": 5}, check_many=burst_many, across_regions=True),
    QualityRule("outside_hours", _l("Kiosk outside office hours"), outside_hours,
                {"opens": "08:00", "closes": "20:00"}),
    QualityRule("staff_session", _l("Answered in a staff session"), staff_session, {}),
    QualityRule("near_duplicate", _l("Near-duplicate"), near_duplicate,
                {"min_share": 0.9, "minutes": 30, "min_items": 5, "max_candidates": 100},
                check_many=near_duplicate_many, across_regions=True),
    QualityRule("code_reused", _l("Invitation code used twice"), code_reused, {"days": 90}),
)
