"""The sample a newcomer meets after `make run`: the pilot wave, a past quarter and the current
quarter, open today in the two sample regions (so every channel collects answers), with sample
answers only up to yesterday; only what is demo is badged «демо-данные»."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.collection import sample_data
from cci.collection.intake import open_campaign
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Region
from cci.foundation.models import Response

TODAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(("today", "starts", "ends", "name"), [
    (dt.date(2026, 12, 7), dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026-Q4"),
    (dt.date(2027, 1, 1), dt.date(2027, 1, 1), dt.date(2027, 3, 31), "2027-Q1"),
    (dt.date(2026, 6, 30), dt.date(2026, 4, 1), dt.date(2026, 6, 30), "2026-Q2"),
])
def test_the_current_quarter(today, starts, ends, name):
    label, key, first, last = sample_data.current_quarter(today)
    assert (first, last, key) == (starts, ends, "cci-2023") and label.startswith(name)


def test_the_sample_holds_a_campaign_open_today(app, tenants):
    with app.app_context():
        created = sample_data.load(today=TODAY)
        assert sample_data.load(today=TODAY) == []  # idempotent
        with tenancy.federal_scope("test"):
            current = db.scalar(select(Campaign).where(Campaign.name.like("2026-Q4%")))
            assert current is not None and current.name in created and current.is_sample
            bry = db.scalar(select(Region).where(Region.code == "RU-BRY"))
            now = dt.datetime.combine(TODAY, dt.time(9), dt.UTC)
            assert open_campaign(bry.id, bry.timezone, now).id == current.id
            latest = db.scalar(select(func.max(Response.submitted_at))
                               .where(Response.campaign_id == current.id))
            count = db.scalar(select(func.count()).where(Response.campaign_id == current.id))
            assert latest.date() < TODAY and count > 0  # answers so far, none from the future


def test_only_what_is_demo_is_badged(app, client, tenants, make_user, login):
    with app.app_context():
        sample_data.load(today=TODAY)
    login(make_user("admin"))
    html = client.get("/federal/").get_data(as_text=True)
    badged = {code for code, row in re.findall(r'href="/r/(RU-\w+)/">[^<]*</a>(.*?)</td>', html)
              if "демо-данные" in row}
    assert badged == {"RU-BRY", "RU-KYA"}
    tam = client.get("/r/RU-TAM/").get_data(as_text=True)
    assert "демо-данные" not in tam and "пример" in tam  # its offices are illustrative


# --- the CX sample --------------------------------------------------------------------------


def _cx_rows(app) -> dict[str, object]:
    """What the CX sample stored, as plain values (for comparing two loads)."""
    from cci.foundation.models import CxComplaint
    from cci.foundation.models import CxCount
    from cci.foundation.models import TouchpointAnswer

    from cci_channel_contact.models import ContactCall
    from cci_channel_contact.models import TelephonyStat

    with app.app_context(), tenancy.federal_scope("test"):
        return {
            "answers": db.execute(select(
                TouchpointAnswer.client_key, TouchpointAnswer.touchpoint,
                TouchpointAnswer.question, TouchpointAnswer.value, TouchpointAnswer.comment,
                TouchpointAnswer.submitted_at).order_by(TouchpointAnswer.client_key)).all(),
            "counts": db.execute(select(CxCount.office_id, CxCount.touchpoint, CxCount.day,
                                        CxCount.kind, CxCount.count)
                                 .order_by(CxCount.office_id, CxCount.day, CxCount.kind,
                                           CxCount.touchpoint)).all(),
            "complaints": db.execute(select(CxComplaint.topic, CxComplaint.received_on)
                                     .order_by(CxComplaint.id)).all(),
            "calls": db.execute(select(ContactCall.office_id, ContactCall.started_at,
                                       ContactCall.resolved_first_contact,
                                       ContactCall.handling_seconds)
                                .order_by(ContactCall.id)).all(),
            "telephony": db.execute(select(TelephonyStat.region_id, TelephonyStat.day,
                                           TelephonyStat.offered)
                                    .order_by(TelephonyStat.region_id, TelephonyStat.day)).all(),
        }


def test_the_cx_sample_fills_a_quarter_and_is_computed(app, tenants):
    from cci.foundation.models import CxRun
    from cci.foundation.models import CxValue
    from cci.foundation.models import JourneyMap
    from cci.index import cx_reports
    from cci.index import cx_sample

    assert cx_sample.quarter_before(TODAY) == (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    assert cx_sample.quarter_before(dt.date(2027, 2, 3)) == (dt.date(2026, 10, 1),
                                                             dt.date(2027, 1, 1))
    with app.app_context():
        first = cx_sample.load(today=TODAY)
    stored = _cx_rows(app)
    assert set(first.regions) == {"RU-BRY", "RU-KYA"} and len(first.runs) == 3
    assert all(added["touchpoint_answers"] > 1000 and added["channel_rows"] > 200
               for added in first.regions.values())
    assert {(a.touchpoint, a.question) for a in stored["answers"]} >= {
        ("office", "csat"), ("kiosk", "nps"), ("specialist_window", "window_rating"),
        ("contact_centre", "ces"), ("site", "ces")}
    assert any(a.comment for a in stored["answers"]) and stored["complaints"]
    assert all(dt.date(2026, 7, 1) <= a.submitted_at.date() < dt.date(2026, 10, 1)
               for a in stored["answers"])

    with app.app_context(), tenancy.federal_scope("test"):
        bry = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        runs = db.scalars(select(CxRun).order_by(CxRun.id)).all()
        assert [(r.region_id is None, r.status) for r in runs] == [
            (False, "succeeded"), (False, "succeeded"), (True, "succeeded")]
        with tenancy.region_scope(bry.id, "test"):
            run = cx_compute_run(bry.id)
            cells = cx_reports.cells(run, "region", cx_reports.targets(bry.id))
        # every family has figures: surveys, the contact centre's calls and line, day counts
        sufficient = {c.metric for c in cells if c.value is not None and not c.insufficient}
        assert {"CSAT", "CES", "NPS", "RATING", "FCR", "ER", "AHT", "SL", "AR", "RpC",
                "CV-1", "CV-2", "IQS"} <= sufficient
        statuses = {(c.metric, c.touchpoint): c.status for c in cells}
        assert statuses[("CES", "site")] == "red"  # the red cell a newcomer is meant to find
        assert "green" in statuses.values()
        fed = db.scalar(select(func.count(CxValue.id)).where(CxValue.level == "federation"))
        assert fed > 0
        adopted = db.scalars(select(JourneyMap).where(JourneyMap.region_id.is_not(None))).all()
        assert sorted((m.title, m.versions[0].status) for m in adopted) == [
            ("Профессиональная ориентация", "published")] * 2
        # the map lists what the sample measures at its touchpoints: the cells show figures
        bry_map = next(m for m in adopted if m.region_id == bry.id)
        listed = {(tp["code"], item["code"]) for stage in bry_map.versions[0].content["stages"]
                  for tp in stage["touchpoints"] for item in tp["metrics"]}
        assert {("specialist_window", "RATING"), ("office", "NPS"),
                ("contact_centre", "CES")} <= listed
        on_map = {code for code, _metric in listed}
        measured = {(c.touchpoint, c.metric) for c in cells if c.n}
        assert {m for m in measured if m[0] in on_map} <= listed
        shown = {(tp["code"], item["code"]) for stage in
                 db.get(JourneyMap, bry_map.template_id).versions[0].content["stages"]
                 for tp in stage["touchpoints"] for item in tp["metrics"]}
        assert ("specialist_window", "RATING") not in shown  # the template's, left as it was
        map_versions = {m.id: len(m.versions) for m in adopted}

        # the loop's far end: the main office's public page lists closed cases by theme and
        # the action done; the overdue action is the head's to see
        from cci.collection import cases
        from cci.foundation import improvement_actions
        from cci.foundation.models import ImprovementAction
        from cci.foundation.models import Office

        with tenancy.region_scope(bry.id, "test"):
            main = db.scalar(select(Office).where(Office.active.is_(True))
                             .order_by(Office.code).limit(1))
            public = cases.resolved(main)
            assert public.closed == cx_sample.CASES_CLOSED and public.themes
            assert [title for title, _done in public.actions] == [cx_sample.ACTIONS[0][-1]]
            actions = db.scalars(select(ImprovementAction).order_by(ImprovementAction.id)).all()
            assert [(a.touchpoint_code, a.status, a.owner.full_name.startswith("Руковод"))
                    for a in actions] == [("site", "done", True), ("office", "in_progress", True)]
            overdue = db.scalars(improvement_actions.overdue_query(TODAY)).all()
            assert [a.id for a in overdue] == [actions[1].id]
        loop = (db.scalar(select(func.count(ImprovementAction.id))),
                db.scalar(select(func.count()).select_from(cases.Case)))

    # a second load adds nothing and computes nothing again
    with app.app_context():
        again = cx_sample.load(today=TODAY)
    assert again.regions == {"RU-BRY": {}, "RU-KYA": {}} and again.runs == []
    assert _cx_rows(app) == stored
    with app.app_context(), tenancy.federal_scope("test"):
        assert {m.id: len(m.versions) for m in db.scalars(select(JourneyMap).where(
            JourneyMap.region_id.is_not(None)))} == map_versions
        assert (db.scalar(select(func.count(ImprovementAction.id))),
                db.scalar(select(func.count()).select_from(cases.Case))) == loop


def cx_compute_run(region_id):
    from cci.index import cx_compute

    return cx_compute.current_run(region_id)


def test_the_cx_sample_is_the_same_on_every_load(app, tenants):
    from sqlalchemy import delete

    from cci.foundation.models import CxComplaint
    from cci.foundation.models import CxCount
    from cci.foundation.models import TouchpointAnswer
    from cci.index import cx_sample

    from cci_channel_contact.models import ContactCall
    from cci_channel_contact.models import TelephonyStat

    with app.app_context():
        cx_sample.load(today=TODAY)
    first = _cx_rows(app)
    with app.app_context(), tenancy.federal_scope("test"):
        for model in (TouchpointAnswer, CxCount, CxComplaint, ContactCall, TelephonyStat):
            db.execute(delete(model))
        db.commit()
    with app.app_context():
        cx_sample.load(today=TODAY)
    assert _cx_rows(app) == first


def test_cci_sample_load_loads_and_computes_the_cx_sample_once(app, tenants, runner,
                                                               monkeypatch):
    from cci.index import cx_sample

    # the quarter before today's, whatever today is: the test's own day
    monkeypatch.setattr(cx_sample, "load", lambda load=cx_sample.load: load(today=TODAY))
    first = runner.invoke(args=["sample", "load", "--no-compute"])
    assert first.exit_code == 0, first.output
    assert "CX sample of RU-BRY: touchpoint_answers" in first.output
    assert "CX metrics computed: runs" in first.output
    again = runner.invoke(args=["sample", "load", "--no-compute"])
    assert again.exit_code == 0, again.output
    assert "CX sample of RU-BRY: already loaded" in again.output
    assert "CX metrics computed" not in again.output


def test_the_sample_calls_carry_surveys_so_rr_is_a_real_share(app, tenants):
    """About a third of the contact centre's sample calls have the index survey taken in
    them: the office's sample responses of that quarter, now the contact centre's."""
    from cci.foundation.models import CxValue
    from cci.index import cx_sample

    from cci_channel_contact.models import ContactCall

    with app.app_context():
        assert "2026-Q3 (демо)" in sample_data.load(today=TODAY)
        cx_sample.load(today=TODAY)
    with app.app_context(), tenancy.federal_scope("test"):
        pairs = db.execute(select(ContactCall, Response).join(
            Response, Response.id == ContactCall.response_id)).all()
        total = db.scalar(select(func.count(ContactCall.id)))
        assert 0.25 < len(pairs) / total < 0.45
        assert all(r.channel == "contact_center" and r.office_id == c.office_id
                   and r.meta["call_id"] == c.id and r.submitted_at == c.ended_at
                   for c, r in pairs)
        assert len({r.id for _c, r in pairs}) == len(pairs)  # one survey, one call
        rr = db.scalars(select(CxValue.value).where(CxValue.metric == "RR",
                                                    CxValue.level == "region")).all()
        assert rr and all(0 < value < 100 for value in rr)
    linked = {c.id: r.id for c, r in pairs}
    with app.app_context():
        cx_sample.load(today=TODAY)  # idempotent
    with app.app_context(), tenancy.federal_scope("test"):
        again = dict(db.execute(select(ContactCall.id, ContactCall.response_id)
                                .where(ContactCall.response_id.is_not(None))).all())
    assert again == linked
