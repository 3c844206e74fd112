"""The methodology pages in words: every indicator with what it measures, how it is scored,
for whom and at which level; parameters and differences as people read them; no internal key,
JSON, None or English on the page."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from cci.methodology import wording
from cci.methodology.contract import Item
from cci.methodology.contract import Option
from cci.methodology.diff import changes_in_words

PAGES = ["/methodologies/", "/methodologies/cci-2022", "/methodologies/cci-2023",
         "/methodologies/diff?old=cci-2022&new=cci-2023",
         "/methodologies/diff?old=cci-2023&new=cci-2022",
         "/methodologies/diff?old=cci-2023&new=cci-2023"]


def words(fragment: str) -> str:
    """The text of an HTML fragment, as a person reads it."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def main(response) -> str:
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page[page.index("<main"):page.index("</main>")]


def visible(response) -> str:
    """The text a person reads: the main content, without the page's chrome."""
    return words(main(response))


def cells(fragment: str) -> list[list[str]]:
    """The rows of the first table body in a fragment, each a list of cell texts."""
    body = fragment[fragment.index("<tbody>"):fragment.index("</tbody>")]
    return [[words(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


@pytest.fixture
def reader(client, tenants, make_user, login):
    login(make_user("auditor", "RU-BRY"))
    return client


@pytest.fixture
def sets(app):
    registry = app.extensions["cci.registry"]
    return registry.indicator_set("cci-2022"), registry.indicator_set("cci-2023")


@pytest.mark.parametrize("url", PAGES)
def test_pages_show_no_internal_key_json_or_english(reader, sets, url):
    page = visible(reader.get(url))
    # a key of the code (positive_min, site_exists, job_seeker…), JSON, Python's words
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", page), url
    for word in ("None", "null", "True", "False", "{", "}", "[", "]"):
        assert word not in page, (url, word)
    # every letter run of three or more is Russian, but for the names of things
    names = {"Telegram"} | {word for s in sets for word in s.package.split("-")}
    english = {word for word in re.findall(r"\b[A-Za-z]{3,}\b", page)
               if word not in names and not re.fullmatch("[IVX]+", word)}  # group numerals
    assert not english, (url, english)
    assert not re.search(r"\b\d+\.\s+0\d\.", page)  # never «1. 01.»
    assert not re.search(r"\bcci-20", page)  # a version is named by its title


def test_every_indicator_is_told_in_full(reader, sets):
    _, v23 = sets
    page = visible(reader.get("/methodologies/cci-2023"))
    for indicator in v23.indicators:
        assert f"{indicator.code} · {indicator.title}" in page
    # the numbers in the Russian way, the wording per respondent type, level and respondents
    assert "Доля положительных ответов (8–10 по шкале от 1 до 10) среди ответивших" in page
    assert "Нужно не меньше, чем 10 действительных ответов в офисе" in page
    assert "Работодатель: «Обращение в ЦЗН было полезным для моей организации" in page
    assert "Сумма баллов за параметры, которые есть: 8 × 0,125, не более 1." in page
    assert "Регион в централизованной сети (заполняется один раз" in page
    assert "одно значение для обоих; заполняет рабочая группа региона (аудиторы)" in page
    assert "Для кого Соискатели и работодатели Уровень" in page
    assert "Сайтом удобно пользоваться с телефона — 0,125" in page
    # parameters in words
    assert "5★ — от 90, 4★ — от 80, 3★ — от 70, 2★ — от 60, ниже — 1★" in page
    assert "r ≥ 1 — 1; r ≥ 0,9 — 0,75; r ≥ 0,8 — 0,5; r ≥ 0,7 — 0,25; ниже — 0" in page
    assert "уровень 1 — 2, уровень 2 — 1, уровень 3 — 0,5, ни один уровень не достигнут — 0" \
        in page
    assert "«Социальные сети ЦЗН» — ВКонтакте или Одноклассники" in page
    # the platform's defaults named per indicator
    article = re.search(r'<article class="card indicator" id="O-V.2">(.*?)</article>',
                        main(reader.get("/methodologies/cci-2023")), re.S)
    transport = words(article.group(1))
    assert "По умолчанию платформы" in transport and "Состав параметров чек-листа" in transport
    pilot = main(reader.get("/methodologies/cci-2022"))
    website = words(re.search(r'id="O-III.2">(.*?)</article>', pilot, re.S).group(1))
    assert "Уровень Каждый офис" in website  # the pilot fills every checklist per office
    assert "По умолчанию платформы" in website
    # the questionnaire, item by item, with its note on change 10
    assert "Анкета" in page and "Изменение 10" in page
    assert "«Да»; «Нет»; «Не знал(а) о такой возможности»; «Затрудняюсь ответить»" in page


def test_the_pilots_changes_are_numbered_once(reader):
    page = main(reader.get("/methodologies/cci-2023"))
    listed = page[page.index('<ol class="changes">'):]
    items = re.findall(r'<li value="(\d+)">(.*?)</li>', listed[:listed.index("</ol>")], re.S)
    assert [int(n) for n, _text in items] == list(range(1, 11))
    assert words(items[3][1]).startswith("Удалён показатель")


def test_the_diff_is_written_for_people(reader):
    page = visible(reader.get("/methodologies/diff?old=cci-2022&new=cci-2023"))
    assert "Порог положительного ответа" in page
    fragment = main(reader.get("/methodologies/diff?old=cci-2022&new=cci-2023"))
    rows = cells(fragment[fragment.index('id="parameters"'):])
    assert ["Порог положительного ответа", "Значение", "9–10", "8–10"] in rows
    assert "Баллы за «Адреса всех офисов»" in page  # O-III.2: 0,2 → 0,125
    assert "Сайтом удобно пользоваться с телефона — 0,125" in page  # merged from O-III.5
    assert "O-III.5 Наличие регионального сайта СЗН" in page and "удалено" in page
    assert "Анкеты двух версий совпадают" in page
    # the proposal behind an indicator's change: the pilot's changes ИКЦ-2023 implements
    indicators = fragment[fragment.index('id="indicators"'):fragment.index('id="parameters"')]
    o_iii_5 = indicators[indicators.index("O-III.5"):]
    o_iii_5 = o_iii_5[:o_iii_5.index("</tr>")]
    assert "Изменение 04" in o_iii_5
    o_v_2 = indicators[indicators.index("O-V.2"):]
    assert "Изменение 04" not in o_v_2[:o_v_2.index("</tr>")]


def test_change_entries_in_words(app, sets):
    v22, v23 = sets
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        texts = {c.text for c in changes_in_words(v22, v23)}
        assert "Порог положительного ответа: было 9–10, стало 8–10" in texts
        assert ("Минимальная выборка на показатель в офисе: было 1 действительный ответ, "
                "стало 10 действительных ответов") in texts
        assert "Баллы за «Парковка для клиентов»: было 0,2, стало 0,125" in texts
        refs = {(c.section, c.ref) for c in changes_in_words(v22, v23)}
        assert ("indicator", "O-III.5") in refs and ("parameter", "vacancy_bands") in refs
        assert changes_in_words(v23, v23) == []


def test_the_questionnaire_diff_goes_item_by_item(app, sets):
    """A version that rewords one question for employers, drops an option of another and adds
    a question: each is one entry, with the old and the new wording."""
    _, v23 = sets
    items = []
    for item in v23.items:
        if item.key == "usefulness":
            item = dataclasses.replace(item, text={**item.text, "employer": "Обращение помогло"})
        if item.key == "pre_registration":
            item = dataclasses.replace(item, options=item.options[:2])
        items.append(item)
    items.insert(3, Item("waiting_time", "scale", {"job_seeker": "Я недолго ждал приёма"}))
    revised = dataclasses.replace(v23, key="cci-2023-r", items=items)
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        entries = [c for c in changes_in_words(v23, revised) if c.section == "questionnaire"]
        assert [(c.ref, c.what) for c in entries] == [
            ("waiting_time", "Вопрос"),
            ("usefulness", "Формулировка для работодателей"),
            ("pre_registration", "Варианты ответа"),
        ]
        added, reworded, options = entries
        assert added.old is None and added.new == "Соискатель: «Я недолго ждал приёма»"
        assert reworded.old.startswith("«Обращение в ЦЗН было полезным")
        assert reworded.new == "«Обращение помогло»"
        assert options.old == ("«Да»; «Нет»; «Не знал(а) о такой возможности»; "
                               "«Затрудняюсь ответить»")
        assert options.new == "«Да»; «Нет»; «Затрудняюсь ответить»"
        # the questionnaire as the page lists it
        listed = wording.questionnaire(revised)
        assert listed[3].wording == ["Соискатель: «Я недолго ждал приёма»"]
        assert listed[3].answers == "шкала от 1 до 10; «Затрудняюсь ответить»"


def test_the_2023_questionnaire_is_its_own_declared_data(sets):
    v22, v23 = sets
    assert v23.items is not v22.items and v23.items == v22.items  # the source gives no wording
    assert "Изменение 10" in v23.questionnaire_note
    assert all(isinstance(o, Option) for i in v23.items for o in i.options)


def test_an_indicator_out_of_the_index_still_says_how_it_is_computed(reader):
    page = main(reader.get("/methodologies/cci-2022"))

    def card(code):
        return words(re.search(rf'id="{re.escape(code)}">(.*?)</article>', page, re.S).group(1))

    component = card("S-III.1")  # a part of the pilot's single information indicator
    assert "Доля положительных ответов (9–10 по шкале от 1 до 10)" in component
    assert "в индекс не входит" in component
    distribution = card("S-III.7")
    assert "Распределение ответов." in distribution and "действительн" not in distribution
    assert "Его составляющие: S-III.1, S-III.2, S-III.3, S-III.4" in card("S-III.1-4")
    assert "Для кого Соискатели и работодатели" in card("S-III.1-4")
