"""The one-answer path (a kiosk's POST, intake.submit): an answer is stored with its quality
flags before it is acknowledged, in one transaction; what it costs in SQL; the campaign it goes
to, chosen alike by every channel; repeats and races stored once; a saturated database asked to
wait (503). And a batch of many regions (intake.store_batch): each rule sees one region."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cci.collection import intake
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import Answer
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from conftest import Statements
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices

from cci_channel_kiosk import devices
from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection
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
from test_quality import token_for  # noqa: F401 - fixture
from test_quality import varied

#: What one kiosk answer may cost while the device waits: the device, the campaign, the repeat
#: check, the response and its answers, the quality rules' look-ups (the region's time zone for
#: office hours, bursts per device and per address, near-duplicates: two), in one transaction
#: ("last seen" is written once a minute). Up from here means a query crept into the path.
KIOSK_ANSWER_STATEMENTS = 10


def test_a_kiosk_answer_is_stored_with_its_flags_before_it_is_acknowledged(app, paired):
    _kiosk_id, token = paired
    # warm first (first-use work aside); different answers, so that no rule fires
    assert post(app, token, payload(app, answers=survey_answers(app, 1))).status_code == 201
    with Statements(app) as seen:
        reply = post(app, token, payload(app, answers=survey_answers(app, 2)))
    assert reply.status_code == 201, reply.json
    assert len(seen.sql) <= KIOSK_ANSWER_STATEMENTS, "\n".join(seen.sql)
    assert seen.commits == 1
    # stored as it was acknowledged, its quality checked: no job needed
    assert state(app, db_id(app, reply.json["key"]))["rules"] == set()
    fast = payload(app, answers=survey_answers(app, 3))
    fast["started_at"] = fast["finished_at"]  # answered in no time at all
    assert post(app, token, fast).status_code == 201
    assert "too_fast" in rules_of(app, db_id(app, fast["key"]))


def test_a_kiosk_answer_is_checked_against_its_set_once(app, paired, monkeypatch):
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


def kept_rejections(app) -> list[str]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(KioskRejection.field).order_by(KioskRejection.id)))


def stored_campaigns(app) -> list[int]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(Response.campaign_id).order_by(Response.id)))


def twin_of(app, campaign_id: int, methodology_key: str = "cci-2023") -> int:
    """A campaign of RU-BRY starting and ending the same days as ``campaign_id``, created
    after it (the platform refuses overlapping campaigns; one written otherwise may exist)."""
    with app.app_context(), tenancy.federal_scope("test"):
        first = db.get(Campaign, campaign_id)
        twin = Campaign(name="twin", methodology_key=methodology_key, starts_on=first.starts_on,
                        ends_on=first.ends_on,
                        regions=[db.scalar(select(Region).where(Region.code == "RU-BRY"))])
        db.add(twin)
        db.commit()
        return twin.id


def test_every_caller_breaks_a_tie_of_start_dates_by_id(app, client, paired, live_campaign,
                                                         token_for):
    """Two campaigns of a region start the same day: the kiosk, the API, intake.submit, the
    web survey and the contact centre all take the later-created one, by the one definition
    (intake.open_campaign_query)."""
    from cci_channel_contact import views as contact_views
    from cci_channel_web import public as web_public

    _kiosk_id, token = paired
    twin = twin_of(app, live_campaign)
    assert twin > live_campaign
    # the kiosk
    assert post(app, token, payload(app)).status_code == 201
    # the API's batch ingest (intake.submit without a campaign: chosen by submitted_at)
    with app.app_context(), tenancy.federal_scope("test"):
        office_id = db.scalar(select(Kiosk.office_id))
    api_token = token_for("regional_admin", "RU-BRY")
    reply = client.post("/api/v1/responses/batch",
                        headers={"Authorization": f"Bearer {api_token}"}, json={"responses": [{
                            "client_key": "crm-tie", "office_id": office_id,
                            "respondent_type": "job_seeker", "answers": varied(7),
                            "submitted_at": utcnow().isoformat()}]})
    assert reply.json["items"][0]["status"] == "created", reply.json
    assert stored_campaigns(app) == [twin, twin]
    with app.test_request_context():
        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        with tenancy.region_scope(region.id, "test"):
            # the web survey's and the contact centre's look-ups
            assert web_public._campaign(db.get(Office, office_id)).id == twin
            assert contact_views.campaign_for is intake.campaign_for
            assert intake.campaign_for(region, utcnow()).id == twin
            assert intake.open_campaign(region.id, region.timezone, utcnow()).id == twin
            # and the kiosk device's own look-up
            kiosk, _state = devices.device(token)
            assert kiosk.open_campaign(utcnow()).id == twin


@pytest.mark.parametrize("timezone", ["Europe/Kaliningrad", "Asia/Kamchatka"])
def test_the_campaign_of_an_answer_is_the_one_open_on_its_local_date(
        app, live_campaign, timezone):
    """On both sides of a change of campaign at local midnight, the campaign chosen is the
    one whose dates hold the moment's date in the region's time zone."""
    today = utcnow().date()
    with app.app_context(), tenancy.federal_scope("test"):
        from cci.collection.campaigns import save_campaign

        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        region.timezone = timezone
        db.get(Campaign, live_campaign).ends_on = today
        db.flush()
        save_campaign(name="next", methodology_key="cci-2022",
                      starts_on=today + dt.timedelta(days=1),
                      ends_on=today + dt.timedelta(days=30), region_codes=["RU-BRY"])
        db.flush()
        chosen = set()
        for hours in range(-36, 37, 2):
            moment = utcnow() + dt.timedelta(hours=hours)
            found = intake.open_campaign(region.id, timezone, moment)
            local = intake.local_date(region, moment)
            assert found is None or found.starts_on <= local <= found.ends_on
            assert (found.methodology_key if found else None) == (
                "cci-2023" if local <= today else "cci-2022")
            chosen.add(found.methodology_key)
        db.rollback()
    assert chosen == {"cci-2023", "cci-2022"}  # the change of campaign was crossed


def test_an_office_closed_since_pairing_refuses_its_answers(app, paired):
    kiosk_id, token = paired
    assert post(app, token, payload(app)).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(Office, db.get(Kiosk, kiosk_id).office_id).active = False
        db.commit()
    refused = post(app, token, payload(app, answers=survey_answers(app, 3)))
    assert refused.status_code == 400 and refused.json["field"] == "office"
    assert count_responses(app) == 1 and kept_rejections(app) == ["office"]


def test_an_answer_goes_to_the_campaign_open_as_it_is_delivered(app, paired, live_campaign):
    """A campaign saved meanwhile (here a second one starting the same day, which every
    look-up chooses) gets the next answers; a campaign closed meanwhile gets none, and the
    answer is refused as having no campaign; a repeat of an answer stored before it closed is
    still "already received"."""
    _kiosk_id, token = paired
    first = payload(app)
    assert post(app, token, first).status_code == 201
    twin = twin_of(app, live_campaign)
    assert post(app, token, payload(app, answers=survey_answers(app, 4))).status_code == 201
    assert stored_campaigns(app) == [live_campaign, twin]
    with app.app_context(), tenancy.federal_scope("test"):
        for campaign_id in (live_campaign, twin):
            db.get(Campaign, campaign_id).ends_on = utcnow().date() - dt.timedelta(days=2)
        db.commit()
    refused = post(app, token, payload(app, answers=survey_answers(app, 5)))
    assert refused.status_code == 400 and refused.json["field"] == "finished_at"
    again = post(app, token, first)
    assert again.status_code == 200 and again.json["status"] == "already received"
    assert count_responses(app) == 2 and kept_rejections(app) == ["finished_at"]


def test_a_repeat_is_received_once(app, paired):
    kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    again = post(app, token, body)
    assert again.status_code == 200 and again.json["status"] == "already received"
    assert count_responses(app) == 1
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(Answer)
                         .where(Answer.response_id == db.scalar(select(Response.id)))) > 0
        assert db.get(Kiosk, kiosk_id).last_seen_at is not None


def test_a_delivery_racing_in_is_stored_once(app, paired, monkeypatch):
    """Two workers take the same survey at once: both miss it in the repeat check, the
    second one's INSERT meets the unique client key, and it answers "already received"."""
    kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(Kiosk, kiosk_id).last_seen_at = None
        db.commit()
    existing = intake.existing
    looks = []

    def not_yet_the_first_time(client_key):
        looks.append(client_key)
        return None if len(looks) == 1 else existing(client_key)

    monkeypatch.setattr(intake, "existing", not_yet_the_first_time)
    again = post(app, token, body)
    assert again.status_code == 200 and again.json["status"] == "already received"
    assert len(looks) == 2  # the race was lost at the INSERT, then the stored one found
    assert count_responses(app) == 1
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(Kiosk, kiosk_id).last_seen_at is not None  # the device was still heard


