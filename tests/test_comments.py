"""Respondents' comments: themes by Russian morphology, personal data masked on display,
shares of commenters and theme counts against hand-computed values, filters, isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy import update

from cci.collection import personal_data
from cci.collection.comment_themes import OTHER
from cci.collection.comment_themes import classify_pending
from cci.collection.comment_themes import themes_of
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import CommentTheme
from cci.foundation.models import Response
from cci.index.comments import comment_counts
from conftest import region_id
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices

LABELS = {personal_data.PHONE: "[телефон]", personal_data.EMAIL: "[e-mail]",
          personal_data.NAME: "[имя]"}


def masked(text: str) -> str:
    return personal_data.mask(text, LABELS)


# --- masking -----------------------------------------------------------------------------

@pytest.mark.parametrize("phone", [
    "+7 (912) 345-67-89", "+79123456789", "89123456789", "8 912 345 67 89", "8-912-345-67-89",
    "8 (800) 555-35-35", "(4832) 64-12-34", "64-12-34", "+7 912 345 6789", "8(4832)641234",
])
def test_phones_in_russian_formats_are_masked(phone):
    assert masked(f"Перезвоните мне: {phone}, пожалуйста") == \
        "Перезвоните мне: [телефон], пожалуйста"


def test_dates_and_counts_are_not_phones():
    text = "Были 25.04.2022 в 10:30, ждали 40 минут, нас было 12 человек"
    assert masked(text) == text


@pytest.mark.parametrize("email", ["ivanov.p@mail.ru", "user+cci@yandex.ru", "почта@пример.рф",
                                   "a_b-c@sub.domain.org"])
def test_emails_are_masked(email):
    assert masked(f"Пишите на {email} в любое время") == "Пишите на [e-mail] в любое время"


@pytest.mark.parametrize(("text", "expected"), [
    ("Спасибо Ивановой Марии Петровны за помощь", "Спасибо [имя] за помощь"),
    ("Благодарю Иванову Марию Петровну!", "Благодарю [имя]!"),
    ("Выражаю благодарность Сергею Николаевичу Петрову", "Выражаю благодарность [имя]"),
    ("Инспектор Смирнова О. П. очень внимательна", "Инспектор [имя] очень внимательна"),
    ("Консультант Надежда Сергеевна помогла", "Консультант [имя] помогла"),
    ("Спасибо ольге николаевне", "Спасибо [имя]"),
    ("Мария Петровна, Анна и Татьяна — молодцы", "[имя], [имя] и [имя] — молодцы"),
])
def test_names_in_several_cases_are_masked(text, expected):
    assert masked(text) == expected


def test_common_words_that_can_be_names_stay_at_a_sentence_start():
    text = "Надежда есть. Вера в лучшее осталась, любовь к работе тоже"
    assert masked(text) == text


def test_everything_at_once_and_the_stored_text_unchanged():
    text = "Звонила Ивановой по тел. 8 912 345-67-89, ответа нет; пишу на mail@example.ru"
    assert masked(text) == "Звонила [имя] по тел. [телефон], ответа нет; пишу на [e-mail]"
    assert text.startswith("Звонила Ивановой")  # the function returns a new text


# --- themes --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Спасибо сотрудникам за помощь!", ("gratitude",)),
    ("Благодарю инспектора, очень помогли", ("gratitude",)),
    ("Выражаем благодарность коллективу центра", ("gratitude",)),
    ("Нет кулера с питьевой водой", ("office_comfort",)),
    ("Летом в зале жарко, кондиционеры не работают", ("office_comfort",)),
    ("Сайт «Работы России» постоянно зависает", ("remote_portal",)),
    ("Не смогла зарегистрироваться на портале, пришлось идти лично",
     ("remote_portal", "curator_contact")),
    ("Хотелось бы чаще встречаться с куратором", ("curator_contact",)),
    ("Нужно больше личного общения со специалистом", ("curator_contact",)),
    ("Просим тщательнее подбирать соискателей на вакансии", ("candidate_selection",)),
    ("Присланные кандидаты не подошли", ("candidate_selection",)),
    ("Спасибо! Но в офисе душно и нет кулера", ("gratitude", "office_comfort")),
    ("Парковка далеко от входа", (OTHER,)),
    ("   ", ()),
])
def test_themes_by_word_forms(text, expected):
    assert themes_of(text) == expected


def test_personal_account_is_remote_not_personal_contact():
    assert themes_of("Не работает личный кабинет") == ("remote_portal",)


# --- counts, pages and isolation on stored answers ---------------------------------------

BRY_COMMENTS = [  # office A, job seekers: (comment, counted)
    ("Спасибо сотрудникам за помощь! Звоните 8 912 345-67-89", True),
    ("Нет кулера, летом жарко", True),
    ("   ", True),  # blanks are no comment
    (None, True),
    ("Спасибо Ивановой Марии Петровны", False),  # excluded by a quality rule: not counted
]


@pytest.fixture
def world(app, campaign):
    """RU-BRY: office A with 5 job seekers (2 counted comments, 1 excluded) and 1 employer
    (a comment), office B with 3 job seekers and no comment; RU-KYA: one comment."""
    a, b = offices(app, "RU-BRY")
    kya = offices(app, "RU-KYA")[0]
    excluded = []
    for n, (comment, counted) in enumerate(BRY_COMMENTS):
        rid, _ = answer(app, a, {"usefulness": 10}, comment=comment,
                        when=DAY + dt.timedelta(hours=n),
                        profile={"gender": "female" if n < 3 else "male", "age": "25-34"})
        if not counted:
            excluded.append(rid)
    answer(app, a, {"usefulness": 3}, rtype="employer", channel="web",
           comment="Подбирайте кандидатов тщательнее", profile={"headcount": "16-100"})
    for n in range(3):
        answer(app, b, {"usefulness": 9}, profile={"gender": "male"} if n else {})
    answer(app, kya, {"usefulness": 8}, comment="Секрет Красноярска: Петров, 89001112233")
    with app.app_context(), tenancy.federal_scope("test"):
        db.execute(update(Response).where(Response.id.in_(excluded)).values(counted=False))
        for code in ("RU-BRY", "RU-KYA"):
            classify_pending(region_id(app, code), campaign)
        db.commit()
    return {"a": a, "b": b, "kya": kya, "campaign": campaign}


def test_classified_once(app, world):
    with app.app_context(), tenancy.federal_scope("test"):
        rows = db.execute(select(CommentTheme.theme, CommentTheme.response_id)).all()
        assert classify_pending(region_id(app, "RU-BRY"), world["campaign"]) == 0
    # 4 texts in RU-BRY (the blank one is none) and 1 in RU-KYA; the first has one theme
    assert len({r for _, r in rows}) == 5
    assert sorted(t for t, _ in rows) == sorted(
        ["gratitude", "office_comfort", "gratitude", "candidate_selection", OTHER])


def test_shares_and_themes_against_hand_computed_values(app, world):
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY"), "test"):
        counts = comment_counts(world["campaign"], region_id(app, "RU-BRY"))
    a, b = counts.offices[world["a"]], counts.offices[world["b"]]
    assert (a.n("job_seeker"), a.n_commented("job_seeker")) == (4, 2)  # excluded left out
    assert a.share("job_seeker") == pytest.approx(0.5)
    assert (a.n("employer"), a.n_commented("employer"), a.share("employer")) == (1, 1, 1.0)
    assert (b.n(), b.n_commented(), b.share()) == (3, 0, 0.0)  # an office with no comments
    region = counts.regions[region_id(app, "RU-BRY")]
    assert (region.n("job_seeker"), region.n_commented("job_seeker")) == (7, 2)
    assert region.share() == pytest.approx(3 / 8)
    assert region.theme("gratitude") == 1  # the excluded comment thanked too: not counted
    assert region.theme("office_comfort", "job_seeker") == 1
    assert region.theme("candidate_selection", "employer") == 1
    assert region.theme_share("office_comfort") == pytest.approx(1 / 3)
    assert b.theme_share("gratitude") is None
    assert counts.pending == 0
    assert set(counts.regions) == {region_id(app, "RU-BRY")}  # the scope's region only


def test_a_region_with_one_office(app, tenants):
    from cci.collection.campaigns import save_campaign
    from cci.foundation.models import Office
    from cci.foundation.models import Region

    with app.app_context(), tenancy.federal_scope("test"):
        region = Region(code="RU-KGD", name="Калининградская область",
                        network_type="centralized", timezone="Europe/Kaliningrad")
        db.add(region)
        db.flush()
        office = Office(region_id=region.id, code="kgd-1", name="ЦЗН Калининграда",
                        kind="main")
        db.add(office)
        campaign = save_campaign(name="one office", methodology_key="cci-2023",
                                 starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 6, 30),
                                 region_codes=["RU-KGD"])
        db.commit()
        ids = region.id, office.id, campaign.id
    for comment in ("Спасибо!", None, None, None, "Портал не работает"):
        answer(app, ids[1], {"usefulness": 10}, comment=comment)
    with app.app_context(), tenancy.region_scope(ids[0], "test"):
        classify_pending(ids[0], ids[2])
        db.commit()
        counts = comment_counts(ids[2], ids[0])
    assert counts.offices[ids[1]].share() == counts.regions[ids[0]].share() == 0.4
    assert counts.regions[ids[0]].theme("remote_portal") == 1


def test_the_run_classifies_new_comments(app, world):
    from engine_helpers import start
    from engine_helpers import work

    answer(app, world["b"], {"usefulness": 10}, comment="Хочется больше общаться с куратором")
    with app.app_context(), tenancy.federal_scope("test"):
        assert comment_counts(world["campaign"]).pending == 1
    start(app, world["campaign"])
    work(app)
    with app.app_context(), tenancy.federal_scope("test"):
        counts = comment_counts(world["campaign"])
        assert counts.pending == 0
        assert counts.offices[world["b"]].theme("curator_contact") == 1


def test_the_page_in_russian_masked_and_counted(app, world, client, login, make_user):
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get("/r/RU-BRY/comments").get_data(as_text=True)
    assert "Комментарии респондентов" in html
    assert "Благодарность ЦЗН и сотрудникам" in html
    assert "[телефон]" in html and "345-67-89" not in html
    assert "Ивановой" not in html  # an excluded comment is not listed either
    assert "37,5" in html  # 3 of 8 respondents commented in the region
    assert "Секрет Красноярска" not in html
    assert "Только" in html or "только" in html  # the quality-valid note


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("respondent_type=employer", ["кандидатов"], ["кулера"]),
    ("theme=office_comfort", ["кулера"], ["кандидатов", "Спасибо сотрудникам"]),
    ("q=КУЛЕРА", [], ["кандидатов"]),
    ("q=кулера", ["кулера"], ["кандидатов"]),
    ("band=low", ["кандидатов"], ["кулера"]),
    ("band=high", ["кулера"], ["кандидатов"]),
    ("channel=web", ["кандидатов"], ["кулера"]),
    ("from=2025-05-06", [], ["кулера", "кандидатов"]),
    ("to=2025-05-05", ["кулера", "кандидатов"], []),
])
def test_filters(app, world, client, login, make_user, query, shown, hidden):
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/comments?{query}")
    assert response.status_code == 200
    listed = response.get_data(as_text=True).split('id="comments-list"')[1]
    for text in shown:
        assert text in listed, query
    for text in hidden:
        assert text not in listed, query


def test_office_filter_and_pages(app, world, client, login, make_user):
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get(f"/r/RU-BRY/comments?office={world['b']}").get_data(as_text=True)
    assert "кулера" not in html.split('id="comments-list"')[1]
    assert client.get(f"/r/RU-BRY/comments?office={world['kya']}").status_code == 404


def test_isolation_crossed(app, world, client, login, make_user):
    login(make_user("regional_admin", "RU-BRY"))
    assert client.get("/r/RU-KYA/comments").status_code == 404
    assert client.get("/r/RU-KYA/profiles").status_code == 404
    # a regional user cannot pick another region
    html = client.get("/r/RU-BRY/comments?region=RU-KYA").get_data(as_text=True)
    assert "Секрет" not in html


def test_operators_do_not_read_comments(app, world, client, login, make_user):
    login(make_user("operator", "RU-BRY"))
    assert client.get("/r/RU-BRY/comments").status_code == 403


def test_a_federal_reader_picks_a_region(app, world, client, login, make_user):
    login(make_user("federal_analyst"))
    response = client.get("/r/RU-BRY/comments?region=RU-KYA")
    assert response.status_code == 302 and "/r/RU-KYA/comments" in response.location
    html = client.get(response.location).get_data(as_text=True)
    assert "Секрет Красноярска: [имя], [телефон]" in html


def test_load_more(app, world, client, login, make_user):
    from cci.web.views import comments as view

    login(make_user("regional_admin", "RU-BRY"))
    old = view.PER_PAGE
    view.PER_PAGE = 2
    try:
        html = client.get("/r/RU-BRY/comments").get_data(as_text=True)
        assert "Показать ещё" in html
        more = client.get("/r/RU-BRY/comments?page=2", headers={"HX-Request": "true"})
        fragment = more.get_data(as_text=True)
        assert "<h1" not in fragment and "Спасибо сотрудникам" in fragment
    finally:
        view.PER_PAGE = old


def test_bad_filters_are_told_not_a_500(app, world, client, login, make_user):
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get("/r/RU-BRY/comments?from=вчера&band=x&office=²&page=-3")
    assert response.status_code == 200
    assert "не распознаны" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["Ивановой", "иванова", "89123456789", "a@b.ru"])
def test_the_search_does_not_look_for_what_is_masked(app, world, client, login, make_user,
                                                    query):
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get(f"/r/RU-BRY/comments?q={query}").get_data(as_text=True)
    assert "не ищет имена" in html
    # the search is not applied: every comment is listed, none singled out
    assert "Фильтрам соответствуют 3 комментария" in html
