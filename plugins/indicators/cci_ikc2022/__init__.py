"""ИКЦ-2022: the pilot's methodology as a plugin set (entry point group ``cci.indicators``)."""

from __future__ import annotations

from cci.plugin_api import hookimpl

from cci_ikc2022.definition import GROUPS
from cci_ikc2022.definition import INDICATORS
from cci_ikc2022.definition import PARAMETERS
from cci_ikc2022.definition import THEME_PAIRS
from cci_ikc2022.engine import PilotMethodology
from cci_ikc2022.questionnaire import ITEMS

KEY = "cci-2022"


def build() -> PilotMethodology:
    return PilotMethodology(
        key=KEY,
        version="2022.2",
        title="ИКЦ-2022 (пилот)",
        description=(
            "Методика пилотной апробации индекса клиентоцентричности (25.04–06.05.2022, "
            "13 регионов, 26 точек присутствия): субъективная и объективная части поровну."
        ),
        groups=dict(GROUPS),
        indicators=list(INDICATORS),
        items=list(ITEMS),
        parameters=dict(PARAMETERS),
        theme_pairs=list(THEME_PAIRS),
    )


@hookimpl
def register_indicator_sets():
    return [build()]
