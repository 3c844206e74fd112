"""Users: the `cci users` commands, the admin pages, the audit log and changing one's password."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import Office
from cci.foundation.models import User
from cci.foundation.passwords import MIN_LENGTH
from cci.foundation.passwords import verify_password
from conftest import PASSWORD
from conftest import Statements
from conftest import region_id

NEW_PASSWORD = "another-long-secret-42"
TOO_COMMON = "Этот пароль слишком легко угадать, выберите другой."


# --- helpers ------------------------------------------------------------------------------


def _user(app, email: str) -> User | None:
    with app.app_context(), tenancy.federal_scope("test"):
        user = db.scalar(select(User).where(User.email == email))
        if user is not None:
            db.expunge(user)
        return user


def _count(app, model) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(func.count()).select_from(model))


def _audit(app, action: str | None = None) -> list[dict]:
    """Audit entries (oldest first) as plain dicts."""
    with app.app_context(), tenancy.federal_scope("test"):
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return [
            {
                "at": e.at,
                "actor_id": e.actor_id,
                "actor": e.actor,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "before": e.before,
                "after": e.after,
                "region_id": e.region_id,
                "ip": e.ip,
            }
            for e in db.scalars(query)
        ]


def _recent(moment: dt.datetime) -> bool:
    now = dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:  # SQLite gives naive UTC back
        moment = moment.replace(tzinfo=dt.UTC)
    return now - dt.timedelta(minutes=2) < moment <= now + dt.timedelta(seconds=5)


def _can_log_in(app, email: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"email": email, "password": password})
    return response.status_code == 302


def _errors(page: str) -> list[str]:
    return re.findall(r'<p class="field__error" role="alert">([^<]*)</p>', page)


def _office_id(app, code: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(Office.id).where(Office.code == code))


# --- cci users create ---------------------------------------------------------------------


def test_cli_create_with_password_from_stdin(app, runner, tenants):
    result = runner.invoke(
        args=["users", "create", "--email", "Op@Example.RU", "--role", "operator",
              "--region", "RU-BRY", "--name", "Иван Петров", "--password-stdin"],
        input="stdin-password-123\n",
    )
    assert result.exit_code == 0, result.output
    assert "created op@example.ru (operator)" in result.output
    assert "password:" not in result.output  # nothing to print: the operator chose it
    assert "stdin-password-123" not in result.output
    user = _user(app, "op@example.ru")
    assert user.role == "operator"
    assert user.region_id == region_id(app, "RU-BRY")
    assert user.full_name == "Иван Петров"
    assert user.active
    assert verify_password(user.password_hash, "stdin-password-123")
    assert _can_log_in(app, "op@example.ru", "stdin-password-123")
    [entry] = _audit(app, "user.create")
    assert entry["actor"] == "system: cci users create"
    assert entry["actor_id"] is None
    assert entry["object_type"] == "User" and entry["object_id"] == str(user.id)
    assert entry["after"]["email"] == "op@example.ru"
    assert entry["after"]["role"] == "operator"
    assert entry["region_id"] == user.region_id
    assert "stdin-password-123" not in json.dumps(entry, default=str)


def test_cli_create_generates_a_password_once(app, runner, tenants):
    result = runner.invoke(args=["users", "create", "--email", "fa@example.ru",
                                 "--role", "federal_analyst"])
    assert result.exit_code == 0, result.output
    match = re.search(r"^password: (\S+)$", result.output, re.M)
    assert match, result.output
    password = match.group(1)
    assert len(password) >= MIN_LENGTH
    assert "/account/password" in result.output  # where to change it
    assert _user(app, "fa@example.ru").region_id is None
    assert _can_log_in(app, "fa@example.ru", password)
    second = runner.invoke(args=["users", "create", "--email", "fa2@example.ru",
                                 "--role", "federal_analyst"])
    assert re.search(r"^password: (\S+)$", second.output, re.M).group(1) != password


def test_cli_create_binds_an_office(app, runner, tenants):
    result = runner.invoke(
        args=["users", "create", "--email", "kiosk@example.ru", "--role", "operator",
              "--region", "RU-BRY", "--office", "BRY-02", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert _user(app, "kiosk@example.ru").office_id == _office_id(app, "BRY-02")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "superuser"], "Неизвестная роль superuser."),
        (["--role", "operator"], "Для региональной роли нужно указать регион."),
        (["--role", "regional_admin"], "Для региональной роли нужно указать регион."),
        (["--role", "admin", "--region", "RU-BRY"], "Федеральная роль не привязывается к региону."),
        (["--role", "federal_analyst", "--region", "RU-BRY"],
         "Федеральная роль не привязывается к региону."),
        (["--role", "operator", "--region", "RU-XXX"], "Неизвестный регион RU-XXX."),
        (["--role", "operator", "--region", "RU-BRY", "--office", "TAM-01"],
         "no office 'TAM-01' in region 'RU-BRY'"),
    ],
)
def test_cli_create_refuses_bad_input(app, runner, tenants, args, message):
    users_before, audit_before = _count(app, User), _count(app, AuditEntry)
    result = runner.invoke(
        args=["users", "create", "--email", "bad@example.ru", *args, "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code != 0
    assert f"Error: {message}" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _user(app, "bad@example.ru") is None
    assert (_count(app, User), _count(app, AuditEntry)) == (users_before, audit_before)


def test_cli_create_refuses_duplicate_email(app, runner, make_user):
    existing = make_user("operator", "RU-BRY", email="dup@example.ru")
    users_before, audit_before = _count(app, User), _count(app, AuditEntry)
    result = runner.invoke(
        args=["users", "create", "--email", " DUP@example.ru ", "--role", "auditor",
              "--region", "RU-TAM", "--password-stdin"],
        input="some-other-password\n",
    )
    assert result.exit_code != 0
    assert "Error: Пользователь с таким адресом эл. почты уже существует." in result.output
    assert (_count(app, User), _count(app, AuditEntry)) == (users_before, audit_before)
    user = _user(app, existing)
    assert user.role == "operator"  # the existing account is untouched
    assert verify_password(user.password_hash, PASSWORD)


def test_cli_create_refuses_short_or_missing_password(app, runner, tenants):
    short = runner.invoke(
        args=["users", "create", "--email", "s@example.ru", "--role", "admin",
              "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0
    assert f"не менее {MIN_LENGTH} символов" in short.output
    empty = runner.invoke(
        args=["users", "create", "--email", "s@example.ru", "--role", "admin",
              "--password-stdin"],
        input="",
    )
    assert empty.exit_code != 0
    assert "no password on standard input" in empty.output
    assert _count(app, User) == 0


def test_cli_create_refuses_a_common_password(app, runner, tenants):
    result = runner.invoke(
        args=["users", "create", "--email", "c@example.ru", "--role", "admin",
              "--password-stdin"],
        input="1234567890\n",
    )
    assert result.exit_code != 0
    assert TOO_COMMON in result.output
    assert _count(app, User) == 0


def test_the_common_passwords_come_from_zxcvbns_list():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    from cci.foundation.passwords import common_passwords

    listed = [word for word in FREQUENCY_LISTS["passwords"] if len(word) >= MIN_LENGTH]
    assert len(common_passwords()) > 25_000 and len(listed) > 1_000
    assert {word.lower() for word in listed} <= common_passwords()
    assert PASSWORD.lower() not in common_passwords()


# --- cci users ensure-admin ---------------------------------------------------------------


def test_ensure_admin_is_idempotent(app, runner, tenants):
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0, first.output
    password = re.search(r"^password: (\S+)$", first.output, re.M).group(1)
    assert "log in as admin@cci.local" in first.output
    assert "/account/password" in first.output.splitlines()[-1]
    admin = _user(app, "admin@cci.local")
    assert admin.role == "admin" and admin.region_id is None
    assert _can_log_in(app, "admin@cci.local", password)

    again = runner.invoke(args=["users", "ensure-admin"])
    assert again.exit_code == 0, again.output
    assert "an administrator exists" in again.output
    assert "password:" not in again.output
    assert _count(app, User) == 1
    assert verify_password(_user(app, "admin@cci.local").password_hash, password)
    assert len(_audit(app, "user.create")) == 1


def test_ensure_admin_respects_an_existing_admin_with_another_email(app, runner, make_user):
    make_user("admin", email="boss@example.ru")
    result = runner.invoke(args=["users", "ensure-admin", "--email", "other@example.ru"])
    assert result.exit_code == 0
    assert "an administrator exists" in result.output
    assert _user(app, "other@example.ru") is None


def test_ensure_admin_creates_one_when_only_other_roles_exist(app, runner, make_user):
    make_user("federal_analyst")
    make_user("regional_admin", "RU-BRY")
    result = runner.invoke(args=["users", "ensure-admin", "--email", "root@example.ru"])
    assert result.exit_code == 0, result.output
    assert _user(app, "root@example.ru").role == "admin"


# --- the admin pages: creating users -------------------------------------------------------


def _create_form(email, role, region="", password=PASSWORD, office="", full_name=""):
    return {"email": email, "role": role, "region": region, "office": office,
            "password": password, "full_name": full_name}


def test_admin_creates_a_regional_user(app, client, make_user, login):
    admin = make_user("admin")
    login(admin)
    page = client.get("/federal/admin/users")
    assert page.status_code == 200
    assert "Новый пользователь" in page.get_data(as_text=True)
    response = client.post(
        "/federal/admin/users",
        data=_create_form("New.Op@example.ru", "operator", "RU-YAR", full_name="Ольга"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/federal/admin/users"
    listing = client.get("/federal/admin/users").get_data(as_text=True)
    assert "Пользователь new.op@example.ru создан." in listing
    assert "new.op@example.ru" in listing
    user = _user(app, "new.op@example.ru")
    assert user.role == "operator" and user.region_id == region_id(app, "RU-YAR")
    assert user.full_name == "Ольга"
    assert _can_log_in(app, "new.op@example.ru", PASSWORD)

    [entry] = _audit(app, "user.create")
    assert entry["actor"] == admin
    assert entry["actor_id"] == _user(app, admin).id
    assert _recent(entry["at"])
    assert entry["object_type"] == "User" and entry["object_id"] == str(user.id)
    assert entry["before"] is None
    assert entry["after"] == {
        "email": "new.op@example.ru", "full_name": "Ольга", "role": "operator",
        "region_id": user.region_id, "office_id": None, "active": True,
    }
    assert entry["region_id"] == user.region_id
    assert entry["ip"] == "127.0.0.1"
    assert PASSWORD not in json.dumps(entry, default=str)


def test_admin_creates_a_federal_user_with_a_one_time_password(app, client, make_user, login):
    login(make_user("admin"))
    response = client.post(
        "/federal/admin/users",
        data=_create_form("analyst@example.ru", "federal_analyst", "", password=""),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Одноразовый пароль" in page
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert len(password) >= MIN_LENGTH
    assert _user(app, "analyst@example.ru").region_id is None
    assert _can_log_in(app, "analyst@example.ru", password)
    # shown once: the listing does not show it again
    assert password not in client.get("/federal/admin/users").get_data(as_text=True)


def test_a_password_an_administrator_gave_opens_only_the_page_that_changes_it(
        app, client, make_user, login):
    login(make_user("admin"))
    page = client.post("/federal/admin/users", data=_create_form(
        "newcomer@example.ru", "operator", "RU-BRY", password="")).get_data(as_text=True)
    given = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    client.post("/logout")
    login("newcomer@example.ru", given)
    for path in ("/r/RU-BRY/", "/r/RU-BRY/results", "/notifications/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/password"
    page = client.get("/account/password").get_data(as_text=True)
    assert "Пароль выдан администратором: задайте свой" in page
    assert client.get("/api/v1/me").status_code != 302  # the API is not a session's
    response = client.post("/account/password", data={
        "current_password": given, "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/r/RU-BRY/").status_code == 200
    assert _user(app, "newcomer@example.ru").password_must_change is False


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (_create_form("x@example.ru", "operator", ""),
         "Для региональной роли нужно указать регион."),
        (_create_form("x@example.ru", "admin", "RU-BRY"),
         "Федеральная роль не привязывается к региону."),
        (_create_form("x@example.ru", "operator", "RU-BRY", password="short"), None),
        (_create_form("not-an-email", "operator", "RU-BRY"), None),
        (_create_form("x@example.ru", "superuser", "RU-BRY"), None),
    ],
)
def test_admin_form_refuses_bad_users(app, client, make_user, login, form, error):
    login(make_user("admin"))
    audit_before = _count(app, AuditEntry)
    response = client.post("/federal/admin/users", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    errors = _errors(page)
    assert errors, page
    if error:
        assert error in errors
    assert _user(app, form["email"]) is None
    assert _count(app, AuditEntry) == audit_before


def test_admin_form_refuses_duplicate_email(app, client, make_user, login):
    login(make_user("admin"))
    taken = make_user("operator", "RU-BRY")
    response = client.post("/federal/admin/users",
                           data=_create_form(taken.upper(), "auditor", "RU-TAM"))
    assert "Пользователь с таким адресом эл. почты уже существует." in _errors(
        response.get_data(as_text=True)
    )
    assert _user(app, taken).role == "operator"


def test_the_users_list_names_regions_and_offices_in_the_same_statements_for_many(
        app, client, make_user, login):
    """The federal list holds every region's staff: each user's region and office come with
    the users, not a statement per region and office."""
    login(make_user("admin"))

    def statements() -> tuple[str, int]:
        with Statements(app) as seen:
            page = client.get("/federal/admin/users").get_data(as_text=True)
        return page, len(seen.sql)

    make_user("operator", "RU-BRY", office_id=_office_id(app, "BRY-01"))
    _, few = statements()
    for code in ("RU-KYA", "RU-VLA", "RU-YAR", "RU-TAM", "RU-PSK"):
        make_user("regional_admin", code)
    page, many = statements()
    assert many == few
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Брянская область, BRY-01" in text and "Тамбовская область" in text


def test_regional_admin_creates_a_user_in_own_region(app, client, make_user, login):
    boss = make_user("regional_admin", "RU-BRY")
    login(boss)
    page = client.get("/r/RU-BRY/admin/users").get_data(as_text=True)
    # federal roles are not offered in a region
    assert 'value="admin"' not in page and 'value="federal_analyst"' not in page
    assert 'value="operator"' in page
    office = _office_id(app, "BRY-01")
    response = client.post(
        "/r/RU-BRY/admin/users",
        data=_create_form("clerk@example.ru", "operator", "RU-BRY", office=str(office)),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/r/RU-BRY/admin/users"
    user = _user(app, "clerk@example.ru")
    assert user.region_id == region_id(app, "RU-BRY") and user.office_id == office
    [entry] = _audit(app, "user.create")
    assert entry["actor"] == boss and entry["region_id"] == user.region_id
    assert entry["after"]["office_id"] == office


@pytest.mark.parametrize(
    "form",
    [
        _create_form("evil@example.ru", "operator", "RU-TAM"),  # another region
        _create_form("evil@example.ru", "admin", "RU-BRY"),  # a federal role
        _create_form("evil@example.ru", "federal_analyst", ""),
        _create_form("evil@example.ru", "methodology_owner", "RU-BRY"),
        _create_form("evil@example.ru", "operator", "RU-BRY", office="TAM-OFFICE"),
    ],
)
def test_regional_admin_cannot_create_outside_the_region(app, client, make_user, login, form):
    login(make_user("regional_admin", "RU-BRY"))
    if form["office"] == "TAM-OFFICE":
        form = {**form, "office": str(_office_id(app, "TAM-01"))}
    response = client.post("/r/RU-BRY/admin/users", data=form)
    assert response.status_code == 200  # the form again, not a redirect to the listing
    page = response.get_data(as_text=True)
    assert "создан" not in page
    if form["region"] == "RU-BRY":  # the region itself is a hidden field: no visible error
        assert _errors(page)
    assert _user(app, "evil@example.ru") is None
    assert _audit(app, "user.create") == []


def test_create_user_refuses_another_region_in_a_regional_scope(app, tenants):
    """The core rule under the form: a regional scope creates users of its own region only."""
    from cci.foundation.users import UserError
    from cci.foundation.users import create_user

    with app.test_request_context(), tenancy.region_scope(region_id(app, "RU-BRY")):
        with pytest.raises(UserError, match="только своего региона"):
            create_user(email="x@example.ru", role="operator", password=PASSWORD,
                        region_code="RU-TAM")
        with pytest.raises(UserError):
            create_user(email="x@example.ru", role="admin", password=PASSWORD)
        db.rollback()


def test_create_user_refuses_an_office_for_a_federal_role(app, tenants):
    """An office binds a user to its region, which a federal role never is (a clear refusal,
    not a crash on the missing region)."""
    from cci.foundation.users import UserError
    from cci.foundation.users import create_user

    with app.test_request_context(), tenancy.federal_scope("test"):
        office_id = db.scalar(select(Office.id).where(
            Office.region_id == region_id(app, "RU-BRY")).limit(1))
        with pytest.raises(UserError, match="Федеральная роль не привязывается к региону"):
            create_user(email="x@example.ru", role="federal_analyst", password=PASSWORD,
                        office_id=office_id)
        assert db.scalar(select(User).where(User.email == "x@example.ru")) is None
        db.rollback()


def test_regional_admin_cannot_open_other_areas(client, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    assert client.get("/r/RU-BRY/admin/users").status_code == 200
    assert client.get("/r/RU-TAM/admin/users").status_code == 404
    assert client.get("/federal/admin/users").status_code == 404
    assert client.post("/r/RU-TAM/admin/users",
                       data=_create_form("e@example.ru", "operator", "RU-TAM")).status_code == 404


@pytest.mark.parametrize(("role", "region"), [("auditor", "RU-BRY"), ("operator", "RU-BRY")])
def test_non_admins_get_403_on_admin_pages(app, client, make_user, login, role, region):
    login(make_user(role, region))
    for url in ("/r/RU-BRY/admin/users", "/r/RU-BRY/admin/audit"):
        response = client.get(url)
        assert response.status_code == 403, url
    response = client.post("/r/RU-BRY/admin/users",
                           data=_create_form("sneaky@example.ru", "operator", "RU-BRY"))
    assert response.status_code == 403
    assert _user(app, "sneaky@example.ru") is None


@pytest.mark.parametrize("role", ["federal_analyst", "methodology_owner"])
def test_federal_non_admins_get_403(client, make_user, login, role):
    login(make_user(role))
    assert client.get("/federal/admin/users").status_code == 403
    assert client.get("/federal/admin/audit").status_code == 403


def test_admin_pages_need_login(client, tenants):
    response = client.get("/federal/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- deactivating and activating ----------------------------------------------------------


def test_regional_admin_deactivates_and_activates(app, client, make_user, login):
    boss = make_user("regional_admin", "RU-BRY")
    worker = make_user("operator", "RU-BRY")
    worker_id = _user(app, worker).id
    login(boss)

    response = client.post(f"/r/RU-BRY/admin/users/{worker_id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert f"Пользователь {worker} отключён." in client.get("/r/RU-BRY/admin/users").get_data(
        as_text=True
    )
    assert _user(app, worker).active is False
    assert not _can_log_in(app, worker, PASSWORD)

    client.post(f"/r/RU-BRY/admin/users/{worker_id}/active", data={"active": "1"})
    assert _user(app, worker).active is True
    assert _can_log_in(app, worker, PASSWORD)

    deactivate, activate = _audit(app, "user.deactivate"), _audit(app, "user.activate")
    assert len(deactivate) == 1 and len(activate) == 1
    assert deactivate[0]["actor"] == boss and activate[0]["actor"] == boss
    assert deactivate[0]["before"]["active"] is True and deactivate[0]["after"]["active"] is False
    assert activate[0]["before"]["active"] is False and activate[0]["after"]["active"] is True
    assert deactivate[0]["before"]["email"] == worker
    assert deactivate[0]["object_id"] == str(worker_id)
    assert deactivate[0]["region_id"] == region_id(app, "RU-BRY")
    assert _recent(deactivate[0]["at"]) and _recent(activate[0]["at"])


def test_regional_admin_cannot_touch_other_regions_or_federal_users(app, client, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    outsider = _user(app, make_user("operator", "RU-TAM"))
    federal = _user(app, make_user("federal_analyst"))
    for user in (outsider, federal):
        response = client.post(f"/r/RU-BRY/admin/users/{user.id}/active", data={"active": "0"})
        assert response.status_code == 404
        assert _user(app, user.email).active is True
    # the listing shows the region's users only
    listing = client.get("/r/RU-BRY/admin/users").get_data(as_text=True)
    assert outsider.email not in listing and federal.email not in listing
    assert _audit(app, "user.deactivate") == []


def test_admin_cannot_deactivate_self(app, client, make_user, login):
    admin = make_user("admin")
    login(admin)
    response = client.post(f"/federal/admin/users/{_user(app, admin).id}/active",
                           data={"active": "0"}, follow_redirects=True)
    assert "Нельзя отключить собственную учётную запись." in response.get_data(as_text=True)
    assert _user(app, admin).active is True
    assert _audit(app, "user.deactivate") == []


def test_admin_deactivates_anyone(app, client, make_user, login):
    login(make_user("admin"))
    for email in (make_user("federal_analyst"), make_user("operator", "RU-TAM")):
        user_id = _user(app, email).id
        assert client.post(f"/federal/admin/users/{user_id}/active",
                           data={"active": "0"}).status_code == 302
        assert _user(app, email).active is False
    assert client.post("/federal/admin/users/99999/active", data={"active": "0"}).status_code == 404


# --- the audit log pages --------------------------------------------------------------------


#: a table cell of the audit log beginning with this text (its attributes are the layout's)
CELL = r"<td[^>]*>{}"


def test_audit_log_pages_are_scoped(app, client, make_user, login):
    admin = make_user("admin")
    bry_admin = make_user("regional_admin", "RU-BRY")
    login(admin)
    for email, region in (("bry-op@example.ru", "RU-BRY"), ("tam-op@example.ru", "RU-TAM")):
        client.post("/federal/admin/users", data=_create_form(email, "operator", region))
    client.post("/federal/admin/users", data=_create_form("fed@example.ru", "federal_analyst"))

    federal = client.get("/federal/admin/audit")
    page = federal.get_data(as_text=True)
    assert federal.status_code == 200
    assert "Журнал аудита" in page
    for email in ("bry-op@example.ru", "tam-op@example.ru", "fed@example.ru"):
        assert email in page
    assert len(re.findall(CELL.format("Пользователь создан"), page)) == 3
    assert len(re.findall(CELL.format(re.escape(admin)), page)) == 3  # who
    assert page.count("<time datetime=") >= 3  # when

    client.post("/logout")
    login(bry_admin)
    regional = client.get("/r/RU-BRY/admin/audit")
    page = regional.get_data(as_text=True)
    assert regional.status_code == 200
    assert "bry-op@example.ru" in page
    assert "tam-op@example.ru" not in page
    assert "fed@example.ru" not in page
    assert len(re.findall(CELL.format("Пользователь создан"), page)) == 1
    # what was recorded is shown, field by field
    assert re.search(r'Эл\. почта:</span> bry-op@example\.ru', page)


def test_audit_log_filter_by_action(app, client, make_user, login):
    login(make_user("admin"))
    target = make_user("operator", "RU-BRY")
    user_id = _user(app, target).id
    client.post("/federal/admin/users", data=_create_form("one@example.ru", "operator", "RU-BRY"))
    client.post(f"/federal/admin/users/{user_id}/active", data={"active": "0"})
    page = client.get("/federal/admin/audit?action=user.deactivate").get_data(as_text=True)
    assert re.search(CELL.format("Пользователь отключён"), page)
    assert not re.search(CELL.format("Пользователь создан"), page)
    page = client.get("/federal/admin/audit").get_data(as_text=True)
    assert re.search(CELL.format("Пользователь отключён"), page)
    assert re.search(CELL.format("Пользователь создан"), page)


def test_admin_may_read_a_regions_audit_log(client, make_user, login):
    login(make_user("admin"))
    for email, region in (("bry@example.ru", "RU-BRY"), ("tam@example.ru", "RU-TAM")):
        client.post("/federal/admin/users", data=_create_form(email, "operator", region),
                    follow_redirects=True)  # shows, and so clears, the flash message
    page = client.get("/r/RU-BRY/admin/audit").get_data(as_text=True)
    assert "bry@example.ru" in page and "tam@example.ru" not in page


# --- changing one's password -------------------------------------------------------------------


def _change(client, current=PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "new_password_again": new if again is None else again,
    })


def test_password_page_needs_login(client, tenants):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _change(client).status_code == 302


def test_password_page_is_russian_and_linked(client, make_user, login):
    login(make_user("operator", "RU-BRY"))
    response = client.get("/account/password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Сменить пароль", "Текущий пароль", "Новый пароль", "Новый пароль ещё раз",
                 f"Не менее {MIN_LENGTH} символов."):
        assert text in page
    assert 'type="password"' in page
    assert "Change password" not in page and "Current password" not in page
    link = '<a href="/account/password">Сменить пароль</a>'
    assert link in client.get("/r/RU-BRY/").get_data(as_text=True)  # the header
    assert link in client.get("/account/tokens").get_data(as_text=True)


@pytest.mark.parametrize(
    ("current", "new", "again", "error"),
    [
        ("wrong-current-password", NEW_PASSWORD, None, "Текущий пароль указан неверно."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "Новые пароли не совпадают."),
        (PASSWORD, "short", None, f"Пароль должен содержать не менее {MIN_LENGTH} символов."),
        (PASSWORD, PASSWORD, None, "Новый пароль должен отличаться от текущего."),
        (PASSWORD, "qwerty123456", None, TOO_COMMON),
        (PASSWORD, "Password1234", None, TOO_COMMON),  # the list is read case-blind
        (PASSWORD, "ababababababab", None, TOO_COMMON),
        (PASSWORD, "federal_analyst1-2026", None, "Пароль не должен содержать адрес эл. почты."),
        ("", NEW_PASSWORD, None, None),
        (PASSWORD, "", "", None),
    ],
)
def test_password_change_refusals(app, client, make_user, login, current, new, again, error):
    email = make_user("federal_analyst")
    login(email)
    response = _change(client, current, new, again)
    assert response.status_code == 400
    errors = _errors(response.get_data(as_text=True))
    assert errors
    if error:
        assert error in errors
    assert verify_password(_user(app, email).password_hash, PASSWORD)
    assert _audit(app, "user.password_change") == []


@pytest.mark.parametrize(("role", "region"), [("federal_analyst", None), ("operator", "RU-BRY")])
def test_password_change_works_and_is_audited(app, client, make_user, login, role, region):
    email = make_user(role, region)
    old_hash = _user(app, email).password_hash
    login(email)
    response = _change(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"
    assert "Пароль изменён." in client.get("/account/password").get_data(as_text=True)
    user = _user(app, email)
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, NEW_PASSWORD)
    # the session stays; the old password no longer opens the account, the new one does
    assert client.get("/account/tokens").status_code == 200
    assert not _can_log_in(app, email, PASSWORD)
    assert _can_log_in(app, email, NEW_PASSWORD)

    [entry] = _audit(app, "user.password_change")
    assert entry["actor"] == email and entry["actor_id"] == user.id
    assert entry["object_type"] == "User" and entry["object_id"] == str(user.id)
    assert entry["region_id"] == user.region_id
    assert _recent(entry["at"])
    assert entry["before"] is None and entry["after"] is None  # no secrets, not even hashes
    dumped = json.dumps(_audit(app), default=str)
    for secret in (PASSWORD, NEW_PASSWORD, old_hash, user.password_hash):
        assert secret not in dumped


def test_password_change_ends_the_accounts_other_sessions(app, client, make_user, login):
    email = make_user("regional_admin", "RU-BRY")
    elsewhere = app.test_client()  # the same account logged in on another computer
    assert elsewhere.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    other = app.test_client()  # another account: untouched
    assert other.post("/login", data={"email": make_user("operator", "RU-BRY"),
                                      "password": PASSWORD}).status_code == 302
    login(email)
    assert elsewhere.get("/account/tokens").status_code == 200
    assert _change(client).status_code == 302
    # the session that changed the password goes on; the other one is logged out
    assert client.get("/account/tokens").status_code == 200
    response = elsewhere.get("/account/tokens")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert elsewhere.get("/r/RU-BRY/review").status_code == 302
    assert other.get("/account/tokens").status_code == 200
    # logging in again there with the new password works
    assert elsewhere.post("/login", data={"email": email,
                                          "password": NEW_PASSWORD}).status_code == 302
    assert elsewhere.get("/account/tokens").status_code == 200


def test_a_session_the_server_does_not_know_is_not_a_login(app, client, make_user, login):
    email = make_user("federal_analyst")
    other_id = _user(app, make_user("federal_analyst")).id
    login(email)
    with client.session_transaction() as session:
        user_id, key = session["_user_id"], session["login_session"]
        assert user_id == str(_user(app, email).id)
        session["_user_id"] = f"{user_id}:{'0' * 32}"  # the form an older version kept
    assert client.get("/account/tokens").status_code == 302
    with client.session_transaction() as session:
        session["_user_id"] = str(other_id)  # another account's id with this session's key
    assert client.get("/account/tokens").status_code == 302
    with client.session_transaction() as session:
        session["_user_id"], session["login_session"] = user_id, "forged-key"
    assert client.get("/account/tokens").status_code == 302
    with client.session_transaction() as session:
        session["login_session"] = key
    assert client.get("/account/tokens").status_code == 200


def test_password_change_is_in_the_regions_audit_log(client, make_user, login):
    clerk = make_user("operator", "RU-BRY")
    login(clerk)
    _change(client)
    client.post("/logout")
    login(make_user("regional_admin", "RU-BRY"))
    page = client.get("/r/RU-BRY/admin/audit").get_data(as_text=True)
    assert re.search(CELL.format("Пароль изменён"), page)
    assert clerk in page


def test_password_guessing_is_throttled(app, client, make_user, login):
    email = make_user("federal_analyst")
    login(email)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _change(client, current="guess-guess-guess").status_code == 400
    response = _change(client)  # the right current password, but too late
    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа" in response.get_data(as_text=True)
    assert verify_password(_user(app, email).password_hash, PASSWORD)
