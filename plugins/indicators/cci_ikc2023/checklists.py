"""Checklists that the pilot's proposals changed (2023); the rest are the pilot's."""

from __future__ import annotations

from cci.plugin_api import ChecklistParam

from cci_ikc2022.checklists import INFO_WEBSITE
from cci_ikc2022.checklists import points

VACANCIES_2023 = (
    ChecklistParam("vacancies_current", "Вакансий в базе за отчётный период", kind="number"),
    ChecklistParam("vacancies_last_year", "Вакансий в базе за тот же период прошлого года",
                   kind="number", is_default=True),
)

# Change 04: the regional-site indicator (the pilot's O-III.5) merged into O-III.2: one
# checklist of the site's five information parameters and the former indicator's three, each
# 0.125. Whether a site exists is no parameter of its own: with no site nothing is present.
# The keys are the pilot's, so a pilot campaign's two checklists read as this one.
SITE_PARAMETERS = (
    ("not_merged", "Сайт не дублируется и не объединён с сайтами других служб региона"),
    ("current", "Информация на сайте актуальна"),
    ("mobile_friendly", "Сайтом удобно пользоваться с телефона"),
)
WEBSITE_2023 = points(0.125, *((p.key, p.label) for p in INFO_WEBSITE), *SITE_PARAMETERS)

# Change 07: part of the mystery-call parameters replaced.
CONTACT_CENTER_2023 = points(
    0.2,
    ("greeting_script", "Приветствие по скрипту полностью (приветствие, имя, филиал)"),
    ("reached_60s", "Дозвонились до оператора за 60 секунд"),
    ("max_one_transfer", "Не более одного переключения"),
    ("complete_answer", "Ответ полный и корректный"),
    ("next_step_offered", "Предложена предварительная запись или следующий шаг"),
)

# Change 08: each comfort level is an explicit checklist; a level is met when its parameters
# and those of every lower level are all present.
COMFORT_FEATURES = {
    "seating": "Места для сидения",
    "toilet": "Туалет",
    "waiting_area": "Зона ожидания с местами для сидения",
    "drinking_water": "Питьевая вода",
    "info_stands": "Информационные стенды",
    "zoning": "Зонирование по брендбуку",
    "e_queue": "Электронная очередь",
    "digital_zone": "Цифровая зона с ПК",
    "children_corner": "Детский уголок",
    "air_conditioning": "Кондиционирование",
}
#: level -> its own features, from the basic level 3 up to level 1
COMFORT_LEVELS = {
    "3": ("seating", "toilet"),
    "2": ("waiting_area", "drinking_water", "info_stands"),
    "1": ("zoning", "e_queue", "digital_zone", "children_corner", "air_conditioning"),
}
COMFORT_2023 = tuple(
    ChecklistParam(key, f"Уровень {level}: {COMFORT_FEATURES[key]}", is_default=True)
    for level, keys in COMFORT_LEVELS.items()
    for key in keys
)

# Change 09: transport accessibility extended to 8 × 0.125.
TRANSPORT_2023 = points(
    0.125,
    ("stop_500m", "Остановка общественного транспорта в пределах 500 м"),
    ("parking", "Парковка для клиентов"),
    ("disabled_parking", "Парковочные места для инвалидов"),
    ("ramp", "Пандус / вход без ступеней"),
    ("call_button", "Кнопка вызова сотрудника"),
    ("tactile_marks", "Тактильные и визуальные метки"),
    ("city_signs", "Указатели к ЦЗН в городе"),
    ("directions_online", "Схема проезда на сайте и в социальных сетях"),
)
