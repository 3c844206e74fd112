"""Versions as data: declared parameters checked by type and range, a derived version from
draft to publication by two different methodology owners, immutability once published, a run
of a derived version with hand-computed numbers, the approval of packaged versions, the
register of proposals and the change log — in the interface, the API and the audit log."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import MethodologyProposal
from cci.foundation.models import MethodologyVersion
from cci.foundation.models import User
from cci.methodology import parameters
from cci.methodology import versions
from engine_helpers import answer
from engine_helpers import campaign  # noqa: F401 - a fixture
from engine_helpers import checklist
from engine_helpers import offices
from engine_helpers import results
from engine_helpers import run_row
from engine_helpers import start
from engine_helpers import work


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _sets(app):
    return app.extensions["cci.registry"].indicator_sets


def _user(app, email):
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User).where(User.email == email))


class _FormReader(HTMLParser):
    """The fields of a page's form as a browser would send them, and each label's field."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.labels: dict[str, str] = {}
        self._textarea: str | None = None
        self._label: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data.setdefault(a["name"], []).append(a.get("value", "y"))
            else:
                self.data.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.data.setdefault(a["name"], []).append("")
        elif tag == "label" and a.get("for"):
            self._label = a["for"]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data
        if self._label:
            self.labels[data.strip()] = self._label
            self._label = None

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def _read_form(page) -> _FormReader:
    reader = _FormReader()
    reader.feed(page.get_data(as_text=True))
    return reader


def _form_fields(page) -> dict[str, list[str]]:
    return {k: [html.unescape(x) for x in v] for k, v in _read_form(page).data.items()
            if k != "csrf_token"}


def _field_named(page, label: str) -> str:
    return _read_form(page).labels[label]


# --- declared parameters: types and ranges --------------------------------------------------


@pytest.mark.parametrize(("key", "value", "message"), [
    ("parameter:positive_min", 11, "от 1 до 10"),
    ("parameter:positive_min", "8,5", "целое число"),
    ("parameter:positive_min", "восемь", "Нужно число"),
    ("parameter:positive_min", True, "Нужно число"),
    ("parameter:min_sample", 0, "от 1 до 1000"),
    ("parameter:star_bands", [90, 80, 70], "4 числа"),
    ("parameter:star_bands", [90, 95, 70, 60], "ниже предыдущего"),
    ("parameter:star_bands", [90, 80, 70, 160], "от 0 до 100"),
    ("parameter:group_weights", {"I": 0.2}, "для каждого"),
    ("parameter:group_weights", {"I": 0, "II": 0, "III": 0, "IV": 0, "V": 0}, "больше нуля"),
    ("parameter:vacancy_bands", [[1.0, 1.0], [0.9, 1.5], [0.8, 0.5], [0.7, 0.25]],
     "от 0 до 1"),
    ("parameter:preferred_channel_offered_by", {"office": ["fax"]}, "каналы"),
    ("points:O-III.6:office", 1.5, "от 0 до 1"),
    ("wording:usefulness:job_seeker", "   ", "не может быть пустым"),
    ("parameter:unknown", 1, "нельзя изменить"),
])
def test_a_value_out_of_its_declaration_is_refused_in_russian(app, key, value, message):
    base = _sets(app)["cci-2023"]
    with (app.test_request_context(headers={"Accept-Language": "ru"}),
          pytest.raises(parameters.ParameterError) as refused):
        parameters.check(base, {key: value})
    assert list(refused.value.errors) == [key]
    assert message in refused.value.errors[key]


def test_values_are_read_as_people_write_them_and_only_changes_are_kept(app):
    base = _sets(app)["cci-2023"]
    with app.test_request_context():
        kept = parameters.check(base, {
            "parameter:positive_min": "9", "parameter:min_sample": 10,  # 10 is the base's
            "points:O-III.6:office": "0,5", "parameter:star_bands": ["95", "85", "75", "65"]})
    assert kept == {"parameter:positive_min": 9, "points:O-III.6:office": 0.5,
                    "parameter:star_bands": [95.0, 85.0, 75.0, 65.0]}


def test_every_parameter_the_core_reads_is_declared_with_its_range(app):
    for key in ("cci-2022", "cci-2023"):
        declared = {t.key: t for t in parameters.tunables(_sets(app)[key])}
        for name in ("positive_min", "min_sample", "star_bands"):
            t = declared[f"parameter:{name}"]
            assert t.minimum is not None and t.maximum is not None and t.unit
        assert any(k.startswith("wording:") for k in declared)
        assert any(k.startswith("points:") for k in declared)


