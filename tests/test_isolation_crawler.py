"""The isolation crawler: every URL rule of the app (pages, the API, each plugin's routes),
every method, every role, filled from the URL map itself with another region's ids and with
ids past the database's INTEGER. A route added later is crawled without a line here; one the
crawler cannot fill must be listed in :data:`NOT_CRAWLED` with the reason, and the test fails
for a new route with a parameter it does not know.

For a user of one region (each regional role, and anonymous visitors), a URL naming another
region or any of its rows is 403 or 404, never a 5xx, and no answer ever holds a byte that
names the other region (its name, codes, offices, or the text of its rows). Ids past the
integer are a 403 or 404 for every role (a role may be refused before the id is read).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.foundation import notifications
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import ID_MAX
from cci.foundation.db import db
from cci.foundation.models import Checklist
from cci.foundation.models import ChecklistPhoto
from cci.foundation.models import ComputationRun
from cci.foundation.models import ImportRecord
from cci.foundation.models import JobRecord
from cci.foundation.models import MethodologyProposal
from cci.foundation.models import MethodologyVersion
from cci.foundation.models import Notification
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import RunResult
from cci.foundation.models import SurveyInvitation
from cci.foundation.models import User
from conftest import PASSWORD
from engine_helpers import answer

from cci_channel_contact.models import ContactCall
from cci_channel_kiosk import devices
from test_kiosk import answers_for

OWN, FOREIGN = "RU-BRY", "RU-VLA"
SECRET = "Секрет-Владимир"
#: What names the foreign region: its name and codes (from tenants/RU-VLA.toml), its offices'
#: names and towns, and the text of every row made for it below.
FOREIGN_MARKERS = ("Владимир", "VLA-0", FOREIGN, "Ковров", SECRET, "vla-secret@example.ru")
REGIONAL_ROLES = ("regional_admin", "auditor", "operator")
FEDERAL_ROLES = ("admin", "federal_analyst", "methodology_owner")

#: Routes the crawler does not request, and why. Everything else in the URL map is crawled.
NOT_CRAWLED = {
    "static": "the app's static files: no data",
    "kiosk.static": "the kiosk's static files: no data",
    "web_survey.static": "the web survey's static files (print script, posters' styles): no data",
    "auth.logout": "ends the session the crawler uses (tests/test_auth.py)",
    "auth.login": "public; takes no id (tests/test_auth.py)",
    "auth.login_code": "public: the one-time code of one's own login (tests/test_login_codes.py)",
    "auth.reset_password": "public: one's own password-reset link, by its secret token "
                           "(tests/test_password_reset.py)",
    "account.end_sessions": "ends the sessions the crawler uses (tests/test_sessions.py)",
    # The public channels: a respondent's or a device's own link, open to anyone who has it
    # by design, for whichever region's office it names; no staff data behind it.
    "kiosk.app": "public: the device's own screen (tests/test_kiosk.py)",
    "kiosk.pair": "public: pairing a device with a code (tests/test_kiosk.py)",
    "kiosk.restore": "public: a device restoring its own cookie (tests/test_kiosk.py)",
    "kiosk.service_worker": "public: the kiosk's script",
    "kiosk_api.heartbeat": "public: authenticated by the device's token (tests/test_kiosk.py)",
    "kiosk_api.questionnaire": "public: authenticated by the device's token",
    "kiosk_api.responses": "public: authenticated by the device's token",
    "web_survey.region_start": "public: the survey's start for any region",
    "web_survey.office_start": "public: the survey's start for any office",
    "web_survey.step": "public: a respondent's own draft, by its secret token",
    "web_survey.done": "public: a respondent's own draft, by its secret token",
    "web_survey.invitation_form": "public: entering an invitation's code",
    "web_survey.invitation": "public: an invitation, by its secret code",
    "web_survey.prefs": "public: the respondent's display preferences",
    "web_survey.touchpoint": "public: a touchpoint survey's question (QR card, link) for any "
                             "office (tests/test_cx_metrics.py)",
    "web_survey.contact": "public: a respondent's own address for the answer, by the draft's "
                          "secret token (tests/test_cases.py)",
    "web_survey.touchpoint_contact": "public: a respondent's own address for the answer, by "
                                     "the answer's secret key (tests/test_cases.py)",
    "web_survey.you_said": "public by design: an office's «Вы сказали — мы сделали», counts "
                           "and titles without personal data (tests/test_cases.py)",
    "kiosk_api.exit_poll": "public: authenticated by the device's token (tests/test_cx_metrics.py)",
    "kiosk_api.exit_poll_answer": "public: authenticated by the device's token "
                                  "(tests/test_cx_metrics.py)",
}

#: Pages that show every region's published region-level figures to a region's users (the
#: federal benchmark, and its export with the regions' codes): the foreign region's name (and
#: code) may appear there, nothing else of it.
REGION_LEVEL = {"region.federal_benchmark": ("Владимир",),
                "region.federal_benchmark_export": ("Владимир", FOREIGN),
                "region.region_compare": ("Владимир",),
                "region.region_compare_export": ("Владимир", FOREIGN)}

#: Path parameters that name no tenant's data: filled with an ordinary value.
NEUTRAL = {"key": "cci-2023", "methodology_key": "cci-2023", "fmt": "csv",
           "indicator_code": "O-II.1", "indicator": "S-II.1", "metric_code": "CSAT",
           "touchpoint": "office"}
#: Path parameters naming a region (another region's for the foreign crawl).
REGION_PARAMS = {"region_code", "code"}
#: A string parameter holding a row's id (a checklist's office).
ID_STRINGS = {"target": "office_id"}

_ARG = re.compile(r"<(?:(?P<converter>[^:>(]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


# --- the world: a foreign region with a row of every kind ------------------------------------


def _foreign_rows(app) -> dict[str, int]:
    """A row of every kind a URL can name, in the foreign region; their ids by parameter."""
    today = dt.date.today()
    with app.app_context(), tenancy.federal_scope("crawler set-up"):
        region = db.scalar(select(Region).where(Region.code == FOREIGN))
        office = db.scalar(select(Office).where(Office.region_id == region.id)
                           .order_by(Office.code))
        campaign = save_campaign(name=f"{SECRET} кампания", methodology_key="cci-2023",
                                 starts_on=today - dt.timedelta(days=40),
                                 ends_on=today + dt.timedelta(days=40), region_codes=[FOREIGN])
        run = ComputationRun(campaign_id=campaign.id, methodology_key="cci-2023",
                             status="succeeded", summary={"note": SECRET})
        db.add(run)
        _shared_published_run(today, region, office)
        # the methodology owner's workbench is federal: a draft, and a proposal the foreign
        # region made
        version = MethodologyVersion(kind="derived", base_key="cci-2023",
                                     title=f"{SECRET} версия", overrides={}, status="draft")
        proposal = MethodologyProposal(region_id=region.id, summary=f"{SECRET} предложение",
                                       proposed_by=SECRET)
        db.add_all([version, proposal])
        db.commit()
        user = db.scalar(select(User).where(User.email == "vla-secret@example.ru"))
        ids = {"campaign_id": campaign.id, "run_id": run.id, "office_id": office.id,
               "region_id": region.id,
               "user_id": user.id, "version_id": version.id, "proposal_id": proposal.id}
    with app.app_context(), tenancy.region_scope(region.id, "crawler set-up"):
        token, _text = tokens.issue(db.get(User, user.id), f"{SECRET} токен")
        job = JobRecord(rq_id="crawler-foreign-job", name="tenants.sync", title=f"{SECRET} задача")
        db.add(job)
        db.flush()
        upload = ImportRecord(region_id=region.id, campaign_id=campaign.id, kind="responses",
                              filename=f"{SECRET}.csv", content=b"", size=0, job_id=job.id)
        call = ContactCall(region_id=region.id, office_id=office.id, operator_id=user.id,
                           campaign_id=campaign.id, line=f"{SECRET} линия")
        invitation = SurveyInvitation(
            region_id=region.id, code="SECRETVLA1", office_id=office.id,
            service=f"{SECRET} услуга", visit_date=today,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
        checklist = Checklist(region_id=region.id, campaign_id=campaign.id, office_id=office.id,
                              indicator="O-II.1", values={}, evidence={"note": SECRET})
        db.add_all([upload, call, invitation, checklist])
        db.flush()
        photo = ChecklistPhoto(region_id=region.id, checklist_id=checklist.id,
                               parameter="stop_nearby", filename=f"{SECRET}.jpg",
                               content=SECRET.encode(), thumbnail=SECRET.encode(),
                               width=1, height=1)
        db.add(photo)
        db.commit()
        kiosk, _code = devices.register(db.get(Office, office.id), f"{SECRET} киоск", None)
        notifications.notify("case_new", region_id=region.id, office_id=office.id,
                             title=f"{SECRET} уведомление", url="/", subject="crawler")
        notification = db.scalar(select(Notification))
        db.commit()
        ids.update(token_id=token.id, job_id=job.id, import_id=upload.id, call_id=call.id,
                   invitation_id=invitation.id, kiosk_id=kiosk.id, photo_id=photo.id,
                   notification_id=notification.id)
    response_id, _created = answer(app, office.id, answers_for(app),
                                   when=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                                   comment=f"{SECRET} комментарий")
    ids["response_id"] = response_id
    ids["case_id"] = _foreign_case(app, response_id)
    ids.update(_foreign_journey_map(app, ids["user_id"]))
    return ids


def _foreign_case(app, response_id: int) -> int:
    """The foreign region's case: its respondent's comment, with a consented address."""
    from cci.collection import case_contacts
    from cci.collection import cases
    from cci.foundation.models import Response

    with app.app_context(), tenancy.region_scope(_region_id(app, FOREIGN), "crawler set-up"):
        response = db.get(Response, response_id)
        response.counted = True  # whatever the quality rules said of the crawler's answer
        case, _created = cases.open_case(response)
        case_contacts.store(case, "vla-secret@example.ru")
        db.commit()
        return case.id


def _foreign_journey_map(app, owner_id: int) -> dict[str, int]:
    """The foreign region's adopted journey map, a barrier of its own, and an action on it."""
    from cci.foundation import improvement_actions
    from cci.foundation import journey_maps
    from cci.foundation.models import JourneyMap

    with app.app_context(), tenancy.federal_scope("crawler set-up"):
        journey_maps.seed_templates()
        db.commit()
    with app.app_context(), tenancy.region_scope(_region_id(app, FOREIGN), "crawler set-up"):
        region = db.scalar(select(Region).where(Region.code == FOREIGN))
        adopted = journey_maps.adopt(journey_maps.templates()[0], region, None, None)
        version = journey_maps.draft_of(adopted)
        journey_maps.edit(version, "item_add", {"stage": "search", "touchpoint": "site",
                                                "row": "barriers", "text": f"{SECRET} барьер"},
                          None, {})
        action = improvement_actions.create(
            version, "search", "site", 5,
            {"title": f"{SECRET} мероприятие", "owner_id": owner_id,
             "due_on": dt.date.today() - dt.timedelta(days=60)}, None)
        db.commit()
        assert db.get(JourneyMap, adopted.id) is not None
        return {"map_id": adopted.id, "number": version.number, "action_id": action.id}


