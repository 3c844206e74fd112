"""/api/v1: tokens (CLI and UI), bearer auth, scoping, JSON errors and the OpenAPI document."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from jsonschema import Draft202012Validator
from jsonschema import FormatChecker
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from cci import create_app
from cci.foundation import tenancy
from cci.foundation.db import Base
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import ApiToken
from cci.foundation.models import AuditEntry
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import User
from cci.foundation.tokens import revoke
from cci.web.api.docs import UndocumentedRoute
from cci.web.api.docs import build_spec
from cci.web.api.docs import operation
from conftest import TEST_CONFIG
from conftest import region_id

UNAUTHORIZED_RU = "Требуется действующий API-токен."
NOT_FOUND_RU = "Не найдено."
SPEC_URI = "urn:cci:openapi"


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def token_for(app, runner, make_user):
    """token_for(role, region=None, email=None) -> (email, token), through `cci tokens create`."""

    def issue(role: str, region: str | None = None, email: str | None = None):
        email = make_user(role, region, email=email)
        result = runner.invoke(args=["tokens", "create", "--email", email])
        assert result.exit_code == 0, result.output
        return email, result.output.splitlines()[-1]

    return issue


def _get(client, url: str, token: str | None = None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(url, headers=headers)


def _assert_error(response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    if message is not None:
        assert body["error"]["message"] == message
    assert re.search("[а-яА-Я]", body["error"]["message"])  # Russian
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    else:
        assert "WWW-Authenticate" not in response.headers


def _office(app, code: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


def _job(app, region: str | None, **fields) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        job = JobRecord(
            rq_id=str(uuid.uuid4()),
            name="tenants.sync",
            title="Тестовая задача",
            region_id=region_id(app, region) if region else None,
            **fields,
        )
        db.add(job)
        db.commit()
        return job.id


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        for row in rows:
            db.expunge(row)
        return rows


# --- cci tokens create ----------------------------------------------------------------------


def test_cli_token_is_alone_on_the_last_line(app, client, runner, make_user):
    email = make_user("regional_admin", "RU-BRY")
    result = runner.invoke(args=["tokens", "create", "--email", email, "--name", "BI export"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    token = lines[-1]
    assert re.fullmatch(r"cci_[A-Za-z0-9_-]{40,}", token)
    assert len(lines) >= 2 and token not in "\n".join(lines[:-1])
    assert "RU-BRY" in lines[-2] and "BI export" in lines[-2]
    me = _get(client, "/api/v1/me", token)
    assert me.status_code == 200
    assert me.get_json()["email"] == email
    [entry] = _audit(app, "token.create")
    assert entry.actor == "system: cci tokens create"
    assert entry.after["user"] == email and entry.after["name"] == "BI export"
    assert token not in str(entry.after) and token[len("cci_"):] not in str(entry.after)


def test_cli_tokens_differ_each_time(runner, make_user):
    email = make_user("federal_analyst")
    first = runner.invoke(args=["tokens", "create", "--email", email]).output.splitlines()[-1]
    second = runner.invoke(args=["tokens", "create", "--email", email]).output.splitlines()[-1]
    assert first != second


def test_cli_token_for_unknown_or_inactive_user_fails(app, runner, make_user):
    result = runner.invoke(args=["tokens", "create", "--email", "nobody@example.ru"])
    assert result.exit_code != 0
    assert "no active user 'nobody@example.ru'" in result.output
    email = make_user("operator", "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(User).where(User.email == email)).active = False
        db.commit()
    assert runner.invoke(args=["tokens", "create", "--email", email]).exit_code != 0
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalars(select(ApiToken)).all() == []


def test_cli_token_for_regional_user_without_region_fails_before_issuing(app, runner,
                                                                        make_user):
    # a regional role whose region was taken away (by hand in the database): its token
    # would read no region, and before the check the token was stored but never shown
    email = make_user("operator", "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(User).where(User.email == email)).region_id = None
        db.commit()
    result = runner.invoke(args=["tokens", "create", "--email", email])
    assert result.exit_code != 0
    assert f"user '{email}' has a regional role but no region" in result.output
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalars(select(ApiToken)).all() == []


# --- bearer authentication -----------------------------------------------------------------


PROTECTED = ["/api/v1/me", "/api/v1/regions", "/api/v1/regions/RU-BRY",
             "/api/v1/regions/RU-BRY/offices", "/api/v1/offices/1", "/api/v1/jobs/1"]


@pytest.mark.parametrize("url", PROTECTED)
def test_missing_token_is_401_json(client, tenants, url):
    response = _get(client, url)
    _assert_error(response, 401, "unauthorized", UNAUTHORIZED_RU)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="cci"'


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token cci_abc", "cci_abc"],
)
def test_malformed_authorization_is_401(client, tenants, header):
    response = _get(client, "/api/v1/me", Authorization=header)
    _assert_error(response, 401, "unauthorized", UNAUTHORIZED_RU)


@pytest.mark.parametrize("token", ["cci_not-a-real-token", "not-even-prefixed", "cci_"])
def test_invalid_token_is_401(client, tenants, token):
    _assert_error(_get(client, "/api/v1/me", token), 401, "invalid_token", UNAUTHORIZED_RU)


def test_a_session_cookie_is_not_enough(client, make_user, login):
    login(make_user("admin"))
    assert client.get("/federal/").status_code == 200
    _assert_error(_get(client, "/api/v1/me"), 401, "unauthorized")


def test_scheme_is_case_insensitive(client, token_for):
    _, token = token_for("federal_analyst")
    response = client.get("/api/v1/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_token_of_a_deactivated_user_stops_working(app, client, token_for):
    email, token = token_for("operator", "RU-BRY")
    assert _get(client, "/api/v1/me", token).status_code == 200
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(User).where(User.email == email)).active = False
        db.commit()
    _assert_error(_get(client, "/api/v1/me", token), 401, "invalid_token")


def test_use_is_recorded(app, client, token_for):
    _, token = token_for("federal_analyst")
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(ApiToken.last_used_at)) is None
    _get(client, "/api/v1/me", token)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(ApiToken.last_used_at)) is not None


# --- resources and scoping ------------------------------------------------------------------


def test_me(client, token_for):
    email, token = token_for("regional_admin", "RU-YAR")
    body = _get(client, "/api/v1/me", token).get_json()
    assert body["email"] == email
    assert body["role"] == "regional_admin"
    assert body["region"] == "RU-YAR" and body["scope"] == "RU-YAR"
    email, token = token_for("federal_analyst")
    body = _get(client, "/api/v1/me", token).get_json()
    assert body["email"] == email and body["region"] is None and body["scope"] == "federal"


def test_federal_token_reads_every_region(app, client, token_for):
    _, token = token_for("federal_analyst")
    items = _get(client, "/api/v1/regions", token).get_json()["items"]
    codes = [r["code"] for r in items]
    assert len(codes) == 13 and codes == sorted(codes)
    assert "RU-BRY" in codes and "RU-TAM" in codes
    bry = _get(client, "/api/v1/regions/RU-BRY", token).get_json()
    assert bry["name"] == "Брянская область"
    assert bry["network_type"] == "centralized"
    offices = _get(client, "/api/v1/regions/RU-TAM/offices", token).get_json()["items"]
    assert offices and all(o["region"] == "RU-TAM" for o in offices)
    assert next(r for r in items if r["code"] == "RU-TAM")["office_count"] == len(offices)
    office_id = _office(app, "BRY-02")
    office = _get(client, f"/api/v1/offices/{office_id}", token).get_json()
    assert office["code"] == "BRY-02" and office["region"] == "RU-BRY"
    for job_region in ("RU-TAM", None):
        job_id = _job(app, job_region)
        assert _get(client, f"/api/v1/jobs/{job_id}", token).get_json()["id"] == job_id


def test_regional_token_reads_only_its_region(app, client, token_for):
    _, token = token_for("operator", "RU-BRY")
    items = _get(client, "/api/v1/regions", token).get_json()["items"]
    assert [r["code"] for r in items] == ["RU-BRY"]
    assert _get(client, "/api/v1/regions/RU-BRY", token).status_code == 200
    offices = _get(client, "/api/v1/regions/RU-BRY/offices", token).get_json()["items"]
    assert {o["code"] for o in offices} == {"BRY-01", "BRY-02"}
    assert _get(client, f"/api/v1/offices/{_office(app, 'BRY-01')}", token).status_code == 200
    own_job = _job(app, "RU-BRY", status="running", progress=0.5, message="Идёт")
    body = _get(client, f"/api/v1/jobs/{own_job}", token).get_json()
    assert body["status"] == "running" and body["progress"] == 0.5
    # another region's, or federal, data does not exist for this token
    for url in ("/api/v1/regions/RU-TAM", "/api/v1/regions/RU-TAM/offices",
                f"/api/v1/offices/{_office(app, 'TAM-01')}",
                f"/api/v1/jobs/{_job(app, 'RU-TAM')}", f"/api/v1/jobs/{_job(app, None)}"):
        _assert_error(_get(client, url, token), 404, "not_found", NOT_FOUND_RU)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/regions/RU-XXX", "/api/v1/regions/RU-XXX/offices", "/api/v1/offices/999999",
     "/api/v1/jobs/999999", "/api/v1/no-such-thing", "/api/v1/offices/not-a-number"],
)
def test_unknown_resource_is_404_json(client, token_for, url):
    _, token = token_for("admin")
    _assert_error(_get(client, url, token), 404, "not_found", NOT_FOUND_RU)


def test_wrong_method_is_405_json(client, token_for):
    _, token = token_for("admin")
    response = client.post("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    _assert_error(response, 405, "method_not_allowed")


# --- tokens are stored hashed ---------------------------------------------------------------


def _all_stored_text(app) -> str:
    """Every value of every table, as text."""
    chunks = []
    with app.app_context(), tenancy.federal_scope("test"):
        connection = db.connection()
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def test_token_is_stored_only_as_a_hash(app, client, token_for, login, make_user):
    email, cli_token = token_for("regional_admin", "RU-BRY")
    login(email)
    page = client.post("/account/tokens", data={"name": "ui"}).get_data(as_text=True)
    ui_token = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', page).group(1)
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        stored = {(r.token_hash, r.prefix) for r in rows}
    for token in (cli_token, ui_token):
        assert (hashlib.sha256(token.encode()).hexdigest(), token[:10]) in stored
    everything = _all_stored_text(app)
    for token in (cli_token, ui_token):
        assert token not in everything
        assert token[10:] not in everything  # nothing beyond the shown prefix
        assert token[10:30] not in everything


# --- tokens in the interface ----------------------------------------------------------------


def _new_token(page: str) -> str | None:
    match = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', page)
    return match.group(1) if match else None


def test_ui_token_is_shown_once_and_works(app, client, make_user, login):
    email = make_user("operator", "RU-PSK")
    login(email)
    page = client.get("/account/tokens")
    assert page.status_code == 200
    assert "Токенов пока нет." in page.get_data(as_text=True)
    response = client.post("/account/tokens", data={"name": "Выгрузка в BI"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    token = _new_token(page)
    assert token and token.startswith("cci_")
    assert "он показывается только один раз" in page
    assert "Выгрузка в BI" in page and f"<code>{token[:10]}…</code>" in page
    again = client.get("/account/tokens").get_data(as_text=True)
    assert _new_token(again) is None and token not in again
    assert f"<code>{token[:10]}…</code>" in again
    body = _get(client, "/api/v1/me", token).get_json()
    assert body["email"] == email and body["scope"] == "RU-PSK"
    [entry] = _audit(app, "token.create")
    assert entry.actor == email and entry.after == {"name": "Выгрузка в BI", "prefix": token[:10]}
    assert entry.region_id == region_id(app, "RU-PSK")


def test_ui_token_needs_a_name(app, client, make_user, login):
    login(make_user("federal_analyst"))
    response = client.post("/account/tokens", data={"name": ""})
    assert _new_token(response.get_data(as_text=True)) is None
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalars(select(ApiToken)).all() == []


def test_ui_revocation_is_audited_and_effective(app, client, make_user, login):
    email = make_user("regional_admin", "RU-BRY")
    login(email)
    token = _new_token(client.post("/account/tokens", data={"name": "temp"}).get_data(True))
    assert _get(client, "/api/v1/me", token).status_code == 200
    with app.app_context(), tenancy.federal_scope("test"):
        token_id = db.scalar(select(ApiToken.id))
    assert client.get(f"/account/tokens/{token_id}/revoke").status_code == 405
    response = client.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/tokens"
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "Токен «temp» отозван." in page
    assert "отозван <time" in page  # the row shows when
    _assert_error(_get(client, "/api/v1/me", token), 401, "invalid_token", UNAUTHORIZED_RU)
    [entry] = _audit(app, "token.revoke")
    assert entry.actor == email
    assert entry.object_type == "ApiToken" and entry.object_id == str(token_id)
    assert entry.after == {"name": "temp", "prefix": token[:10]}
    assert entry.region_id == region_id(app, "RU-BRY")
    # revoking again changes nothing that matters and is still refused for the API
    client.post(f"/account/tokens/{token_id}/revoke")
    _assert_error(_get(client, "/api/v1/me", token), 401, "invalid_token")


def test_revoked_token_from_the_cli_is_401(app, client, token_for):
    _, token = token_for("federal_analyst")
    with app.app_context(), tenancy.federal_scope("test"):
        revoke(db.scalar(select(ApiToken)))
        db.commit()
    response = _get(client, "/api/v1/regions", token)
    _assert_error(response, 401, "invalid_token", UNAUTHORIZED_RU)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="cci"'


def test_cannot_revoke_someone_elses_token(app, client, make_user, login, token_for):
    _, token = token_for("regional_admin", "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        token_id = db.scalar(select(ApiToken.id))
    login(make_user("regional_admin", "RU-BRY"))  # same region, another person
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert _get(client, "/api/v1/me", token).status_code == 200
    assert _audit(app, "token.revoke") == []
    # and the other person's tokens are not listed
    assert token[:10] not in client.get("/account/tokens").get_data(as_text=True)


def test_tokens_page_needs_login(client, tenants):
    response = client.get("/account/tokens")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- the OpenAPI document --------------------------------------------------------------------


@pytest.fixture
def spec(client, tenants):
    response = client.get("/api/v1/openapi.json")  # public: no token needed
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_openapi_document_is_valid(spec):
    validate(spec)  # raises on an invalid document
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_openapi_catches_an_invalid_document(spec):
    """The validator is really used: a broken document fails."""
    broken = {**spec, "paths": {"/api/v1/me": {"get": {"responses": "nope"}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app, spec):
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert len(routes) >= 7
    for rule in routes:
        if rule.endpoint == "api.openapi":
            continue
        path = _openapi_path(rule.rule)
        assert path in spec["paths"], rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = spec["paths"][path][method.lower()]
            assert op["summary"]
            assert op["security"] == [{"bearer": []}]
            assert "401" in op["responses"]
    for path in ("/api/v1/me", "/api/v1/regions", "/api/v1/regions/{code}",
                 "/api/v1/regions/{code}/offices", "/api/v1/offices/{office_id}",
                 "/api/v1/jobs/{job_id}"):
        assert "get" in spec["paths"][path], path
    office = spec["paths"]["/api/v1/offices/{office_id}"]["get"]
    assert office["parameters"][0] == {
        "name": "office_id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    }
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_undocumented_route_makes_build_spec_fail(tenants):
    fresh = create_app(TEST_CONFIG)
    try:
        build_spec(fresh)  # as built: complete

        def documented():
            return {}

        fresh.add_url_rule("/api/v1/extra-documented", "extra_documented",
                           operation("Extra", tags=["test"])(documented))
        assert "/api/v1/extra-documented" in build_spec(fresh)["paths"]

        def undocumented():
            return {}

        fresh.add_url_rule("/api/v1/extra/<int:thing_id>", "extra_undocumented", undocumented)
        with pytest.raises(UndocumentedRoute, match="/api/v1/extra/<int:thing_id>"):
            build_spec(fresh)
        # the public document refuses to lie as well
        with pytest.raises(UndocumentedRoute):
            fresh.test_client().get("/api/v1/openapi.json")
    finally:
        fresh.extensions["cci.engine"].dispose()


def test_routes_outside_the_api_need_no_documentation(tenants):
    fresh = create_app(TEST_CONFIG)
    try:
        fresh.add_url_rule("/not-api/thing", "not_api", lambda: "")
        build_spec(fresh)
    finally:
        fresh.extensions["cci.engine"].dispose()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _validator(spec: dict, pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` in the document, $refs resolved through it."""
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry, format_checker=FormatChecker()
    )


