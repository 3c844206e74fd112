"""CX metrics: the plugin definitions, their values on hand-computed data, the touchpoint
survey's intake and the versioned runs computed by the database."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection.intake import IntakeError
from cci.collection.touchpoints import TouchpointSubmission
from cci.collection.touchpoints import submit as submit_touchpoint
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import CxCount
from cci.foundation.models import CxRun
from cci.foundation.models import CxTarget
from cci.foundation.models import CxValue
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import TouchpointAnswer
from cci.foundation.models import User
from cci.index import cx_compute
from cci.methodology.cx import CxSums
from cci.methodology.cx import evaluate
from cci.methodology.cx import status
from engine_helpers import campaign  # noqa: F401 - a fixture
from engine_helpers import offices
from engine_helpers import work

from cci_channel_contact.models import ContactCall
from cci_channel_contact.models import TelephonyStat

CODES = {"CSAT", "NPS", "CES", "FCR", "RR", "IQS", "ER", "RpC", "CV-1", "CV-2", "AHT", "ASA",
         "AR", "SL", "RATING"}
PLATFORM_DEFINED = {"CES", "RR", "IQS", "ER", "RpC", "CV-1", "CV-2"}
NOV = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.UTC)
DEC = dt.datetime(2025, 12, 3, 9, 0, tzinfo=dt.UTC)


def installed(app):
    return app.extensions["cci.registry"].cx_metrics


def wilson_pct(k, n, z=1.959963984540054):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return 100 * (c - h), 100 * (c + h)


# --- the definitions ----------------------------------------------------------------------


def test_every_metric_of_the_specification_is_a_plugin_definition(app):
    metrics = installed(app)
    assert set(metrics) == CODES
    assert {c for c, m in metrics.items() if m.platform_defined} == PLATFORM_DEFINED
    for metric in metrics.values():
        assert metric.definition and metric.numerator and metric.denominator
        assert metric.rows is not None and metric.sources
        assert any("а" <= ch <= "я" for ch in metric.definition.lower())  # Russian
    assert metrics["AHT"].direction == "lower" and metrics["CSAT"].direction == "higher"
    assert metrics["RATING"].question.key == "window_rating"
    assert (metrics["NPS"].question.low, metrics["NPS"].question.high) == (0, 10)


def test_a_share_on_hand_computed_sums(app):
    csat = installed(app)["CSAT"]
    got = evaluate(csat, CxSums(den=40, num=30))
    assert got.value == pytest.approx(75.0)
    low, high = wilson_pct(30, 40)
    assert (got.ci_low, got.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert got.insufficient is False


def test_an_empty_denominator_has_no_value_never_zero(app):
    for metric in installed(app).values():
        got = evaluate(metric, CxSums(den=0, num=0))
        assert got.value is None and got.insufficient is True


def test_below_the_minimum_n_the_value_is_insufficient(app):
    csat = installed(app)["CSAT"]
    assert evaluate(csat, CxSums(den=csat.min_n - 1, num=10)).insufficient is True
    assert evaluate(csat, CxSums(den=csat.min_n, num=10)).insufficient is False


def test_nps_is_promoters_minus_detractors(app):
    nps = installed(app)["NPS"]
    # 5 promoters, 3 passives, 2 detractors: 50 % − 20 % = 30
    got = evaluate(nps, CxSums(den=10, num=5, neg=2))
    assert got.value == pytest.approx(30.0)
    assert got.ci_low < 30 < got.ci_high and got.ci_low >= -100 and got.ci_high <= 100


def test_a_mean_with_students_t(app):
    rating = installed(app)["RATING"]
    values = [5, 5, 4, 3, 1]
    got = evaluate(rating, CxSums(den=5, num=sum(values), squares=sum(v * v for v in values)))
    assert got.value == pytest.approx(3.6)
    sd = math.sqrt(sum((v - 3.6) ** 2 for v in values) / 4)
    half = 2.7764451051977987 * sd / math.sqrt(5)  # t(0.975, 4)
    assert got.ci_low == pytest.approx(max(1.0, 3.6 - half), rel=1e-3)
    assert got.ci_high == pytest.approx(min(5.0, 3.6 + half), rel=1e-3)


def test_a_ratio_of_sums(app):
    cv1 = installed(app)["CV-1"]
    got = evaluate(cv1, CxSums(den=400, num=50))
    assert got.value == pytest.approx(12.5) and got.ci_low is None


def test_status_against_a_target_reads_direction_and_interval(app):
    m = installed(app)
    assert status(m["CSAT"], 80, 75) == "green"
    assert status(m["CSAT"], 70, 75, 60, 80) == "amber"
    assert status(m["CSAT"], 70, 75, 65, 74) == "red"
    assert status(m["AHT"], 200, 240) == "green"
    assert status(m["AHT"], 300, 240, 280, 320) == "red"
    assert status(m["CSAT"], None, 75) is None


# --- the touchpoint survey's intake ------------------------------------------------------


def _sub(office_id, **kw):
    values = {"touchpoint": "specialist_window", "question": "window_rating", "value": "5",
              "channel": "web", "client_key": str(uuid.uuid4())}
    values.update(kw)
    return TouchpointSubmission(office_id=office_id, **values)


def test_a_valid_touchpoint_answer_is_stored_once(app, tenants):
    office = offices(app, "RU-BRY")[0]
    with app.app_context():
        sub = _sub(office, value="4,0", comment="  Спасибо  ")
        answer, created = submit_touchpoint(sub)
        again, created_again = submit_touchpoint(sub)
        assert created and not created_again and again.id == answer.id
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalars(select(TouchpointAnswer)).all()
        assert [(a.value, a.comment, a.counted, a.question) for a in stored] == [
            (4, "Спасибо", True, "window_rating")]


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"value": "6"}, "value", "out_of_range"),
    ({"value": "пять"}, "value", "not_a_number"),
    ({"value": "4.5"}, "value", "not_whole"),
    ({"question": "nope"}, "question", "unknown_item"),
    ({"touchpoint": "moon"}, "touchpoint", None),
    ({"touchpoint": "contact_centre"}, "touchpoint", None),  # the rating is not asked there
    ({"comment": "x" * 4001}, "comment", "too_long"),
])
def test_a_touchpoint_answer_is_refused_with_its_reason(app, tenants, change, field, reason):
    office = offices(app, "RU-BRY")[0]
    with app.app_context():
        with pytest.raises(IntakeError) as refused:
            submit_touchpoint(_sub(office, **change))
        assert refused.value.field == field and refused.value.reason == reason
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(TouchpointAnswer.id)) is None


def test_another_regions_office_is_refused_in_a_regional_scope(app, tenants):
    foreign = offices(app, "RU-KYA")[0]
    with app.app_context():
        bry = db.scalar(select(Region.id).where(Region.code == "RU-BRY"))
        with tenancy.region_scope(bry, "test"), pytest.raises(IntakeError):
            submit_touchpoint(_sub(foreign))


def test_quality_rules_flag_touchpoint_answers(app, tenants):
    office = offices(app, "RU-BRY")[0]
    with app.app_context():
        staff, _ = submit_touchpoint(_sub(office, meta={"staff_session": True}))
        assert not staff.counted and staff.quality_flags[0]["rule"] == "staff_session"
        verdicts = []
        for second in range(10):  # the burst rule's threshold: 10 within 5 minutes
            answer, _ = submit_touchpoint(_sub(
                office, touchpoint="office", question="csat", meta={"ip_hash": "abc"},
                submitted_at=NOV + dt.timedelta(seconds=second)))
            verdicts.append(answer.counted)
        assert verdicts == [True] * 9 + [False]
        assert answer.quality_flags[0]["rule"] == "burst"


# --- runs computed by the database --------------------------------------------------------


def _seed(app, region="RU-BRY"):
    """Hand-countable data in the first two offices of a region (November and December)."""
    first, second = offices(app, region)[:2]
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.scalar(select(Region.id).where(Region.code == region))
        operator = db.scalar(select(User.id).order_by(User.id))
        if operator is None:
            user = User(email=f"op-{uuid.uuid4()}@example.ru", role="operator",
                        region_id=region_id, password_hash="x")
            db.add(user)
            db.flush()
            operator = user.id

        def tp(office, question, value, when, touchpoint="office", counted=True):
            db.add(TouchpointAnswer(region_id=region_id, office_id=office, touchpoint=touchpoint,
                                    question=question, value=value, channel="web",
                                    counted=counted, submitted_at=when))

        # CSAT at the first office: November 30 answers, 24 of them 4–5 (80 %); December 20
        # answers, 10 of them 4–5; a flagged (not counted) 5 that must not count
        for i in range(30):
            tp(first, "csat", 5 if i < 24 else 2, NOV)
        for i in range(20):
            tp(first, "csat", 4 if i < 10 else 1, DEC)
        tp(first, "csat", 5, NOV, counted=False)
        # CSAT at the second office: 5 answers (below the minimum n), all 5
        for _ in range(5):
            tp(second, "csat", 5, NOV)
        # NPS: 5 promoters, 3 passives, 2 detractors
        for value in (10, 9, 9, 10, 9, 7, 8, 8, 3, 0):
            tp(first, "nps", value, NOV)
        # rating at the window
        for value in (5, 5, 4, 3, 1):
            tp(first, "window_rating", value, NOV, touchpoint="specialist_window")
        # calls: 40 in November at the first office, 30 resolved, 4 escalated, 10 with a survey
        for i in range(40):
            db.add(ContactCall(region_id=region_id, office_id=first, operator_id=operator,
                               started_at=NOV, ended_at=NOV + dt.timedelta(minutes=3),
                               resolved_first_contact=i < 30, escalated=i < 4,
                               waiting_seconds=20 if i < 20 else 40,
                               handling_seconds=200 if i < 20 else 300))
        db.add(ContactCall(region_id=region_id, office_id=first, operator_id=operator,
                           started_at=NOV))  # still open: never counted
        # telephony (no office): 2 days, 500 offered, 50 abandoned, 400 within 20 s
        for day, offered, abandoned, within in ((10, 300, 30, 240), (11, 200, 20, 160)):
            db.add(TelephonyStat(region_id=region_id, day=dt.date(2025, 11, day), line="8-800",
                                 offered=offered, answered=offered - abandoned,
                                 abandoned=abandoned, answered_within_20s=within,
                                 wait_seconds_total=0, handle_seconds_total=0))
        # funnel: 800 service-page visits, 100 pre-registrations, 60 services received; the
        # e-queue: 150 contacts of 100 clients
        for kind, count, touchpoint in (("service_page_visits", 800, "site"),
                                        ("preregistrations", 100, "site"),
                                        ("services_received", 60, "office"),
                                        ("contacts", 150, "office"), ("clients", 100, "office")):
            db.add(CxCount(region_id=region_id, office_id=first, touchpoint=touchpoint,
                           day=dt.date(2025, 11, 12), kind=kind, count=count))
        db.commit()
        return region_id, first, second


def _run(app, region_id, start=dt.date(2025, 11, 1), end=dt.date(2026, 1, 1)):
    with app.app_context(), tenancy.region_scope(region_id, "test"):
        from cci.foundation.jobs import enqueue

        run = cx_compute.new_run(start, end, None)
        db.commit()
        enqueue(cx_compute.JOB, title="CX", run_id=run.id)
        run_id = run.id
    work(app)
    return run_id


def _values(app, run_id, **where):
    with app.app_context(), tenancy.federal_scope("test"):
        query = select(CxValue).where(CxValue.run_id == run_id)
        for key, value in where.items():
            query = query.where(getattr(CxValue, key) == value if value is not None
                                else getattr(CxValue, key).is_(None))
        return db.scalars(query).all()


def _one(app, run_id, **where):
    found = _values(app, run_id, **where)
    assert len(found) == 1, found
    return found[0]


def test_a_run_computes_every_metric_by_the_database(app, tenants):
    region_id, first, second = _seed(app)
    run_id = _run(app, region_id)
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.get(CxRun, run_id)
        assert run.status == "succeeded", run.error
        assert set(run.summary["computed"]) == CODES and run.summary["skipped"] == []
        assert run.definitions["CSAT"]["min_n"] == 30 and run.version == 1
    # CSAT of the first office: November 24/30, December 10/20, the quarter 34/50
    nov = _one(app, run_id, metric="CSAT", level="office", office_id=first,
               month=dt.date(2025, 11, 1))
    assert (nov.n, nov.numerator, nov.value) == (30, 24, pytest.approx(80.0))
    assert not nov.insufficient
    dec = _one(app, run_id, metric="CSAT", level="office", office_id=first,
               month=dt.date(2025, 12, 1))
    assert dec.value == pytest.approx(50.0) and dec.insufficient  # 20 < 30
    whole = _one(app, run_id, metric="CSAT", level="office", office_id=first, month=None)
    assert (whole.n, whole.value) == (50, pytest.approx(68.0))
    low, high = wilson_pct(34, 50)
    assert (whole.ci_low, whole.ci_high) == (pytest.approx(low), pytest.approx(high))
    small = _one(app, run_id, metric="CSAT", level="office", office_id=second, month=None)
    assert small.value == pytest.approx(100.0) and small.insufficient
    region = _one(app, run_id, metric="CSAT", level="region", month=None, touchpoint="office")
    assert (region.n, region.numerator, region.value) == (55, 39, pytest.approx(39 / 55 * 100))
    # the others, over the whole period at the region
    expected = {"NPS": 30.0, "RATING": 3.6, "FCR": 75.0, "ER": 10.0, "RR": 0.0,
                "AHT": 250.0, "ASA": 30.0, "AR": 10.0, "SL": 80.0, "CV-1": 12.5, "CV-2": 60.0,
                "RpC": 1.5}
    for code, value in expected.items():
        cell = _one(app, run_id, metric=code, level="region", month=None)
        assert cell.value == pytest.approx(value), code
    # a funnel spans touchpoints: the site's pre-registrations are CV-1's numerator at the
    # site and CV-2's denominator at the office
    assert _one(app, run_id, metric="CV-1", level="office", month=None).touchpoint == "site"
    cv2 = _one(app, run_id, metric="CV-2", level="office", month=None)
    assert (cv2.touchpoint, cv2.n, cv2.numerator) == ("office", 100, 60)
    # telephony has no office: region cells only
    assert not _values(app, run_id, metric="AR", level="office", month=None)
    # no data: no cell, never a zero
    assert not _values(app, run_id, metric="IQS")
    # a regional run has no federation cells
    assert not _values(app, run_id, level="federation")


def test_runs_are_versioned_and_never_change(app, tenants):
    region_id, first, _second = _seed(app)
    first_run = _run(app, region_id)
    before = {(v.metric, v.level, v.office_id, v.month, v.touchpoint): v.value
              for v in _values(app, first_run)}
    with app.app_context(), tenancy.federal_scope("test"):
        db.add(TouchpointAnswer(region_id=region_id, office_id=first, touchpoint="office",
                                question="csat", value=1, channel="web", submitted_at=NOV))
        db.commit()
    second_run = _run(app, region_id)
    after = {(v.metric, v.level, v.office_id, v.month, v.touchpoint): v.value
             for v in _values(app, first_run)}
    assert after == before
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(CxRun, second_run).version == 2
        assert cx_compute.current_run(region_id).id == second_run
    newer = _one(app, second_run, metric="CSAT", level="office", office_id=first, month=None)
    assert newer.n == 51


def test_a_regional_run_reads_its_region_only(app, tenants):
    bry, _first, _second = _seed(app, "RU-BRY")
    kya, kya_office, _ = _seed(app, "RU-KYA")
    run_id = _run(app, bry)
    values = _values(app, run_id)
    assert values and {v.region_id for v in values} == {bry}
    with app.app_context(), tenancy.region_scope(kya, "test"):
        assert db.get(CxRun, run_id) is None
        assert db.scalars(select(CxValue).where(CxValue.run_id == run_id)).all() == []
        assert cx_compute.current_run(bry) is None
    assert kya_office not in {v.office_id for v in values}


def test_a_federal_run_rolls_up_every_region(app, tenants):
    bry, *_ = _seed(app, "RU-BRY")
    kya, *_ = _seed(app, "RU-KYA")
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.foundation.jobs import enqueue

        run = cx_compute.new_run(dt.date(2025, 11, 1), dt.date(2026, 1, 1), None)
        db.commit()
        enqueue(cx_compute.JOB, title="CX", run_id=run.id)
        run_id = run.id
    work(app)
    fed = _one(app, run_id, metric="CSAT", level="federation", month=None, touchpoint="office")
    assert (fed.n, fed.numerator) == (110, 78)
    assert {v.region_id for v in _values(app, run_id, level="region")} == {bry, kya}
    with app.app_context(), tenancy.region_scope(bry, "test"):
        seen = db.scalars(select(CxValue).where(CxValue.run_id == run_id)).all()
        assert seen and {v.region_id for v in seen} == {bry}  # no federation, no other region


# --- the web channel: a QR card or link ---------------------------------------------------


def test_the_qr_card_rating_page_stores_one_answer(app, tenants, client):
    with app.app_context(), tenancy.federal_scope("test"):
        office = db.get(Office, offices(app, "RU-BRY")[0])
        url = f"/s/{office.region.code}/{office.code}/t/specialist_window/window_rating"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Оцените, пожалуйста, работу специалиста" in html
    assert "5 — Отлично" in html
    key = uuid.uuid4().hex
    for _ in range(2):  # a second tap of the same page is the same answer
        done = client.post(url, data={"answer": "5", "key": key})
        assert done.status_code == 200 and "Спасибо" in done.get_data(as_text=True)
    refused = client.post(url, data={"answer": "9", "key": uuid.uuid4().hex})
    assert refused.status_code == 400
    assert 'data-reason="out_of_range"' in refused.get_data(as_text=True)
    assert client.get(f"/s/{office.region.code}/{office.code}/t/site/window_rating"
                      ).status_code == 404
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalars(select(TouchpointAnswer)).all()
        assert [(a.value, a.channel, a.touchpoint) for a in stored] == [
            (5, "web", "specialist_window")]
        assert stored[0].meta["ip_hash"] and stored[0].meta["staff_session"] is False


# --- pages ----------------------------------------------------------------------------------


def test_the_region_page_shows_value_target_status_and_trend(app, tenants, client, make_user,
                                                             login):
    _region_id, first, _second = _seed(app)
    login(make_user("regional_admin", "RU-BRY"))
    saved = client.post("/r/RU-BRY/cx/targets",
                        data={"metric": "CSAT", "touchpoint": "office", "target": "75"})
    assert saved.status_code == 302
    assert client.post("/r/RU-BRY/cx/targets", data={"metric": "CSAT", "touchpoint": "",
                                                      "target": "много"}).status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        assert [(t.metric, t.touchpoint, t.target) for t in db.scalars(select(CxTarget))] == [
            ("CSAT", "office", 75.0)]
    queued = client.post("/r/RU-BRY/cx", data={"period_start": "2025-11-01",
                                              "period_last": "2025-12-31"})
    assert queued.status_code == 302
    work(app)
    html = client.get("/r/RU-BRY/cx").get_data(as_text=True)
    # the first office: 34 of 50 = 68,0 %, target 75 within its interval (54–79): amber
    assert "68,0 %" in html and "ниже цели в пределах погрешности" in html
    # November 80 % → December 50 % (insufficient): no arrow from one sufficient month
    assert "недостаточно данных" in html  # the second office's five answers
    # NPS +30 rests on 10 answers (minimum 30): shown as insufficient, not as a number
    assert "(NPS)" in html and "+30" not in html
    assert "75,0 %" in html  # FCR, November: 30 of 40
    assert html.count("data:image/svg+xml") >= 3 and 'href="#cx-table-1"' in html
    trend = client.get(f"/r/RU-BRY/cx/trend/CSAT/office?office={first}")
    page = trend.get_data(as_text=True)
    assert trend.status_code == 200 and "80,0 %" in page and "data:image/svg+xml" in page
    assert "cx-trend-table" in page
    assert client.get("/r/RU-BRY/cx/trend/NOPE/office").status_code == 404


def test_an_operator_may_read_but_not_set_targets_or_compute(app, tenants, client, make_user,
                                                             login):
    login(make_user("operator", "RU-BRY"))
    assert client.get("/r/RU-BRY/cx").status_code == 200
    assert client.get("/r/RU-BRY/cx/targets").status_code == 403
    assert client.post("/r/RU-BRY/cx", data={"period_start": "2025-11-01",
                                             "period_last": "2025-12-31"}).status_code == 403
    assert client.get("/r/RU-KYA/cx").status_code == 404


def test_another_regions_values_stay_out_of_a_regions_pages(app, tenants, client, make_user,
                                                            login):
    kya, kya_office, _ = _seed(app, "RU-KYA")
    _run(app, kya)
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get("/r/RU-BRY/cx").get_data(as_text=True)
    assert "80,0 %" not in html and "68,0 %" not in html  # KYA's figures
    assert client.get(f"/r/RU-BRY/cx/trend/CSAT/office?office={kya_office}").status_code == 404
    assert client.get("/r/RU-KYA/cx/targets").status_code == 404
    assert client.get("/federal/cx").status_code == 404


# --- the API --------------------------------------------------------------------------------


def _token(app, make_user, role, region=None):
    from cci.foundation import tokens

    email = make_user(role, region)
    with app.app_context(), tenancy.federal_scope("test"):
        user = db.scalar(select(User).where(User.email == email))
        _row, token = tokens.issue(user, "test")
        db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_serves_definitions_values_and_targets_in_the_tokens_region(
        app, tenants, client, make_user):
    bry, first, _second = _seed(app, "RU-BRY")
    kya, *_ = _seed(app, "RU-KYA")
    _run(app, bry)
    _run(app, kya)
    admin = _token(app, make_user, "regional_admin", "RU-BRY")
    operator = _token(app, make_user, "operator", "RU-BRY")
    federal = _token(app, make_user, "federal_analyst")
    metrics = client.get("/api/v1/cx/metrics", headers=operator).get_json()["items"]
    assert {m["code"] for m in metrics} == CODES
    ces = next(m for m in metrics if m["code"] == "CES")
    assert ces["platform_defined"] is True and ces["definition"].startswith("Доля ответов")
    # a target, then the values read against it
    put = client.put("/api/v1/cx/targets", headers=admin,
                     json={"metric": "CSAT", "touchpoint": "office", "target": 75})
    assert put.status_code == 200 and put.get_json()["region"] == "RU-BRY"
    assert client.put("/api/v1/cx/targets", headers=admin, json={
        "metric": "CSAT", "target": 75, "region": "RU-KYA"}).status_code == 404
    assert client.put("/api/v1/cx/targets", headers=admin, json={
        "metric": "CSAT", "target": 175}).status_code == 422
    assert client.put("/api/v1/cx/targets", headers=operator, json={
        "metric": "CSAT", "target": 70}).status_code == 403
    body = client.get("/api/v1/cx/values?level=office&metric=CSAT", headers=admin).get_json()
    mine = {(v["office_id"], v["touchpoint"]): v for v in body["items"]}
    cell = mine[(first, "office")]
    assert cell["value"] == pytest.approx(68.0) and cell["status"] == "amber"
    assert cell["target"] == 75 and cell["region"] == "RU-BRY"
    assert all(v["region"] == "RU-BRY" for v in body["items"])
    insufficient = [v for v in body["items"] if v["insufficient"]]
    assert insufficient and all(v["value"] is None for v in insufficient)  # never a number
    assert client.get("/api/v1/cx/values?region=RU-KYA", headers=admin).status_code == 404
    # the federal token: a region's run by its code; no federal run yet
    kya_values = client.get("/api/v1/cx/values?region=RU-KYA", headers=federal).get_json()
    assert kya_values["items"] and {v["region"] for v in kya_values["items"]} == {"RU-KYA"}
    assert client.get("/api/v1/cx/values", headers=federal).get_json() == {"run": None,
                                                                           "items": []}
    targets = client.get("/api/v1/cx/targets", headers=operator).get_json()["items"]
    assert targets == [{"region": "RU-BRY", "metric": "CSAT", "touchpoint": "office",
                        "target": 75.0}]


def test_the_api_takes_touchpoint_answers(app, tenants, client, make_user):
    operator = _token(app, make_user, "operator", "RU-BRY")
    mine, foreign = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    answer = {"office_id": mine, "touchpoint": "contact_centre", "question": "ces",
              "value": 4, "client_key": "call-1", "submitted_at": "2025-11-10T09:00:00+03:00"}
    first = client.post("/api/v1/cx/touchpoint-answers", headers=operator, json=answer)
    again = client.post("/api/v1/cx/touchpoint-answers", headers=operator, json=answer)
    assert first.status_code == 201 and first.get_json()["created"] is True
    assert again.get_json() == {**first.get_json(), "created": False}
    bad = client.post("/api/v1/cx/touchpoint-answers", headers=operator,
                      json={**answer, "value": 7, "client_key": "call-2"})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["reason"] == \
        "out_of_range"
    assert client.post("/api/v1/cx/touchpoint-answers", headers=operator,
                       json={**answer, "office_id": foreign, "client_key": "call-3"}
                       ).status_code == 404
    with app.app_context(), tenancy.federal_scope("test"):
        assert [(a.question, a.value, a.channel) for a in db.scalars(select(TouchpointAnswer))
                ] == [("ces", 4, "api")]


# --- the kiosk's exit poll --------------------------------------------------------------------


def test_the_kiosk_exit_poll_is_stored_once_and_flagged_like_a_survey(app, tenants, client,
                                                                      make_user, login):
    import re

    from cci_channel_kiosk.public import TOKEN_HEADER
    from test_kiosk import CODE_RE
    from test_kiosk import in_office_hours
    from test_kiosk import office_id

    login(make_user("regional_admin", "RU-BRY"))
    page = client.post("/r/RU-BRY/kiosks/", data={"office": office_id(app), "name": "Выход"})
    code = CODE_RE.search(page.get_data(as_text=True)).group(1)
    client.post("/logout")
    device = app.test_client()
    paired = device.post("/k/pair", data={"code": code}).get_data(as_text=True)
    headers = {TOKEN_HEADER: re.search(r'data-token="([^"]+)"', paired).group(1)}
    asked = device.get("/k/api/exit-poll", headers=headers).get_json()
    assert {q["key"] for q in asked["questions"]} == {"csat", "ces", "nps"}
    noon = in_office_hours().isoformat()
    body = {"key": "exit-0001-abcd", "question": "ces", "value": 5, "finished_at": noon}
    first = device.post("/k/api/exit-poll", headers=headers, json=body)
    again = device.post("/k/api/exit-poll", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    refused = device.post("/k/api/exit-poll", headers=headers,
                          json={**body, "key": "exit-0002-abcd", "question": "window_rating"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "touchpoint"
    night = (in_office_hours() - dt.timedelta(hours=11)).isoformat()  # 01:00 in Moscow
    late = device.post("/k/api/exit-poll", headers=headers,
                       json={**body, "key": "exit-0003-abcd", "finished_at": night})
    assert late.status_code == 201 and late.get_json()["counted"] is False
    assert app.test_client().post("/k/api/exit-poll", json=body).status_code == 401
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalars(select(TouchpointAnswer).order_by(TouchpointAnswer.id)).all()
        assert [(a.touchpoint, a.question, a.value, a.channel, a.counted) for a in stored] == [
            ("kiosk", "ces", 5, "kiosk", True), ("kiosk", "ces", 5, "kiosk", False)]
        assert stored[1].quality_flags[0]["rule"] == "outside_hours"


def test_iqs_reads_the_auditors_checklists_each_item_a_point(app, tenants, campaign):
    """The auditors' objective checklists feed IQS at the touchpoints their indicators name:
    the mystery call at the contact centre; the office's information and premises at the
    office, pooled with the points a region imports. Figures and choices are not items; a
    checklist of the site or of another region is not read."""
    from cci.foundation.models import Checklist

    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    audited = dt.datetime(2025, 11, 12, 10, 0, tzinfo=dt.UTC)

    def items(met: int, of: int) -> dict:
        return {f"p{n}": n < met for n in range(of)}

    with app.app_context(), tenancy.federal_scope("test"):
        bry_region, kya_region = (db.get(Office, o).region_id for o in (bry, kya))
        for region_id, office_id, indicator, values in (
                (bry_region, bry, "info_contact_center", items(4, 5)),
                (bry_region, bry, "info_office", {**items(3, 5), "visitors": 120}),
                (bry_region, bry, "comfort", {**items(7, 10), "level": "high"}),
                (bry_region, bry, "info_website", items(0, 8)),  # the site: not IQS's
                (kya_region, kya, "info_contact_center", items(0, 5))):
            db.add(Checklist(campaign_id=campaign, region_id=region_id, office_id=office_id,
                             indicator=indicator, values=values, created_at=audited))
        db.add_all([CxCount(region_id=bry_region, office_id=bry, touchpoint="office",
                            day=dt.date(2025, 11, 12), kind=kind, count=count)
                    for kind, count in (("iqs_points", 30), ("iqs_max", 40))])
        db.commit()
    run_id = _run(app, bry_region)
    call = _one(app, run_id, metric="IQS", level="office", month=None,
                touchpoint="contact_centre")
    assert (call.n, call.numerator, call.value) == (5, 4, pytest.approx(80.0))
    assert call.insufficient  # 5 points < 10
    office = _one(app, run_id, metric="IQS", level="office", month=None, touchpoint="office")
    assert (office.n, office.numerator) == (15 + 40, 10 + 30)
    assert office.value == pytest.approx(100 * 40 / 55) and not office.insufficient
    assert {v.touchpoint for v in _values(app, run_id, metric="IQS")} == {
        "contact_centre", "office"}
    assert {v.region_id for v in _values(app, run_id, metric="IQS")} == {bry_region}


# --- imports of day counts --------------------------------------------------------------------


def _upload(client, text: str, name="counts.csv"):
    import io

    return client.post("/r/RU-BRY/cx/imports", data={
        "file": (io.BytesIO(text.encode("utf-8")), name)}, content_type="multipart/form-data")


def test_a_counts_import_is_all_or_nothing_and_feeds_the_funnel(app, tenants, client,
                                                                make_user, login):
    from cci.foundation.models import CxImport

    login(make_user("regional_admin", "RU-BRY"))
    with app.app_context(), tenancy.federal_scope("test"):
        code = db.get(Office, offices(app, "RU-BRY")[0]).code
    bad = ("Дата;Офис;Точка касания;Показатель;Значение\n"
           f"12.11.2025;{code};site;Посещения страницы услуги;800\n"
           "32.11.2025;NOPE-99;луна;preregistrations;-1\n")
    assert _upload(client, bad).status_code == 302
    work(app)
    with app.app_context(), tenancy.federal_scope("test"):
        record = db.scalar(select(CxImport))
        assert record.status == "failed" and db.scalar(select(CxCount.id)) is None
        columns = sorted(e["column"] for e in record.result["errors"])
        assert columns == ["Дата", "Значение", "Офис", "Точка касания"]
    good = ("Дата;Офис;Точка касания;Показатель;Значение\n"
            f"12.11.2025;{code};Сайт и социальные сети;Посещения страницы услуги;800\n"
            f"2025-11-12;{code};site;preregistrations;100\n"
            f"12.11.2025;{code};office;Получили услугу;60\n")
    for _ in range(2):  # again: replaced, not added
        assert _upload(client, good).status_code == 302
        work(app)
    with app.app_context(), tenancy.federal_scope("test"):
        records = db.scalars(select(CxImport).order_by(CxImport.id)).all()
        assert [r.status for r in records] == ["failed", "succeeded", "succeeded"]
        assert records[-1].result == {"rows": 3, "created": 0, "updated": 0, "unchanged": 3}
        assert sorted((c.kind, c.count) for c in db.scalars(select(CxCount))) == [
            ("preregistrations", 100), ("service_page_visits", 800), ("services_received", 60)]
        bry = db.scalar(select(Region.id).where(Region.code == "RU-BRY"))
    run_id = _run(app, bry)
    assert _one(app, run_id, metric="CV-1", level="region", month=None).value == \
        pytest.approx(12.5)
    page = client.get("/r/RU-BRY/cx/imports").get_data(as_text=True)
    assert "Строка 3, столбец Дата" in page


def test_the_counts_template_is_filled_in_and_imported(app, tenants, client, make_user, login):
    import io

    import openpyxl

    from cci.foundation.models import CxImport

    login(make_user("regional_admin", "RU-BRY"))
    response = client.get("/r/RU-BRY/cx/imports/template.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Дата", "Офис", "Точка касания", "Показатель", "Значение"]
    by_kind = {row[3]: row for row in rows[1:]}
    assert by_kind["Предварительные записи"][2] == "Сайт и социальные сети"
    assert {row[4] for row in rows[1:]} == {None}  # the values are the person's to write
    with app.app_context(), tenancy.federal_scope("test"):
        first = min(db.get(Office, o).code for o in offices(app, "RU-BRY"))
    assert {row[1] for row in rows[1:]} == {first}

    def upload(book) -> None:
        out = io.BytesIO()
        book.save(out)
        assert client.post("/r/RU-BRY/cx/imports", data={
            "file": (io.BytesIO(out.getvalue()), "counts.xlsx")},
            content_type="multipart/form-data").status_code == 302
        work(app)

    book = openpyxl.load_workbook(io.BytesIO(response.data))
    upload(book)  # sent back unfilled: refused, nothing stored as zero
    for number, row in enumerate(book.worksheets[0].iter_rows(min_row=2), start=1):
        row[4].value = 10 * number
    upload(book)
    with app.app_context(), tenancy.federal_scope("test"):
        records = db.scalars(select(CxImport).order_by(CxImport.id)).all()
        assert [r.status for r in records] == ["failed", "succeeded"]
        assert {e["column"] for e in records[0].result["errors"]} == {"Значение"}
        stored = {c.kind: c.count for c in db.scalars(select(CxCount))}
        assert len(stored) == 8 and stored["visits"] == 10 and stored["iqs_max"] == 80
    # an operator of the contact centre imports no counts
    client.post("/logout")
    login(make_user("operator", "RU-BRY"))
    assert client.get("/r/RU-BRY/cx/imports/template.csv").status_code == 403


# --- complaints ---------------------------------------------------------------------------


def test_staff_register_complaints_counted_by_topic(app, tenants, client, make_user, login):
    from cci.foundation.models import AuditEntry
    from cci.foundation.models import CxComplaint

    mine, foreign = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    login(make_user("operator", "RU-BRY"))
    today = dt.date.today().isoformat()
    for channel in ("book", "book", "head_phone"):
        assert client.post("/r/RU-BRY/cx/complaints", data={
            "received_on": today, "channel": channel, "office": mine, "touchpoint": "office",
            "topic": "  Очередь   у окна ", "summary": "Долго ждали"}).status_code == 302
    for bad in ({"channel": "pigeon"}, {"topic": ""}, {"office": foreign},
                {"received_on": "вчера"}, {"touchpoint": "moon"}):
        client.post("/r/RU-BRY/cx/complaints", data={
            "received_on": today, "channel": "email", "topic": "Сайт", **bad})
    page = client.get("/r/RU-BRY/cx/complaints").get_data(as_text=True)
    assert "Книга жалоб" in page and "Очередь у окна" in page
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count(CxComplaint.id))) == 3
        bry = db.scalar(select(Region.id).where(Region.code == "RU-BRY"))
        from cci.collection.complaints import counts

        assert counts(bry, dt.date(2000, 1, 1), dt.date(2100, 1, 1)) == [
            ("Очередь у окна", "book", 2), ("Очередь у окна", "head_phone", 1)]
        assert db.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "cx.complaint")) == 3
    assert client.get("/r/RU-KYA/cx/complaints").status_code == 404


def test_staff_print_a_qr_card_for_a_touchpoint_question(app, tenants, client, make_user,
                                                         login):
    mine, foreign = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    login(make_user("regional_admin", "RU-BRY"))
    links = client.get("/r/RU-BRY/survey/").get_data(as_text=True)
    assert 'value="window_rating@specialist_window"' in links
    card = client.get(f"/r/RU-BRY/survey/card?office={mine}&card=window_rating@specialist_window")
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and "Оцените, пожалуйста, работу специалиста" in html
    assert "/t/specialist_window/window_rating" in html
    qr = client.get(f"/r/RU-BRY/survey/card/qr.svg?office={mine}&touchpoint=specialist_window"
                    "&question=window_rating")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert client.get(f"/r/RU-BRY/survey/card?office={foreign}&card=csat@office"
                      ).status_code == 404
    assert client.get(f"/r/RU-BRY/survey/card?office={mine}&card=window_rating@office"
                      ).status_code == 404


def test_the_federal_page_reads_the_federal_run(app, tenants, client, make_user, login):
    _seed(app, "RU-BRY")
    _seed(app, "RU-KYA")
    login(make_user("federal_analyst"))
    assert "ещё не рассчитаны" in client.get("/federal/cx").get_data(as_text=True)
    assert client.post("/federal/cx", data={"period_start": "2025-11-01",
                                            "period_last": "2025-12-31"}).status_code == 302
    work(app)
    html = client.get("/federal/cx").get_data(as_text=True)
    # CSAT at the office across both regions: 78 of 110
    assert f"{78 / 110 * 100:.1f}".replace(".", ",") + " %" in html
    assert "Брянская область" in html and "Федерация" in html
    assert "Доля ответов «4» и «5»" in html  # the definition beside the figures


@pytest.mark.parametrize(("role", "page"), [("regional_admin", "/r/RU-BRY/cx"),
                                            ("federal_analyst", "/federal/cx")])
def test_the_page_says_which_period_and_run_it_shows_and_the_form_defaults_to_it(
        app, tenants, client, make_user, login, role, page):
    _seed(app, "RU-BRY")
    login(make_user(role, "RU-BRY" if role == "regional_admin" else None))
    empty = client.get(page).get_data(as_text=True)
    assert "Рассчитать за период:" in empty and "Показатели за" not in empty
    assert client.post(page, data={"period_start": "2025-11-01",
                                   "period_last": "2025-12-31"}).status_code == 302
    work(app)
    html = client.get(page).get_data(as_text=True)
    shown = re.search(r'<p class="run-period"><strong>(.*?)</strong></p>', html, re.S)
    assert shown is not None
    words = re.sub(r"<[^>]+>|\s+", " ", shown.group(1)).split()
    assert " ".join(words).startswith("Показатели за 01.11.2025 – 31.12.2025, расчёт №1 от")
    assert html.index('class="run-period"') < html.index('<form method="post" class="filters"')
    assert "Рассчитать за другой период:" in html
    assert 'name="period_start" value="2025-11-01"' in html
    assert 'name="period_last" value="2025-12-31"' in html
