"""A regional administrator in a browser: adopts the federal journey map template, removes a
stage in place (htmx, no reload), publishes the map, and makes a barrier an action with an
owner of the region."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.journey_maps import seed_templates
from cci.foundation.models import ImprovementAction
from cci.foundation.models import JourneyMapVersion

from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser


def test_head_adopts_adapts_publishes_and_makes_an_action(app, page, browser_user, screenshot):
    with app.app_context(), tenancy.federal_scope("browser test"):
        seed_templates()
        db.commit()
    owner, _password = browser_user("operator", "RU-BRY")
    log_in(page, *browser_user("regional_admin", "RU-BRY"))
    page.goto("/r/RU-BRY/")
    page.get_by_role("navigation", name="Главное меню").get_by_role(
        "link", name="Карты пути клиента").click()
    page.locator("#template_id").select_option(label="Профессиональная ориентация")
    page.locator("#adopt").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith(
        "Профессиональная ориентация")
    stages = page.locator(".map-grid thead th.map-grid__stage")
    assert stages.count() == 7

    # remove «Прохождение тестирования» in place: htmx swaps the grid, the page stays
    page.evaluate("() => { window.notReloaded = true; }")
    page.get_by_role("button", name="Удалить этап «Прохождение тестирования»").click()
    page.wait_for_function("() => document.querySelectorAll('.map-grid__stage').length === 6")
    assert page.evaluate("() => window.notReloaded === true")
    assert "Прохождение тестирования" not in page.locator(".map-grid thead").inner_text()
    screenshot("draft")

    page.locator("#publish").click()
    page.wait_for_load_state()
    assert "Версия 1 опубликована" in page.locator(".flash").inner_text()
    with app.app_context(), tenancy.federal_scope("browser test"):
        version = db.scalar(select(JourneyMapVersion).where(
            JourneyMapVersion.region_id.is_not(None)))
        assert version.status == "published"
        assert [s["key"] for s in version.content["stages"]] == [
            "search", "choice", "application", "training", "result", "evaluation"]

    # a barrier of the contact centre becomes an action with an owner
    cell = page.locator("li", has_text="Мало сотрудников контакт-центра (долгое ожидание).").first
    cell.get_by_role("link", name="Сделать мероприятием").click()
    page.wait_for_load_state()
    page.locator("#owner_id").select_option(label=f"{owner} (Оператор контакт-центра)")
    page.locator("#metric_code").select_option("FCR")
    page.locator("#target").fill("80")
    page.locator("#create-action").click()
    page.wait_for_load_state()
    assert "Барьер стал мероприятием" in page.locator(".flash").inner_text()
    assert page.locator("#action-status").inner_text() == "запланировано"
    screenshot("action")
    with app.app_context(), tenancy.federal_scope("browser test"):
        action = db.scalar(select(ImprovementAction))
        assert action.barrier == "Мало сотрудников контакт-центра (долгое ожидание)."
        assert action.owner.email == owner and action.metric_code == "FCR"
        assert action.target == 80.0
