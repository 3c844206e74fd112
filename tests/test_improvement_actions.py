"""The closed loop's actions: a barrier of a region's map becomes an action with an owner of
the region, a due date, a status, a metric and its target; overdue for the region's head,
escalated to the federal analysts past 30 days; after the due date, whether the metric moved
(«нет данных» without values); every step in the audit log; the API's actions; regions
kept apart."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from sqlalchemy import select

from cci.foundation import improvement_actions
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import AuditEntry
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMap
from cci.foundation.models import User
from conftest import region_id

#: today in the test region (RU-BRY, Moscow time), as the pages count days overdue: the
#: machine's date is a day behind between 21:00 and midnight UTC
TODAY = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Moscow")).date()


def _user_id(app, email: str) -> int:
    with app.app_context(), tenancy.federal_scope("test"):
        return db.scalar(select(User.id).where(User.email == email))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def region_map(app, client, runner, tenants, make_user, login):
    """RU-BRY's published map (the template as it is), its head logged in."""
    runner.invoke(args=["maps", "seed"])
    head = make_user("regional_admin", "RU-BRY", email="head@bry.example.ru")
    login(head)
    with app.app_context(), tenancy.federal_scope("test"):
        template = db.scalar(select(JourneyMap.id).where(JourneyMap.region_id.is_(None)))
    client.post("/r/RU-BRY/maps/adopt", data={"template_id": template})
    with app.app_context(), tenancy.federal_scope("test"):
        map_id = db.scalar(select(JourneyMap.id).where(
            JourneyMap.region_id == region_id(app, "RU-BRY")))
    client.post(f"/r/RU-BRY/maps/{map_id}/publish")
    return map_id


def _new(client, map_id, barrier=1, **form):
    query = f"version=1&stage=search&touchpoint=contact_centre&barrier={barrier}"
    return client.post(f"/r/RU-BRY/maps/{map_id}/actions/new?{query}", data=form)


def _action(app, **where) -> ImprovementAction:
    with app.app_context(), tenancy.federal_scope("test"):
        row = db.scalar(select(ImprovementAction).filter_by(**where))
        db.expunge(row)
        return row


def test_a_barrier_becomes_an_action_with_an_owner(app, client, region_map, make_user):
    owner = make_user("operator", "RU-BRY", email="owner@bry.example.ru")
    page = client.get(f"/r/RU-BRY/maps/{region_map}?version=1").get_data(as_text=True)
    assert "Сделать мероприятием" in page
    form = client.get(f"/r/RU-BRY/maps/{region_map}/actions/new?version=1&stage=search"
                      "&touchpoint=contact_centre&barrier=1").get_data(as_text=True)
    assert "Мало сотрудников контакт-центра (долгое ожидание)." in form
    assert "owner@bry.example.ru" in form

    response = _new(client, region_map, title="Нанять двух операторов",
                    owner_id=_user_id(app, owner),
                    due_on=(TODAY + dt.timedelta(days=45)).isoformat(),
                    metric_code="FCR", target="85,5", department="Руководство")
    assert response.status_code == 302
    action = _action(app, title="Нанять двух операторов")
    assert (action.barrier, action.stage_key, action.touchpoint_code) == (
        "Мало сотрудников контакт-центра (долгое ожидание).", "search", "contact_centre")
    # the barrier, being worked on, offers no second action; the others still do
    again = client.get(f"/r/RU-BRY/maps/{region_map}?version=1").get_data(as_text=True)
    link = "stage=search&amp;touchpoint=contact_centre&amp;barrier="
    assert page.count(link) - again.count(link) == 1
    assert again.count("Сделать мероприятием") == page.count("Сделать мероприятием") - 1
    assert (action.status, action.metric_code, action.target) == ("planned", "FCR", 85.5)
    assert action.owner_id == _user_id(app, owner)

    detail = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Статус запланировано" in detail and "цель 85,5" in detail
    assert "Будет показано после срока." in detail

    # the status moves on; a done action is closed and changes no more
    client.post(f"/r/RU-BRY/actions/{action.id}", data={
        "status": "in_progress", "title": action.title, "owner_id": action.owner_id,
        "due_on": action.due_on.isoformat(), "metric_code": "FCR", "target": "85,5",
        "department": "Руководство"})
    assert _action(app, id=action.id).status == "in_progress"
    client.post(f"/r/RU-BRY/actions/{action.id}", data={
        "status": "done", "title": action.title, "owner_id": action.owner_id,
        "due_on": action.due_on.isoformat(), "metric_code": "FCR", "target": "85,5",
        "department": "Руководство"})
    done = _action(app, id=action.id)
    assert done.status == "done" and done.closed_at is not None
    refused = client.post(f"/r/RU-BRY/actions/{action.id}", data={"status": "planned"})
    assert refused.status_code == 400
    assert "Мероприятие закрыто и больше не меняется." in refused.get_data(as_text=True)
    assert _action(app, id=action.id).status == "done"

    with app.app_context(), tenancy.federal_scope("test"):
        entries = db.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "ImprovementAction").order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["improvement_action.create",
                                               "improvement_action.update",
                                               "improvement_action.update"]
        assert entries[1].before == {"action_status": "planned"}
        assert entries[1].after == {"action_status": "in_progress"}
    log = _text(client.get("/r/RU-BRY/admin/audit").get_data(as_text=True))
    assert "Барьер превращён в мероприятие" in log
    assert "Статус мероприятия: запланировано → в работе" in log