# --- draft → review → published ----------------------------------------------------------------


@pytest.fixture
def owners(app, make_user):
    return make_user("methodology_owner", email="author@example.ru"), make_user(
        "methodology_owner", email="reviewer@example.ru")


def test_draft_review_publication_by_two_people_and_immutability(
        app, client, login, owners, make_user):
    author, reviewer = owners
    login(author)
    page = client.get("/federal/versions/new?base=cci-2023")
    assert page.status_code == 200 and "Порог положительного ответа" in text(page)
    form = _form_fields(page)
    positive = _field_named(page, "Порог положительного ответа")
    refused = client.post("/federal/versions/new?base=cci-2023",
                          data={**form, "title_": "ИКЦ-2023 с порогом 9", positive: "12"})
    assert refused.status_code == 400 and "от 1 до 10" in text(refused)
    created = client.post("/federal/versions/new?base=cci-2023",
                          data={**form, "title_": "ИКЦ-2023 с порогом 9", positive: "9"})
    assert created.status_code == 302, text(created)[:2000]
    version_id = int(created.headers["Location"].rsplit("/", 1)[1])
    detail = text(client.get(f"/federal/versions/{version_id}"))
    assert "черновик" in detail and "Порог положительного ответа" in detail
    with app.app_context():
        assert "cci-2023-" not in str(list(_sets(app)))  # not offered before publication
    assert client.post(f"/federal/versions/{version_id}/submit").status_code == 302
    # the author cannot approve their own version
    client.post(f"/federal/versions/{version_id}/approve")
    with app.app_context():
        assert db.get(MethodologyVersion, version_id).status == "submitted"
    # nor change it while it is reviewed
    client.post(f"/federal/versions/{version_id}",
                data={**form, "title_": "Другое", positive: "7"})
    with app.app_context():
        assert db.get(MethodologyVersion, version_id).title == "ИКЦ-2023 с порогом 9"

    client.post("/logout")
    login(reviewer)
    assert client.post(f"/federal/versions/{version_id}/return",
                       data={"comment": ""}).status_code == 302
    with app.app_context():
        assert db.get(MethodologyVersion, version_id).status == "submitted"  # no comment
    client.post(f"/federal/versions/{version_id}/approve")
    with app.app_context():
        row = db.get(MethodologyVersion, version_id)
        assert (row.status, row.number, row.key) == ("published", 1, "cci-2023-1")
    with app.app_context():
        derived = _sets(app)["cci-2023-1"]
        assert derived.title == "ИКЦ-2023 с порогом 9" and derived.parameter("positive_min") == 9
        assert derived.derived_from == "cci-2023" and "cci-2023-1" in list(_sets(app))
        assert versions.is_offered(_sets(app), "cci-2023-1")
    # published: never changed again, through the page or the module
    after = client.post(f"/federal/versions/{version_id}",
                        data={**form, "title_": "Другое", positive: "7"},
                        follow_redirects=True)
    assert "Опубликованную версию нельзя изменить" in text(after)
    with app.app_context(), app.test_request_context():
        row = db.get(MethodologyVersion, version_id)
        with pytest.raises(versions.VersionError):
            versions.update_draft(_sets(app), row, "Другое", {}, _user(app, reviewer))
        assert db.get(MethodologyVersion, version_id).overrides == {
            "parameter:positive_min": 9}
        # nor by writing to its row (the database session's own guard)
        row.overrides = {"parameter:positive_min": 7}
        with pytest.raises(versions.VersionError):
            db.flush()
        db.rollback()
        assert db.get(MethodologyVersion, version_id).overrides == {
            "parameter:positive_min": 9}
    # every step in the audit log, in words
    with app.app_context(), tenancy.federal_scope("test"):
        actions = list(db.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "MethodologyVersion").order_by(AuditEntry.id)))
    assert actions == ["methodology_version.create", "methodology_version.submit",
                       "methodology_version.approve"]
    client.post("/logout")
    login(make_user("admin"))
    log = text(client.get("/federal/admin/audit"))
    for words in ("Методика: создан черновик производной версии",
                  "Методика: версия отправлена на согласование",
                  "Методика: версия одобрена и опубликована"):
        assert words in log
    assert "Порог положительного ответа" in log and "parameter:" not in log
    assert "cci-2023-1" not in log and "published" not in log


