"""Trustworthy data: the quality rules around their thresholds, flags kept out of the index,
the review queue (pages and API), per-rule counts on the results page, batch ingest, rate
limits and body size. Includes the pilot's case: 50 near-identical answers from one kiosk."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from flask import Blueprint
from jsonschema import Draft202012Validator
from jsonschema import FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func
from sqlalchemy import select

from cci import create_app
from cci import hookimpl
from cci.collection.channels import Channel
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Answer
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import Response
from cci.foundation.models import ResponseFlag
from cci.web.api.docs import build_spec
from cci.web.ratelimit import limiter
from cci.web.ratelimit import per_ip
from conftest import TEST_CONFIG
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import start
from engine_helpers import work

SCALE_ITEMS = ("prof_competence", "comm_competence", "usefulness", "info_office", "info_website",
               "info_social", "info_contact_center", "simplicity", "responsiveness",
               "personal_circumstances", "comfort", "transport", "appearance", "coordination")
SEC = dt.timedelta(seconds=1)
MIN = dt.timedelta(minutes=1)


def varied(seed: int) -> dict:
    """A full, plausible job seeker's questionnaire; different seeds differ a lot."""
    rnd = random.Random(seed)
    answers = {item: rnd.randint(1, 10) for item in SCALE_ITEMS}
    answers["management_contact"] = rnd.randint(0, 1)
    if answers["management_contact"]:
        answers["management_openness"] = rnd.randint(1, 10)
    return answers


PATTERN = {**{item: 9 if i % 3 else 10 for i, item in enumerate(SCALE_ITEMS)},
           "management_contact": 0}  # 15 items, not all the same


def state(app, response_id: int) -> dict:
    with app.app_context(), tenancy.federal_scope("test"):
        response = db.get(Response, response_id)
        answers_counted = set(db.scalars(select(Answer.counted)
                                         .where(Answer.response_id == response_id)))
        return {
            "rules": {flag.rule for flag in response.flags},
            "reasons": {flag.rule: flag.reason for flag in response.flags},
            "counted": response.counted,
            "answers_counted": answers_counted,
            "review_status": response.review_status,
            "quality_flags": [f["rule"] for f in response.quality_flags],
        }


def rules_of(app, response_id: int) -> set[str]:
    return state(app, response_id)["rules"]


@pytest.fixture
def office(app, campaign):
    return offices(app, "RU-BRY")[0]


# --- each rule around its threshold ------------------------------------------------------


@pytest.mark.parametrize("seconds,fires", [(19, True), (20, False)])
def test_too_fast_total_time(app, office, seconds, fires):
    response_id, _ = answer(app, office, {"usefulness": 9, "simplicity": 8},
                            started_at=DAY - seconds * SEC)
    assert ("too_fast" in rules_of(app, response_id)) is fires


@pytest.mark.parametrize("seconds,fires", [(22, True), (23, False)])  # 15 items: 1.47 / 1.53 s
def test_too_fast_per_question(app, office, seconds, fires):
    response_id, _ = answer(app, office, PATTERN, started_at=DAY - seconds * SEC)
    state_ = state(app, response_id)
    assert ("too_fast" in state_["rules"]) is fires
    if fires:
        assert "на вопрос" in state_["reasons"]["too_fast"]


def test_too_fast_reads_per_question_timings(app, office):
    slow = dict.fromkeys(varied(2), 2.0)
    fast = dict.fromkeys(varied(3), 1.0)
    slow_id, _ = answer(app, office, varied(2), meta={"timings": slow})
    fast_id, _ = answer(app, office, varied(3), meta={"timings": fast})
    quick_list_id, _ = answer(app, office, varied(4), meta={"timings": [1.4] * 15},
                              started_at=DAY - 60 * SEC)
    untimed_id, _ = answer(app, office, varied(5))
    assert "too_fast" not in rules_of(app, slow_id)
    assert "too_fast" in rules_of(app, fast_id)  # 15 s in all
    assert "too_fast" in rules_of(app, quick_list_id)  # 60 s, but 1.4 s a question
    assert rules_of(app, untimed_id) == set()


@pytest.mark.parametrize("answers,fires", [
    (dict.fromkeys(SCALE_ITEMS[:8], 10), True),
    (dict.fromkeys(SCALE_ITEMS[:7], 10) | {"management_contact": 1}, False),
    (dict.fromkeys(SCALE_ITEMS[:8], 10) | {"comfort": 9}, False),
    (dict.fromkeys(SCALE_ITEMS, 3), True),
])
def test_straight_lining(app, office, answers, fires):
    response_id, _ = answer(app, office, answers)
    assert ("straight_lining" in rules_of(app, response_id)) is fires


def test_straight_lining_spares_a_client_who_took_their_time(app, office):
    all_tens = dict.fromkeys(SCALE_ITEMS, 10)
    hurried, _ = answer(app, office, all_tens, started_at=DAY - 90 * SEC)
    later = DAY + 60 * MIN  # outside the near-duplicate window of the first
    unhurried, _ = answer(app, office, all_tens, started_at=later - 180 * SEC, when=later)
    assert "straight_lining" in rules_of(app, hurried)  # 90 s < 120 s
    assert "straight_lining" not in rules_of(app, unhurried)  # three minutes over it