def test_bad_input_is_refused_and_nothing_is_written(app, client, region_map, make_user):
    foreign = make_user("operator", "RU-VLA", email="stranger@vla.example.ru")
    due = (TODAY + dt.timedelta(days=5)).isoformat()
    cases = [
        ({"owner_id": _user_id(app, foreign), "due_on": due}, "среди пользователей региона"),
        ({"owner_id": "", "due_on": due}, "среди пользователей региона"),
        ({"owner_id": _user_id(app, "head@bry.example.ru"), "due_on": "завтра"},
         "Укажите срок датой."),
        ({"owner_id": _user_id(app, "head@bry.example.ru"), "due_on": due, "target": "много",
          "metric_code": "CES"}, "Целевое значение — число."),
        ({"owner_id": _user_id(app, "head@bry.example.ru"), "due_on": due, "target": "80"},
         "Укажите метрику"),
        ({"owner_id": _user_id(app, "head@bry.example.ru"), "due_on": due,
          "metric_code": "XYZ"}, "Выберите метрику из списка."),
        # a journey map's method, not a metric: no target to reach
        ({"owner_id": _user_id(app, "head@bry.example.ru"), "due_on": due,
          "metric_code": "visit_statistics", "target": "10"}, "Выберите метрику из списка."),
    ]
    for form, message in cases:
        response = _new(client, region_map, **form)
        assert response.status_code == 400, form
        assert message in response.get_data(as_text=True), form
    assert client.get(f"/r/RU-BRY/maps/{region_map}/actions/new?version=1&stage=search"
                      "&touchpoint=contact_centre&barrier=99").status_code == 404
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(ImprovementAction.id)) is None


def _make(app, region_code: str, owner_email: str, due: dt.date, title: str,
          metric: str | None = None) -> int:
    from cci.foundation import journey_maps

    with app.app_context(), tenancy.region_scope(region_id(app, region_code)):
        journey_map = db.scalar(select(JourneyMap))
        version = journey_maps.latest_published(journey_map) or journey_maps.draft_of(
            journey_map)
        owner = db.scalar(select(User).where(User.email == owner_email))
        action = improvement_actions.create(version, "search", "site", 0, {
            "title": title, "owner_id": owner.id, "due_on": due, "metric_code": metric},
            None)
        db.commit()
        return action.id


