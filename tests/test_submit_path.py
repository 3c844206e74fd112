"""The one-answer paths: a kiosk's POST (validated, kept in the intake inbox, stored by the
drain job) and intake.submit. What a delivery costs in SQL, and the cases the lean paths must
still get right: a repeat racing the drain, the stored response handed back, the one-query
burst count."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from cci import compute
from cci import inbox
from cci import intake
from cci import tenancy
from cci.campaigns import save_campaign
from cci.db import db
from cci.db import utcnow
from cci.models import Answer
from cci.models import Campaign
from cci.models import ComputationRun
from cci.models import InboxItem
from cci.models import JobRecord
from cci.models import Office
from cci.models import Region
from cci.models import Response
from cci_channel_kiosk import devices
from cci_channel_kiosk import public
from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection
from conftest import IS_POSTGRES
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import start
from engine_helpers import work
from test_kiosk import admin  # noqa: F401 - fixture
from test_kiosk import answers_for
from test_kiosk import count_responses
from test_kiosk import paired  # noqa: F401 - fixture
from test_kiosk import payload
from test_kiosk import post
from test_quality import SEC
from test_quality import office  # noqa: F401 - fixture
from test_quality import rules_of
from test_quality import state
from test_quality import varied

#: What one kiosk answer may cost while the device waits, once its process has read the
#: device: the inbox row, with the repeat check and the check that what was read of the device
#: and its campaign still holds, committed by itself. The quality rules and the response's
#: rows are the drain job's. Up from here means a query crept back into the hot path (it was
#: 16, then 9, then 3, then 2).
KIOSK_ANSWER_STATEMENTS = 1


class Statements:
    """SQL statements on the app's engine while in the block, and the isolation level each
    ran with (None: the engine's, in a transaction)."""

    def __init__(self, app):
        self.engine = app.extensions["cci.engine"]
        self.sql: list[str] = []
        self.isolation: list[str | None] = []

    def _statement(self, conn, _cursor, statement, *_args) -> None:
        self.sql.append(statement.split("\n")[0][:120])
        self.isolation.append(conn.get_execution_options().get("isolation_level"))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)


def test_a_kiosk_answer_costs_one_statement_committed_by_itself(app, paired):  # noqa: F811
    _kiosk_id, token = paired
    # warm first (first-use work aside); different answers, so that no rule fires
    assert post(app, token, payload(app, answers=survey_answers(app, 1))).status_code == 201
    with Statements(app) as seen:
        reply = post(app, token, payload(app, answers=survey_answers(app, 2)))
    assert reply.status_code == 201, reply.json
    assert len(seen.sql) <= KIOSK_ANSWER_STATEMENTS, "\n".join(seen.sql)
    assert seen.sql[0].startswith("INSERT INTO intake_inbox")
    assert seen.isolation == ["AUTOCOMMIT"]  # no BEGIN and COMMIT around it
    assert db_id(app, reply.json["key"]) is None  # acknowledged, waiting for the drain job
    assert count_responses(app) == 2  # the drain job ran
    assert state(app, db_id(app, reply.json["key"]))["rules"] == set()


def test_a_kiosk_answer_is_checked_against_its_set_once(app, paired, monkeypatch):  # noqa: F811
    """The channel checks the answers and the profile to word its errors; the intake does not
    check them again against the same set, and does against another."""
    _kiosk_id, token = paired
    iset = app.extensions["cci.registry"].indicator_set("cci-2023")
    checked = []
    validate_answers = type(iset).validate_answers

    def spy(self, respondent_type, answers, section="question"):
        checked.append(section)
        return validate_answers(self, respondent_type, answers, section)

    monkeypatch.setattr(type(iset), "validate_answers", spy)
    assert post(app, token, payload(app)).status_code == 201
    assert checked == ["question", "profile"]
    with app.app_context(), tenancy.federal_scope("test"):
        office_id = db.scalar(select(Kiosk.office_id))
        with tenancy.region_scope(db.get(Office, office_id).region_id, "test"):
            claimed = intake.Submission(
                office_id=office_id, respondent_type="job_seeker", answers={"usefulness": 99},
                client_key="kiosk:other-set", channel="kiosk", checked_with="cci-2022")
            with pytest.raises(intake.IntakeError) as refused:
                intake.validate(claimed)  # checked with another set: checked here
            assert refused.value.field == "usefulness"


def survey_answers(app, seed: int) -> dict:
    """A complete kiosk questionnaire whose scale answers differ from seed to seed."""
    rnd = random.Random(seed)
    return {key: str(rnd.randint(1, 10)) if value == "8" else value
            for key, value in answers_for(app).items()}


def db_id(app, key: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Response.id).where(Response.client_key == f"kiosk:{key}"))


