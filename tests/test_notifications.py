"""Notifications to staff: who an event reaches (by role and office; federal analysts only for
escalations), told once per kind and subject; improvement actions due and escalated; CX cells
that turned red since the previous run; the page with its count, marking read (htmx), opening
the subject; the daily digest through a real SMTP server, once per user and day, never to
whoever chose no e-mail; the workers' round; regions kept apart."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from sqlalchemy import func
from sqlalchemy import select

from cci.foundation import notifications
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import AuditEntry
from cci.foundation.models import CxRun
from cci.foundation.models import CxTarget
from cci.foundation.models import CxValue
from cci.foundation.models import ImprovementAction
from cci.foundation.models import Notification
from cci.foundation.models import NotificationDigest
from cci.foundation.models import Office
from cci.foundation.models import User
from conftest import region_id

from mail_server import body
from mail_server import free_port
from mail_server import local_smtp
from test_improvement_actions import _make
from test_improvement_actions import region_map  # noqa: F401 - a fixture

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
HEAD = "head@bry.example.ru"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _id(app, email: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User.id).where(User.email == email))


def _offices(app, code: str) -> list[int]:
    with app.app_context(), tenancy.federal_scope("test"):
        return list(db.scalars(select(Office.id).where(Office.region_id == region_id(app, code))
                               .order_by(Office.code)))


def _readers(app, kind: str | None = None, subject: str | None = None) -> dict[str, int]:
    """{e-mail: notifications of the kind (and subject)}."""
    with app.app_context(), tenancy.federal_scope("test"):
        query = select(User.email, func.count(Notification.id)).join(
            Notification, Notification.user_id == User.id).group_by(User.email)
        if kind:
            query = query.where(Notification.kind == kind)
        if subject:
            query = query.where(Notification.subject == subject)
        return dict(db.execute(query).all())


def _notify(app, kind: str, region: str = "RU-BRY", office_id: int | None = None,
            subject: str = "s1", title: str = "Событие", users=()) -> int:
    with app.app_context(), tenancy.region_scope(region_id(app, region), "test"):
        told = notifications.notify(kind, region_id=region_id(app, region), office_id=office_id,
                                    title=title, url="/notifications/", subject=subject,
                                    users=[_id(app, u) for u in users])
        db.commit()
        return told


@pytest.fixture
def staff(app, make_user):
    """RU-BRY's head, a staff member of each of its first two offices, an administrator of
    RU-VLA, a federal analyst and a methodology owner, an inactive head."""
    first, second = _offices(app, "RU-BRY")[:2]
    people = {
        "head": make_user("regional_admin", "RU-BRY", email=HEAD),
        "first": make_user("operator", "RU-BRY", email="first@bry.example.ru",
                           office_id=first),
        "second": make_user("auditor", "RU-BRY", email="second@bry.example.ru",
                            office_id=second),
        "unbound": make_user("operator", "RU-BRY", email="unbound@bry.example.ru"),
        "vla": make_user("regional_admin", "RU-VLA", email="head@vla.example.ru"),
        "analyst": make_user("federal_analyst", email="analyst@example.ru"),
        "owner": make_user("methodology_owner", email="owner@example.ru"),
        "gone": make_user("regional_admin", "RU-BRY", email="gone@bry.example.ru"),
    }
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(User).where(User.email == people["gone"])).active = False
        db.commit()
    return {**people, "first_office": first, "second_office": second}


# --- who is told -----------------------------------------------------------------------------


def test_an_office_event_reaches_the_regions_heads_and_that_offices_staff(app, staff):
    assert _notify(app, "case_new", office_id=staff["first_office"]) == 2
    assert _readers(app) == {HEAD: 1, "first@bry.example.ru": 1}


def test_a_region_event_reaches_its_heads_only(app, staff):
    assert _notify(app, "metric_red") == 1
    assert _readers(app) == {HEAD: 1}


def test_an_escalation_adds_the_federal_analysts_and_the_named_people_of_the_region(app, staff):
    assert _notify(app, "action_escalated", users=[staff["unbound"], staff["vla"]]) == 3
    # the other region's head named by mistake is not told; a methodology owner never
    assert _readers(app) == {HEAD: 1, "analyst@example.ru": 1, "unbound@bry.example.ru": 1}
    _notify(app, "action_due", subject="s2")
    assert "analyst@example.ru" not in _readers(app, "action_due")


def test_told_once_per_kind_and_subject(app, staff):
    office = staff["first_office"]
    assert _notify(app, "case_new", office_id=office) == 2
    assert _notify(app, "case_new", office_id=office) == 0  # the job ran again
    assert _notify(app, "case_new", office_id=office, subject="s2") == 2
    assert _notify(app, "action_due", office_id=office) == 2  # another kind, same subject
    assert _readers(app) == {HEAD: 3, "first@bry.example.ru": 3}


def test_a_regional_scope_tells_of_its_own_region_only(app, staff):
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY"), "test"), \
            pytest.raises(tenancy.TenantIsolationError):
        notifications.notify("case_new", region_id=region_id(app, "RU-VLA"), office_id=None,
                             title="x", url="/", subject="x")
    with app.app_context(), tenancy.federal_scope("test"), \
            pytest.raises(ValueError, match="unknown notification kind"):
        notifications.notify("weather", region_id=region_id(app, "RU-BRY"),
                             office_id=None, title="x", url="/", subject="x")


# --- improvement actions ---------------------------------------------------------------------


def test_actions_due_soon_or_overdue_and_escalated(app, client, region_map, make_user):
    helper = make_user("operator", "RU-BRY", email="helper@bry.example.ru")
    analyst = make_user("federal_analyst", email="analyst@example.ru")
    today = dt.datetime.now(MOSCOW).date()
    _make(app, "RU-BRY", helper, today + dt.timedelta(days=2), "Скоро срок")
    _make(app, "RU-BRY", HEAD, today + dt.timedelta(days=10), "Ещё не скоро")
    _make(app, "RU-BRY", HEAD, today - dt.timedelta(days=5), "Недавно просрочено")
    old = _make(app, "RU-BRY", HEAD, today - dt.timedelta(days=45), "Давно просрочено")
    done = _make(app, "RU-BRY", HEAD, today - dt.timedelta(days=45), "Сделано")
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(ImprovementAction, done).status = "done"
        db.commit()
        assert notifications.remind_actions() == 6
        db.commit()
        rows = db.execute(select(User.email, Notification.kind, Notification.title,
                                 Notification.url).join(User, User.id == Notification.user_id)
                          .order_by(User.email, Notification.kind, Notification.title)).all()
    assert [(e, k, t.split("«")[1].split("»")[0]) for e, k, t, _u in rows] == [
        ("analyst@example.ru", "action_escalated", "Давно просрочено"),
        (HEAD, "action_due", "Давно просрочено"),
        (HEAD, "action_due", "Недавно просрочено"),
        (HEAD, "action_due", "Скоро срок"),
        (HEAD, "action_escalated", "Давно просрочено"),
        ("helper@bry.example.ru", "action_due", "Скоро срок"),  # its owner
    ]
    titles = {t for _e, _k, t, _u in rows}
    long_ago = today - dt.timedelta(days=45)
    assert f"Мероприятие «Давно просрочено» просрочено (срок {long_ago:%d.%m.%Y})" in titles
    assert "Мероприятие «Давно просрочено» просрочено более чем на 30 дн. " \
           f"(срок {long_ago:%d.%m.%Y})" in titles
    assert f"Срок мероприятия «Скоро срок» — {today + dt.timedelta(days=2):%d.%m.%Y}" in titles
    assert f"/r/RU-BRY/actions/{old}" in {u for _e, _k, _t, u in rows}
    with app.app_context():
        assert notifications.remind_actions() == 0  # every worker's next round
        with tenancy.federal_scope("test"):
            db.get(ImprovementAction, old).due_on = today + dt.timedelta(days=1)  # moved
            db.commit()
        assert notifications.remind_actions() == 1
    assert analyst


# --- CX metrics turned red -------------------------------------------------------------------


def _run(app, region: int, cells: dict[tuple[int | None, str], float]) -> CxRun:
    """A finished run of the region with hand-made whole-period CSAT cells:
    {(office id or None for the region, touchpoint): value}."""
    with app.app_context(), tenancy.region_scope(region, "test"):
        run = CxRun(region_id=region, period_start=dt.date(2026, 7, 1),
                    period_end=dt.date(2026, 10, 1), status="succeeded", finished_at=utcnow())
        db.add(run)
        db.flush()
        for (office_id, touchpoint), value in cells.items():
            db.add(CxValue(run_id=run.id, region_id=region, office_id=office_id,
                           level="office" if office_id else "region", touchpoint=touchpoint,
                           metric="CSAT", month=None, n=200, numerator=value * 2, value=value))
        db.commit()
        db.expunge(run)
        return run


def test_a_cell_that_turned_red_since_the_previous_run_is_told(app, staff):
    from cci.index import cx_alerts

    bry = region_id(app, "RU-BRY")
    first, second = staff["first_office"], staff["second_office"]
    with app.app_context(), tenancy.region_scope(bry, "test"):
        db.add(CxTarget(region_id=bry, metric="CSAT", touchpoint="", target=80.0))
        db.commit()
    _run(app, bry, {(first, "office"): 85.0, (second, "office"): 60.0, (None, "office"): 70.0})
    run = _run(app, bry, {
        (first, "office"): 70.0,    # green → red: told
        (second, "office"): 65.0,   # red → red: not again
        (None, "office"): 90.0,     # red → green
        (first, "site"): 50.0,      # not there before → red: told
    })
    with app.app_context(), tenancy.region_scope(bry, "test"):
        turned = cx_alerts.turned_red(db.get(CxRun, run.id),
                                      cx_alerts.previous_run(db.get(CxRun, run.id)))
        assert sorted((c.office_id, c.touchpoint) for c in turned) == [
            (first, "office"), (first, "site")]
        assert cx_alerts.notify_turned_red(db.get(CxRun, run.id)) == 4
        db.commit()
        assert cx_alerts.notify_turned_red(db.get(CxRun, run.id)) == 0  # the job again
        db.commit()
    # the head and the first office's staff; not the second office's, not the other region's
    assert _readers(app, "metric_red") == {HEAD: 2, "first@bry.example.ru": 2}
    with app.app_context(), tenancy.federal_scope("test"):
        titles = set(db.scalars(select(Notification.title)))
        urls = set(db.scalars(select(Notification.url)))
    assert titles == {
        "Удовлетворённость (CSAT), «Помещение ЦЗН и администратор», ЦЗН Брянской области — "
        "центральный офис: 70 при цели 80",
        "Удовлетворённость (CSAT), «Сайт и социальные сети», ЦЗН Брянской области — "
        "центральный офис: 50 при цели 80"}
    assert f"/r/RU-BRY/cx/trend/CSAT/office?office={first}" in urls
    # the registered job is the run, then the cells turned red
    assert app.extensions["cci.registry"].jobs["cx.compute"] is cx_alerts.compute_job


def test_the_first_run_tells_every_red_cell_and_no_target_turns_nothing(app, staff):
    from cci.index import cx_alerts

    bry = region_id(app, "RU-BRY")
    run = _run(app, bry, {(None, "office"): 10.0})
    with app.app_context(), tenancy.region_scope(bry, "test"):
        assert cx_alerts.notify_turned_red(db.get(CxRun, run.id)) == 0  # no target: no status
        db.add(CxTarget(region_id=bry, metric="CSAT", touchpoint="", target=80.0))
        db.commit()
        assert cx_alerts.previous_run(db.get(CxRun, run.id)) is None
        assert cx_alerts.notify_turned_red(db.get(CxRun, run.id)) == 1
        db.commit()
    assert _readers(app, "metric_red") == {HEAD: 1}


def test_a_federal_run_tells_each_regions_staff_by_its_own_targets(app, staff):
    from cci.index import cx_alerts

    bry, vla = region_id(app, "RU-BRY"), region_id(app, "RU-VLA")
    with app.app_context(), tenancy.federal_scope("test"):
        db.add_all([CxTarget(region_id=bry, metric="CSAT", touchpoint="", target=80.0),
                    CxTarget(region_id=vla, metric="CSAT", touchpoint="", target=50.0)])
        run = CxRun(region_id=None, period_start=dt.date(2026, 7, 1),
                    period_end=dt.date(2026, 10, 1), status="succeeded", finished_at=utcnow())
        db.add(run)
        db.flush()
        for region in (bry, vla):  # 60: red in Bryansk (80), green in Vladimir (50)
            db.add(CxValue(run_id=run.id, region_id=region, level="region", touchpoint="office",
                           metric="CSAT", month=None, n=200, numerator=120, value=60.0))
        db.commit()
        assert cx_alerts.notify_turned_red(run) == 1
        db.commit()
        assert set(db.scalars(select(Notification.url))) == {"/r/RU-BRY/cx"}
    assert _readers(app, "metric_red") == {HEAD: 1}


# --- the page --------------------------------------------------------------------------------


def test_the_page_its_count_marking_read_and_opening(app, client, staff, login):
    _notify(app, "case_new", office_id=staff["first_office"], subject="a", title="Первое")
    _notify(app, "metric_red", subject="b", title="Второе")
    _notify(app, "case_new", region="RU-VLA", subject="v", title="Владимирское")
    login(HEAD)
    page = client.get("/notifications/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = _text(html)
    assert "Первое" in text and "Второе" in text and "Владимирское" not in text
    assert "Уведомления непрочитанных: 2" in _text(html.split('class="userbox"')[1])
    assert "Новое обращение" in text and "Метрика в красной зоне" in text
    with app.app_context(), tenancy.federal_scope("test"):
        first = db.scalar(select(Notification.id).where(Notification.title == "Первое",
                                                       Notification.user_id == _id(app, HEAD)))
    # htmx: the item comes back read, with the header's count out of band
    part = client.post(f"/notifications/{first}/read", headers={"HX-Request": "true"})
    fragment = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in fragment
    assert f'id="notification-{first}"' in fragment and "notice--unread" not in fragment
    assert 'id="notification-count" hx-swap-oob="true"' in fragment
    assert "непрочитанных: </span>1<" in fragment
    # opening one is reading it, on the subject's page
    with app.app_context(), tenancy.federal_scope("test"):
        second = db.scalar(select(Notification.id).where(Notification.title == "Второе"))
    opened = client.get(f"/notifications/{second}/open")
    assert opened.status_code == 302 and opened.headers["Location"] == "/notifications/"
    assert "непрочитанных" not in _text(client.get("/notifications/").get_data(as_text=True)
                                        .split('class="userbox"')[1])
    # all read, without htmx too
    _notify(app, "case_new", subject="c", title="Третье")
    assert client.post("/notifications/read-all").status_code == 302
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == _id(app, HEAD), Notification.read_at.is_(None))) == 0


def test_another_users_notification_is_404(app, client, staff, login):
    _notify(app, "case_new", region="RU-VLA", subject="v", title="Владимирское")
    _notify(app, "case_new", office_id=staff["first_office"], subject="a", title="Чужое")
    with app.app_context(), tenancy.federal_scope("test"):
        foreign = db.scalar(select(Notification.id).where(Notification.title == "Владимирское"))
        colleague = db.scalar(select(Notification.id).where(
            Notification.user_id == _id(app, "first@bry.example.ru")))
    login(HEAD)
    for target in (foreign, colleague):
        assert client.post(f"/notifications/{target}/read").status_code == 404
        assert client.get(f"/notifications/{target}/open").status_code == 404
    client.post("/notifications/read-all")  # one's own only
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.get(Notification, foreign).read_at is None
        assert db.get(Notification, colleague).read_at is None
        assert db.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == _id(app, HEAD), Notification.read_at.is_(None))) == 0


def test_a_federal_analyst_reads_escalations_of_every_region(app, client, staff, login):
    _notify(app, "action_escalated", subject="b", title="Брянское")
    _notify(app, "action_escalated", region="RU-VLA", subject="v", title="Владимирское")
    login("analyst@example.ru")
    text = _text(client.get("/notifications/").get_data(as_text=True))
    assert "Брянское" in text and "Владимирское" in text


def test_every_role_has_the_menu_item(app, client, staff, login):
    for email in (staff["first"], staff["analyst"], staff["owner"]):
        login(email)
        box = client.get("/", follow_redirects=True).get_data(as_text=True).split(
            'class="userbox"')[1].split("</div>")[0]
        assert 'href="/notifications/"' in box and "Уведомления" in box
        assert client.get("/notifications/").status_code == 200
        client.post("/logout")


def test_the_email_choice_on_the_account_page(app, client, staff, login):
    login(staff["first"])
    page = client.get("/account/password").get_data(as_text=True)
    assert 'value="daily" checked' in page and "ежедневная сводка" in _text(page)
    reply = client.post("/notifications/email", data={"notification_email": "none"},
                        follow_redirects=True)
    assert reply.status_code == 200 and 'value="none" checked' in reply.get_data(as_text=True)
    bad = client.post("/notifications/email", data={"notification_email": "hourly"},
                      follow_redirects=True)
    assert "Выберите один из вариантов" in bad.get_data(as_text=True)
    with app.app_context(), tenancy.federal_scope("test"):
        user = db.scalar(select(User).where(User.email == staff["first"]))
        assert user.notification_email == "none"
        entry = db.scalar(select(AuditEntry).where(
            AuditEntry.action == "user.notification_email"))
        assert entry is not None and entry.after == {"notification_email": "none"}


# --- the daily digest ------------------------------------------------------------------------


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), MOSCOW).astimezone(dt.UTC)


def _digest(app, now: dt.datetime, **options) -> int:
    with app.app_context():
        return notifications.send_digests(now, **options)


def test_the_digest_arrives_once_a_day_after_the_morning_hour(app, staff):
    _notify(app, "case_new", office_id=staff["first_office"], subject="a", title="Первое")
    _notify(app, "metric_red", subject="b", title="Второе")
    today = dt.datetime.now(MOSCOW).date()
    with local_smtp(app) as inbox:
        assert _digest(app, _at(today, 7)) == 0  # before eight in Bryansk
        assert _digest(app, _at(today, 9)) == 2
        messages = inbox.wait_for(2)
        mail = {m["To"]: m for m in messages}
        text = body(mail[HEAD])
        assert str(mail[HEAD]["Subject"]) == \
            f"ИКЦ: непрочитанные уведомления, {today:%d.%m.%Y} (2)"
        assert "Первое" in text and "Второе" in text
        # no public address configured: no relative paths, the page named in words
        assert "/notifications/" not in text and "«Уведомления»" in text
        assert "Первое" in body(mail["first@bry.example.ru"])
        assert "Второе" not in body(mail["first@bry.example.ru"])
        # the same day again, also with something new: nothing more
        _notify(app, "case_new", subject="c", title="Третье")
        assert _digest(app, _at(today, 10)) == 0
        assert _digest(app, _at(today, 18), any_hour=True) == 0
        assert len(inbox.messages) == 2
        # the next morning: what is new and unread only
        with app.app_context(), tenancy.federal_scope("test"):
            assert db.scalar(select(func.count(NotificationDigest.id))) == 2
        assert _digest(app, _at(today + dt.timedelta(days=1), 8)) == 1
        later = inbox.wait_for(3)[2]
        assert later["To"] == HEAD and "Третье" in body(later) and "Первое" not in body(later)


def test_notifications_past_their_keeping_time_are_deleted_read_or_not(app, staff):
    _notify(app, "case_new", subject="old", title="Старое")
    _notify(app, "case_new", subject="new", title="Новое")
    keep = app.config["NOTIFICATION_KEEP_DAYS"]
    now = utcnow()
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.scalars(select(Notification)).all()
        for row in rows:
            if row.subject == "old":
                row.created_at = now - dt.timedelta(days=keep, minutes=1)
        head = _id(app, HEAD)
        db.add_all([NotificationDigest(user_id=head, region_id=region_id(app, "RU-BRY"),
                                       day=(now - dt.timedelta(days=keep + 1)).date()),
                    NotificationDigest(user_id=head, region_id=region_id(app, "RU-BRY"),
                                       day=now.date())])
        db.commit()
        told = {r.subject: 0 for r in rows}
        for row in rows:
            told[row.subject] += 1
    with app.app_context():
        assert notifications.purge(now) == told["old"] > 0
        db.commit()
    with app.app_context(), tenancy.federal_scope("test"):
        assert {r.subject for r in db.scalars(select(Notification))} == {"new"}
        assert [d.day for d in db.scalars(select(NotificationDigest))] == [now.date()]


def test_the_digests_links_are_absolute_under_the_public_address(app, staff):
    """A link in an e-mail has no page to be relative to: CCI_PUBLIC_URL starts every one."""
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY"), "test"):
        url = notifications.path_for("region.action", region_code="RU-BRY", action_id=1)
        notifications.notify("metric_red", region_id=region_id(app, "RU-BRY"), office_id=None,
                             title="Второе", url=url, subject="b")
        db.commit()
    app.config.update(PUBLIC_URL="https://ikc.example.ru")
    try:
        with local_smtp(app) as inbox:
            assert _digest(app, _at(dt.datetime.now(MOSCOW).date(), 9)) == 1
            text = body(inbox.wait_for(1)[0])
    finally:
        app.config.update(PUBLIC_URL="")
    assert "https://ikc.example.ru/r/RU-BRY/actions/1" in text
    assert "https://ikc.example.ru/notifications/" in text
    assert "https://ikc.example.ru/account/" in text
    assert not re.search(r"(?<![\w.])/(r|notifications|account)/", text)


def test_without_a_public_address_the_server_name_or_no_links(app):
    saved = {name: app.config.get(name) for name in ("SERVER_NAME", "PREFERRED_URL_SCHEME")}
    with app.app_context():
        assert notifications.public_base() is None
        app.config.update(SERVER_NAME="ikc.example.ru", PREFERRED_URL_SCHEME="https")
        try:
            assert notifications.public_base() == "https://ikc.example.ru"
        finally:
            app.config.update(saved)


def test_no_digest_for_whoever_chose_none_or_read_everything(app, staff):
    _notify(app, "case_new", office_id=staff["first_office"], subject="a", title="Первое")
    with app.app_context(), tenancy.federal_scope("test"):
        db.scalar(select(User).where(User.email == HEAD)).notification_email = "none"
        db.commit()
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY"), "test"):
        operator = db.scalar(select(User).where(User.email == staff["first"]))
        notifications.mark_all_read(operator)
        db.commit()
    with local_smtp(app) as inbox:
        assert _digest(app, _at(dt.datetime.now(MOSCOW).date(), 9)) == 0
        assert inbox.messages == []


def test_a_refused_digest_frees_the_day_for_the_next_round(app, staff):
    _notify(app, "metric_red", subject="b", title="Второе")
    now = _at(dt.datetime.now(MOSCOW).date(), 9)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    try:
        assert _digest(app, now) == 0  # nobody listens there
    finally:
        app.config.update(SMTP_HOST="")
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(func.count(NotificationDigest.id))) == 0
        assert db.scalar(select(func.count(Notification.id)).where(
            Notification.digest_id.is_not(None))) == 0
    with local_smtp(app) as inbox:
        assert _digest(app, now) == 1
        assert "Второе" in body(inbox.wait_for(1)[0])


def test_a_day_taken_by_another_worker_sends_nothing(app, staff):
    """The day's row is the lock: a worker that finds it (inserted by another) sends nothing."""
    _notify(app, "metric_red", subject="b", title="Второе")
    today = dt.datetime.now(MOSCOW).date()
    with app.app_context(), tenancy.federal_scope("test"):
        db.add(NotificationDigest(user_id=_id(app, HEAD), region_id=region_id(app, "RU-BRY"),
                                  day=today, count=1))
        db.commit()
    with local_smtp(app) as inbox:
        assert _digest(app, _at(today, 9)) == 0
        assert inbox.messages == []