def test_overdue_for_the_head_and_escalated_to_the_federal_analyst(app, client, region_map,
                                                                  make_user, login,
                                                                  monkeypatch):
    head = "head@bry.example.ru"
    _make(app, "RU-BRY", head, TODAY - dt.timedelta(days=45), "Давно просрочено")
    _make(app, "RU-BRY", head, TODAY - dt.timedelta(days=10), "Недавно просрочено")
    _make(app, "RU-BRY", head, TODAY + dt.timedelta(days=10), "В срок")
    page = client.get("/r/RU-BRY/actions/").get_data(as_text=True)
    overdue = _text(page.split('id="overdue"')[1].split("<h2")[0])
    assert "Давно просрочено" in overdue and "Недавно просрочено" in overdue
    assert "В срок" not in overdue
    assert "45" in overdue and "10" in overdue
    home = _text(client.get("/r/RU-BRY/").get_data(as_text=True))
    assert "2 мероприятия по улучшению просрочены" in home
    # the map shows which barrier is being worked on
    grid = client.get(f"/r/RU-BRY/maps/{region_map}").get_data(as_text=True)
    # ...and which of its actions are late, by how many days (the region's date)
    assert grid.count("мероприятие: запланировано") == 1
    assert "мероприятие: просрочено на 45 дн." in grid
    assert "мероприятие: просрочено на 10 дн." in grid
    assert grid.count("map-action--overdue") == 2
    detail = _text(client.get(f"/r/RU-BRY/actions/{_action(app, title='Давно просрочено').id}")
                   .get_data(as_text=True))
    assert "Просрочено на 45 дн." in detail and "Передано на федеральный уровень." in detail

    client.post("/logout")
    login(make_user("operator", "RU-BRY"))
    assert "просрочен" not in _text(client.get("/r/RU-BRY/").get_data(as_text=True))
    client.post("/logout")
    login(make_user("federal_analyst"))
    escalated = _text(client.get("/federal/actions/escalated").get_data(as_text=True))
    assert "Давно просрочено" in escalated and "Брянская область" in escalated
    assert "Недавно просрочено" not in escalated and "В срок" not in escalated
    with app.app_context():
        assert [a.title for a in improvement_actions.escalated(TODAY)] == ["Давно просрочено"]
    # the limit is a setting (the government feedback platform's 30 days by default)
    monkeypatch.setitem(app.config, "ACTION_ESCALATION_DAYS", 5)
    with app.app_context():
        assert len(improvement_actions.escalated(TODAY)) == 2


def test_after_the_due_date_the_metric_moved_or_no_data(app, client, region_map):
    action_id = _make(app, "RU-BRY", "head@bry.example.ru", TODAY - dt.timedelta(days=1),
                      "Переделать сайт", metric="CES")
    with app.app_context(), tenancy.federal_scope("test"):
        db.get(ImprovementAction, action_id).target = 80.0
        db.commit()
    page = _text(client.get(f"/r/RU-BRY/actions/{action_id}").get_data(as_text=True))
    assert "Изменилась ли метрика? нет данных" in page

    seen = []

    def reader(region, office, touchpoint, metric, on):
        seen.append((region, office, touchpoint, metric, on))
        return 62.0 if on < TODAY - dt.timedelta(days=1) or len(seen) == 1 else 81.5

    installed = app.extensions["cci.metric_values"]
    app.extensions["cci.metric_values"] = reader
    try:
        page = _text(client.get(f"/r/RU-BRY/actions/{action_id}").get_data(as_text=True))
    finally:
        app.extensions["cci.metric_values"] = installed
    assert "Было: 62; к сроку: 81,5. Метрика улучшилась. Цель достигнута." in page
    assert seen[0][:4] == (region_id(app, "RU-BRY"), None, "site", "CES")
    assert seen[1][4] == TODAY - dt.timedelta(days=1)


def test_the_metric_is_read_from_the_regions_newest_cx_run(app, client, region_map):
    """The application's reader: the region's value of the action's metric and touchpoint in
    the month the action was made and in the month of its due date, from the newest run; a
    value resting on too few answers is no data."""
    from cci.foundation.db import utcnow
    from cci.foundation.models import CxRun
    from cci.foundation.models import CxValue

    due = TODAY - dt.timedelta(days=1)
    made = (due.replace(day=1) - dt.timedelta(days=40)).replace(day=15)
    action_id = _make(app, "RU-BRY", "head@bry.example.ru", due, "Переделать сайт",
                      metric="CES")
    bry = region_id(app, "RU-BRY")
    with app.app_context(), tenancy.federal_scope("test"):
        action = db.get(ImprovementAction, action_id)
        action.created_at = dt.datetime.combine(made, dt.time(12))
        action.target = 80.0
        run = CxRun(region_id=bry, period_start=made.replace(day=1), period_end=due,
                    status="succeeded", finished_at=utcnow())
        db.add(run)
        db.flush()
        for month, value, insufficient in ((made, 62.0, False), (due, 81.5, False),
                                           (due, 99.0, True)):
            db.add(CxValue(run_id=run.id, region_id=bry, level="region", touchpoint="site",
                           metric="CES" if not insufficient else "NPS",
                           month=month.replace(day=1), n=40, value=value,
                           insufficient=insufficient))
        db.commit()
    page = _text(client.get(f"/r/RU-BRY/actions/{action_id}").get_data(as_text=True))
    assert "Было: 62; к сроку: 81,5. Метрика улучшилась. Цель достигнута." in page
    with app.app_context(), tenancy.region_scope(bry):
        reader = app.extensions["cci.metric_values"]
        assert reader(bry, None, "site", "NPS", due) is None  # too few answers: no data
        assert reader(bry, None, "office", "CES", due) is None  # another touchpoint