@pytest.mark.parametrize("timezone", ["Europe/Kaliningrad", "Asia/Kamchatka"])
def test_the_campaign_read_with_the_device_is_the_one_open_on_the_local_date(  # noqa: F811
        app, paired, live_campaign, timezone):
    """The device's look-up reads the campaigns within a day of the answer's time; the one
    chosen from them is the one the campaign query finds for the local date, on both sides
    of a change of campaign at local midnight, and for a time far from the look-up's."""
    _kiosk_id, token = paired
    today = utcnow().date()
    with app.app_context(), tenancy.federal_scope("test"):
        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        region.timezone = timezone
        db.get(Campaign, live_campaign).ends_on = today
        db.flush()
        save_campaign(name="next", methodology_key="cci-2022",
                      starts_on=today + dt.timedelta(days=1),
                      ends_on=today + dt.timedelta(days=30), region_codes=["RU-BRY"])
        db.commit()
    chosen = set()
    with app.test_request_context():
        for hours in range(-36, 37, 2):
            moment = utcnow() + dt.timedelta(hours=hours)
            kiosk, state = devices.device(token, moment=moment)
            assert state == "ok"
            expected = intake.open_campaign(kiosk.region_id, timezone, moment)
            assert kiosk.open_campaign(moment) == expected
            assert kiosk.open_campaign(moment + dt.timedelta(days=3)) == intake.open_campaign(
                kiosk.region_id, timezone, moment + dt.timedelta(days=3))
            chosen.add(expected.methodology_key if expected else None)
        db.rollback()
    assert chosen == {"cci-2023", "cci-2022"}  # the change of campaign was crossed


def test_campaigns_starting_the_same_day_are_chosen_alike_by_every_look_up(  # noqa: F811
        app, live_campaign):
    """Campaigns of a region do not overlap when saved through the platform, but one written
    otherwise may start the same day as another: the ORM's look-up (web, imports) and the
    channels' one then choose the same campaign, the later-created."""
    with app.test_request_context(), tenancy.federal_scope("test"):
        first = db.get(Campaign, live_campaign)
        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        twin = Campaign(name="twin", methodology_key="cci-2022", starts_on=first.starts_on,
                        ends_on=first.ends_on, regions=[region])
        db.add(twin)
        db.flush()
        moment = utcnow()
        assert intake.campaign_for(region, moment).id == twin.id
        assert intake.open_campaign(region.id, region.timezone, moment).id == twin.id
        db.rollback()


def inbox_rows(app) -> list[tuple[str, int]]:
    with app.app_context(), tenancy.federal_scope("test"):
        return [tuple(row) for row in db.execute(
            select(InboxItem.client_key, InboxItem.campaign_id).order_by(InboxItem.id))]


def kept_rejections(app) -> list[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(KioskRejection.field).order_by(KioskRejection.id)))


def test_an_office_closed_since_the_device_was_read_refuses_its_answers(app, paired):  # noqa: F811
    """What a process keeps of a device is checked as each answer is kept: an office closed
    meanwhile is seen at once, and the refusal is made on what is read afresh."""
    kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(Office, db.get(Kiosk, kiosk_id).office_id).active = False
        db.commit()
    refused = post(app, token, payload(app, answers=survey_answers(app, 3)))
    assert refused.status_code == 400 and refused.json["field"] == "office"
    assert len(inbox_rows(app)) == 1 and kept_rejections(app) == ["office"]


def test_a_region_whose_time_zone_changed_since_the_device_was_read_reads_it_afresh(  # noqa: F811
        app, paired, monkeypatch):
    """The campaign of an answer is chosen by the local date, so what a process keeps of a
    device holds only for its region's time zone: changed meanwhile, the answer is refused as
    it is kept, the device read afresh, and the answer kept with the zone now in force."""
    kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201  # the process has read it
    reads = []
    device = devices.device

    def reading(*args, **kwargs):
        reads.append(1)
        return device(*args, **kwargs)

    monkeypatch.setattr(devices, "device", reading)
    assert post(app, token, payload(app, answers=survey_answers(app, 8))).status_code == 201
    assert reads == []  # kept with what the process read
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(Region, db.get(Kiosk, kiosk_id).region_id).timezone = "Asia/Vladivostok"
        db.commit()
    assert post(app, token, payload(app, answers=survey_answers(app, 9))).status_code == 201
    assert reads == [1]
    assert len(inbox_rows(app)) == 3
    assert app.extensions["cci_kiosk.delivering"][kiosk_id][2].timezone == "Asia/Vladivostok"


def test_an_answer_goes_to_the_campaign_open_as_it_is_kept(app, paired, live_campaign):  # noqa: F811
    """A campaign saved after the device was read (here a second one starting the same day,
    which every look-up chooses) gets the next answers; a campaign closed meanwhile gets
    none, and the answer is refused as having no campaign."""
    _kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        first = db.get(Campaign, live_campaign)
        twin = Campaign(name="twin", methodology_key="cci-2023", starts_on=first.starts_on,
                        ends_on=first.ends_on,
                        regions=[db.scalar(select(Region).where(Region.code == "RU-BRY"))])
        db.add(twin)
        db.commit()
        twin_id = twin.id
    assert post(app, token, payload(app, answers=survey_answers(app, 4))).status_code == 201
    assert [campaign for _key, campaign in inbox_rows(app)] == [live_campaign, twin_id]
    with app.app_context(), tenancy.federal_scope("test"):
        for campaign_id in (live_campaign, twin_id):
            db.get(Campaign, campaign_id).ends_on = utcnow().date() - dt.timedelta(days=2)
        db.commit()
    refused = post(app, token, payload(app, answers=survey_answers(app, 5)))
    assert refused.status_code == 400 and refused.json["field"] == "finished_at"
    assert len(inbox_rows(app)) == 2


