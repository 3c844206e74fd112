"""The indicators and parameters of ИКЦ-2022 (the pilot)."""

from __future__ import annotations

from cci.plugin_api import Indicator
from cci.plugin_api import Parameter
from cci.plugin_api import ThemePair

from cci_ikc2022 import checklists as cl

GROUPS = {
    "I": "Дружелюбие и партнёрство",
    "II": "Полезность обращения",
    "III": "Минимизация усилий клиента",
    "IV": "Адресность и персонализация",
    "V": "Внешний комфорт и удобство",
}


def subjective(code: str, key: str, title: str, *items: str, **kw) -> Indicator:
    group = code.split("-")[1].split(".")[0]
    return Indicator(code, key, group, "subjective", title, items=items or (key,), **kw)


def objective(code: str, key: str, title: str, checklist, **kw) -> Indicator:
    group = code.split("-")[1].split(".")[0]
    return Indicator(code, key, group, "objective", title, checklist=checklist, **kw)


SUBJECTIVE_COMMON = [
    subjective("S-I.1", "prof_competence", "Профессиональная компетентность сотрудников",
               touchpoints=("specialist_window",)),
    subjective("S-I.2", "comm_competence", "Коммуникативная компетентность сотрудников",
               touchpoints=("specialist_window",)),
    subjective("S-I.3", "management_openness", "Открытость руководства ЦЗН", "management_openness",
               description="Доля положительных ответов на уточняющий вопрос среди тех, кто "
                           "обращался к руководству", is_default=True,
               touchpoints=("feedback",)),
    subjective("S-II.1", "usefulness", "Полезность обращения в ЦЗН"),
]
INFO_SUBJECTIVE = [
    subjective("S-III.1", "info_office", "Доступность и понятность информации в офисе",
               touchpoints=("office",)),
    subjective("S-III.2", "info_website", "Доступность и понятность информации на сайте СЗН",
               touchpoints=("site",)),
    subjective("S-III.3", "info_social", "Доступность и понятность информации в социальных сетях",
               touchpoints=("social_networks",)),
    subjective("S-III.4", "info_contact_center",
               "Доступность и понятность информации в контакт-центре",
               touchpoints=("contact_centre",)),
]
SUBJECTIVE_REST = [
    subjective("S-III.5", "simplicity", "Простота процедур"),
    subjective("S-III.6", "responsiveness", "Оперативность реагирования на обращения"),
    subjective("S-III.7", "preferred_channel", "Наиболее удобный канал взаимодействия",
               scored=False, description="Не оценивается: распределение ответов, сверяется с "
                                         "каналами, которые предлагает офис (O-III.6)"),
    subjective("S-III.8", "pre_registration", "Предварительная запись"),
    subjective("S-IV.1", "personal_consultant", "Закреплённый консультант (куратор)"),
    subjective("S-IV.2", "personal_circumstances", "Учёт личных обстоятельств"),
    subjective("S-V.1", "comfort", "Комфортность пребывания в ЦЗН", touchpoints=("office",)),
    subjective("S-V.2", "transport", "Транспортная доступность", touchpoints=("route",)),
    subjective("S-V.3", "appearance", "Внешний вид сотрудников",
               touchpoints=("specialist_window",)),
    subjective("S-V.4", "coordination", "Согласованность действий сотрудников"),
]

OBJECTIVE_HEAD = [
    objective("O-I.1", "management_openness", "Открытость руководства", cl.MANAGEMENT_OPENNESS,
              touchpoints=("feedback",)),
    objective("O-II.1", "vacancy_dynamics", "Динамика роста базы вакансий", cl.VACANCIES_2022,
              description="Вакансий за период / вакансий за предыдущий период, но не более 1; "
                          "не рассчитывается, если в предыдущем периоде вакансий 0"),
    objective("O-II.2", "outreach_events", "Разнообразие мероприятий", cl.OUTREACH,
              description="0,2 за каждый проведённый вид мероприятий "
                          "(разнообразие, не количество)"),
]
INFO_OBJECTIVE = [
    objective("O-III.1", "info_office", "Доступность и понятность информации в офисе",
              cl.INFO_OFFICE, touchpoints=("office",)),
    objective("O-III.2", "info_website", "Доступность и понятность информации на сайте",
              cl.INFO_WEBSITE, touchpoints=("site",)),
    objective("O-III.3", "info_social", "Доступность и понятность информации в соцсетях",
              cl.INFO_SOCIAL, touchpoints=("social_networks",)),
    objective("O-III.4", "info_contact_center",
              "Доступность и понятность информации в контакт-центре («тайный звонок»)",
              cl.CONTACT_CENTER_2022, touchpoints=("contact_centre",)),
]
OBJECTIVE_TAIL = [
    objective("O-III.6", "multichannel", "Многоканальность", cl.MULTICHANNEL,
              description="0,1 за каждый предлагаемый канал, не более 1"),
    objective("O-III.7", "responsiveness", "Анализ оперативности", cl.RESPONSIVENESS),
    objective("O-III.8", "pre_registration", "Каналы предварительной записи", cl.PRE_REGISTRATION,
              description="0,25 за каждый канал записи, не более 1"),
    objective("O-V.1", "comfort", "Комфортность условий", cl.COMFORT_2022,
              description="Уровень 1 = 2 балла, уровень 2 = 1, уровень 3 = 0,5, нет = 0; "
                          "оценка = балл / 2", touchpoints=("office",)),
    objective("O-V.2", "transport", "Транспортная доступность", cl.TRANSPORT_2022,
              touchpoints=("route",)),
    objective("O-V.3", "appearance", "Внешний вид сотрудников", cl.APPEARANCE,
              touchpoints=("specialist_window",)),
]