def test_the_form_offers_the_installed_cx_metrics_by_their_titles(app, client, region_map):
    """The metric of an action is one of the installed CX metrics, titled as the CX pages
    title it; a journey map's methods (visit statistics, a mystery shopper) are not offered."""
    form = client.get(f"/r/RU-BRY/maps/{region_map}/actions/new?version=1&stage=search"
                      "&touchpoint=contact_centre&barrier=1").get_data(as_text=True)
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', form))
    with app.app_context():
        from cci.index.cx_reports import installed
        titles = {code: str(metric.title) for code, metric in installed().items()}
    # the touchpoint's metrics, without its methods (call statistics, content analysis)
    metrics = {code: label for code, label in options.items() if not code.isdigit()}
    assert set(metrics) == {"RR", "IQS", "ER", "FCR", "RpC"}
    assert metrics["RR"] == titles["RR"] == "Доля заполненных опросов (RR)"
    assert all(metrics[code] == titles[code] for code in metrics)


def test_the_direction_is_the_installed_metrics(app):
    """Which way is better is the metric definition's (CxMetric.direction), not a list of
    the core's."""
    with app.app_context():
        from cci.index.cx_reports import installed
        metrics = improvement_actions.metrics()
        assert set(metrics) == set(installed())
        for code, metric in installed().items():
            assert metrics[code].lower_is_better == (metric.direction == "lower")
            assert metrics[code].title == str(metric.title)
    assert not hasattr(improvement_actions, "LOWER_IS_BETTER")


def test_lower_is_better_metrics_move_down(app):
    action = ImprovementAction(metric_code="RpC", target=1.2, due_on=TODAY,
                               created_at=dt.datetime.now(dt.UTC), region_id=1,
                               touchpoint_code="office")

    class Version:
        class map:
            office_id = None

    action.map_version = Version()  # type: ignore[assignment]
    values = iter([1.8, 1.1])
    with app.app_context():
        moved = improvement_actions.movement(action, lambda *args: next(values), TODAY)
    assert moved == improvement_actions.Movement(1.8, 1.1, True, True)


def test_another_region_cannot_see_or_touch_the_actions(app, client, region_map, make_user,
                                                        login):
    action_id = _make(app, "RU-BRY", "head@bry.example.ru", TODAY, "Только для Брянска")
    client.post("/logout")
    login(make_user("regional_admin", "RU-VLA"))
    assert client.get(f"/r/RU-VLA/actions/{action_id}").status_code == 404
    assert client.post(f"/r/RU-VLA/actions/{action_id}",
                       data={"status": "cancelled"}).status_code == 404
    assert "Только для Брянска" not in client.get("/r/RU-VLA/actions/").get_data(as_text=True)
    assert client.post(f"/r/RU-VLA/maps/{region_map}/actions/new?version=1&stage=search"
                       "&touchpoint=site&barrier=0", data={}).status_code == 404
    assert client.get("/federal/actions/escalated").status_code == 404
    assert _action(app, id=action_id).status == "planned"


def test_only_the_head_or_the_owner_change_an_action(app, client, region_map, make_user, login):
    owner = make_user("operator", "RU-BRY", email="owner@bry.example.ru")
    other = make_user("auditor", "RU-BRY", email="other@bry.example.ru")
    action_id = _make(app, "RU-BRY", owner, TODAY + dt.timedelta(days=3), "Стенды")
    client.post("/logout")
    login(other)
    assert client.get(f"/r/RU-BRY/actions/{action_id}").status_code == 200
    assert client.post(f"/r/RU-BRY/actions/{action_id}",
                       data={"status": "cancelled"}).status_code == 403
    assert client.get(f"/r/RU-BRY/maps/{region_map}/actions/new").status_code == 403
    client.post("/logout")
    login(owner)
    client.post(f"/r/RU-BRY/actions/{action_id}", data={"status": "in_progress",
                                                         "title": "Чужое название"})
    action = _action(app, id=action_id)
    assert (action.status, action.title) == ("in_progress", "Стенды")


# --- the API -----------------------------------------------------------------------------