def test_a_device_changed_as_its_answer_is_kept_is_asked_to_send_it_again(  # noqa: F811
        app, paired, monkeypatch):
    """What the process kept of the device no longer holds as the answer is kept, and still
    not once read afresh (changed again in between): nothing is kept and the device sends it
    again later; revoked in between, it is told so."""
    kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201  # the process has read it
    calls = []

    def changing(*_args, **_kwargs):
        calls.append(1)
        return inbox.Acceptance.REFUSED

    monkeypatch.setattr(public, "accept_delivery", changing)  # the kiosk's name for inbox.accept
    retry = post(app, token, payload(app, answers=survey_answers(app, 6)))
    assert retry.status_code == 503 and retry.json["status"] == "retry"
    assert retry.headers["Retry-After"] == "1"
    assert len(calls) == 2  # with what was kept of the device, then with what was read afresh

    def revoked(*_args, **_kwargs):
        if len(calls) == 3:  # the fresh attempt: revoked in the meantime
            devices.revoke(db.get(Kiosk, kiosk_id))
        return changing()

    monkeypatch.setattr(public, "accept_delivery", revoked)
    refused = post(app, token, payload(app, answers=survey_answers(app, 7)))
    assert refused.status_code == 401 and refused.json["status"] == "revoked"
    assert len(calls) == 4
    assert len(inbox_rows(app)) == 1 and kept_rejections(app) == []


def test_a_repeat_is_told_only_for_an_answer_the_platform_has(app, paired):  # noqa: F811
    """A delivery whose condition fails is REFUSED, never taken for a repeat, even if the
    condition holds again by the time anyone asks; a kept key is a REPEAT."""
    _kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    with app.test_request_context():
        kiosk, state = devices.device(token)
        sub = intake.Submission(office_id=kiosk.office_id, respondent_type="job_seeker",
                                answers=answers_for(app), client_key="kiosk:" + "f" * 32,
                                channel="kiosk")
        with tenancy.region_scope(kiosk.region_id, "test"):
            draft = intake.validate(sub)
            never = text("1 = 0")
            assert inbox.accept(draft, never) is inbox.Acceptance.REFUSED
            draft.client_key = "kiosk:" + body["key"]
            assert inbox.accept(draft, never) is inbox.Acceptance.REPEAT
            db.rollback()


def test_a_repeat_waiting_or_stored_is_received_once(app, paired):  # noqa: F811
    kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    waiting = post(app, token, body)  # the first one still waits in the inbox
    assert waiting.status_code == 200 and waiting.json["status"] == "already received"
    assert count_responses(app) == 1
    stored = post(app, token, body)  # the first one is stored now
    assert stored.status_code == 200 and stored.json["status"] == "already received"
    assert count_responses(app) == 1
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(InboxItem)) == 0
        assert db.scalar(select(func.count()).select_from(Answer)
                         .where(Answer.response_id == db.scalar(select(Response.id)))) > 0
        assert db.get(Kiosk, kiosk_id).last_seen_at is not None


def test_a_repeat_racing_the_drain_is_stored_once(app, paired):  # noqa: F811
    """A repeat can slip into the inbox while the drain moves the first copy (it does not
    see the uncommitted response): the drain drops it instead of storing it twice."""
    _kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    assert count_responses(app) == 1
    with app.app_context(), tenancy.federal_scope("test"):
        stored = db.scalar(select(Response))
        db.add(InboxItem(client_key=stored.client_key, region_id=stored.region_id,
                         campaign_id=stored.campaign_id, channel="kiosk", draft={}))
        db.commit()
        with tenancy.region_scope(stored.region_id, "test"):
            assert inbox.drain() == {"stored": 0, "repeats": 1, "failed": 0}
        assert db.scalar(select(func.count()).select_from(InboxItem)) == 0
    assert count_responses(app) == 1


def test_an_answer_that_cannot_be_stored_is_kept_with_its_error(app, paired):  # noqa: F811
    """Nothing acknowledged is dropped: if its rows cannot be written, the inbox row stays,
    with the database's error, and the others of the batch are stored."""
    _kiosk_id, token = paired
    good, bad = payload(app), payload(app)
    assert post(app, token, good).status_code == 201
    assert post(app, token, bad).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.scalar(select(InboxItem).where(InboxItem.client_key == f"kiosk:{bad['key']}"))
        row.draft = {**row.draft, "office_id": 999_999}  # an office that does not exist
        db.commit()
        region_id = row.region_id
        with tenancy.region_scope(region_id, "test"):
            assert inbox.drain() == {"stored": 1, "repeats": 0, "failed": 1}
            assert inbox.waiting() == 0
        [kept] = db.scalars(select(InboxItem)).all()
        assert kept.client_key == f"kiosk:{bad['key']}" and kept.error
    assert db_id(app, good["key"]) is not None and db_id(app, bad["key"]) is None


def test_a_submission_racing_in_returns_the_stored_response(app, office, monkeypatch):  # noqa: F811
    """Two workers take one submission at once: both miss it in the repeat check, the second
    one's INSERT meets the unique client key, and it gets the stored response back."""
    first_id, created = answer(app, office, varied(1), client_key="lean-1")
    assert created
    existing = intake.existing
    looks = []

    def not_yet_the_first_time(client_key):
        looks.append(client_key)
        return None if len(looks) == 1 else existing(client_key)

    monkeypatch.setattr(intake, "existing", not_yet_the_first_time)
    with app.app_context():
        response, created = intake.submit(intake.Submission(
            office_id=office, respondent_type="job_seeker", answers=varied(2),
            client_key="lean-1", channel="test", submitted_at=DAY))
        assert not created and response.id == first_id and len(looks) == 2
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(Response)) == 1