def test_the_operators_command_and_the_workers_round(app, runner, staff, monkeypatch):
    _notify(app, "metric_red", subject="b", title="Второе")
    with local_smtp(app) as inbox:
        result = runner.invoke(args=["notifications", "digest", "--now"])
        assert result.exit_code == 0, result.output
        assert "digests sent: 1" in result.output
        again = runner.invoke(args=["notifications", "digest", "--now"])
        assert "digests sent: 0" in again.output
        assert len(inbox.wait_for(1)) == 1
    rounds = []
    monkeypatch.setattr(notifications, "run_due", lambda now=None: rounds.append(now))
    with app.app_context():
        notifications.run_scheduled()
        notifications.run_scheduled()  # another worker within NOTIFY_EVERY_SECONDS
    assert len(rounds) == 1


def test_every_workers_maintenance_round_runs_the_notifications(app, monkeypatch):
    from cci.foundation import worker

    rounds = []

    def broken():
        raise ConnectionError("database away")

    assert notifications.run_scheduled in app.extensions["cci.maintenance"]
    # a task that fails is logged and does not keep the next one from running
    monkeypatch.setitem(app.extensions, "cci.maintenance",
                        [broken, lambda: rounds.append("notifications")])
    worker.build(app, ["default"], simple=True).run_maintenance_tasks()
    assert rounds == ["notifications"]


def test_all_read_with_htmx_swaps_the_list_and_the_count(app, client, staff, login):
    _notify(app, "metric_red", subject="b", title="Второе")
    login(HEAD)
    part = client.post("/notifications/read-all", headers={"HX-Request": "true"})
    html = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in html and 'id="notifications"' in html
    assert "notice--unread" not in html and "Второе" in html
    assert 'id="notification-count" hx-swap-oob="true"></span>' in html