def _token(app, email: str) -> dict[str, str]:
    from cci.foundation import tokens

    with app.app_context(), tenancy.federal_scope("test"):
        user = db.scalar(select(User).where(User.email == email))
        _row, token = tokens.issue(user, "test")
        db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_maps_versions_and_actions(app, client, region_map, make_user):
    head = _token(app, "head@bry.example.ru")
    listed = client.get("/api/v1/maps", headers=head).get_json()["items"]
    assert [(m["owner"], m["region"]) for m in listed] == [("federal_template", None),
                                                           ("region", "RU-BRY")]
    own = client.get(f"/api/v1/maps/{region_map}", headers=head).get_json()
    assert own["versions"][0]["status"] == "published"
    assert own["versions"][0]["based_on"] == {"map_id": listed[0]["id"], "number": 1}
    version = client.get(f"/api/v1/maps/{region_map}/versions/1", headers=head).get_json()
    assert len(version["content"]["stages"]) == 7 and version["departures"] == []

    owner = make_user("operator", "RU-BRY")
    body = {"map_id": region_map, "version": 1, "stage": "search", "touchpoint": "site",
            "barrier": 0, "owner_id": _user_id(app, owner),
            "due_on": (TODAY - dt.timedelta(days=31)).isoformat(), "metric_code": "CES",
            "target": 70}
    created = client.post("/api/v1/actions", json=body, headers=head)
    assert created.status_code == 201, created.get_json()
    action = created.get_json()
    assert (action["barrier"], action["status"], action["days_overdue"], action["escalated"]) \
        == ("Отсутствие сайта.", "planned", 31, True)
    assert client.post("/api/v1/actions", json={**body, "owner_id": 10**6},
                       headers=head).status_code == 422
    changed = client.patch(f"/api/v1/actions/{action['id']}", json={"status": "done"},
                           headers=head)
    assert changed.get_json()["status"] == "done" and changed.get_json()["escalated"] is False
    assert client.patch(f"/api/v1/actions/{action['id']}", json={"status": "planned"},
                        headers=head).status_code == 422
    assert client.patch(f"/api/v1/actions/{action['id']}", json={"status": ["x"]},
                        headers=head).status_code == 422

    # an operator reads, does not write; another region sees nothing of it
    operator = _token(app, owner)
    assert client.get(f"/api/v1/actions/{action['id']}", headers=operator).status_code == 200
    assert client.post("/api/v1/actions", json=body, headers=operator).status_code == 403
    stranger = _token(app, make_user("regional_admin", "RU-VLA"))
    assert client.get(f"/api/v1/actions/{action['id']}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/maps/{region_map}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/maps/{region_map}/versions/1",
                      headers=stranger).status_code == 404
    assert client.get("/api/v1/actions", headers=stranger).get_json()["items"] == []
    assert [m["owner"] for m in client.get("/api/v1/maps", headers=stranger)
            .get_json()["items"]] == ["federal_template"]
    assert client.post("/api/v1/actions", json=body, headers=stranger).status_code == 404
    assert client.get("/api/v1/actions/escalated", headers=stranger).status_code == 403


def test_api_escalation_list_for_the_federal_analyst(app, client, region_map, make_user):
    _make(app, "RU-BRY", "head@bry.example.ru", TODAY - dt.timedelta(days=40), "Старое")
    _make(app, "RU-BRY", "head@bry.example.ru", TODAY - dt.timedelta(days=3), "Новое")
    analyst = _token(app, make_user("federal_analyst"))
    items = client.get("/api/v1/actions/escalated", headers=analyst).get_json()["items"]
    assert [(i["title"], i["region"], i["days_overdue"]) for i in items] == [
        ("Старое", "RU-BRY", 40)]
    overdue = client.get("/api/v1/actions?status=overdue", headers=analyst).get_json()["items"]
    assert [i["title"] for i in overdue] == ["Старое", "Новое"]
    assert client.get("/api/v1/actions?status=zzz", headers=analyst).status_code == 422


def test_targets_read_as_pages_write_them():
    """The form shows a target in the Russian format («1 000,5», «−2»); it reads back."""
    read = improvement_actions._target
    assert read("1\u2009000,5") == 1000.5
    assert read("\u22122") == -2.0
    assert read("85.5") == 85.5
    assert read("") is None
    for bad in ("nan", "1e300", "много", True):
        with pytest.raises(improvement_actions.ActionError):
            read(bad)