def test_submit_returns_the_stored_response(app, office):  # noqa: F811
    with app.app_context():
        response, created = intake.submit(intake.Submission(
            office_id=office, respondent_type="job_seeker", answers=varied(3),
            client_key="lean-2", channel="test", submitted_at=DAY, started_at=DAY - 5 * SEC))
        assert created and isinstance(response, Response)
        assert response.counted is False  # too fast: flagged, stored, not counted
        assert [flag["rule"] for flag in response.quality_flags] == ["too_fast"]
        with tenancy.region_scope(response.region_id, "test"):
            assert {a.item for a in response.answers} == set(varied(3))  # loads when asked
            assert [flag.rule for flag in response.flags] == ["too_fast"]
    assert state(app, response.id)["answers_counted"] == {False}


@pytest.mark.parametrize("device, ip, fires", [
    (8, 8, None),  # both below the threshold of 10: 8 before + this one
    (8, 9, "с одного IP-адреса"),  # only the address reaches it
    (9, 9, "с одного киоска"),  # both: the device is named, as the first source
])
def test_the_burst_counts_every_source(app, office, device, ip, fires):  # noqa: F811
    """``device``/``ip``: earlier answers from this kiosk / this address within the window."""
    for n in range(max(device, ip)):
        meta = {"device_id": "k-1" if n < device else f"k-{n}",
                "ip_hash": "h-1" if n < ip else f"h-{n}"}
        answer(app, office, varied(100 + n), when=DAY + n * SEC, meta=meta)
    response_id, _ = answer(app, office, varied(200), when=DAY + 60 * SEC,
                            meta={"device_id": "k-1", "ip_hash": "h-1"})
    reason = state(app, response_id)["reasons"].get("burst")
    if fires is None:
        assert reason is None
    else:
        assert fires in reason


def test_a_computation_counts_the_answers_still_waiting(app, paired, live_campaign):  # noqa: F811
    """An acknowledged answer is in the figures even if its drain job has not run: the run's
    fingerprint sees it waiting, and the region's computation stores it before counting."""
    _kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    with app.app_context():
        campaign = db.get(Campaign, live_campaign)
        iset = app.extensions["cci.registry"].indicator_set(campaign.methodology_key)
        waiting = compute.input_fingerprint(campaign, iset)
        app.extensions["cci.queues"]["default"].empty()  # the drain job is lost
    run_id, created = start(app, live_campaign)
    assert created
    work(app)  # only the computation's jobs
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(InboxItem)) == 0
        assert db.scalar(select(func.count()).select_from(Response)) == 1
        assert db.get(ComputationRun, run_id).status == "succeeded"
        campaign = db.get(Campaign, live_campaign)
        assert compute.input_fingerprint(campaign, iset) != waiting
    regions = results(app, run_id, level="region")  # the index row of each region
    assert sorted(row.n_valid for row in regions.values()) == [0, 1]


def test_a_lingering_drain_stores_what_comes_meanwhile(app, paired, monkeypatch):  # noqa: F811
    """The drain job waits a little for more before it ends: an answer that comes while it
    waits is stored by the same job."""
    _kiosk_id, token = paired
    first, second = payload(app), payload(app)
    assert post(app, token, first).status_code == 201
    naps = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:
            assert post(app, token, second).status_code == 201  # while the drain waits

    monkeypatch.setattr(inbox.time, "sleep", nap)
    with app.app_context(), tenancy.federal_scope("test"):
        region_id = db.scalar(select(InboxItem.region_id))
        with tenancy.region_scope(region_id, "test"):
            assert inbox.drain(linger=0.3) == {"stored": 2, "repeats": 0, "failed": 0}
    assert naps and all(0 <= n <= inbox.GATHER_SECONDS for n in naps)
    assert db_id(app, first["key"]) and db_id(app, second["key"])


def _waiting(app) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return inbox.waiting()


class FakeTime:
    """cci.inbox's clock, moved on by its naps only (recorded; ``during(n)`` runs as the n-th
    begins): what a drain sees of time is then exact, however slow the machine."""

    def __init__(self):
        self.now, self.naps, self.during = 1000.0, [], None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        if self.during is not None:
            self.during(len(self.naps))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(inbox, "time", fake)
    return fake


def test_a_burst_is_answers_coming_fast_while_the_oldest_is_young(app, paired, clock):  # noqa: F811
    """A drain job gives way while deliveries come at the burst rate or faster, unless the
    oldest waiting answer has waited the longest lag allowed: once on its first look (to learn
    the rate), not when nothing waits, and not once deliveries stop."""
    _kiosk_id, token = paired
    with app.app_context(), tenancy.federal_scope("test"):
        assert not inbox.Burst(rate=5, max_lag=60).ongoing()  # nothing waits
    assert post(app, token, payload(app)).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        burst = inbox.Burst(rate=5, max_lag=60)
        lagged = inbox.Burst(rate=5, max_lag=0)
        assert burst.ongoing()  # a first look learns the rate
        assert not lagged.ongoing()  # the oldest answer has waited long enough
        for _ in range(3):
            assert post(app, token, payload(app)).status_code == 201
        clock.now += 0.5  # 6 a second
        assert burst.ongoing()
        assert 0 <= burst.lag < 60
        clock.now += 1
        assert not burst.ongoing()  # nothing came since the last look