@pytest.mark.parametrize("key", ["device_id", "ip_hash", "operator_id"])
def test_burst_from_one_source_flags_the_whole_burst(app, office, key):
    ids = [answer(app, office, varied(10 + n), when=DAY + n * 30 * SEC, meta={key: "src-1"})[0]
           for n in range(9)]
    assert all("burst" not in rules_of(app, i) for i in ids)  # 9 in 4 minutes: below 10
    other, _ = answer(app, office, varied(30), when=DAY + 270 * SEC, meta={key: "src-2"})
    tenth, _ = answer(app, office, varied(31), when=DAY + 280 * SEC, meta={key: "src-1"})
    assert "burst" in rules_of(app, tenth)
    assert "10" in state(app, tenth)["reasons"]["burst"]
    for response_id in ids:  # the earlier answers of the burst are flagged too
        assert "burst" in rules_of(app, response_id)
        assert state(app, response_id)["counted"] is False
    assert "burst" not in rules_of(app, other)


def test_burst_counts_only_within_the_window(app, office):
    meta = {"device_id": "kiosk-9"}
    first, _ = answer(app, office, varied(40), when=DAY, meta=meta)
    for n in range(1, 9):
        answer(app, office, varied(40 + n), when=DAY + 4 * MIN + n * SEC, meta=meta)
    # 5 min 1 s after the first: the window holds 9 (the first is out)
    tenth, _ = answer(app, office, varied(50), when=DAY + 5 * MIN + SEC, meta=meta)
    assert "burst" not in rules_of(app, tenth)
    eleventh, _ = answer(app, office, varied(51), when=DAY + 5 * MIN + 2 * SEC, meta=meta)
    assert "burst" in rules_of(app, eleventh)
    assert "burst" not in rules_of(app, first)  # outside the burst's window


def test_burst_is_counted_within_the_region(app, campaign):
    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    for n in range(9):
        answer(app, kya, varied(60 + n), when=DAY + n * SEC, meta={"device_id": "same"})
    response_id, _ = answer(app, bry, varied(70), when=DAY + 10 * SEC, meta={"device_id": "same"})
    assert "burst" not in rules_of(app, response_id)


@pytest.mark.parametrize("local,fires", [
    ((7, 59), True), ((8, 0), False), ((19, 59), False), ((20, 0), True), ((23, 30), True),
])
def test_kiosk_outside_office_hours_in_the_region_time_zone(app, office, local, fires):
    moscow = dt.timezone(dt.timedelta(hours=3))
    when = dt.datetime(2025, 5, 6, *local, tzinfo=moscow)
    kiosk, _ = answer(app, office, varied(80), when=when, meta={"device_id": "k"})
    web, _ = answer(app, office, varied(81), when=when, meta={"ip_hash": "h"})
    assert ("outside_hours" in rules_of(app, kiosk)) is fires
    assert "outside_hours" not in rules_of(app, web)  # not a kiosk


def test_office_hours_follow_the_region_time_zone(app, campaign):
    kya = offices(app, "RU-KYA")[0]
    # 02:00 UTC is 09:00 in Krasnoyarsk (open) but 05:00 in Moscow
    when = dt.datetime(2025, 5, 6, 2, 0, tzinfo=dt.UTC)
    response_id, _ = answer(app, kya, varied(82), when=when, meta={"device_id": "k"})
    assert "outside_hours" not in rules_of(app, response_id)


@pytest.mark.parametrize("meta,fires", [
    ({"staff_session": True}, True), ({"staff_session": False}, False), ({}, False),
])
def test_staff_session(app, office, meta, fires):
    response_id, _ = answer(app, office, varied(90), meta=meta)
    assert ("staff_session" in rules_of(app, response_id)) is fires
    assert state(app, response_id)["counted"] is not fires


def _changed(answers: dict, n: int) -> dict:
    changed = dict(answers)
    for item in SCALE_ITEMS[:n]:
        changed[item] = 1 if changed[item] != 1 else 2
    return changed


@pytest.mark.parametrize("differ,fires", [(1, True), (2, False)])  # 14/15 = 93 %, 13/15 = 87 %
def test_near_duplicate_flags_both(app, office, differ, fires):
    first, _ = answer(app, office, PATTERN, when=DAY)
    second, _ = answer(app, office, _changed(PATTERN, differ), when=DAY + 20 * MIN)
    assert ("near_duplicate" in rules_of(app, second)) is fires
    assert ("near_duplicate" in rules_of(app, first)) is fires  # the original, too
    if fires:
        assert f"№{first}" in state(app, second)["reasons"]["near_duplicate"]


def test_near_duplicate_needs_the_same_office_the_window_and_enough_items(app, campaign):
    one, two = offices(app, "RU-BRY")[:2]
    answer(app, one, PATTERN, when=DAY)
    other_office, _ = answer(app, two, PATTERN, when=DAY + MIN)
    later, _ = answer(app, one, PATTERN, when=DAY + 31 * MIN)
    short = {"usefulness": 10, "simplicity": 9, "comfort": 8, "transport": 7}
    answer(app, one, short, when=DAY + 2 * MIN)
    short_again, _ = answer(app, one, short, when=DAY + 3 * MIN)
    employer, _ = answer(app, one, PATTERN, rtype="employer", when=DAY + 4 * MIN)
    for response_id in (other_office, later, short_again, employer):
        assert "near_duplicate" not in rules_of(app, response_id)