@pytest.mark.parametrize("failure", [
    PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
    OperationalError("INSERT INTO responses", {}, Exception("canceling statement due to "
                                                            "statement timeout")),
    OperationalError("SELECT 1", {}, Exception("connection refused")),
])
def test_a_saturated_database_asks_the_device_to_send_the_answer_again(
        app, paired, monkeypatch, failure):
    """Nothing is stored and nothing refused for good: 503 with Retry-After and a JSON error
    (the kiosk keeps the survey in its queue and sends it again, as after a 429); once the
    database answers again, the same delivery is stored once."""
    _kiosk_id, token = paired
    body = payload(app)
    real = intake.store_batch

    def saturated(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(intake, "store_batch", saturated)
    busy = post(app, token, body)
    assert busy.status_code == 503 and busy.json["status"] == "retry" and busy.json["error"]
    # at least ours (flask-limiter sets it to its window's reset when that is later)
    assert int(busy.headers["Retry-After"]) >= intake.RETRY_AFTER_SECONDS
    assert count_responses(app) == 0 and kept_rejections(app) == []
    monkeypatch.setattr(intake, "store_batch", real)
    assert post(app, token, body).status_code == 201
    assert post(app, token, body).status_code == 200
    assert count_responses(app) == 1


def test_an_unreachable_database_is_a_503_before_the_device_is_read(app, paired, monkeypatch):
    """The device's own look-up fails alike: the device is asked to wait, not told it is
    unknown."""
    _kiosk_id, token = paired

    def unreachable(*_args, **_kwargs):
        raise OperationalError("SELECT kiosks", {}, Exception("could not connect to server"))

    monkeypatch.setattr(devices, "device", unreachable)
    busy = post(app, token, payload(app))
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert busy.json["status"] == "retry"


def test_a_submission_racing_in_returns_the_stored_response(app, office, monkeypatch):
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


def test_submit_returns_the_stored_response(app, office):
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
def test_the_burst_counts_every_source(app, office, device, ip, fires):
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


# --- one batch, many regions ------------------------------------------------------------


def _office_region(office_id: int) -> int:
    with tenancy.federal_scope("test"):
        return db.get(Office, office_id).region_id


def _store_together(app, drafts: list[tuple]) -> int:
    """Validate (office id, key, seed, when, channel, meta) submissions, each in its region,
    and store them as one batch of many regions (intake.store_batch in the federal scope)."""
    with app.app_context():
        validated = []
        for office_id, key, seed, when, channel, meta in drafts:
            with tenancy.region_scope(_office_region(office_id), "test"):
                validated.append((channel, intake.validate(intake.Submission(
                    office_id=office_id, respondent_type="job_seeker", answers=varied(seed),
                    client_key=key, channel=channel, submitted_at=when, meta=meta or {}))))
        [channel_key] = {channel for channel, _draft in validated}
        channel = app.extensions["cci.registry"].channels.get(channel_key)
        with tenancy.federal_scope("test"):
            intake.store_batch([draft for _channel, draft in validated], channel)
            db.commit()
        return len(validated)


def _stored(app, key: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Response.id).where(Response.client_key == key))