def _components(indicators, code, key, title, kind):
    parts = tuple(i.code for i in indicators)
    hidden = [Indicator(i.code, i.key, i.group, i.kind, i.title, items=i.items,
                        checklist=i.checklist, scored=False,
                        description="Составляющая единого показателя доступности информации",
                        touchpoints=i.touchpoints)
              for i in indicators]
    whole = Indicator(code, key, "III", kind, title, components=parts,
                      description="Среднее четырёх составляющих "
                                  "(офис, сайт, соцсети, контакт-центр)")
    return [*hidden, whole]


INDICATORS = (
    SUBJECTIVE_COMMON
    + _components(INFO_SUBJECTIVE, "S-III.1-4", "info_accessibility",
                  "Доступность и понятность информации", "subjective")
    + SUBJECTIVE_REST
    + OBJECTIVE_HEAD
    + _components(INFO_OBJECTIVE, "O-III.1-4", "info_accessibility",
                  "Доступность и понятность информации", "objective")
    + [objective("O-III.5", "regional_website", "Наличие регионального сайта СЗН",
                 cl.REGIONAL_WEBSITE, touchpoints=("site",))]
    + OBJECTIVE_TAIL
)

PARAMETERS = {
    "positive_min": Parameter(
        "positive_min", "Порог положительного ответа", 9, is_default=True,
        description="Граница пилота в источнике не указана; по умолчанию 9–10",
        kind="integer", minimum=1, maximum=10, unit="балл шкалы 1–10"),
    "min_sample": Parameter(
        "min_sample", "Минимальная выборка на показатель в офисе", 1, is_default=True,
        description="В пилоте достаточно одного ответа",
        kind="integer", minimum=1, maximum=1000, unit="ответов"),
    "star_bands": Parameter(
        "star_bands", "Границы звёзд (5★, 4★, 3★, 2★)", [90, 80, 70, 60], is_default=True,
        description="Звёзды относятся к индексу в том виде, в каком он показан, — с одним "
                    "знаком после запятой: 89,96 показывается как 90,0 и получает 5★",
        kind="numbers", minimum=0, maximum=100, unit="баллов индекса",
        words=(("0", "5★"), ("1", "4★"), ("2", "3★"), ("3", "2★"))),
    "comfort_points": Parameter(
        "comfort_points", "Баллы уровней комфортности",
        {"1": 2.0, "2": 1.0, "3": 0.5, "none": 0.0},
        kind="weights", minimum=0, maximum=10, unit="баллов",
        words=tuple((o.key, o.label.split(":")[0]) for o in cl.COMFORT_LEVELS)),
    "preferred_channel_offered_by": Parameter(
        "preferred_channel_offered_by", "Сверка S-III.7 с каналами O-III.6",
        {"office": ["office"], "contact_center": ["contact_center"],
         "social": ["vk", "ok"], "website": ["regional_site"], "trudvsem": ["trudvsem"],
         "gosuslugi": ["gosuslugi"], "messengers": ["telegram", "chatbot"],
         "email": ["email"]},
        is_default=True,
        description="Вариант ответа «наиболее удобный канал» считается предлагаемым офисом, "
                    "если в чек-листе O-III.6 отмечен хотя бы один из этих каналов",
        kind="mapping", choices=tuple(p.key for p in cl.MULTICHANNEL)),
}


#: The same theme seen by respondents and checked by auditors (the specification pairs the
#: subjective and objective indicators of one key): compared per office for disagreement.
THEME_PAIRS_COMMON = [
    ThemePair("S-I.3", "O-I.1"),  # management openness
    ThemePair("S-III.1", "O-III.1"),  # information in the office
    ThemePair("S-III.2", "O-III.2"),  # on the website
    ThemePair("S-III.3", "O-III.3"),  # in social networks
    ThemePair("S-III.4", "O-III.4"),  # in the contact centre
    ThemePair("S-III.6", "O-III.7"),  # responsiveness
    ThemePair("S-III.8", "O-III.8"),  # pre-registration
    ThemePair("S-V.1", "O-V.1"),  # comfort
    ThemePair("S-V.2", "O-V.2"),  # transport
    ThemePair("S-V.3", "O-V.3"),  # appearance
]
#: the pilot's single information-accessibility indicator, too
THEME_PAIRS = [ThemePair("S-III.1-4", "O-III.1-4"), *THEME_PAIRS_COMMON]