def _brute_force(records, params):
    """Every pair compared in full: what the block-signature search must reproduce."""
    window = dt.timedelta(minutes=params["minutes"])
    found = []
    for mine in records:
        matches = []
        if len(mine.answers) >= params["min_items"]:
            for other in records:
                if other is mine or abs(other.submitted_at - mine.submitted_at) > window:
                    continue
                theirs = {a.item: (a.value, a.choice) for a in other.answers}
                ours = {a.item: (a.value, a.choice) for a in mine.answers}
                items = set(ours) | set(theirs)
                same = sum(1 for i in items if i in ours and ours[i] == theirs.get(i, ()))
                if same / len(items) >= params["min_share"]:
                    matches.append((other.id, same, len(items)))
        found.append(sorted(matches, key=lambda row: (-row[1] / row[2], -row[0])))
    return found


@pytest.mark.parametrize("seed", range(12))
def test_block_signature_search_finds_exactly_what_comparing_every_pair_finds(app, office,
                                                                             seed):
    from cci.collection import quality_rules

    rnd = random.Random(seed)
    params = {"min_share": rnd.choice((0.7, 0.8, 0.9)), "minutes": 30, "min_items": 5,
              "max_candidates": 10_000}
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.get(Office, office).region_id
    # a few prototypes, each copied with some answers changed or left out: many pairs are
    # close to the threshold, on either side of it
    prototypes = [{item: rnd.choice((1, 5, 10, None)) for item in SCALE_ITEMS} for _ in range(3)]
    batch = []
    for n in range(40):
        answers = [Answer(region_id=region_id, office_id=office, campaign_id=1,
                          respondent_type="job_seeker", item=item,
                          value=rnd.randint(1, 10) if rnd.random() < 0.12 else value)
                   for item, value in rnd.choice(prototypes).items() if rnd.random() > 0.05]
        batch.append(Response(id=10_000 + n, region_id=region_id, office_id=office,
                              respondent_type="job_seeker", answers=answers,
                              submitted_at=DAY + rnd.randint(0, 90) * MIN))
    with app.app_context(), tenancy.region_scope(region_id, "test"):
        found = quality_rules.near_duplicates_many(batch, db, params)
        db.rollback()
    assert found == _brute_force(batch, params)
    assert sum(map(bool, found)) >= 2  # at least one pair: the case is not trivial


@pytest.mark.parametrize("seed", range(6))
def test_burst_of_a_batch_is_what_counting_every_window_finds(app, office, build, seed):
    """Answers of three devices delivered as one batch in random order (a kiosk's queue after
    a night offline): flagged exactly when a window of ``minutes`` ending at one of them holds
    ``max_responses`` answers of its device, the answer that closes it and those inside."""
    from cci.collection import intake

    rnd = random.Random(seed)
    params = {"max_responses": 4, "minutes": 5}
    moments = [(f"k-{rnd.randint(1, 3)}", DAY + rnd.randint(0, 40 * 60) * SEC)
               for _ in range(45)]
    rnd.shuffle(moments)
    probe = build(config={"QUALITY_RULES": {"burst": params, "too_fast": {"enabled": False},
                                             "near_duplicate": {"enabled": False}}})
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.get(Office, office).region_id
    with probe.app_context(), tenancy.region_scope(region_id, "test"):
        drafts = [intake.validate(intake.Submission(
            office_id=office, respondent_type="job_seeker", answers=varied(1000 + n),
            client_key=f"burst-{seed}-{n}", channel="test", submitted_at=when,
            meta={"device_id": device})) for n, (device, when) in enumerate(moments)]
        intake.store_batch(drafts)
        db.commit()
        ids = [d.id for d in drafts]
    window = dt.timedelta(minutes=params["minutes"])
    expected = set()
    for device, when in moments:
        inside = [n for n, (other, moment) in enumerate(moments)
                  if other == device and when - window <= moment <= when]
        if len(inside) >= params["max_responses"]:
            expected.update(inside)
    flagged = {n for n, response_id in enumerate(ids) if "burst" in rules_of(app, response_id)}
    assert flagged == expected
    assert expected  # the case is not trivial


def test_code_reused(app, office):
    first, _ = answer(app, office, varied(100), meta={"invitation_code": "QX7-41"})
    second, _ = answer(app, office, varied(101), when=DAY + MIN,
                       meta={"invitation_code": "QX7-41"})
    other, _ = answer(app, office, varied(102), when=DAY + 2 * MIN,
                      meta={"invitation_code": "QX7-42"})
    assert rules_of(app, first) == set() and state(app, first)["counted"]
    assert rules_of(app, second) == {"code_reused"}
    assert f"№{first}" in state(app, second)["reasons"]["code_reused"]
    assert rules_of(app, other) == set()


def test_thresholds_come_from_the_configuration(app, office, monkeypatch):
    monkeypatch.setitem(app.config, "QUALITY_RULES", {
        "burst": {"max_responses": 3}, "staff_session": {"enabled": False}})
    ids = [answer(app, office, varied(110 + n), when=DAY + n * SEC,
                  meta={"device_id": "k", "staff_session": True})[0] for n in range(3)]
    assert [rules_of(app, i) for i in ids] == [{"burst"}] * 3