def _region_id(app, code: str) -> int:
    with app.app_context():
        return db.scalar(select(Region.id).where(Region.code == code))


def _shared_published_run(today: dt.date, region: Region, office: Office) -> None:
    """A past campaign of both regions with a published run: the own region's users see the
    foreign region's name and published index on the benchmark (REGION_LEVEL), and never its
    offices' rows or the text kept in its figures."""
    own = db.scalar(select(Region).where(Region.code == OWN))
    shared = save_campaign(name="Общая кампания", methodology_key="cci-2023",
                           starts_on=today - dt.timedelta(days=400),
                           ends_on=today - dt.timedelta(days=310), region_codes=[OWN, FOREIGN])
    now = dt.datetime.now(dt.UTC)
    run = ComputationRun(campaign_id=shared.id, methodology_key="cci-2023", status="succeeded",
                         finished_at=now, published_at=now)
    db.add(run)
    db.flush()
    for region_id, value in ((own.id, 80.0), (region.id, 60.0)):
        for metric in ("index", "group:I"):
            db.add(RunResult(run_id=run.id, region_id=region_id, level="region",
                             metric=metric, value=value, detail={"note": SECRET}))
    db.add(RunResult(run_id=run.id, region_id=region.id, level="office", office_id=office.id,
                     metric="index", value=60.0, detail={"note": SECRET}))
    db.add(RunResult(run_id=run.id, region_id=None, level="federation", metric="index",
                     value=70.0, detail={"regions": 2}))