def test_an_answer_after_the_inbox_emptied_is_not_taken_for_a_burst(app, paired, clock):  # noqa: F811
    """The ids go on where the emptied inbox left them (a PostgreSQL sequence): the answers
    that came are counted from the first one waiting, not from an empty table's nothing."""
    _kiosk_id, token = paired
    for _ in range(10):
        assert post(app, token, payload(app)).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        assert inbox.drain()["stored"] == 10
        burst = inbox.Burst(rate=5, max_lag=60)
        assert not burst.ongoing()  # nothing waits
        assert post(app, token, payload(app)).status_code == 201
        clock.now += 1
        assert not burst.ongoing()  # one answer in a second


def test_a_drain_job_looks_for_a_burst_as_configured(app, paired, monkeypatch, clock):  # noqa: F811
    _kiosk_id, token = paired
    with app.app_context():
        assert inbox.Burst.from_config() is None  # switched off (the tests' configuration)
    monkeypatch.setitem(app.config, "INBOX_DRAIN_YIELD_RATE", 50)
    assert post(app, token, payload(app)).status_code == 201
    assert count_responses(app) == 1  # the drain job ran, and stored it
    assert clock.naps == [inbox.YIELD_STEP]  # having given way once, to learn the rate


def test_a_drain_job_gives_way_to_a_burst_and_stores_it_when_it_passes(  # noqa: F811
        app, paired, clock):
    """Deliveries keep coming while the drain looks: it stores nothing until they stop (not
    even what waited before its first look, which learns the rate), then all of them, in the
    same job."""
    _kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    waiting_at_nap = []

    def during(n: int) -> None:
        waiting_at_nap.append(_waiting(app))
        if n <= 3:  # deliveries come over the first three naps: 6 a second
            for _ in range(3):
                assert post(app, token, payload(app)).status_code == 201

    clock.during = during
    with app.app_context(), tenancy.federal_scope("test"):
        totals = inbox.drain(linger=0.3, burst=inbox.Burst(rate=2, max_lag=60))
    assert totals == {"stored": 10, "repeats": 0, "failed": 0}
    assert clock.naps[:4] == [inbox.YIELD_STEP] * 4  # the drain gave way, not lingered
    assert waiting_at_nap[:5] == [1, 4, 7, 10, 0]  # nothing stored while they came, then all
    assert _waiting(app) == 0


class _Ongoing:
    lag = 0.0

    def ongoing(self) -> bool:
        return True


def test_a_drain_gives_way_no_longer_than_its_time_or_the_longest_lag(app, paired, clock):  # noqa: F811
    """A job whose time is up in a burst hands over without storing (its successor goes on
    giving way); an answer that has waited the longest lag is stored, burst or not."""
    _kiosk_id, token = paired
    for _ in range(2):
        assert post(app, token, payload(app)).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        late = clock.now - 1
        assert inbox.drain(linger=1, until=late, burst=_Ongoing()) == {
            "stored": 0, "repeats": 0, "failed": 0}
        assert inbox.waiting() == 2
        assert inbox.drain(linger=0, burst=inbox.Burst(rate=0.001, max_lag=0)) == {
            "stored": 2, "repeats": 0, "failed": 0}
    assert clock.naps == []  # neither gave way


def test_the_drain_vacuums_the_inbox_it_empties(app, paired, monkeypatch):  # noqa: F811
    """A queue's dead rows slow every look for waiting answers: after deleting enough of
    them the drain vacuums the inbox (PostgreSQL: the dead rows are gone)."""
    _kiosk_id, token = paired
    for _ in range(3):
        assert post(app, token, payload(app)).status_code == 201
    monkeypatch.setattr(inbox, "VACUUM_ROWS", 2)
    calls = []
    real = inbox.vacuum
    monkeypatch.setattr(inbox, "vacuum", lambda: calls.append(1) or real())
    vacuums = text("SELECT vacuum_count FROM pg_stat_user_tables "
                   "WHERE relname = 'intake_inbox' AND schemaname = current_schema()")
    with app.app_context(), tenancy.federal_scope("test"):
        before = db.scalar(vacuums) if IS_POSTGRES else None
        db.rollback()
        assert inbox.drain() == {"stored": 3, "repeats": 0, "failed": 0}
        assert calls == [1]  # once past the threshold; nothing deleted after it
        if IS_POSTGRES:
            db.rollback()  # a fresh snapshot of the statistics
            assert db.scalar(vacuums) == before + 1  # it did run, and did not wait
        db.rollback()
        # below the threshold, a computation's drain (no linger) leaves it to the next job
        assert post(app, token, payload(app)).status_code == 201
        assert inbox.drain() == {"stored": 1, "repeats": 0, "failed": 0}
        assert calls == [1]
        assert post(app, token, payload(app)).status_code == 201
        assert inbox.drain(linger=0.01) == {"stored": 1, "repeats": 0, "failed": 0}
        assert calls == [1, 1]  # a job's drain leaves the table clean
        db.rollback()