def test_channel_and_plugin_rules_are_applied(app, office):
    from cci.collection.intake import Submission
    from cci.collection.intake import submit

    def always(response, session, params):
        return f"канал говорит: {params['word']}"

    from cci.collection.channels import QualityRule

    channel = Channel(key="tst", label="Тест",
                      quality_rules=(QualityRule("tst.always", "Всегда", always, {"word": "нет"}),))
    with app.app_context():
        response, created = submit(Submission(
            office_id=office, respondent_type="job_seeker", answers=varied(120),
            client_key="channel-rule-1", channel="tst", submitted_at=DAY), channel=channel)
        response_id = response.id
    assert created
    assert state(app, response_id)["reasons"] == {"tst.always": "канал говорит: нет"}


def test_flag_rows_and_answers_agree(app, office):
    response_id, _ = answer(app, office, dict.fromkeys(SCALE_ITEMS, 10),
                            started_at=DAY - 5 * SEC, meta={"staff_session": True})
    st = state(app, response_id)
    assert st["rules"] == {"too_fast", "straight_lining", "staff_session"}
    assert sorted(st["quality_flags"]) == sorted(st["rules"])
    assert st["counted"] is False and st["answers_counted"] == {False}
    assert st["review_status"] == "pending"


# --- flagged answers and the index -------------------------------------------------------


def _genuine(app, office_id, n=12, seed=0, start=DAY):
    """n plausible, independent answers an hour apart (no rule fires)."""
    ids = []
    for k in range(n):
        response_id, _ = answer(app, office_id, varied(seed + k), when=start + k * 61 * MIN)
        ids.append(response_id)
    assert all(rules_of(app, i) == set() for i in ids)
    return ids


def _office_figures(app, run_id, office_id):
    row = results(app, run_id)[office_id]
    return row.value, row.detail.get("responses")


def test_flagged_answers_are_excluded_and_restored_ones_count_again(app, campaign, office):
    _genuine(app, office)
    before, _ = start(app, campaign, draft=True)
    work(app)
    flagged, _ = answer(app, office, dict.fromkeys(SCALE_ITEMS, 1),
                        when=DAY + 30 * MIN, meta={"staff_session": True})
    assert state(app, flagged)["counted"] is False
    excluded, _ = start(app, campaign, draft=True)
    work(app)
    assert _office_figures(app, excluded, office) == _office_figures(app, before, office)

    restored = _review_api_or_page_restore(app, flagged)
    assert restored["counted"] is True and restored["answers_counted"] == {True}
    after, created = start(app, campaign, draft=True)
    assert created
    work(app)
    value_before, responses_before = _office_figures(app, before, office)
    value_after, responses_after = _office_figures(app, after, office)
    assert responses_after["job_seeker"] == responses_before["job_seeker"] + 1
    assert value_after != value_before


def _review_api_or_page_restore(app, response_id):
    """Restore through the review page as the region's administrator."""
    from cci.foundation.users import create_user
    from conftest import PASSWORD

    with app.app_context(), tenancy.federal_scope("test"):
        create_user(email="restorer@example.ru", role="regional_admin", password=PASSWORD,
                    region_code="RU-BRY")
        db.commit()
    client = app.test_client()
    client.post("/login", data={"email": "restorer@example.ru", "password": PASSWORD})
    reply = client.post(f"/r/RU-BRY/review/{response_id}",
                        data={"decision": "restore", "reason": "проверено: настоящий клиент"})
    assert reply.status_code == 302
    return state(app, response_id)


@pytest.mark.parametrize("timed", [True, False], ids=["with-times", "without-times"])
def test_pilot_case_fifty_near_identical_answers_from_one_kiosk(app, campaign, office, timed):
    """An operator enters 50 near-identical answers in five minutes on one kiosk."""
    genuine = _genuine(app, office, n=15)
    baseline, _ = start(app, campaign, draft=True)
    work(app)
    rnd = random.Random(2024)
    fakes = []
    begin = DAY + 20 * 61 * MIN  # a quiet afternoon, within office hours
    for n in range(50):
        fake = dict(PATTERN)
        fake[rnd.choice(SCALE_ITEMS)] = rnd.randint(1, 10)  # near-identical: one item varies
        submitted = begin + n * 6 * SEC  # 50 in five minutes
        extra = {"started_at": submitted - 5 * SEC} if timed else {}
        response_id, created = answer(app, office, fake, when=submitted,
                                      meta={"device_id": "kiosk-7"}, **extra)
        assert created
        fakes.append(response_id)

    for response_id in fakes:
        st = state(app, response_id)
        assert st["counted"] is False and st["answers_counted"] == {False}, response_id
        assert st["review_status"] == "pending"
        assert st["rules"] & {"burst", "near_duplicate", "too_fast"}, response_id
    everyone = set().union(*(rules_of(app, i) for i in fakes))
    assert {"burst", "near_duplicate"} <= everyone
    assert ("too_fast" in everyone) is timed
    assert all(state(app, i)["counted"] for i in genuine)  # nobody genuine caught

    after, created = start(app, campaign, draft=True)
    work(app)
    assert _office_figures(app, after, office) == _office_figures(app, baseline, office)
    region = {k: v.value for k, v in results(app, baseline, level="region").items()}
    assert {k: v.value for k, v in results(app, after, level="region").items()} == region


# --- the review queue (pages) ------------------------------------------------------------


