"""ИКЦ-2023.1: a methodology release made the way an owner would ship one — as its own
package on top of an installed version, registered through the `cci.indicators` entry point.

It changes one thing: the minimum sample per indicator and office drops from 10 to 5.
"""

from __future__ import annotations

import dataclasses

from cci.plugin_api import Parameter
from cci.plugin_api import hookimpl

from cci_ikc2023 import build as build_2023


def build():
    base = build_2023()
    parameters = dict(base.parameters)
    parameters["min_sample"] = Parameter(
        "min_sample", "Минимальная выборка на показатель в офисе", 5,
        description="Версия 2023.1: снижена с 10 до 5 ответов")
    return dataclasses.replace(
        base, key="cci-2023.1", version="2023.1.0", title="ИКЦ-2023.1",
        based_on="cci-2023", parameters=parameters,
        changes=["Минимальная выборка на показатель снижена с 10 до 5 ответов"],
    )


@hookimpl
def register_indicator_sets():
    return [build()]
