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
from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices
from conftest import region_id

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
