"""The index pages: results of a region, campaigns and runs, methodology versions, preview."""

from __future__ import annotations

import re

from engine_helpers import answer
from engine_helpers import checklist
from engine_helpers import offices
from engine_helpers import start
from engine_helpers import work


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_region_results_show_index_stars_n_and_intervals(app, client, campaign, make_user, login):
    bry = offices(app, "RU-BRY")
    for value in (10,) * 9 + (1,):
        answer(app, bry[0], {"usefulness": value, "comfort": value})
    for value in (10,) * 3:
        answer(app, bry[1], {"usefulness": value})
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-BRY"))
    page = text(client.get(f"/r/RU-BRY/results?campaign={campaign}"))
    assert "Индекс региона" in page
    assert "90,0" in page and "90.0" not in page  # office 1: groups II and V at 0.9
    assert "n=10 · 60–98 %" in page  # 9 of 10 with its Wilson interval
    # the offices as rows, the indicator chosen: office 2 has 3 answers < 10
    chosen = text(client.get(f"/r/RU-BRY/results?campaign={campaign}&metric=indicator:S-II.1"))
    assert "недостаточно данных" in chosen and "n=10 · 60–98 %" in chosen
    assert "Не участвуют в рейтинге" in page  # office 2, in the group of the unranked
    assert "★" in page
    assert "по умолчанию платформы" in page  # the defaults are marked next to the figures


def test_a_distribution_is_shown_in_words(app, client, campaign, make_user, login):
    bry = offices(app, "RU-BRY")
    for channel in ("trudvsem", "trudvsem", "gosuslugi"):
        answer(app, bry[0], {"usefulness": 9, "preferred_channel": channel})
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-BRY"))
    page = text(client.get(f"/r/RU-BRY/results?campaign={campaign}"))
    assert "Портал «Работа России»: 2" in page and "Госуслуги: 1" in page
    assert "trudvsem" not in page and "gosuslugi" not in page


def test_the_preferred_channel_is_checked_against_the_channels_offered(
        app, client, campaign, make_user, login):
    """S-III.7 is cross-checked with O-III.6: a channel respondents prefer and the office
    does not offer is marked, and the region says in how many offices it is offered."""
    kya = offices(app, "RU-KYA")  # decentralized: each office fills O-III.6
    for channel in ("messengers", "messengers", "office"):
        answer(app, kya[0], {"usefulness": 9, "preferred_channel": channel})
    answer(app, kya[1], {"usefulness": 9, "preferred_channel": "office"})
    checklist(app, campaign, "O-III.6", {"office": True, "telegram": False,
                                         "chatbot": False}, office_id=kya[0], region="RU-KYA")
    checklist(app, campaign, "O-III.6", {"office": True, "telegram": True}, office_id=kya[1],
              region="RU-KYA")
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-KYA"))
    page = text(client.get(f"/r/RU-KYA/results?campaign={campaign}&metric=indicator:S-III.7"))
    assert "Офис ЦЗН: 1, Мессенджеры: 2 (офис не предлагает)" in page  # office 1
    assert "Офис ЦЗН: 1 (" not in page and "Офис ЦЗН: 2 (" not in page  # offered everywhere
    assert "Офис ЦЗН: 2, Мессенджеры: 2 (предлагают 1 из 2 офисов)" in page  # the region


def test_results_page_before_any_run_says_so(app, client, campaign, make_user, login):
    login(make_user("auditor", "RU-KYA"))
    page = text(client.get("/r/RU-KYA/results"))
    assert "Опубликованных результатов" in page


