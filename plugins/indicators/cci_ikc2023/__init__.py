"""ИКЦ-2023: the pilot's set after its 59 proposals. Written as a revision of ``cci-2022``:
what did not change is imported from it, what changed is stated here."""

from __future__ import annotations

import dataclasses
from typing import Any

from cci.plugin_api import Figure
from cci.plugin_api import Indicator
from cci.plugin_api import Parameter
from cci.plugin_api import exact_number
from cci.plugin_api import hookimpl
from cci.plugin_api import mean

from cci_ikc2022 import definition as pilot
from cci_ikc2022.engine import NOT_FILLED
from cci_ikc2022.engine import RESPONDENT_TYPES
from cci_ikc2022.engine import NotComputable
from cci_ikc2022.engine import PilotMethodology
from cci_ikc2023 import checklists as cl
from cci_ikc2023 import questionnaire
from cci_ikc2023.change_log import CHANGE_LOG

KEY = "cci-2023"

CHANGES = [
    "01. Добавлено разделение на централизованную и децентрализованную сети ЦЗН",
    "02. Внесены изменения в формулу подсчёта Индекса клиентоцентричности",
    "03. Изменена верхняя граница при подсчёте субъективных данных (от 8 до 10 — "
    "положительный ответ)",
    "04. Удалён показатель «Наличие регионального сайта СЗН»",
    "05. Показатель «Доступность и понятность информации» разделён на 4 отдельных показателя",
    "06. Внесены изменения в расчёт показателя «Динамика роста базы вакансий»",
    "07. Заменена часть параметров в чек-листе «Доступность и понятность информации в "
    "контакт-центре»",
    "08. Произведена коррекция параметров в чек-листе «Комфортность условий для получения "
    "услуг и сервисов», добавлены пояснения",
    "09. Расширен чек-лист «Транспортная доступность»",
    "10. Внесены изменения в опросные листы соискателя и работодателя",
]

#: Change 01: filled once for the region in a centralized network.
NETWORK_LEVEL = {"O-III.2", "O-III.3", "O-III.4", "O-III.6", "O-III.7", "O-III.8"}


def _revise(indicator: Indicator) -> Indicator:
    changes: dict[str, Any] = {}
    if indicator.code in NETWORK_LEVEL:
        changes["level"] = "network"
    if indicator.code in {"S-III.1", "S-III.2", "S-III.3", "S-III.4",
                          "O-III.1", "O-III.2", "O-III.3", "O-III.4"}:
        # change 05: four separate indicators
        changes.update(scored=True, description="Изменение 05: отдельный показатель, "
                                                "а не составляющая единого")
    if indicator.code == "O-III.2":
        changes.update(checklist=cl.WEBSITE_2023, is_default=True,
                       description="Изменение 05: отдельный показатель; изменение 04: с ним "
                                   "объединён показатель «Наличие регионального сайта СЗН» "
                                   "(его три параметра). Нет сайта — 0")
    if indicator.code == "O-II.1":
        changes.update(checklist=cl.VACANCIES_2023, is_default=True,
                       description="r = вакансий за период / за тот же период прошлого года: "
                                   "1 при r ≥ 1; 0,75 при r ≥ 0,9; 0,5 при r ≥ 0,8; "
                                   "0,25 при r ≥ 0,7; иначе 0. Не рассчитывается, если год "
                                   "назад вакансий 0")
    if indicator.code == "O-III.4":
        changes["checklist"] = cl.CONTACT_CENTER_2023
    if indicator.code == "O-V.1":
        changes.update(checklist=cl.COMFORT_2023,
                       description="Уровень — наивысший, все параметры которого и всех нижних "
                                   "уровней выполнены; уровень 1 = 2 балла, 2 = 1, 3 = 0,5, "
                                   "нет = 0; оценка = балл / 2")
    if indicator.code == "O-V.2":
        changes.update(checklist=cl.TRANSPORT_2023, description="8 параметров по 0,125")
    return dataclasses.replace(indicator, **changes) if changes else indicator


INDICATORS = [
    _revise(indicator)
    for indicator in pilot.INDICATORS
    # change 04 removes O-III.5; change 05 removes the composites
    if indicator.code not in {"O-III.5", "S-III.1-4", "O-III.1-4"}
]