def _flag_some(app, office):
    ids = [answer(app, office, varied(200 + n), when=DAY + n * MIN,
                  meta={"staff_session": True})[0] for n in range(3)]
    straight, _ = answer(app, office, dict.fromkeys(SCALE_ITEMS, 10), when=DAY + 10 * MIN)
    return ids, straight


def test_review_page_lists_filters_and_decisions_need_a_reason(
        app, client, office, make_user, login):
    ids, straight = _flag_some(app, office)
    clean, _ = answer(app, office, varied(300), when=DAY + 20 * MIN)
    login(make_user("regional_admin", "RU-BRY"))
    page = client.get("/r/RU-BRY/review")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for response_id in [*ids, straight]:
        assert f'id="review-{response_id}"' in html
    assert f'id="review-{clean}"' not in html
    assert "Ответ дан в сеансе сотрудника" in html  # the rule's label
    only = client.get("/r/RU-BRY/review?rule=straight_lining").get_data(as_text=True)
    assert f'id="review-{straight}"' in only and f'id="review-{ids[0]}"' not in only

    # no reason: refused, nothing changes, nothing audited
    reply = client.post(f"/r/RU-BRY/review/{ids[0]}", data={"decision": "restore", "reason": " "},
                        follow_redirects=True)
    assert "Укажите причину решения" in reply.get_data(as_text=True)
    assert state(app, ids[0])["review_status"] == "pending"
    assert _audit(app) == []

    # htmx: the row comes back updated in place
    reply = client.post(f"/r/RU-BRY/review/{ids[0]}",
                        data={"decision": "restore", "reason": "клиент подтвердил по телефону"},
                        headers={"HX-Request": "true"})
    assert reply.status_code == 200
    row = reply.get_data(as_text=True)
    assert row.lstrip().startswith("<tr") and f'id="review-{ids[0]}"' in row
    assert "клиент подтвердил по телефону" in row
    st = state(app, ids[0])
    assert (st["review_status"], st["counted"], st["answers_counted"]) == ("restored", True, {True})

    # htmx without a reason: the row shows the error, the decision is not taken
    row = client.post(f"/r/RU-BRY/review/{ids[1]}", data={"decision": "exclude", "reason": ""},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'role="alert"' in row and state(app, ids[1])["review_status"] == "pending"

    # plain form: confirm the exclusion
    reply = client.post(f"/r/RU-BRY/review/{ids[1]}",
                        data={"decision": "exclude", "reason": "сотрудник признал"})
    assert reply.status_code == 302
    st = state(app, ids[1])
    assert (st["review_status"], st["counted"]) == ("confirmed", False)

    entries = _audit(app)
    assert [(e.object_id, e.before["review_status"], e.after["review_status"]) for e in entries] \
        == [(str(ids[0]), "pending", "restored"), (str(ids[1]), "pending", "confirmed")]
    assert entries[0].after["reason"] == "клиент подтвердил по телефону"
    assert entries[0].before["counted"] is False and entries[0].after["counted"] is True
    assert all(e.actor.startswith("regional_admin") and e.actor_id for e in entries)

    # the queue now holds the undecided ones only
    html = client.get("/r/RU-BRY/review").get_data(as_text=True)
    assert f'id="review-{ids[0]}"' not in html and f'id="review-{ids[2]}"' in html
    assert f'id="review-{ids[0]}"' in client.get("/r/RU-BRY/review?status=restored").get_data(
        as_text=True)


def test_bulk_decision(app, client, office, make_user, login):
    ids, straight = _flag_some(app, office)
    login(make_user("regional_admin", "RU-BRY"))
    refused = client.post("/r/RU-BRY/review/bulk",
                          data={"ids": [str(i) for i in ids], "decision": "exclude"},
                          follow_redirects=True)
    assert "Укажите причину решения" in refused.get_data(as_text=True)
    assert {state(app, i)["review_status"] for i in ids} == {"pending"}
    reply = client.post("/r/RU-BRY/review/bulk", data={
        "ids": [str(i) for i in ids], "decision": "exclude", "reason": "серия от сотрудника"})
    assert reply.status_code == 302
    assert {state(app, i)["review_status"] for i in ids} == {"confirmed"}
    assert state(app, straight)["review_status"] == "pending"
    assert len(_audit(app)) == 3
    odd = client.post("/r/RU-BRY/review/bulk", data={
        "ids": ["²", "9" * 20, "-1"], "decision": "restore", "reason": "проверка"},
        follow_redirects=True)
    assert odd.status_code == 200  # not a 500
    assert "Отметьте хотя бы один ответ." in odd.get_data(as_text=True)
    assert len(_audit(app)) == 3


@pytest.mark.parametrize("role,region,status", [
    ("regional_admin", "RU-KYA", 404), ("auditor", "RU-BRY", 403), ("admin", None, 200),
])
def test_who_may_see_and_decide_a_region_queue(
        app, client, office, make_user, login, role, region, status):
    ids, _ = _flag_some(app, office)
    login(make_user(role, region))
    assert client.get("/r/RU-BRY/review").status_code == status
    reply = client.post(f"/r/RU-BRY/review/{ids[0]}",
                        data={"decision": "restore", "reason": "попытка"})
    assert reply.status_code == (302 if status == 200 else status)
    assert state(app, ids[0])["review_status"] == ("restored" if status == 200 else "pending")


def test_a_regional_admin_cannot_decide_another_region_response_through_own_region(
        app, client, campaign, make_user, login):
    kya_response, _ = answer(app, offices(app, "RU-KYA")[0], varied(400),
                             meta={"staff_session": True})
    login(make_user("regional_admin", "RU-BRY"))
    reply = client.post(f"/r/RU-BRY/review/{kya_response}",
                        data={"decision": "restore", "reason": "чужой"})
    assert reply.status_code == 404
    assert state(app, kya_response)["review_status"] == "pending"


def _audit(app):
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action == "response.review")
                          .order_by(AuditEntry.id)).all()
        for row in rows:
            db.expunge(row)
        return rows


