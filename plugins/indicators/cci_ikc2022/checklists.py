"""The auditors' checklists of the pilot (2022). Parameters marked ``is_default`` are the
platform's reconstruction from the pilot's remarks; counts and points are the source's."""

from __future__ import annotations

from cci.plugin_api import ChecklistParam
from cci.plugin_api import Option


def points(step: float, *params: tuple[str, str],
           default: bool = True) -> tuple[ChecklistParam, ...]:
    return tuple(ChecklistParam(key, label, points=step, is_default=default)
                 for key, label in params)


MANAGEMENT_OPENNESS = points(
    0.2,
    ("reception_days", "Проводятся дни приёма граждан руководством"),
    ("reception_days_published", "Дни приёма опубликованы не только на стенде (сайт, соцсети)"),
    ("head_phone_public", "Телефон руководителя в открытом доступе"),
    ("head_email_working", "Эл. почта / электронная приёмная руководителя доступна и работает"),
    ("role_swap_days", "Проводятся дни, когда руководство работает на местах сотрудников приёма"),
)

VACANCIES_2022 = (
    ChecklistParam("vacancies_current", "Вакансий в базе за отчётный период", kind="number"),
    ChecklistParam("vacancies_previous", "Вакансий в базе за предыдущий период", kind="number"),
)

OUTREACH = points(
    0.2,
    ("job_fairs", "Ярмарки вакансий"),
    ("open_days", "Дни открытых дверей, дни карьеры"),
    ("education_sessions", "Встречи в школах, колледжах, вузах"),
    ("media_campaigns", "Кампании в СМИ и социальных сетях"),
    ("mobile_office", "Мобильный офис / совместные мероприятия с работодателями"),
)

INFO_OFFICE = points(
    0.2,
    ("stands_current", "Информационные стенды есть и актуальны"),
    ("grouped_by_topic", "Информация сгруппирована по темам / жизненным ситуациям"),
    ("corporate_style", "Единый фирменный стиль «Работа России»"),
    ("employer_info", "Есть информация для работодателей"),
    ("navigation", "Навигация внутри офиса"),
)

INFO_WEBSITE = points(
    0.2,
    ("all_addresses", "Адреса всех офисов"),
    ("working_hours", "Режим работы каждого офиса"),
    ("services_described", "Услуги и порядок их получения"),
    ("accessible_version", "Версия для слабовидящих"),
    ("feedback_form", "Форма обратной связи / контакты"),
)

INFO_SOCIAL = points(
    0.2,
    ("official_accounts", "Официальные аккаунты есть"),
    ("updated_14_days", "Обновлялись за последние 14 дней"),
    ("unified_style", "Единый стиль"),
    ("replies", "Отвечают на комментарии и сообщения"),
    ("service_links", "Ссылки на услуги / предварительную запись"),
)

CONTACT_CENTER_2022 = points(
    0.2,
    ("greeted", "Оператор поздоровался"),
    ("gave_name", "Оператор назвал своё имя"),
    ("named_branch", "Оператор назвал ЦЗН / филиал"),
    ("complete_answer", "Ответ полный"),
    ("max_one_transfer", "Не более одного переключения"),
)

REGIONAL_WEBSITE = points(
    0.25,
    ("site_exists", "Региональный сайт СЗН есть"),
    ("not_merged", "Не дублируется и не объединён с сайтами других служб региона"),
    ("current", "Информация актуальна"),
    ("mobile_friendly", "Удобен на телефоне"),
)

MULTICHANNEL = points(
    0.1,
    ("office", "Офис"),
    ("contact_center", "Контакт-центр / горячая линия"),
    ("regional_site", "Региональный сайт"),
    ("trudvsem", "Портал «Работа России»"),
    ("gosuslugi", "Госуслуги"),
    ("vk", "ВКонтакте"),
    ("ok", "Одноклассники"),
    ("telegram", "Telegram"),
    ("email", "Электронная почта"),
    ("chatbot", "Чат-бот или мессенджер"),
)

RESPONSIVENESS = (
    ChecklistParam(
        "internal_report",
        "Есть внутренний региональный отчёт с анализом времени ожидания в очереди, статистики "
        "контакт-центра и сроков оказания услуг",
        points=1.0,
    ),
)

PRE_REGISTRATION = points(
    0.25,
    ("regional_site", "Региональный сайт"),
    ("contact_center", "Контакт-центр"),
    ("gosuslugi", "Госуслуги / региональный портал"),
    ("social_messengers", "Социальные сети / мессенджеры"),
)

COMFORT_LEVELS = (
    Option("1", "Уровень 1: офис модернизирован по брендбуку (зонирование, электронная очередь, "
                "цифровая зона с ПК, детский уголок, питьевая вода, кондиционирование)"),
    Option("2", "Уровень 2: зона ожидания с местами для сидения, питьевая вода, туалет, "
                "информационные стенды"),
    Option("3", "Уровень 3: места для сидения, туалет"),
    Option("none", "Ни один уровень не достигнут"),
)

COMFORT_2022 = (
    ChecklistParam("level", "Достигнутый уровень комфортности", kind="choice",
                   options=COMFORT_LEVELS, is_default=True),
)

# The source's own list (its slide on transport accessibility): routes, walking distance,
# parking, a barrier-free environment, city signs.
TRANSPORT_2022 = points(
    0.2,
    ("transport_routes", "Маршруты общественного транспорта до ЦЗН"),
    ("stop_nearby", "ЦЗН в пешей доступности от остановки"),
    ("parking", "Парковка для клиентов"),
    ("barrier_free", "Безбарьерная среда (пандусы, кнопки вызова сотрудников, визуальные "
                     "метки)"),
    ("city_signs", "Навигационные указатели к ЦЗН, установленные в городе"),
    default=False,
)

APPEARANCE = points(
    0.2,
    ("business_clothing", "Одежда делового стиля"),
    ("corporate_element", "Элемент фирменного стиля «Работа России»"),
    ("name_badge", "Бейдж с именем"),
    ("neat", "Опрятный внешний вид"),
    ("one_style", "Единый стиль у всех сотрудников"),
)