def test_campaign_pages_create_and_compute(app, client, tenants, make_user, login):
    login(make_user("methodology_owner"))
    form = client.get("/federal/campaigns/")
    assert form.status_code == 200 and "2026-Q4" in form.get_data(as_text=True)  # today's quarter
    created = client.post("/federal/campaigns/", data={
        "name": "2025-Q3", "methodology_key": "cci-2023", "starts_on": "2025-07-01",
        "ends_on": "2025-09-30", "regions": ["RU-BRY", "RU-VLA"]})
    assert created.status_code == 302
    clash = client.post("/federal/campaigns/", data={
        "name": "Осень", "methodology_key": "cci-2023", "starts_on": "2025-09-15",
        "ends_on": "2025-10-15", "regions": ["RU-VLA"]})
    assert clash.status_code == 400 and "не должны пересекаться" in text(clash)
    listing = client.get("/federal/campaigns/").get_data(as_text=True)
    row = next(r for r in listing.split("<tr>") if ">2025-Q3</a>" in r)
    assert re.search(r'<td class="num">(\d+)</td>', row).group(1) == "2"  # its regions
    detail_url = created.headers["Location"]
    started = client.post(detail_url + "/runs")
    assert started.status_code == 302
    page = client.get(detail_url)
    assert "hx-trigger=\"every 2s\"" in page.get_data(as_text=True)  # polls while queued
    work(app)
    fragment = client.get(detail_url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "опубликован" in text(fragment) and "every 2s" not in fragment.get_data(as_text=True)


def test_regional_users_cannot_manage_campaigns(client, tenants, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    assert client.get("/federal/campaigns/").status_code == 404


def test_methodology_pages_list_detail_and_diff(client, tenants, make_user, login):
    login(make_user("auditor", "RU-BRY"))
    listing = text(client.get("/methodologies/"))
    assert "ИКЦ-2022 (пилот)" in listing and "ИКЦ-2023" in listing
    detail = text(client.get("/methodologies/cci-2023"))
    assert "Изменена верхняя граница" in detail  # the pilot's changes next to the version
    assert "Расширен чек-лист «Транспортная доступность»" in detail
    assert "Парковочные места для инвалидов — 0,125" in detail
    diff = text(client.get("/methodologies/diff?old=cci-2022&new=cci-2023"))
    assert "O-III.5" in diff and "Наличие регионального сайта СЗН" in diff  # removed
    assert "Парковочные места для инвалидов — 0,125" in diff  # a parameter added
    assert "Порог положительного ответа" in diff and "positive_min" not in diff


def test_preview_computes_a_draft_and_shows_rank_changes(app, client, tenants, make_user, login):
    import datetime as dt

    from cci.collection.campaigns import save_campaign
    from cci.foundation import tenancy
    from cci.foundation.db import db

    with app.app_context(), tenancy.federal_scope("test"):
        pilot = save_campaign(name="Пилот", methodology_key="cci-2022",
                              starts_on=dt.date(2022, 4, 25), ends_on=dt.date(2022, 5, 6),
                              region_codes=["RU-BRY"]).id
        db.commit()
    day = dt.datetime(2022, 4, 27, 8, tzinfo=dt.UTC)
    bry = offices(app, "RU-BRY")
    for value in (10, 10) + (8,) * 8:  # positive in 2023 (8-10), mostly not in 2022 (9-10)
        answer(app, bry[0], {"usefulness": value}, when=day)
    checklist(app, pilot, "O-V.2",
              dict.fromkeys(("transport_routes", "stop_nearby", "parking", "barrier_free",
                             "city_signs"), True),
              office_id=bry[0])
    start(app, pilot)
    work(app)
    login(make_user("methodology_owner"))
    assert client.post("/federal/preview", data={"campaign": pilot, "candidate": "cci-2023"}
                       ).status_code == 302
    work(app)
    page = text(client.get(f"/federal/preview?campaign={pilot}&candidate=cci-2023"))
    assert "O-V.2" in page and "парковочные места для инвалидов" in page  # never a silent zero
    # 2022: S = 0.2 (9-10 only), O = 1.0 -> 60; 2023: all positive, O-V.2 not computable -> 100
    assert "60,0" in page and "100,0" in page and "+40,0" in page
    assert "нет ответов" not in page  # only what the candidate cannot read is listed


def test_only_methodology_owners_preview(client, tenants, make_user, login):
    login(make_user("federal_analyst"))
    assert client.get("/federal/preview").status_code == 403


def test_a_region_without_an_index_says_why_and_keeps_both_perspectives(
        app, client, campaign, make_user, login):
    bry = offices(app, "RU-BRY")
    for value in (10, 9, 8):  # employers only, and too few for an index
        answer(app, bry[0], {"usefulness": value}, rtype="employer")
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-BRY"))
    page = text(client.get(f"/r/RU-BRY/results?campaign={campaign}"))
    assert "не рассчитан: ни в одном офисе недостаточно ответов" in page
    assert "среднее индексов 0" not in page
    assert "соискатели" in page and "работодатели" in page  # both columns, «—» where empty