@pytest.mark.skipif(not IS_POSTGRES, reason="VACUUM is PostgreSQL's")
def test_the_inbox_vacuum_never_waits_and_never_fails_the_drain(app, monkeypatch):
    """Another VACUUM (its lock) holds the table: this one skips it instead of waiting; a
    VACUUM the database refuses is logged, not raised."""
    import threading

    engine = app.extensions["cci.engine"]
    with engine.connect() as holder, app.app_context():
        holder.exec_driver_sql("LOCK TABLE intake_inbox IN SHARE UPDATE EXCLUSIVE MODE")
        done = threading.Event()

        def run() -> None:
            with app.app_context():
                inbox.vacuum()
            done.set()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=30)  # a liveness bound, not a speed goal: it would wait for ever
        assert done.is_set()
        holder.rollback()
    with app.app_context():
        monkeypatch.setattr(inbox.InboxItem, "__tablename__", "no_such_table")
        inbox.vacuum()  # logged


def test_an_answer_kept_as_the_drain_job_ends_is_not_left_waiting(app, paired, monkeypatch):  # noqa: F811
    """An answer kept while the job still holds its lock queues no job of its own; the job,
    as it ends, sees it waiting and queues the next one."""
    _kiosk_id, token = paired
    first, late = payload(app), payload(app)
    assert post(app, token, first).status_code == 201  # queues the drain job
    drain = inbox.drain

    def drain_then_a_late_answer(*args, **kwargs):
        totals = drain(*args, **kwargs)
        if not db_id(app, late["key"]):
            assert post(app, token, late).status_code == 201  # the job's lock is still held
        return totals

    monkeypatch.setattr(inbox, "drain", drain_then_a_late_answer)
    work(app)  # the first job, then the one it queued as it ended
    assert db_id(app, first["key"]) and db_id(app, late["key"])
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(InboxItem)) == 0


def test_a_request_trusts_a_drain_job_it_saw_moments_ago(app, paired, monkeypatch):  # noqa: F811
    """A delivery that saw a drain job holding its lock lets the next deliveries of its
    process skip the look at Redis for a quarter of the linger (that job lingers the whole
    linger after storing what the first delivery kept), and looks again after it."""
    _kiosk_id, token = paired
    monkeypatch.setitem(app.config, "INBOX_DRAIN_LINGER", 2)
    clock = [1000.0]
    real_clock = inbox.time.monotonic
    monkeypatch.setattr(inbox.time, "monotonic", lambda: clock[0])
    monkeypatch.setitem(app.extensions, "cci.inbox_drain_seen", {})
    redis = app.extensions["cci.redis"]
    looks = []
    exists = redis.exists

    def counted(*keys):
        looks.append(keys)
        return exists(*keys)

    monkeypatch.setattr(redis, "exists", counted)
    assert post(app, token, payload(app)).status_code == 201  # queues the job: its lock held
    assert post(app, token, payload(app)).status_code == 201  # sees the lock
    seen = len(looks)
    clock[0] += 0.4
    assert post(app, token, payload(app)).status_code == 201  # trusts it: no look
    assert len(looks) == seen
    clock[0] += 0.2  # 0.6 s after: a look again
    assert post(app, token, payload(app)).status_code == 201
    assert len(looks) == seen + 1
    monkeypatch.setattr(inbox.time, "monotonic", real_clock)
    monkeypatch.setitem(app.config, "INBOX_DRAIN_LINGER", 0)
    work(app)
    assert count_responses(app) == 4


def test_a_drain_job_hands_over_after_its_time(app, paired, monkeypatch):  # noqa: F811
    """Under steady deliveries a drain job does not run for ever: past its time it stops
    after the batch in hand, and the job queues its successor for what still waits."""
    _kiosk_id, token = paired
    first, second = payload(app), payload(app)
    assert post(app, token, first).status_code == 201
    monkeypatch.setattr(inbox, "RUN_SECONDS", 0)
    monkeypatch.setitem(app.config, "INBOX_DRAIN_LINGER", 60)  # it would wait a minute

    def no_waiting(_seconds):
        raise AssertionError("the drain waited past its time")

    monkeypatch.setattr(inbox.time, "sleep", no_waiting)
    drain = inbox.drain
    calls = []

    def drain_and_more_comes(*args, **kwargs):
        calls.append(kwargs["until"])
        totals = drain(*args, **kwargs)
        if len(calls) == 1:
            assert post(app, token, second).status_code == 201  # after its last batch
        return totals

    monkeypatch.setattr(inbox, "drain", drain_and_more_comes)
    work(app)
    # the successor stored the second answer; deliveries being steady, it queued one more,
    # which found nothing and ended
    assert len(calls) == 3
    assert db_id(app, first["key"]) and db_id(app, second["key"])


def test_the_inbox_keeps_regions_apart(app, paired):  # noqa: F811
    """A row of another region is refused in a regional scope, and a region's drain stores
    only its own region's answers."""
    _kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.scalar(select(InboxItem))
        region_id = row.region_id
        draft = inbox.decode(row.draft, row.received_at)
        other = db.scalar(select(Region.id).where(Region.id != region_id))
        with tenancy.region_scope(other, "test"):
            assert inbox.drain() == {"stored": 0, "repeats": 0, "failed": 0}
            assert inbox.waiting() == 0  # the other region's answer is not seen
            draft.client_key = "kiosk:crossing"
            with pytest.raises(tenancy.TenantIsolationError):
                inbox.accept(draft)
        db.rollback()
        assert db.scalar(select(func.count()).select_from(InboxItem)) == 1
    assert count_responses(app) == 1