@pytest.fixture
def foreign(app, make_user, live_campaign) -> dict[str, int]:
    make_user("regional_admin", FOREIGN, email="vla-secret@example.ru")
    return _foreign_rows(app)


class Visitor:
    """A role's requests: pages with its session, the API with its token."""

    def __init__(self, app, email: str | None):
        self.role_client = app.test_client()
        self.headers = {}
        self.anonymous = email is None
        if email is None:
            return
        reply = self.role_client.post("/login", data={"email": email, "password": PASSWORD})
        assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
        with app.app_context(), tenancy.federal_scope("crawler token"):
            user = db.scalar(select(User).where(User.email == email))
            _row, token = tokens.issue(user, "crawler")
            db.commit()
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, url: str):
        headers = self.headers if url.startswith("/api/") else {}
        return self.role_client.open(url, method=method, headers=headers)


@pytest.fixture
def visitor(app, make_user):
    """``visitor(role)``: a user of that role (in the own region if regional), or anonymous
    for None."""
    return lambda role: Visitor(app, None if role is None else make_user(
        role, OWN if role in REGIONAL_ROLES else None))


# --- the URL map ----------------------------------------------------------------------------


def _crawled_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in NOT_CRAWLED:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _params(rule) -> list[tuple[str, str]]:
    return [(m.group("converter") or "default", m.group("name")) for m in _ARG.finditer(rule.rule)]


