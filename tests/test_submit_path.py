"""The one-answer path (a kiosk's POST, intake.submit): what it costs in SQL, and the cases the
lean path must still get right — a delivery racing in through another worker, the stored
response handed back, the one-query burst count."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from cci import intake
from cci import tenancy
from cci.db import db
from cci.models import Answer
from cci.models import Response
from cci_channel_kiosk.models import Kiosk
from engine_helpers import DAY
from engine_helpers import answer
from test_kiosk import admin  # noqa: F401 - fixture
from test_kiosk import answers_for
from test_kiosk import count_responses
from test_kiosk import paired  # noqa: F401 - fixture
from test_kiosk import payload
from test_kiosk import post
from test_quality import SEC
from test_quality import office  # noqa: F401 - fixture
from test_quality import state
from test_quality import varied

#: What one kiosk answer may cost: the device, the repeat check, its "last seen", the
#: campaign, the burst and near-duplicate look-backs (two), the response and its answers.
#: Up from here means a query crept back into the hot path (it was 16, in 2 transactions).
KIOSK_ANSWER_STATEMENTS = 9


class Statements:
    """SQL statements and commits on the app's engine while in the block."""

    def __init__(self, app):
        self.engine = app.extensions["cci.engine"]
        self.sql: list[str] = []
        self.commits = 0

    def _statement(self, _conn, _cursor, statement, *_args) -> None:
        self.sql.append(statement.split("\n")[0][:120])

    def _commit(self, _conn) -> None:
        self.commits += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def test_a_kiosk_answer_costs_a_few_statements_in_one_transaction(app, paired):  # noqa: F811
    _kiosk_id, token = paired
    # warm first (first-use work aside); different answers, so that no rule fires
    assert post(app, token, payload(app, answers=survey_answers(app, 1))).status_code == 201
    with Statements(app) as seen:
        reply = post(app, token, payload(app, answers=survey_answers(app, 2)))
    assert reply.status_code == 201, reply.json
    assert state(app, db_id(app, reply.json["key"]))["rules"] == set()
    assert len(seen.sql) <= KIOSK_ANSWER_STATEMENTS, "\n".join(seen.sql)
    assert seen.commits == 1


def survey_answers(app, seed: int) -> dict:
    """A complete kiosk questionnaire whose scale answers differ from seed to seed."""
    rnd = random.Random(seed)
    return {key: str(rnd.randint(1, 10)) if value == "8" else value
            for key, value in answers_for(app).items()}


def db_id(app, key: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Response.id).where(Response.client_key == f"kiosk:{key}"))


def test_a_delivery_racing_in_is_stored_once(app, paired, monkeypatch):  # noqa: F811
    """Two workers take the same survey at once: both miss it in the repeat check, the
    second one's INSERT meets the unique client key, and it answers "already received"."""
    kiosk_id, token = paired
    body = payload(app)
    assert post(app, token, body).status_code == 201
    with app.app_context(), tenancy.federal_scope("test"):
        before = db.get(Kiosk, kiosk_id).last_seen_at
    monkeypatch.setattr(intake, "stored_id", lambda client_key: None)  # the race: not seen yet
    again = post(app, token, body)
    assert again.status_code == 200 and again.json["status"] == "already received"
    assert count_responses(app) == 1
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count()).select_from(Answer)
                         .where(Answer.response_id == db.scalar(select(Response.id)))) > 0
        assert db.get(Kiosk, kiosk_id).last_seen_at > before  # the device was still heard


def test_submit_after_a_repeat_check_of_its_own_returns_the_stored_response(app, office):  # noqa: F811
    first_id, created = answer(app, office, varied(1), client_key="lean-1")
    assert created
    with app.app_context():
        response, created = intake.submit(intake.Submission(
            office_id=office, respondent_type="job_seeker", answers=varied(2),
            client_key="lean-1", channel="test", submitted_at=DAY), looked_up=True)
        assert not created and response.id == first_id
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
def test_one_look_back_counts_every_burst_source(app, office, device, ip, fires):  # noqa: F811
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