def test_one_drain_job_stores_every_regions_answers_in_their_own_scope(app, live_campaign):
    """Answers of two regions wait; one (federal) drain job stores each with its region."""
    keys = {}
    for code in ("RU-BRY", "RU-KYA"):
        office_id = offices(app, code)[0]
        with app.app_context():
            region_id = _office_region(office_id)
            with tenancy.region_scope(region_id, "test"):
                draft = intake.validate(intake.Submission(
                    office_id=office_id, respondent_type="job_seeker",
                    answers=answers_for(app), client_key=f"kiosk:two-{code}", channel="kiosk"))
                assert inbox.accept(draft) is inbox.Acceptance.KEPT
                db.commit()
            keys[f"kiosk:two-{code}"] = region_id
    with app.app_context():
        inbox.schedule_drain()
    work(app)
    with app.app_context(), tenancy.federal_scope("test"):
        stored = dict(db.execute(select(Response.client_key, Response.region_id)).all())
        assert stored == keys and len(set(keys.values())) == 2
        assert db.scalar(select(func.count()).select_from(InboxItem)) == 0


def _office_region(office_id: int) -> int:
    with tenancy.federal_scope("test"):
        return db.scalar(select(Office.region_id).where(Office.id == office_id))


def test_a_slot_taken_between_the_looks_queues_nothing(app, paired, monkeypatch):  # noqa: F811
    """A drain job may take the last free slot between the look at every lock and the look
    for a free one: the answer is acknowledged all the same (that job sees it)."""
    _kiosk_id, token = paired
    redis = app.extensions["cci.redis"]
    exists = redis.exists

    def taken_meanwhile(*keys):
        return exists(*keys) if len(keys) > 1 else 1  # the second look: every slot is taken

    monkeypatch.setattr(redis, "exists", taken_meanwhile)
    assert post(app, token, payload(app)).status_code == 201  # was a 500 after the commit
    monkeypatch.setattr(redis, "exists", exists)
    assert post(app, token, payload(app)).status_code == 201  # this one queues a job
    work(app)
    assert count_responses(app) == 2


def test_a_drain_job_with_a_backlog_asks_for_help(app, paired, monkeypatch):  # noqa: F811
    _kiosk_id, token = paired
    for _ in range(3):
        assert post(app, token, payload(app)).status_code == 201
    monkeypatch.setattr(inbox, "HELP_ROWS", 3)  # three waiting make a backlog here
    work(app)
    assert count_responses(app) == 3
    with app.app_context(), tenancy.federal_scope("test"):
        slots = sorted(record.params.get("slot") for record in db.scalars(
            select(JobRecord).where(JobRecord.name == inbox.JOB)))
    assert slots == [0, 1]  # the first job asked for a second one


def test_answers_that_could_not_be_stored_are_listed_and_retried(app, paired, runner):  # noqa: F811
    """An operator sees what waits and what failed (`cci inbox status`), mends the cause and
    lets the drain try again (`cci inbox retry`)."""
    _kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.scalar(select(InboxItem))
        row.error = "ForeignKeyViolation: office"  # as the drain leaves it
        db.commit()
        row_id = row.id
    shown = runner.invoke(args=["inbox", "status"])
    assert shown.exit_code == 0, shown.output
    assert "waiting: 0" in shown.output and "could not be stored: 1" in shown.output
    assert f"#{row_id} RU-BRY kiosk:{body['key']}" in shown.output
    assert "ForeignKeyViolation" in shown.output
    work(app)  # a drain leaves it alone
    assert db_id(app, body["key"]) is None
    retried = runner.invoke(args=["inbox", "retry", "--id", str(row_id)])
    assert retried.exit_code == 0 and "stored again by a worker: 1" in retried.output
    work(app)
    assert db_id(app, body["key"]) is not None
    assert "could not be stored: 0" in runner.invoke(args=["inbox", "status"]).output


# --- one drained batch, many regions ------------------------------------------------------


def _keep(app, office_id: int, key: str, seed: int, when: dt.datetime, channel="kiosk",
          meta=None) -> None:
    """An answer validated and kept in the inbox, as a delivery leaves it (not drained)."""
    with app.app_context(), tenancy.region_scope(_office_region(office_id), "test"):
        assert inbox.accept(intake.validate(intake.Submission(
            office_id=office_id, respondent_type="job_seeker", answers=varied(seed),
            client_key=key, channel=channel, submitted_at=when, meta=meta or {}))) \
            is inbox.Acceptance.KEPT
        db.commit()


def _drain(app) -> dict[str, int]:
    with app.app_context(), tenancy.federal_scope("test"):
        return inbox.drain()


def _stored(app, key: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Response.id).where(Response.client_key == key))


def test_a_batch_of_two_regions_counts_a_burst_in_each_region_alone(app, campaign):
    """One address, two regions: Bryansk has 9 answers from it, Krasnoyarsk 5; a drained batch
    brings two more in Bryansk and one in Krasnoyarsk. Bryansk passes the threshold of 10
    (both new answers name its earlier nine, which are flagged once, and the batch is stored
    in one go), Krasnoyarsk does not: counted across regions it would have 17."""
    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    shared = {"ip_hash": "h-shared"}
    earlier = {office: [answer(app, office, varied(300 + 10 * n + k), when=DAY + k * SEC,
                               meta=shared)[0] for k in range(n)]
               for office, n in ((bry, 9), (kya, 5))}
    _keep(app, bry, "kiosk:burst-bry-1", 400, DAY + 60 * SEC, meta=shared)
    _keep(app, bry, "kiosk:burst-bry-2", 401, DAY + 61 * SEC, meta=shared)
    _keep(app, kya, "kiosk:burst-kya", 402, DAY + 60 * SEC, meta=shared)
    with Statements(app) as statements:
        assert _drain(app) == {"stored": 3, "repeats": 0, "failed": 0}
    assert not [sql for sql in statements.sql if sql.startswith("ROLLBACK TO SAVEPOINT")]
    for key in ("kiosk:burst-bry-1", "kiosk:burst-bry-2"):
        assert "burst" in rules_of(app, _stored(app, key))
    assert all(rules_of(app, i) == {"burst"} for i in earlier[bry])
    assert "burst" not in rules_of(app, _stored(app, "kiosk:burst-kya"))
    assert not any(rules_of(app, i) for i in earlier[kya])