def test_a_batch_of_two_regions_counts_a_burst_in_each_region_alone(app, campaign):
    """One address, two regions: Bryansk has 9 answers from it, Krasnoyarsk 5; a batch
    brings two more in Bryansk and one in Krasnoyarsk. Bryansk passes the threshold of 10
    (both new answers name its earlier nine, which are flagged once, and the batch is stored
    in one go), Krasnoyarsk does not: counted across regions it would have 17."""
    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    shared = {"ip_hash": "h-shared"}
    earlier = {office: [answer(app, office, varied(300 + 10 * n + k), when=DAY + k * SEC,
                               meta=shared)[0] for k in range(n)]
               for office, n in ((bry, 9), (kya, 5))}
    with Statements(app) as statements:
        assert _store_together(app, [
            (bry, "kiosk:burst-bry-1", 400, DAY + 60 * SEC, "kiosk", shared),
            (bry, "kiosk:burst-bry-2", 401, DAY + 61 * SEC, "kiosk", shared),
            (kya, "kiosk:burst-kya", 402, DAY + 60 * SEC, "kiosk", shared)]) == 3
    assert not [sql for sql in statements.sql if sql.startswith("ROLLBACK TO SAVEPOINT")]
    for key in ("kiosk:burst-bry-1", "kiosk:burst-bry-2"):
        assert "burst" in rules_of(app, _stored(app, key))
    assert all(rules_of(app, i) == {"burst"} for i in earlier[bry])
    assert "burst" not in rules_of(app, _stored(app, "kiosk:burst-kya"))
    assert not any(rules_of(app, i) for i in earlier[kya])