def _response_pointer(path: str, method: str, status: str) -> str:
    return f"/paths/{_escape(path)}/{method}/responses/{status}/content/application~1json/schema"


def test_schema_validation_is_strict(spec):
    """The response schemas do reject wrong data (so the test below proves something)."""
    region = _validator(spec, _response_pointer("/api/v1/regions/{code}", "get", "200"))
    good = {"code": "RU-BRY", "name": "x", "network_type": "centralized",
            "timezone": "Europe/Moscow", "is_sample": True, "office_count": 2}
    region.validate(good)
    for bad in ({**good, "code": "bry"}, {**good, "extra": 1},
                {k: v for k, v in good.items() if k != "name"}, {**good, "office_count": "2"}):
        assert not region.is_valid(bad), bad
    job = _validator(spec, _response_pointer("/api/v1/jobs/{job_id}", "get", "200"))
    assert not job.is_valid({"id": 1, "name": "n", "title": "t", "status": "queued",
                             "progress": 0, "message": "", "created_at": "yesterday"})


def test_every_documented_get_matches_its_schema(app, client, spec, token_for):
    _, token = token_for("admin")
    job_id = _job(app, "RU-BRY", status="finished", progress=1.0, attempts=1,
                  result={"changed": 3})
    with app.app_context(), tenancy.federal_scope("test"):
        job = db.get(JobRecord, job_id)
        job.started_at = job.finished_at = utcnow()
        db.commit()
    queued_job = _job(app, None)
    values = {"code": ["RU-BRY", "RU-TAM"], "office_id": [_office(app, "BRY-01")],
              "job_id": [job_id, queued_job]}
    core = {"/api/v1/me", "/api/v1/regions", "/api/v1/regions/{code}",
            "/api/v1/regions/{code}/offices", "/api/v1/offices/{office_id}",
            "/api/v1/jobs/{job_id}"}
    checked, skipped = set(), set()
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        names = re.findall(r"\{(\w+)\}", path)
        if any(name not in values for name in names):
            skipped.add(path)  # another module's resources, tested with their own data
            continue
        urls = [path]
        for name in names:
            urls = [u.replace("{" + name + "}", str(v)) for u in urls for v in values[name]]
        success = next(s for s in operations["get"]["responses"] if s.startswith("2"))
        validator = _validator(spec, _response_pointer(path, "get", success))
        for url in urls:
            response = _get(client, url, token)
            assert str(response.status_code) == success, (url, response.get_data(True)[:300])
            errors = [e.message for e in validator.iter_errors(response.get_json())]
            assert not errors, (url, errors)
        checked.add(path)
    assert core <= checked, (core - checked, skipped)


def test_error_responses_match_the_error_schema(client, spec, token_for):
    _, token = token_for("admin")
    error = _validator(spec, "/components/responses/Error/content/application~1json/schema")
    for response in (_get(client, "/api/v1/me"), _get(client, "/api/v1/me", "cci_bad"),
                     _get(client, "/api/v1/offices/999999", token)):
        assert response.status_code in (401, 404)
        error.validate(response.get_json())
    assert not error.is_valid({"error": {"code": "x"}})
