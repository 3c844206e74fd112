"""Building aggregate inputs by hand for the methodology rule tests."""

from __future__ import annotations

from cci.hooks.manager import build_plugin_manager
from cci.hooks.manager import build_registry
from cci.methodology.figures import ItemCounts
from cci.methodology.figures import OfficeData
from cci.methodology.figures import RegionData

_registry = build_registry(build_plugin_manager())


def methodology(key: str):
    return _registry.indicator_set(key)


def scale(values: list[int], positive_min: int) -> ItemCounts:
    """Counts of scale answers as the database computes them (None = «Затрудняюсь»)."""
    valid = [v for v in values if v is not None]
    return ItemCounts(len(valid), sum(v >= positive_min for v in valid), sum(v == 1 for v in valid))


def yesno(yes: int, no: int) -> ItemCounts:
    return ItemCounts(yes + no, 0, yes)


def office(office_id=1, answers=None, checklists=None, responses=None) -> OfficeData:
    return OfficeData(office_id, f"OF-{office_id}", f"Офис {office_id}", "main",
                      answers=answers or {}, checklists=checklists or {},
                      responses=responses or {})


def region(offices, key, network="decentralized", checklists=None, source=None) -> RegionData:
    return RegionData(1, "RU-TST", "Тестовая область", network, offices,
                      checklists=checklists or {}, source_methodology=source or key)


def figure(result, metric, respondent_type=None, office_index=0):
    for fig in result.offices[office_index].figures:
        if fig.metric == metric and fig.respondent_type == respondent_type:
            return fig
    raise KeyError((metric, respondent_type))


def all_params(indicator_set, code, present=None) -> dict:
    """A checklist with the given parameter keys present (True) and the rest absent (False)."""
    params = indicator_set.indicator(code).checklist
    present = {p.key for p in params} if present is None else set(present)
    return {p.key: p.key in present for p in params}