def test_a_returned_version_goes_back_to_its_author_with_the_comment(app, owners, tenants):
    author, reviewer = owners
    with app.test_request_context(), tenancy.federal_scope("test"):
        row = versions.create_draft(_sets(app), "cci-2022", "Пилот с выборкой 5",
                                    {"parameter:min_sample": 5}, _user(app, author))
        versions.submit(row, _user(app, author))
        with pytest.raises(versions.VersionError, match="автор"):
            versions.return_for_changes(row, _user(app, author), "сам себе")
        versions.return_for_changes(row, _user(app, reviewer), "Обоснуйте выборку")
        assert (row.status, row.review_comment) == ("returned", "Обоснуйте выборку")
        versions.update_draft(_sets(app), row, row.title, {"parameter:min_sample": 6},
                              _user(app, author))
        db.commit()
        actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-4:] == ["methodology_version.create", "methodology_version.submit",
                            "methodology_version.return", "methodology_version.update"]


# --- a run of a derived version -----------------------------------------------------------------


def _published(app, owners, base, title, changes):
    author, reviewer = owners
    with app.test_request_context(), tenancy.federal_scope("test"):
        row = versions.create_draft(_sets(app), base, title, changes, _user(app, author))
        versions.submit(row, _user(app, author))
        versions.approve(_sets(app), row, _user(app, reviewer))
        db.commit()
        return row.key


def test_a_run_of_a_derived_version_reproduces_the_hand_computed_numbers(
        app, owners, client, login, make_user):
    """ИКЦ-2023 counts 8–10 as positive; the derived version 9–10, and O-III.6's «office»
    weighs 0.5 instead of 0.1. One office: ten job seekers answer usefulness 8, 8, 8, 9, 9,
    10, 10, 10, 10, 10 → S-II.1 = 7/10 = 0.7 (the base: 10/10 = 1.0). O-III.6 with only the
    office ticked → 0.5 (the base: 0.1). Group II = 0.7, group III = 0.5, the other groups
    have no score: the job seekers' perspective = 100 × (0.2·0.7 + 0.2·0.5) / 0.4 = 60.0, the
    office's index 60.0 (the base: 100 × (1.0 + 0.1) / 2 = 55.0)."""
    key = _published(app, owners, "cci-2023", "ИКЦ-2023 с порогом 9",
                     {"parameter:positive_min": 9, "points:O-III.6:office": 0.5})
    with app.app_context(), tenancy.federal_scope("test"):
        campaign = save_campaign(name="2025-Q2", methodology_key=key,
                                 starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 6, 30),
                                 region_codes=["RU-KYA"]).id
        db.commit()
    office = offices(app, "RU-KYA")[0]
    for value in (8, 8, 8, 9, 9, 10, 10, 10, 10, 10):
        answer(app, office, {"usefulness": value})
    checklist(app, campaign, "O-III.6", {p: p == "office" for p in (
        "office", "contact_center", "regional_site", "trudvsem", "gosuslugi", "vk", "ok",
        "telegram", "email", "chatbot")}, office_id=office, region="RU-KYA")
    run_id, _created = start(app, campaign)
    derived_draft, _ = start(app, campaign, methodology_key="cci-2023", draft=True)
    work(app)
    share = results(app, run_id, metric="indicator:S-II.1", respondent_type="job_seeker")
    assert share[office].value == pytest.approx(0.7)
    assert results(app, run_id, metric="indicator:O-III.6")[office].value == pytest.approx(0.5)
    assert results(app, run_id)[office].value == pytest.approx(60.0)
    assert results(app, derived_draft)[office].value == pytest.approx(55.0)
    run = run_row(app, run_id)
    assert run.methodology_key == "cci-2023-1" and run.status == "succeeded"
    assert run.parameters["positive_min"] == 9 and run.parameters["derived_from"] == "cci-2023"
    assert run.parameters["overrides"] == {"parameter:positive_min": 9,
                                           "points:O-III.6:office": 0.5}
    # the region's results page names the version and its parameters
    login(make_user("regional_admin", "RU-KYA"))
    page = text(client.get(f"/r/RU-KYA/results?campaign={campaign}"))
    assert "ИКЦ-2023 с порогом 9" in page and "Положительный ответ 9–10" in page
    assert "60,0" in page