def test_every_rule_sees_one_region_unless_it_filters_by_region_itself(app, campaign,
                                                                        monkeypatch):
    """A batch of two regions: a channel's single rule and batch rule run in each
    response's region scope, one region at a time; a rule that declares ``across_regions``
    gets the batch at once, and the stored responses its findings name are flagged only in
    the region of the response that found them."""
    from cci.collection.channels import Channel
    from cci.collection.channels import QualityRule

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
    assert _store_together(app, [
        (office, f"tst:rules-{n}", 600 + n, DAY + (n + 1) * SEC, "tst", None)
        for n, office in enumerate((bry, kya, bry))]) == 3
    assert sorted(seen["single"]) == sorted([(region[bry], region[bry])] * 2
                                            + [(region[kya], region[kya])])
    assert sorted(seen["many"]) == sorted([(region[bry], {region[bry]}),
                                           (region[kya], {region[kya]})])
    assert seen["across"] == [(True, sorted([region[bry], region[bry], region[kya]]))]
    assert rules_of(app, stored[bry]) == {"tst.across"}
    assert rules_of(app, stored[kya]) == set()


def test_a_batch_costs_the_same_statements_for_any_number_of_regions(app, campaign):
    """Two answers of one region, then two of two regions: the batch sends the
    same statements (a store's cost does not grow with the regions a batch spans; the recompute
    the first batch schedules is left out)."""
    bry, kya = offices(app, "RU-BRY")[0], offices(app, "RU-KYA")[0]
    sent = []
    for n, pair in enumerate(((bry, bry), (bry, kya))):
        batch = [(office, f"kiosk:cost-{n}-{k}", 700 + 10 * n + k,
                  DAY + dt.timedelta(hours=n) + k * SEC, "kiosk", {"device_id": f"k-{office}"})
                 for k, office in enumerate(pair)]
        with Statements(app) as statements:
            assert _store_together(app, batch) == 2
        # the validation's look-ups aside (an office read once per batch)
        sent.append([sql for sql in statements.sql if sql.startswith(("INSERT", "UPDATE"))])
    assert sent[0] == sent[1]