# --- the results page --------------------------------------------------------------------


def test_results_page_says_how_many_answers_each_rule_excluded(
        app, client, campaign, office, make_user, login):
    ids, _ = _flag_some(app, office)
    answer(app, offices(app, "RU-KYA")[0], varied(500), meta={"staff_session": True})
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get(f"/r/RU-BRY/results?campaign={campaign}").get_data(as_text=True)
    assert "Исключено правилами качества данных" in html
    assert _rule_count(html, "staff_session") == 3  # the other region's is not counted
    assert _rule_count(html, "straight_lining") == 1
    assert "Ответ дан в сеансе сотрудника" in html
    # a restored answer is no longer excluded; a confirmed one still is
    _review_api_or_page_restore(app, ids[0])
    html = client.get(f"/r/RU-BRY/results?campaign={campaign}").get_data(as_text=True)
    assert _rule_count(html, "staff_session") == 2


def _rule_count(html: str, rule: str) -> int:
    row = html.split(f'data-rule="{rule}"', 1)[1].split("</tr>", 1)[0]
    return int(row.rsplit('class="num">', 1)[1].split("<", 1)[0])


def test_results_page_without_exclusions(app, client, campaign, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get(f"/r/RU-BRY/results?campaign={campaign}").get_data(as_text=True)
    assert "Ни один ответ этой кампании не исключён" in html


# --- API: batch ingest -------------------------------------------------------------------


@pytest.fixture
def token_for(app, runner, make_user):
    def issue(role: str, region: str | None = None) -> str:
        email = make_user(role, region)
        result = runner.invoke(args=["tokens", "create", "--email", email])
        assert result.exit_code == 0, result.output
        return result.output.splitlines()[-1]

    return issue


def _post(client, url, token, body=None, **kw):
    return client.post(url, headers={"Authorization": f"Bearer {token}"}, json=body, **kw)


def _item(office_id, key, **fields):
    item = {"client_key": key, "office_id": office_id, "respondent_type": "job_seeker",
            "submitted_at": DAY.isoformat(), "answers": varied(sum(map(ord, key)))}
    item.update(fields)
    return item


def _count_responses(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(Response))


def _spec_validator(app, name):
    spec = build_spec(app)
    resource = DRAFT202012.create_resource(spec)
    registry = Registry().with_resource("urn:spec", resource)
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{name}"},
                                registry=registry, format_checker=FormatChecker())


def test_batch_created_duplicate_and_error_items(app, client, office, token_for):
    token = token_for("regional_admin", "RU-BRY")
    body = {"responses": [
        _item(office, "crm-1"),
        _item(office, "crm-1"),  # the same key again in the batch
        _item(office, "crm-2", answers={**varied(5), "usefulness": 11}),
        _item(office, "crm-3", answers={"nonsense": 5}),
        _item(office, "crm-4", color="blue"),
        _item(office, "crm-5", submitted_at="2025-05-05T09:00:00"),
        _item(office, "crm-6", submitted_at="2025-08-01T09:00:00+03:00"),
        _item(office, "crm-7", meta={"staff_session": True},
              started_at=(DAY - 60 * SEC).isoformat()),
        "not an object",
    ]}
    reply = _post(client, "/api/v1/responses/batch", token, body)
    assert reply.status_code == 207, reply.get_data(as_text=True)
    data = reply.get_json()
    errors = list(_spec_validator(app, "BatchResult").iter_errors(data))
    assert not errors, [e.message for e in errors]
    items = data["items"]
    assert [i["status"] for i in items] == ["created", "duplicate", "error", "error", "error",
                                            "error", "error", "created", "error"]
    assert items[1]["response_id"] == items[0]["response_id"]
    assert items[2]["error"]["code"] == "invalid_answer"
    assert items[2]["error"]["field"] == "answers.usefulness"
    assert "10" in items[2]["error"]["message"] or "диапазон" in items[2]["error"]["message"]
    assert items[3]["error"] == {**items[3]["error"], "code": "invalid_answer",
                                 "field": "answers.nonsense"}
    assert items[4]["error"]["field"] == "color"
    assert items[5]["error"]["field"] == "submitted_at"  # no time zone
    assert items[6]["error"] == {**items[6]["error"], "code": "no_campaign",
                                 "field": "submitted_at"}
    assert items[7]["counted"] is False and items[7]["flags"] == ["staff_session"]
    assert items[8]["client_key"] is None and items[8]["error"]["code"] == "invalid_item"
    assert data["summary"] == {"created": 2, "duplicate": 1, "error": 6}
    assert _count_responses(app) == 2  # nothing of the bad items was stored

    again = _post(client, "/api/v1/responses/batch", token, {"responses": [_item(office, "crm-1")]})
    assert again.get_json()["items"][0]["status"] == "duplicate"
    assert _count_responses(app) == 2