def test_a_draft_is_previewed_on_a_past_campaign(app, client, login, owners, campaign):
    office = offices(app, "RU-BRY")[0]
    for value in (8, 8, 8, 9, 9, 10, 10, 10, 10, 10):
        answer(app, office, {"usefulness": value})
    start(app, campaign)
    work(app)
    with app.test_request_context(), tenancy.federal_scope("test"):
        row = versions.create_draft(_sets(app), "cci-2023", "ИКЦ-2023 с порогом 9",
                                    {"parameter:positive_min": 9}, _user(app, owners[0]))
        db.commit()
        key = versions.draft_key(row.id)
    login(owners[0])
    detail = client.get(f"/federal/versions/{row.id}").get_data(as_text=True)
    assert f"candidate={key}" in detail
    assert client.post("/federal/preview", data={"campaign": campaign,
                                                 "candidate": key}).status_code == 302
    work(app)
    page = text(client.get(f"/federal/preview?campaign={campaign}&candidate={key}"))
    assert "ИКЦ-2023 с порогом 9 (черновик)" in page
    assert "100,0" in page and "70,0" in page  # the office: 10/10 positive, then 7/10
    with app.app_context():
        assert key not in list(_sets(app)) and not versions.is_offered(_sets(app), key)


# --- packaged versions are approved before campaigns use them -------------------------------


def test_a_package_outside_the_platform_waits_for_approval(app, owners, tenants):
    from cci.methodology import contract

    sets = _sets(app)
    extra = contract.IndicatorSet(key="tst-approve", version="1", title="Проверочная",
                                  groups={}, indicators=[], items=[], package="tst-dist")
    sets.packaged["tst-approve"] = extra
    try:
        with app.test_request_context(), tenancy.federal_scope("test"):
            assert {"cci-2022", "cci-2023"} <= set(versions.offered(sets))
            assert "tst-approve" not in versions.offered(sets)
            versions.approve_package(sets, "tst-approve", _user(app, owners[1]))
            db.commit()
            assert "tst-approve" in versions.offered(sets)
            with pytest.raises(versions.VersionError):
                versions.approve_package(sets, "tst-approve", _user(app, owners[1]))
    finally:
        del sets.packaged["tst-approve"]


# --- proposals and the change log -----------------------------------------------------------------


def test_the_2023_page_opens_with_its_change_log_of_ten_accepted_proposals(
        app, client, login, make_user):
    login(make_user("federal_analyst"))
    page = text(client.get("/methodologies/cci-2023"))
    assert "Журнал изменений" in page
    assert "Изменена верхняя граница при подсчёте субъективных данных" in page
    with app.app_context():
        rows = list(db.scalars(select(MethodologyProposal).order_by(MethodologyProposal.number)))
    assert [r.number for r in rows] == list(range(1, 11))
    assert {r.decision for r in rows} == {"accepted"} and {r.version_key for r in rows} == {
        "cci-2023"}
    client.get("/methodologies/cci-2023")  # seeded once
    with app.app_context():
        assert len(list(db.scalars(select(MethodologyProposal)))) == 10


def test_proposals_are_registered_and_decided_with_a_reason(app, client, login, owners):
    login(owners[0])
    refused = client.post("/federal/proposals/new", data={
        "summary": "Снизить минимальную выборку", "region": "RU-KYA", "decision": "rejected",
        "reason": "", "proposed_by": "", "indicator": "", "version_key": ""})
    assert refused.status_code == 400 and "причину" in text(refused)
    created = client.post("/federal/proposals/new", data={
        "summary": "Снизить минимальную выборку", "region": "RU-KYA", "decision": "deferred",
        "reason": "Вернуться после следующей кампании", "proposed_by": "", "indicator":
        "S-II.1", "version_key": ""})
    assert created.status_code == 302
    listing = text(client.get("/federal/proposals/"))
    assert "Снизить минимальную выборку" in listing and "Красноярский край" in listing
    assert "отложено" in listing
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(AuditEntry.action).where(
            AuditEntry.object_type == "MethodologyProposal")) == "proposal.create"
        mine = db.scalar(select(MethodologyProposal.id).where(
            MethodologyProposal.source.is_(None)))
        declared = db.scalar(select(MethodologyProposal.id).where(
            MethodologyProposal.source == "cci-2023#03"))
    # a proposal registered by mistake is removed; one the package declares stays
    client.post(f"/federal/proposals/{declared}/delete")
    assert client.post(f"/federal/proposals/{mine}/delete").status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(MethodologyProposal, mine) is None
        assert db.get(MethodologyProposal, declared) is not None
        assert "proposal.delete" in set(db.scalars(select(AuditEntry.action)))


