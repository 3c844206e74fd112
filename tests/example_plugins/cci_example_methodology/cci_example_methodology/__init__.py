"""ИКЦ-2023 (II×2): a methodology variant shipped as its own package.

It revises the installed ``cci-2023`` in one parameter: group II («Полезность обращения»)
weighs twice as much as each other group in a perspective's index (0.4 against 0.2; the
weights are normalised over the groups that have a score). Everything else, the formula
included, is cci-2023's: ``dataclasses.replace`` keeps the set's class.

It imports the core through :mod:`cci.plugin_api` only, and the set it revises through that
set's own package.
"""

from __future__ import annotations

import dataclasses

from cci.plugin_api import IndicatorSet
from cci.plugin_api import Parameter
from cci.plugin_api import hookimpl

from cci_ikc2023 import build as build_2023

KEY = "cci-2023-ii2"
GROUP_II_WEIGHT = 0.4


def build() -> IndicatorSet:
    base = build_2023()
    weights = dict(base.parameter("group_weights"), II=GROUP_II_WEIGHT)
    parameters = dict(base.parameters)
    parameters["group_weights"] = Parameter(
        "group_weights", "Веса групп в индексе по категории респондентов", weights,
        description="Вариант II×2: вес группы II — 0,4, остальных — по 0,2; нормируются по "
                    "группам, у которых есть оценка")
    return dataclasses.replace(
        base, key=KEY, version="2023.2-ii2", title="ИКЦ-2023 (II×2)",
        description="ИКЦ-2023 с удвоенным весом группы II в индексе перспективы",
        based_on=base.key, parameters=parameters,
        changes=["Вес группы II в индексе перспективы удвоен: 0,4 вместо 0,2"],
    )


@hookimpl
def register_indicator_sets():
    return [build()]