PARAMETERS = {
    **pilot.PARAMETERS,
    "positive_min": Parameter("positive_min", "Порог положительного ответа", 8,
                              description="Изменение 03: положительный ответ 8–10",
                              kind="integer", minimum=1, maximum=10, unit="балл шкалы 1–10"),
    "min_sample": Parameter(
        "min_sample", "Минимальная выборка на показатель в офисе", 10, is_default=True,
        description="Показатель с меньшим числом ответов — «недостаточно данных», в средние "
                    "не входит",
        kind="integer", minimum=1, maximum=1000, unit="ответов"),
    "group_weights": Parameter(
        "group_weights", "Веса групп в индексе по категории респондентов",
        {"I": 0.2, "II": 0.2, "III": 0.2, "IV": 0.2, "V": 0.2}, is_default=True,
        description="Нормируются по группам, у которых есть оценка",
        kind="weights", minimum=0, maximum=1, unit="доля"),
    "vacancy_bands": Parameter(
        "vacancy_bands", "Шкала динамики вакансий (r → балл)",
        [[1.0, 1.0], [0.9, 0.75], [0.8, 0.5], [0.7, 0.25]], is_default=True,
        description="Изменение 06: r — вакансий за период к тому же периоду прошлого года. "
                    "Сравнивается точно, как введено: 23,4 вакансии к 26 — это ровно 0,9",
        kind="bands", minimum=0, maximum=10, unit="r → балл 0–1"),
}