def test_only_methodology_owners_open_the_workbench(app, client, login, make_user):
    login(make_user("federal_analyst"))
    assert client.get("/federal/versions/").status_code == 403
    assert client.get("/federal/proposals/").status_code == 403


# --- the API ------------------------------------------------------------------------------------


def _token(app, email):
    with app.app_context(), tenancy.federal_scope("test"):
        _row, token = tokens.issue(db.scalar(select(User).where(User.email == email)), "t")
        db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_takes_a_version_from_draft_to_publication(app, client, owners, make_user):
    author, reviewer = (_token(app, e) for e in owners)
    analyst = _token(app, make_user("federal_analyst"))
    declared = client.get("/api/v1/methodologies/cci-2023/parameters", headers=analyst).json
    positive = next(p for p in declared["items"] if p["key"] == "parameter:positive_min")
    assert (positive["kind"], positive["minimum"], positive["maximum"], positive["value"]) == (
        "integer", 1, 10, 8)
    body = {"base": "cci-2023", "title": "ИКЦ-2023 с порогом 9",
            "changes": {"parameter:positive_min": 9}}
    assert client.post("/api/v1/derived-versions", json=body, headers=analyst).status_code == 403
    bad = client.post("/api/v1/derived-versions", headers=author,
                      json={**body, "changes": {"parameter:positive_min": 0}})
    assert bad.status_code == 422 and "от 1 до 10" in bad.json["error"]["message"]
    created = client.post("/api/v1/derived-versions", json=body, headers=author)
    assert created.status_code == 201 and created.json["status"] == "draft"
    vid = created.json["id"]
    draft = f"/api/v1/methodologies/draft-{vid}"
    assert client.get(draft, headers=analyst).status_code == 404  # the owners' work
    assert client.get(draft, headers=author).json["overrides"] == {"parameter:positive_min": 9}
    assert client.post(f"/api/v1/derived-versions/{vid}/submit", headers=author).status_code == 200
    own = client.post(f"/api/v1/derived-versions/{vid}/approve", headers=author)
    assert own.status_code == 409
    published = client.post(f"/api/v1/derived-versions/{vid}/approve", headers=reviewer)
    assert published.status_code == 200 and published.json["key"] == "cci-2023-1"
    locked = client.patch(f"/api/v1/derived-versions/{vid}", headers=author,
                          json={"changes": {"parameter:positive_min": 7}})
    assert locked.status_code == 409
    listed = {m["key"]: m for m in client.get("/api/v1/methodologies",
                                               headers=analyst).json["items"]}
    assert listed["cci-2023-1"]["derived_from"] == "cci-2023" and listed["cci-2023-1"]["offered"]
    assert listed["cci-2023"]["offered"] and listed["cci-2023"]["derived_from"] is None
    full = client.get("/api/v1/methodologies/cci-2023-1", headers=analyst).json
    assert {p["key"]: p["value"] for p in full["parameters"]}["positive_min"] == 9
    log = client.get("/api/v1/methodologies/cci-2023/change-log", headers=analyst).json
    assert len(log["items"]) == 10 and log["items"][2]["number"] == 3


def test_the_registry_offers_packaged_and_published_versions_alike(app, owners, tenants):
    key = _published(app, owners, "cci-2022", "Пилот с выборкой 5", {"parameter:min_sample": 5})
    sets = _sets(app)
    with app.app_context():
        assert list(sets)[-1] == key and len(sets) == len(list(sets))
        assert None not in sets and "cci-2022-99" not in sets  # a missing value, an unknown key
        derived = sets[key]
        assert type(derived) is type(sets["cci-2022"])  # the base's formula
        assert derived.based_on == "cci-2022" and derived.version.endswith("-1")
        # a version derived from a derived one is built on it
        again = _published(app, owners, key, "Пилот с выборкой 5 и порогом 8",
                           {"parameter:positive_min": 8})
        assert again == f"{key}-1"
        twice = sets[again]
        assert (twice.parameter("min_sample"), twice.parameter("positive_min")) == (5, 8)