def test_batch_out_of_range_answer_stores_nothing_of_the_item(app, client, office, token_for):
    token = token_for("regional_admin", "RU-BRY")
    answers = {**varied(6), "usefulness": 0}
    reply = _post(client, "/api/v1/responses/batch", token,
                  {"responses": [_item(office, "bad-1", answers=answers)]})
    item = reply.get_json()["items"][0]
    assert item["status"] == "error" and item["error"]["code"] == "invalid_answer"
    assert item["error"]["field"] == "answers.usefulness" and item["error"]["message"]
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(Answer)) == 0
        assert db.scalar(select(func.count()).select_from(ResponseFlag)) == 0
    assert _count_responses(app) == 0


def test_batch_cross_region_is_refused(app, client, campaign, token_for):
    token = token_for("regional_admin", "RU-BRY")
    kya, bry = offices(app, "RU-KYA")[0], offices(app, "RU-BRY")[0]
    reply = _post(client, "/api/v1/responses/batch", token,
                  {"responses": [_item(kya, "x-1"), _item(bry, "x-2")]})
    items = reply.get_json()["items"]
    assert items[0]["status"] == "error"
    assert items[0]["error"]["code"] == "unknown_office"
    assert items[0]["error"]["field"] == "office_id"
    assert items[1]["status"] == "created"
    assert _count_responses(app) == 1
    # a federal administrator's token writes to any region; keys are kept apart per region
    federal = token_for("admin")
    items = _post(client, "/api/v1/responses/batch", federal,
                  {"responses": [_item(kya, "x-2"), _item(bry, "x-2")]}).get_json()["items"]
    assert [i["status"] for i in items] == ["created", "duplicate"]


@pytest.mark.parametrize("body,status", [
    (None, 422), ({"responses": []}, 422), ({"responses": "x"}, 422),
    ({"responses": [{}] * 501}, 422),
])
def test_batch_shape_errors(client, campaign, token_for, body, status):
    token = token_for("regional_admin", "RU-BRY")
    reply = _post(client, "/api/v1/responses/batch", token, body)
    assert reply.status_code == status and reply.get_json()["error"]["code"] == "validation_error"


def test_batch_needs_an_admin_token(client, campaign, token_for):
    token = token_for("auditor", "RU-BRY")
    reply = _post(client, "/api/v1/responses/batch", token, {"responses": []})
    assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "forbidden"


def test_batch_runs_the_same_quality_rules(app, client, office, token_for):
    token = token_for("regional_admin", "RU-BRY")
    items = [_item(office, f"op-{n}", answers=varied(700 + n),
                   submitted_at=(DAY + n * SEC).isoformat(), meta={"operator_id": 17})
             for n in range(10)]
    data = _post(client, "/api/v1/responses/batch", token, {"responses": items}).get_json()
    assert [i["counted"] for i in data["items"]] == [True] * 9 + [False]
    assert "burst" in data["items"][-1]["flags"]
    for item in data["items"]:
        assert "burst" in rules_of(app, item["response_id"])  # the whole burst