def _fill(rule, values: dict[str, str]) -> str:
    return _ARG.sub(lambda m: values[m.group("name")], rule.rule)


def test_every_route_is_crawled_or_listed_with_a_reason(app):
    """A new route whose parameters the crawler cannot fill fails here until it is taught
    (NEUTRAL, REGION_PARAMS, ID_STRINGS, an id the world makes) or listed in NOT_CRAWLED."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not set(NOT_CRAWLED) - endpoints, "listed routes that no longer exist"
    known_ids = {"campaign_id", "run_id", "office_id", "user_id", "token_id", "job_id",
                 "import_id", "call_id", "invitation_id", "kiosk_id", "response_id", "photo_id",
                 "version_id", "proposal_id", "map_id", "number", "action_id",
                 "notification_id", "case_id", "region_id"}
    unfillable = [
        (rule.rule, name) for rule, _method in _crawled_rules(app)
        for converter, name in _params(rule)
        if not (name in NEUTRAL or name in REGION_PARAMS or name in ID_STRINGS
                or (converter == "int" and name in known_ids))
    ]
    assert not unfillable, f"teach the crawler these parameters, or list the routes: {unfillable}"


def _foreign_urls(app, ids: dict[str, int]):
    """(rule, method, url, names foreign data): each crawled route filled with the foreign
    region and its rows; with the own region and the foreign rows; and, for a route without
    ids, with the own region (whose answer must not hold a foreign byte either)."""
    for rule, method in _crawled_rules(app):
        params = _params(rule)
        has_ids = any(converter == "int" or name in ID_STRINGS for converter, name in params)
        has_region = any(name in REGION_PARAMS for _converter, name in params)
        variants = [FOREIGN] if has_region else [None]
        if has_region:
            variants.append(OWN)
        for region in variants:
            values = {}
            for converter, name in params:
                if name in REGION_PARAMS:
                    values[name] = region
                elif name in ID_STRINGS:
                    values[name] = str(ids[ID_STRINGS[name]])
                elif converter == "int":
                    values[name] = str(ids[name])
                else:
                    values[name] = NEUTRAL[name]
            names_foreign = region == FOREIGN or has_ids
            yield rule, method, _fill(rule, values), names_foreign


def _leaks(response, url: str = "", endpoint: str = "") -> list[str]:
    """The foreign markers in an answer, but those the request itself named (a login page
    echoes the URL to come back to) and the region's name on a benchmark page of published
    region figures (REGION_LEVEL). JSON is read as its text: it escapes Cyrillic."""
    body = response.get_data()
    if response.is_json:
        body += json.dumps(response.get_json(silent=True), ensure_ascii=False).encode()
    allowed = REGION_LEVEL.get(endpoint, ())
    return [marker for marker in FOREIGN_MARKERS
            if marker.encode() in body and marker not in url and marker not in allowed]


@pytest.mark.parametrize("role", [*REGIONAL_ROLES, None])
def test_another_regions_rows_are_403_or_404_and_never_a_byte_of_them(app, foreign, visitor,
                                                                      role):
    who = visitor(role)
    failures = []
    crawled = 0
    for rule, method, url, names_foreign in _foreign_urls(app, foreign):
        response = who.request(method, url)
        crawled += 1
        status = response.status_code
        allowed = {403, 404}
        if who.anonymous:
            allowed |= {401, 302}
            if status == 302 and "/login" not in response.headers.get("Location", ""):
                failures.append((method, url, status, response.headers.get("Location")))
        if status >= 500 or (names_foreign and status not in allowed):
            failures.append((method, url, status, response.get_data()[:200]))
        leaked = _leaks(response, url, rule.endpoint)
        if leaked:
            failures.append((method, url, status, f"foreign bytes: {leaked}"))
    assert crawled > 100
    assert not failures, "\n".join(map(str, failures))


def _past_range_urls(app, campaign_id: int):
    """Each route with an id, every id past the integer; a route with an id in a string (a
    checklist's office) also with its other ids real, so that the string is read."""
    for rule, method in _crawled_rules(app):
        params = _params(rule)
        if not any(converter == "int" or name in ID_STRINGS for converter, name in params):
            continue
        for huge in (ID_MAX + 1, 10**20):
            values = {name: (OWN if name in REGION_PARAMS else NEUTRAL.get(name, str(huge)))
                      for _converter, name in params}
            yield method, _fill(rule, values)
            if any(name in ID_STRINGS for _converter, name in params):
                yield method, _fill(rule, {**values, "campaign_id": str(campaign_id)})


@pytest.mark.parametrize("role", [*REGIONAL_ROLES, *FEDERAL_ROLES, None])
def test_ids_past_the_integer_are_403_or_404_for_every_role(app, tenants, live_campaign, visitor,
                                                     role):
    """Before: a 500 on 26 routes (PostgreSQL: «integer out of range»)."""
    who = visitor(role)
    urls = list(_past_range_urls(app, live_campaign))
    assert len(urls) > 40
    failures = []
    for method, url in urls:
        status = who.request(method, url).status_code
        if status not in (403, 404) and not (who.anonymous and status in (302, 401)):
            failures.append((method, url, status))
    assert not failures, failures


def test_the_crawler_finds_a_leak(app, foreign, visitor, monkeypatch):
    """The crawler itself: a page that shows another region's row is reported."""
    from cci.web.api import resources

    real = resources.office_json

    def leaky(office, region_code):
        return {**real(office, region_code), "name": "ЦЗН Владимирской области"}

    monkeypatch.setattr(resources, "office_json", leaky)
    who = visitor("auditor")
    leaked = [url for _rule, method, url, _f in _foreign_urls(app, foreign)
              if url.startswith("/api/v1/regions/RU-BRY/offices")
              and _leaks(who.request(method, url))]
    assert leaked == ["/api/v1/regions/RU-BRY/offices"]


def test_the_benchmark_shows_the_foreign_regions_published_index_and_nothing_below(
        app, foreign, visitor):
    """What REGION_LEVEL lets through, seen: the foreign region's name and index (the crawl
    above proved nothing else of it is there)."""
    response = visitor("auditor").request("GET", f"/r/{OWN}/federal")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Владимирская область" in body and "60,0" in body and "70,0" in body
    assert SECRET not in body and "VLA-0" not in body
