"""/api/v1 comments' themes, comments and profiles: masked, counted as the pages count, and
a regional token never reads another region's comments."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import User

from test_comments import world  # noqa: F401 - the same answers


@pytest.fixture
def token(app, make_user):
    def issue(role: str, region: str | None = None) -> dict:
        email = make_user(role, region)
        with app.app_context(), tenancy.federal_scope("test token"):
            user = db.scalar(select(User).where(User.email == email))
            _row, secret = tokens.issue(user, "test")
            db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return issue


def test_themes_per_region_and_office(app, world, client, token):
    body = client.get(f"/api/v1/campaigns/{world['campaign']}/comments/themes",
                      headers=token("regional_admin", "RU-BRY")).get_json()
    assert [r["region"] for r in body["regions"]] == ["RU-BRY"]
    region = body["regions"][0]
    assert (region["responses"], region["commented"]) == (8, 3)
    assert region["share"] == pytest.approx(3 / 8)
    assert region["themes"]["gratitude"] == 1 and region["themes"]["other"] == 0
    offices = {o["office_id"]: o for o in body["offices"]}
    assert offices[world["b"]]["share"] == 0 and offices[world["a"]]["share"] == 0.6
    assert {t["key"]: t["name"] for t in body["themes"]}["other"] == "Прочее"
    by_type = client.get(
        f"/api/v1/campaigns/{world['campaign']}/comments/themes?respondent_type=employer",
        headers=token("regional_admin", "RU-BRY")).get_json()["regions"][0]
    assert (by_type["responses"], by_type["themes"]["candidate_selection"]) == (1, 1)


def test_comments_masked_and_filtered(app, world, client, token):
    url = f"/api/v1/campaigns/{world['campaign']}/comments"
    headers = token("auditor", "RU-BRY")
    body = client.get(url, headers=headers).get_json()
    assert body["total"] == 3 and body["pages"] == 1
    texts = [c["text"] for c in body["items"]]
    assert "Спасибо сотрудникам за помощь! Звоните [телефон]" in texts
    assert all("Красноярск" not in t for t in texts)
    first = client.get(f"{url}?per_page=1&page=2", headers=headers).get_json()
    assert first["pages"] == 3 and len(first["items"]) == 1
    themed = client.get(f"{url}?theme=candidate_selection", headers=headers).get_json()
    assert [c["respondent_type"] for c in themed["items"]] == ["employer"]
    assert themed["items"][0]["mean_score"] == 3


def test_a_regional_token_cannot_read_another_region(app, world, client, token):
    headers = token("regional_admin", "RU-BRY")
    base = f"/api/v1/campaigns/{world['campaign']}"
    for path in ("/comments?region=RU-KYA", "/comments/themes?region=RU-KYA",
                 "/profiles?region=RU-KYA", f"/comments?office={world['kya']}",
                 f"/profiles?office={world['kya']}"):
        response = client.get(base + path, headers=headers)
        assert response.status_code == 404, path
        assert "Красноярск" not in response.get_data(as_text=True)


def test_a_federal_token_reads_every_region_masked(app, world, client, token):
    headers = token("federal_analyst")
    base = f"/api/v1/campaigns/{world['campaign']}"
    texts = [c["text"] for c in client.get(f"{base}/comments", headers=headers)
             .get_json()["items"]]
    assert "Секрет Красноярска: [имя], [телефон]" in texts and len(texts) == 4
    only = client.get(f"{base}/comments?region=RU-KYA", headers=headers).get_json()
    assert [c["region"] for c in only["items"]] == ["RU-KYA"]
    themes = client.get(f"{base}/comments/themes", headers=headers).get_json()
    assert [r["region"] for r in themes["regions"]] == ["RU-BRY", "RU-KYA"]


def test_operators_and_bad_filters(app, world, client, token):
    base = f"/api/v1/campaigns/{world['campaign']}"
    assert client.get(f"{base}/comments", headers=token("operator", "RU-BRY")).status_code == 403
    headers = token("regional_admin", "RU-BRY")
    response = client.get(f"{base}/comments?band=best&from=yesterday&per_page=1000",
                          headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == {"band", "from"}


def test_profiles(app, world, client, token):
    body = client.get(f"/api/v1/campaigns/{world['campaign']}/profiles",
                      headers=token("operator", "RU-BRY")).get_json()
    gender = next(i for i in body["items"] if i["question"] == "gender")
    assert gender["regions"] == [{"region": "RU-BRY", "answered": 6, "not_answered": 1,
                                  "counts": {"female": 3, "male": 3}}]
    assert {"key": "female", "label": "Женский"} in gender["options"]


def test_the_search_does_not_look_for_a_name(app, world, client, token):
    response = client.get(f"/api/v1/campaigns/{world['campaign']}/comments?q=Петров",
                          headers=token("federal_analyst"))
    assert response.status_code == 422 and "q" in response.get_json()["error"]["details"]