def test_batch_rate_limit_is_429_json(app, client, office, token_for, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API_BATCH", "2/minute")
    token = token_for("regional_admin", "RU-BRY")
    other = token_for("regional_admin", "RU-BRY")
    body = {"responses": [_item(office, "rl-1")]}
    assert _post(client, "/api/v1/responses/batch", token, body).status_code == 207
    assert _post(client, "/api/v1/responses/batch", token, body).status_code == 207
    reply = _post(client, "/api/v1/responses/batch", token, body)
    assert reply.status_code == 429
    assert reply.mimetype == "application/json"
    assert reply.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in reply.headers
    assert _post(client, "/api/v1/responses/batch", other, body).status_code == 207  # per token


def test_a_too_large_body_is_413_json(app, client, office, token_for, monkeypatch):
    token = token_for("regional_admin", "RU-BRY")
    big = {"responses": [_item(office, f"big-{n}") for n in range(40)]}
    monkeypatch.setitem(app.config, "API_BATCH_MAX_BYTES", 2048)
    reply = _post(client, "/api/v1/responses/batch", token, big)
    assert reply.status_code == 413 and reply.mimetype == "application/json"
    assert reply.get_json()["error"]["code"] == "payload_too_large"
    monkeypatch.setitem(app.config, "API_BATCH_MAX_BYTES", 10**7)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    reply = _post(client, "/api/v1/responses/batch", token, big)
    assert reply.status_code == 413 and reply.get_json()["error"]["code"] == "payload_too_large"
    assert _count_responses(app) == 0


def test_channels_rate_limit_their_public_pages_with_the_core_limiter(tenants):
    """A channel plugin decorates its public endpoint; over the limit it gets the Russian page."""
    bp = Blueprint("rl_probe", __name__)

    @bp.route("/ping")
    @limiter.limit("2/minute", key_func=per_ip)
    def ping():
        return "ok"

    class Probe:
        @hookimpl
        def register_channels(self):
            return [Channel(key="rl-probe", label="Проба", blueprints=((bp, "/rl-probe"),))]

    application = create_app(TEST_CONFIG, plugins=(Probe(),))
    try:
        client = application.test_client()
        assert [client.get("/rl-probe/ping").status_code for _ in range(2)] == [200, 200]
        reply = client.get("/rl-probe/ping")
        assert reply.status_code == 429 and reply.mimetype == "text/html"
        assert "Слишком много запросов" in reply.get_data(as_text=True)
        other = client.get("/rl-probe/ping", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200  # per address
    finally:
        application.extensions["cci.engine"].dispose()


# --- API: the review queue ---------------------------------------------------------------


def test_review_api_lists_and_decides(app, client, office, token_for):
    ids, straight = _flag_some(app, office)
    clean, _ = answer(app, office, varied(800), when=DAY + 30 * MIN)
    token = token_for("regional_admin", "RU-BRY")
    reply = client.get("/api/v1/review?status=pending",
                       headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    data = reply.get_json()
    assert not list(_spec_validator(app, "ReviewList").iter_errors(data))
    assert data["total"] == 4 and {i["id"] for i in data["items"]} == set(ids) | {straight}
    first = next(i for i in data["items"] if i["id"] == straight)
    assert first["flags"][0]["rule"] == "straight_lining" and first["flags"][0]["label"]
    assert first["answers"]["usefulness"] == 10
    only = client.get("/api/v1/review?rule=staff_session",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert {i["id"] for i in only["items"]} == set(ids)

    url = f"/api/v1/review/{ids[0]}"
    reply = _post(client, url, token, {"decision": "restore"})
    assert reply.status_code == 422 and reply.get_json()["error"]["details"]["reason"]
    reply = _post(client, url, token, {"decision": "keep", "reason": "x"})
    assert reply.status_code == 422
    for decision in (["restore"], {"restore": 1}, None):  # any JSON: a 422, not a crash
        reply = _post(client, url, token, {"decision": decision, "reason": "x"})
        assert reply.status_code == 422 and reply.get_json()["error"]["details"]["decision"]
    assert _audit(app) == []
    reply = _post(client, url, token, {"decision": "restore", "reason": "звонок клиенту"})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert not list(_spec_validator(app, "ReviewItem").iter_errors(reply.get_json()))
    assert reply.get_json()["review_status"] == "restored" and reply.get_json()["counted"]
    (entry,) = _audit(app)
    assert entry.after["reason"] == "звонок клиенту" and entry.actor_id is not None
    assert state(app, ids[0])["answers_counted"] == {True}

    reply = _post(client, f"/api/v1/review/{clean}", token, {"decision": "restore", "reason": "x"})
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "not_flagged"
    restored = client.get("/api/v1/review?status=restored",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [i["id"] for i in restored["items"]] == [ids[0]]


def test_review_api_of_another_region_is_404(app, client, office, token_for):
    ids, _ = _flag_some(app, office)
    other = token_for("regional_admin", "RU-KYA")
    listed = client.get("/api/v1/review", headers={"Authorization": f"Bearer {other}"})
    assert listed.status_code == 200 and listed.get_json()["items"] == []
    reply = _post(client, f"/api/v1/review/{ids[0]}", other,
                  {"decision": "restore", "reason": "чужое"})
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "not_found"
    assert state(app, ids[0])["review_status"] == "pending"
    auditor = token_for("auditor", "RU-BRY")
    assert client.get("/api/v1/review",
                      headers={"Authorization": f"Bearer {auditor}"}).status_code == 403
    federal = token_for("admin")
    listed = client.get("/api/v1/review", headers={"Authorization": f"Bearer {federal}"})
    assert listed.get_json()["total"] == 4


def test_batch_body_example_is_documented(app):
    spec = build_spec(app)
    assert "/api/v1/responses/batch" in spec["paths"]
    assert "/api/v1/review/{response_id}" in spec["paths"]
    operation_ = spec["paths"]["/api/v1/responses/batch"]["post"]
    assert "207" in operation_["responses"] and "429" in operation_["responses"]
    assert json.dumps(spec)  # serialisable (lazy labels resolved)


@pytest.mark.parametrize("url", ["/api/v1/responses/batch", "/api/v1/review/1"])
def test_absurdly_nested_json_is_a_clear_400_not_a_500(app, client, office, token_for, url):
    token = token_for("regional_admin", "RU-BRY")
    reply = client.post(url, data="[" * 100_000 + "]" * 100_000,
                        headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json"})
    assert reply.status_code in (400, 404, 422), reply.get_data(as_text=True)[:300]
    assert reply.mimetype == "application/json" and "error" in reply.get_json()
    assert _count_responses(app) == 0


@pytest.mark.parametrize("raw", ["1e400", "NaN", "-Infinity", "7.5", "1e2"])
def test_batch_a_number_that_is_no_scale_answer_is_a_clear_error(app, client, office, token_for,
                                                                 raw):
    """JSON numbers Python reads as infinity or NaN, or not whole: the item's error, not a 500."""
    token = token_for("regional_admin", "RU-BRY")
    item = json.dumps(_item(office, "odd-1", answers=varied(6)))
    body = item.replace('"usefulness": ' + str(varied(6)["usefulness"]), f'"usefulness": {raw}')
    assert body != item
    reply = client.post("/api/v1/responses/batch", data=f'{{"responses": [{body}]}}',
                        headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json"})
    assert reply.status_code == 207, reply.get_data(as_text=True)
    result = reply.get_json()["items"][0]
    assert result["status"] == "error" and result["error"]["code"] == "invalid_answer"
    assert result["error"]["field"] == "answers.usefulness"
    assert _count_responses(app) == 0
