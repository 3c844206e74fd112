"""The administrators' page of answers acknowledged and not stored yet (cci.collection.inbox): what waits
and since when, what the database refused, and storing those again; a region's
administrator sees and retries only the region's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from cci.collection import inbox
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import AuditEntry
from cci.foundation.models import InboxItem
from cci.foundation.models import JobRecord
from conftest import region_id

pytest_plugins = ("engine_helpers",)


@pytest.fixture
def items(app, live_campaign):
    """Waiting and refused answers in RU-BRY and RU-KYA: {name: inbox id}."""
    now = utcnow()
    rows = {
        "bry_waiting": ("RU-BRY", None, 1),
        "bry_failed": ("RU-BRY", "IntegrityError: the office is gone", 3),
        "bry_failed_2": ("RU-BRY", "IntegrityError: another cause\nwith a second line", 2),
        "kya_waiting": ("RU-KYA", None, 20),
        "kya_failed": ("RU-KYA", "IntegrityError: kya cause", 4),
    }
    ids = {}
    with app.app_context(), tenancy.federal_scope("test"):
        for name, (code, error, minutes) in rows.items():
            item = InboxItem(client_key=f"kiosk:{name}", region_id=region_id(app, code),
                             campaign_id=live_campaign, channel="kiosk",
                             received_at=now - dt.timedelta(minutes=minutes), draft={},
                             error=error)
            db.add(item)
            db.flush()
            ids[name] = item.id
        db.commit()
    return ids


def _errors(app) -> dict[str, str | None]:
    with app.app_context(), tenancy.federal_scope("test"):
        return dict(db.execute(select(InboxItem.client_key, InboxItem.error)).all())


def test_a_regional_admin_sees_the_regions_backlog_in_russian(client, make_user, login, items):
    login(make_user("regional_admin", "RU-BRY"))
    page = client.get("/r/RU-BRY/admin/intake").get_data(as_text=True)
    assert "<h1>Приём ответов</h1>" in page
    assert "1 ответ ждёт сохранения" in page and "не удалось сохранить: 2" in page
    assert "the office is gone" in page and "another cause" in page
    assert "kya cause" not in page and "kiosk:kya_failed" not in page
    assert "Брянская" in page and "Красноярский" not in page
    # the one waiting answer is a minute old: no warning
    assert "cci worker" not in page
    assert '<a href="/r/RU-BRY/admin/intake">Приём ответов</a>' in page


def test_an_answer_waiting_for_long_is_a_warning(client, make_user, login, items):
    login(make_user("admin"))
    page = client.get("/federal/admin/intake").get_data(as_text=True)
    # every region's: KYA's answer has waited 20 minutes
    assert "2 ответа ждут сохранения" in page and "не удалось сохранить: 3" in page
    assert "kya cause" in page and "the office is gone" in page
    # five minutes beyond the two a drain job may give way to a burst
    assert "дольше 7 минут" in page and "cci worker" in page
    assert 'class="row--warning"' in page


@pytest.mark.parametrize(("role", "region", "url", "status"), [
    ("operator", "RU-BRY", "/r/RU-BRY/admin/intake", 403),
    ("auditor", "RU-BRY", "/r/RU-BRY/admin/intake", 403),
    ("federal_analyst", None, "/federal/admin/intake", 403),
    ("regional_admin", "RU-BRY", "/federal/admin/intake", 404),
])
def test_only_administrators_see_it(client, make_user, login, items, role, region, url, status):
    login(make_user(role, region))
    assert client.get(url).status_code == status
    assert client.post(url + "/retry", data={"which": "all"}).status_code == status
    errors = _errors(client.application)
    assert all(errors[f"kiosk:{n}"] for n in ("bry_failed", "bry_failed_2", "kya_failed"))


def test_storing_the_selected_again(app, client, make_user, login, items):
    login(make_user("regional_admin", "RU-BRY"))
    reply = client.post("/r/RU-BRY/admin/intake/retry",
                        data={"which": "selected", "ids": [str(items["bry_failed"])]})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/r/RU-BRY/admin/intake")
    errors = _errors(app)
    assert errors["kiosk:bry_failed"] is None
    assert errors["kiosk:bry_failed_2"] and errors["kiosk:kya_failed"]
    page = client.get("/r/RU-BRY/admin/intake").get_data(as_text=True)
    assert "1 ответ будет сохранён снова." in page
    with app.app_context(), tenancy.federal_scope("test"):
        [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.retry")).all()
        assert entry.region_id == region_id(app, "RU-BRY")
        assert entry.object_id == str(items["bry_failed"]) and entry.after == {"count": 1}
        assert db.scalar(select(JobRecord).where(JobRecord.name == inbox.JOB)) is not None


def test_a_regional_admin_cannot_retry_another_regions_answers(app, client, make_user, login,
                                                                items):
    login(make_user("regional_admin", "RU-BRY"))
    # another region's id among the selected: not touched
    client.post("/r/RU-BRY/admin/intake/retry",
                data={"which": "selected", "ids": [str(items["kya_failed"])]})
    assert _errors(app)["kiosk:kya_failed"]
    # "all" is all of the region's
    client.post("/r/RU-BRY/admin/intake/retry", data={"which": "all"})
    errors = _errors(app)
    assert errors["kiosk:bry_failed"] is None and errors["kiosk:bry_failed_2"] is None
    assert errors["kiosk:kya_failed"] == "IntegrityError: kya cause"


def test_retrying_nothing_selected_is_a_clear_message(app, client, make_user, login, items):
    login(make_user("admin"))
    reply = client.post("/federal/admin/intake/retry", data={"which": "selected"},
                        follow_redirects=True)
    assert "Отметьте хотя бы один ответ." in reply.get_data(as_text=True)
    assert all(_errors(app)[f"kiosk:{n}"] for n in ("bry_failed", "bry_failed_2", "kya_failed"))


def test_an_empty_backlog(client, make_user, login, live_campaign):
    login(make_user("admin"))
    page = client.get("/federal/admin/intake").get_data(as_text=True)
    assert "0 ответов ждут сохранения" in page and "не удалось сохранить: 0" in page
    assert "Сохранить все снова" not in page


def test_all_means_all_whatever_was_ticked_and_odd_ids_are_ignored(app, client, make_user,
                                                                   login, items):
    login(make_user("admin"))
    odd = client.post("/federal/admin/intake/retry",
                      data={"which": "selected", "ids": ["²", "9" * 20, "-1", "1.5"]},
                      follow_redirects=True)
    assert odd.status_code == 200
    assert "Отметьте хотя бы один ответ." in odd.get_data(as_text=True)
    client.post("/federal/admin/intake/retry",
                data={"which": "all", "ids": [str(items["bry_failed"])]},
                follow_redirects=True)  # shows, and so clears, its message
    assert not any(_errors(app).values())
    with app.app_context(), tenancy.federal_scope("test"):
        [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.retry")).all()
        assert entry.object_id == "all" and entry.after == {"count": 3}
        assert entry.region_id is None
    # nothing left to retry: said so, not a success
    again = client.post("/federal/admin/intake/retry", data={"which": "all"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Нечего сохранять снова" in again and "будут сохранены снова" not in again


def test_the_warning_offers_to_queue_the_storing_job(app, client, make_user, login, items):
    login(make_user("admin"))
    page = client.get("/federal/admin/intake").get_data(as_text=True)
    assert 'name="which" value="waiting"' in page and "Запустить сохранение" in page
    # the scrolling tables take the keyboard's focus, named by their caption
    assert 'class="table-scroll" tabindex="0" role="region" aria-label="По регионам"' in page
    reply = client.post("/federal/admin/intake/retry", data={"which": "waiting"},
                        follow_redirects=True)
    assert "Задача сохранения поставлена в очередь" in reply.get_data(as_text=True)
    with app.app_context(), tenancy.federal_scope("test"):
        assert db.scalar(select(JobRecord).where(JobRecord.name == inbox.JOB)) is not None
    assert all(_errors(app)[f"kiosk:{n}"] for n in ("bry_failed", "bry_failed_2", "kya_failed"))