def test_every_rule_sees_one_region_unless_it_filters_by_region_itself(app, campaign,
                                                                        monkeypatch):
    """A drained batch of two regions: a channel's single rule and batch rule run in each
    response's region scope, one region at a time; a rule that declares ``across_regions``
    gets the batch at once, and the stored responses its findings name are flagged only in
    the region of the response that found them."""
    from cci.channels import Channel
    from cci.channels import QualityRule

    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    stored = {office: answer(app, office, varied(500 + office), when=DAY)[0]
              for office in (bry, kya)}
    with app.app_context():
        region = {office: _office_region(office) for office in (bry, kya)}
    seen: dict[str, list] = {"single": [], "many": [], "across": []}

    def single(response, session, params):
        seen["single"].append((tenancy.current_region_id(), response.region_id))

    def many(responses, session, params):
        seen["many"].append((tenancy.current_region_id(), {r.region_id for r in responses}))
        return [(None, {}) for _ in responses]

    def across(responses, session, params):
        seen["across"].append((tenancy.current_scope().federal,
                               sorted(r.region_id for r in responses)))
        # each finding names the stored answers of both regions: only its own may be flagged
        return [("найдено", {stored[bry]: "связан", stored[kya]: "связан"})
                if r.region_id == region[bry] else (None, {}) for r in responses]

    channel = Channel(key="tst", label="Тест", quality_rules=(
        QualityRule("tst.single", "Один", single),
        QualityRule("tst.many", "Пакет", lambda *a: None, check_many=many),
        QualityRule("tst.across", "Все регионы", lambda *a: None, check_many=across,
                    across_regions=True)))
    monkeypatch.setitem(app.extensions["cci.registry"].channels, "tst", channel)
    for n, office in enumerate((bry, kya, bry)):
        _keep(app, office, f"tst:rules-{n}", 600 + n, DAY + (n + 1) * SEC, channel="tst")
    assert _drain(app)["stored"] == 3
    assert sorted(seen["single"]) == sorted([(region[bry], region[bry])] * 2
                                            + [(region[kya], region[kya])])
    assert sorted(seen["many"]) == sorted([(region[bry], {region[bry]}),
                                           (region[kya], {region[kya]})])
    assert seen["across"] == [(True, sorted([region[bry], region[bry], region[kya]]))]
    assert rules_of(app, stored[bry]) == {"tst.across"}
    assert rules_of(app, stored[kya]) == set()


def test_a_drained_batch_costs_the_same_statements_for_any_number_of_regions(app, campaign):
    """Two answers of one region, then two of two regions: the drain sends the same
    statements (a store's cost does not grow with the regions a batch spans; the recompute
    the first batch schedules is left out)."""
    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    sent = []
    for n, pair in enumerate(((bry, bry), (bry, kya))):
        for k, office in enumerate(pair):
            _keep(app, office, f"kiosk:cost-{n}-{k}", 700 + 10 * n + k,
                  DAY + dt.timedelta(hours=n) + k * SEC, meta={"device_id": f"k-{office}"})
        with Statements(app) as statements:
            assert _drain(app)["stored"] == 2
        sent.append([sql for sql in statements.sql if not sql.startswith("INSERT INTO jobs")])
    assert sent[0] == sent[1]


def test_an_unreadable_inbox_row_is_kept_failed_and_does_not_stop_the_drain(app, campaign):
    """A row this version cannot read (written around the app, or by a version that kept
    drafts otherwise) is marked failed with the reason; the answers beside it are stored,
    and the next drain does not trip over it again."""
    bry = offices(app, "RU-BRY")[0]
    _keep(app, bry, "kiosk:readable-1", 800, DAY + SEC)
    with app.app_context(), tenancy.federal_scope("test"):
        db.add(InboxItem(client_key="kiosk:unreadable", region_id=_office_region(bry),
                         campaign_id=campaign, channel="kiosk", draft={"answers": "?"}))
        db.commit()
    _keep(app, bry, "kiosk:readable-2", 801, DAY + 2 * SEC)
    totals = _drain(app)
    assert (totals["stored"], totals["failed"]) == (2, 1)
    assert _stored(app, "kiosk:readable-1") and _stored(app, "kiosk:readable-2")
    assert _stored(app, "kiosk:unreadable") is None
    with app.app_context(), tenancy.federal_scope("test"):
        [row] = db.scalars(select(InboxItem)).all()
        assert row.client_key == "kiosk:unreadable" and row.error.startswith("unreadable draft")
    assert _drain(app) == {"stored": 0, "repeats": 0, "failed": 0}