class Ikc2023(PilotMethodology):
    """Perspective indices per respondent type, network-level checklists, revised scoring."""

    # Change 01 (and reading older campaigns): where an indicator's values come from.
    def checklist_values(self, indicator, office, region):
        values = self.values_as_collected(indicator, office, region)
        if indicator.code == "O-III.2" and region.source_methodology.startswith("cci-2022"):
            # change 04 over a pilot campaign: its site was a checklist of its own (O-III.5)
            return self.merged_site(values, office.checklists.get("O-III.5"))
        return values

    def merged_site(self, website: dict, site: dict | None) -> dict:
        """The pilot's two checklists (O-III.2 and O-III.5) as the one checklist of 2023."""
        from cci_ikc2022.engine import _truthy

        if site is None:
            raise NotComputable("не заполнен чек-лист «Наличие регионального сайта СЗН», "
                                "объединённый с этим показателем (изменение 04)")
        if "site_exists" in site and not _truthy(site["site_exists"]):
            return dict.fromkeys((p.key for p in cl.WEBSITE_2023), False)  # no site: 0
        keys = [key for key, _label in cl.SITE_PARAMETERS]
        return {**website, **{key: site.get(key) for key in keys}}

    def values_as_collected(self, indicator, office, region):
        if indicator.level == "network" and region.network_type == "centralized":
            values = region.checklists.get(indicator.code)
            if values is None and region.source_methodology != self.key:
                # an older campaign collected this per office: read the office's own values
                values = office.checklists.get(indicator.code)
            if values is None:
                raise NotComputable("чек-лист не заполнен для региона (централизованная сеть)")
        else:
            values = office.checklists.get(indicator.code)
            if values is None:
                raise NotComputable(NOT_FILLED)
        return self.read_older(indicator, values, region.source_methodology)

    def read_older(self, indicator: Indicator, values: dict, source: str) -> dict:
        """Read a checklist collected with the pilot's set (preview over a past campaign)."""
        if source in ("", self.key) or not source.startswith("cci-2022"):
            return values
        if indicator.code == "O-II.1":
            raise NotComputable("в кампании собиралось число вакансий за предыдущий период, а не "
                                "за тот же период прошлого года", incompatible=True)
        if indicator.code == "O-III.4":
            raise NotComputable("в «тайном звонке» пилота не было параметров «дозвон за 60 с» и "
                                "«предложен следующий шаг»", incompatible=True)
        if indicator.code == "O-V.1":
            level = values.get("level")
            if level not in ("1", "2", "3", "none"):
                raise NotComputable("не выбран уровень комфортности")
            met = [lvl for lvl in ("3", "2", "1") if level != "none" and int(lvl) >= int(level)]
            return {key: any(key in cl.COMFORT_LEVELS[lvl] for lvl in met)
                    for key in cl.COMFORT_FEATURES}
        if indicator.code == "O-V.2":
            raise NotComputable("в пилоте не собирались «парковочные места для инвалидов» "
                                "(5 параметров вместо 8)", incompatible=True)
        return values

    # Change 06
    def score_vacancies(self, values):
        from cci_ikc2022.engine import _number

        current = _number(values, "vacancies_current")
        last_year = _number(values, "vacancies_last_year")
        if last_year == 0:
            raise NotComputable("вакансий за тот же период прошлого года 0: деление на ноль")
        # exactly: 23.4 against 26 is r = 0.9 and scores the 0.9 band (0.8999… in floats)
        ratio = current / last_year
        for threshold, score in self.parameter("vacancy_bands"):
            if ratio >= exact_number(threshold):
                return float(exact_number(score))
        return 0.0

    # Change 08
    def score_comfort(self, values):
        for key in cl.COMFORT_FEATURES:
            if key not in values or values[key] is None:
                raise NotComputable(f"не заполнен параметр «{cl.COMFORT_FEATURES[key]}»")
        from cci_ikc2022.engine import _truthy

        level = "none"
        needed: list[str] = []
        for candidate in ("3", "2", "1"):
            needed += cl.COMFORT_LEVELS[candidate]
            if all(_truthy(values[key]) for key in needed):
                level = candidate
            else:
                break
        points = self.parameter("comfort_points")
        return points[level] / max(points.values())

    # Change 02
    def office_index(self, figs):
        pooled, by_type = figs["pooled"], figs["by_type"]
        objective = {i.code: pooled[i.code].value for i in self.scored("objective")
                     if pooled[i.code].value is not None}
        present = [
            rtype for rtype in RESPONDENT_TYPES
            if any(by_type[rtype][i.code].value is not None for i in self.scored("subjective"))
        ]
        extra: list[Figure] = []
        perspectives = []
        # no type answered: one perspective of the objective indicators alone
        perspective_types: list[str | None] = [*present] or [None]
        for rtype in perspective_types:
            index = self._perspective(rtype, by_type, objective, extra)
            if index is not None:
                perspectives.append(index)
        return mean(perspectives), extra

    def _perspective(self, rtype: str | None, by_type, objective: dict[str, float],
                     extra: list[Figure]) -> float | None:
        """One respondent type's perspective (None: the objective indicators alone): the
        weighted mean of its groups, each the mean of its indicators; its figures go to
        ``extra``."""
        weights = self.parameter("group_weights")
        groups = {}
        for group in self.groups:
            values = [by_type[rtype][i.code].value if i.kind == "subjective"
                      else objective.get(i.code)
                      for i in self.indicators
                      if i.scored and i.group == group and (i.kind == "objective" or rtype)]
            groups[group] = mean(values)
            extra.append(Figure(f"group:{group}", groups[group], rtype or "objective_only"))
        scored = {g: v for g, v in groups.items() if v is not None}
        total_weight = sum(weights[g] for g in scored)
        index = (100 * sum(weights[g] * v for g, v in scored.items()) / total_weight
                 if total_weight else None)
        extra.append(Figure("perspective", index, rtype or "objective_only",
                            detail={"groups": sorted(scored)}))
        return index


def build() -> Ikc2023:
    return Ikc2023(
        key=KEY,
        version="2023.2",
        title="ИКЦ-2023",
        description=("Методика после пилотной апробации: 59 предложений рабочих групп, "
                     "10 основных изменений. Индекс — среднее индексов по категориям "
                     "респондентов: соискателей и работодателей."),
        based_on="cci-2022",
        changes=list(CHANGES),
        change_log=list(CHANGE_LOG),
        groups=dict(pilot.GROUPS),
        indicators=INDICATORS,
        items=list(questionnaire.ITEMS),
        parameters=PARAMETERS,
        questionnaire_note=questionnaire.NOTE,
        # change 05: the four information indicators are paired one by one
        theme_pairs=list(pilot.THEME_PAIRS_COMMON),
    )


@hookimpl
def register_indicator_sets():
    return [build()]
