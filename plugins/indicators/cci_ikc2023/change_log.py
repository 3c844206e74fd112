"""The pilot's ten changes as data: each the accepted proposal behind it and the indicators it
touches. The core seeds its register of proposals from this list."""

from __future__ import annotations

from cci.plugin_api import DeclaredChange

#: Who proposed them: the source names the pilot's working groups, not one region.
PILOT = "Рабочие группы пилотных регионов (59 предложений по итогам апробации 2022 года)"

CHANGE_LOG = [
    DeclaredChange(1, "Добавлено разделение на централизованную и децентрализованную сети ЦЗН: "
                      "в централизованной сети показатели регионального уровня заполняются "
                      "один раз для региона",
                   ("O-III.2", "O-III.3", "O-III.4", "O-III.6", "O-III.7", "O-III.8"), PILOT),
    DeclaredChange(2, "Внесены изменения в формулу подсчёта Индекса клиентоцентричности: индекс "
                      "— среднее индексов перспектив соискателей и работодателей",
                   (), PILOT),
    DeclaredChange(3, "Изменена верхняя граница при подсчёте субъективных данных: положительный "
                      "ответ — от 8 до 10", (), PILOT),
    DeclaredChange(4, "Удалён показатель «Наличие регионального сайта СЗН»: объединён с "
                      "показателем доступности информации на региональном сайте",
                   ("O-III.5", "O-III.2"), PILOT),
    DeclaredChange(5, "Показатель «Доступность и понятность информации» разделён на 4 отдельных "
                      "показателя", ("S-III.1", "S-III.2", "S-III.3", "S-III.4", "O-III.1",
                                     "O-III.2", "O-III.3", "O-III.4"), PILOT),
    DeclaredChange(6, "Внесены изменения в расчёт показателя «Динамика роста базы вакансий»: "
                      "сравнение с тем же периодом прошлого года", ("O-II.1",), PILOT),
    DeclaredChange(7, "Заменена часть параметров в чек-листе «Доступность и понятность "
                      "информации в контакт-центре»", ("O-III.4",), PILOT),
    DeclaredChange(8, "Произведена коррекция параметров в чек-листе «Комфортность условий для "
                      "получения услуг и сервисов», добавлены пояснения", ("O-V.1",), PILOT),
    DeclaredChange(9, "Расширен чек-лист «Транспортная доступность»", ("O-V.2",), PILOT),
    DeclaredChange(10, "Внесены изменения в опросные листы соискателя и работодателя", (), PILOT),
]
