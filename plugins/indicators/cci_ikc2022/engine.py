"""Scoring and the index formula of the pilot (2022). The 2023 set subclasses this and
overrides only what the pilot's proposals changed.

Every "not computable" figure carries its reason; it is left out of every mean and never
counted as zero.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from cci.plugin_api import FederalData
from cci.plugin_api import Figure
from cci.plugin_api import Indicator
from cci.plugin_api import IndicatorSet
from cci.plugin_api import Item
from cci.plugin_api import OfficeData
from cci.plugin_api import OfficeResult
from cci.plugin_api import RegionData
from cci.plugin_api import RegionResult
from cci.plugin_api import effective_n
from cci.plugin_api import exact_number
from cci.plugin_api import mean
from cci.plugin_api import mean_interval
from cci.plugin_api import parse_yes_no
from cci.plugin_api import spread_interval
from cci.plugin_api import stars_for
from cci.plugin_api import wilson

RESPONDENT_TYPES = ("job_seeker", "employer")
#: unscored choice indicators cross-checked against the checklist of the channels an office
#: offers, through the parameter that maps each option to that checklist's parameters
CROSS_CHECK = {"preferred_channel": ("multichannel", "preferred_channel_offered_by")}
#: choice items scored as the share of one option (S-III.8: share of «Да»)
POSITIVE_OPTION = {"pre_registration": "yes"}

#: figures on the index's 0–100 scale (the others are shares or scores in 0–1)
HUNDRED_SCALE = ("index", "perspective")

NOT_FILLED = "чек-лист не заполнен"
NO_ANSWERS = "нет ответов"

#: a share as part of a mean: (share, its effective n or None when unknown, its answers)
Part = tuple[float, float | None, int]


class NotComputable(Exception):
    """``incompatible``: the data exist but were collected under another version's checklist."""

    def __init__(self, reason: str, incompatible: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.incompatible = incompatible


class PilotMethodology(IndicatorSet):
    """ИКЦ-2022: S and O halves, one information-accessibility indicator, 9–10 positive."""

    # --- subjective -----------------------------------------------------------------------

    def item_share(self, item: Item, office: OfficeData, respondent_type: str) -> tuple[int, int]:
        """(valid answers, positive answers) of one item; N/A answers are not valid."""
        counts = office.counts(respondent_type, item.key)
        if item.kind == "scale":
            return counts.n_valid, counts.n_high
        if item.kind == "yesno":
            return counts.n_valid, counts.n_yes
        if item.kind == "choice" and item.key in POSITIVE_OPTION:
            return sum(counts.choices.values()), counts.choices.get(POSITIVE_OPTION[item.key], 0)
        raise ValueError(f"item {item.key} is not scored")

    def subjective_for_type(self, indicator: Indicator, office: OfficeData, rtype: str) -> Figure:
        min_sample = self.parameter("min_sample")
        counted: list[tuple[int, int]] = []  # (valid, positive) of the items that count
        any_answers = False
        for key in indicator.items:
            item = self.item(key)
            if rtype not in item.text:
                continue
            valid, positive = self.item_share(item, office, rtype)
            any_answers = any_answers or valid > 0
            if valid >= min_sample and valid > 0:
                counted.append((valid, positive))
        metric = f"indicator:{indicator.code}"
        if not counted:
            insufficient = any_answers
            total = sum(self.item_share(self.item(k), office, rtype)[0] for k in indicator.items
                        if rtype in self.item(k).text)
            return Figure(metric, None, rtype, n_valid=total, insufficient=insufficient,
                          reason=(f"меньше {min_sample} ответов" if insufficient else NO_ANSWERS))
        if len(counted) == 1:
            (valid, positive), = counted
            low, high = wilson(positive, valid)
            return Figure(metric, positive / valid, rtype, valid, positive, low, high)
        # items answered by the same people: n is the most answers an item had
        return self.mean_figure(metric, [(p / v, v, v) for v, p in counted], rtype,
                                same_people=True)

    def mean_figure(self, metric: str, parts: list[Part],
                    rtype: str | None, *, same_people: bool, n_positive: int | None = None,
                    detail: dict[str, Any] | None = None) -> Figure:
        """A figure that is the plain mean of shares, each part ``(share, its effective n, its
        answers)``, with the interval of that mean (:func:`cci.methodology.figures.mean_interval`).
        Its n is the answers counted: summed over parts from different people (respondent types,
        offices), the largest part's for parts from the same people; ``n_positive`` is a count of
        answers, so with several parts the value is not ``n_positive / n``."""
        counts = [answers for _share, _n, answers in parts]
        n_valid = max(counts) if same_people else sum(counts)
        low, high, extra = _mean_evidence(parts, n_valid, same_people=same_people)
        return Figure(metric, mean(share for share, _n, _answers in parts), rtype, n_valid,
                      n_positive, low, high, detail={**(detail or {}), **extra})

    def pooled(self, indicator: Indicator, per_type: list[Figure]) -> Figure:
        """The indicator's office score: the mean of the respondent types present."""
        present = [f for f in per_type if f.value is not None]
        metric = f"indicator:{indicator.code}"
        if not present:
            insufficient = any(f.insufficient for f in per_type)
            n_valid = sum(f.n_valid or 0 for f in per_type)
            return Figure(metric, None, None, n_valid=n_valid, insufficient=insufficient,
                          reason=per_type[0].reason if per_type else NO_ANSWERS)
        return self.mean_figure(metric, _parts(present), None,
                                same_people=False, n_positive=_count(present),
                                detail={"types": [f.respondent_type for f in present]})

    def choice_distribution(self, indicator: Indicator, office: OfficeData,
                            region: RegionData) -> Figure:
        """An unscored choice item (S-III.7): the distribution, pooled over types, and, for a
        cross-checked one, whether the office offers each option (``offered``)."""
        item = self.item(indicator.items[0])
        totals: dict[str, int] = {option.key: 0 for option in item.options}
        for rtype in RESPONDENT_TYPES:
            for option, count in office.counts(rtype, item.key).choices.items():
                totals[option] = totals.get(option, 0) + count
        n = sum(totals.values())
        detail: dict[str, Any] = {"distribution": totals}
        offered = self.offered(indicator, office, region)
        if offered is not None:
            detail["offered"] = offered
        return Figure(f"indicator:{indicator.code}", None, None, n_valid=n,
                      reason=None if n else NO_ANSWERS, detail=detail)

    def offered(self, indicator: Indicator, office: OfficeData,
                region: RegionData) -> dict[str, bool | None] | None:
        """{option: offered by the office} from the checklist the indicator is cross-checked
        with (None for an option none of whose channels the checklist answers yet); None when
        it is not cross-checked or the checklist is not filled."""
        if indicator.key not in CROSS_CHECK:
            return None
        checklist_key, parameter = CROSS_CHECK[indicator.key]
        checklist = next((i for i in self.indicators if i.key == checklist_key
                          and i.kind == "objective"), None)
        if checklist is None:
            return None
        try:
            values = self.checklist_values(checklist, office, region)
        except NotComputable:
            return None
        return {option: _offered([values.get(channel) for channel in channels])
                for option, channels in self.parameter(parameter).items()}

    # --- objective ------------------------------------------------------------------------

    def checklist_values(self, indicator: Indicator, office: OfficeData,
                         region: RegionData) -> dict[str, Any]:
        """The values an office's indicator is scored from (the pilot: always per office)."""
        values = office.checklists.get(indicator.code)
        if values is None:
            raise NotComputable(NOT_FILLED)
        return values

    def score_checklist(self, indicator: Indicator, values: dict[str, Any]) -> float:
        """The points of the parameters present, at most 1; summed exactly (ten channels of
        0.1 are 1.0, not 0.9999…)."""
        total = Fraction(0)
        for param in indicator.checklist:
            if param.key not in values or values[param.key] is None:
                raise NotComputable(f"не заполнен параметр «{param.label}»")
            if _truthy(values[param.key]):
                total += exact_number(param.points or 0)
        return float(min(Fraction(1), total))

    def score_vacancies(self, values: dict[str, Any]) -> float:
        """min(1, V_this / V_previous), the cap compared exactly."""
        current = _number(values, "vacancies_current")
        previous = _number(values, "vacancies_previous")
        if previous == 0:
            raise NotComputable("вакансий в предыдущем периоде 0: деление на ноль")
        return float(min(Fraction(1), current / previous))

    def score_comfort(self, values: dict[str, Any]) -> float:
        level = values.get("level")
        points = self.parameter("comfort_points")
        if level not in points:
            raise NotComputable("не выбран уровень комфортности")
        return float(exact_number(points[level]) / max(exact_number(p) for p in points.values()))

    def objective_score(self, indicator: Indicator, values: dict[str, Any]) -> float:
        if indicator.key == "vacancy_dynamics":
            return self.score_vacancies(values)
        if indicator.key == "comfort":
            return self.score_comfort(values)
        return self.score_checklist(indicator, values)

    def objective(self, indicator: Indicator, office: OfficeData, region: RegionData) -> Figure:
        metric = f"indicator:{indicator.code}"
        try:
            values = self.checklist_values(indicator, office, region)
            value = self.objective_score(indicator, values)
        except NotComputable as exc:
            return Figure(metric, None, reason=exc.reason,
                          detail={"incompatible": True} if exc.incompatible else {})
        return Figure(metric, value)

    # --- assembling an office -------------------------------------------------------------

    def office_figures(self, office: OfficeData, region: RegionData) -> dict[str, Any]:
        """Every indicator figure of an office: pooled, per type, and the composites."""
        pooled: dict[str, Figure] = {}
        by_type: dict[str, dict[str, Figure]] = {rtype: {} for rtype in RESPONDENT_TYPES}
        figures: list[Figure] = []
        for indicator in self.indicators:
            if indicator.components:
                continue
            if indicator.kind == "subjective":
                item = self.item(indicator.items[0])
                if item.kind == "choice" and item.key not in POSITIVE_OPTION:
                    figure = self.choice_distribution(indicator, office, region)
                    figures.append(figure)
                    continue
                per_type = [self.subjective_for_type(indicator, office, rtype)
                            for rtype in RESPONDENT_TYPES]
                for rtype, figure in zip(RESPONDENT_TYPES, per_type, strict=True):
                    by_type[rtype][indicator.code] = figure
                figures.extend(per_type)
                pooled[indicator.code] = self.pooled(indicator, per_type)
            else:
                pooled[indicator.code] = self.objective(indicator, office, region)
        for indicator in self.indicators:
            if not indicator.components:
                continue
            if indicator.kind == "subjective":
                per_type = [self.composite(indicator, [by_type[rtype].get(c) for c in
                                                       indicator.components], rtype)
                            for rtype in RESPONDENT_TYPES]
                for rtype, figure in zip(RESPONDENT_TYPES, per_type, strict=True):
                    by_type[rtype][indicator.code] = figure
                figures.extend(per_type)
                # as every subjective indicator: the mean of the types present, each type's
                # score its mean of the components (not the mean of pooled components, which
                # differ when a type has no figure for some component)
                pooled[indicator.code] = self.pooled(indicator, per_type)
            else:
                pooled[indicator.code] = self.composite(
                    indicator, [pooled.get(c) for c in indicator.components], None)
        figures.extend(pooled.values())
        return {"pooled": pooled, "by_type": by_type, "figures": figures}

    def composite(self, indicator: Indicator, parts: list[Figure | None],
                  rtype: str | None) -> Figure:
        """The mean of an indicator's components: a respondent type's (subjective: the same
        people answer every component) or the objective ones."""
        present = [p for p in parts if p is not None and p.value is not None]
        metric = f"indicator:{indicator.code}"
        if not present:
            insufficient = any(p is not None and p.insufficient for p in parts)
            return Figure(metric, None, rtype, insufficient=insufficient,
                          reason="ни одна составляющая не рассчитана")
        detail = {"components": [p.metric.split(":", 1)[1] for p in present]}
        if indicator.kind != "subjective":
            return Figure(metric, mean(p.value for p in present), rtype, detail=detail)
        return self.mean_figure(metric, _parts(present), rtype, same_people=True,
                                detail=detail)

    def scored(self, kind: str) -> list[Indicator]:
        return [i for i in self.indicators if i.scored and i.kind == kind]

    def group_figures(self, pooled: dict[str, Figure]) -> list[Figure]:
        figures = []
        for group in self.groups:
            values = [pooled[i.code].value for i in self.indicators
                      if i.scored and i.group == group and i.code in pooled]
            figures.append(Figure(f"group:{group}", mean(values),
                                  reason=None if mean(values) is not None else "нет данных"))
        return figures

    def office_index(self, figs: dict[str, Any]) -> tuple[float | None, list[Figure]]:
        """Pilot formula: 100 × (S + O) / 2, or 100 × the one part that exists."""
        pooled = figs["pooled"]
        s = mean(pooled[i.code].value for i in self.scored("subjective") if i.code in pooled)
        o = mean(pooled[i.code].value for i in self.scored("objective") if i.code in pooled)
        parts = [v for v in (s, o) if v is not None]
        index = 100 * sum(parts) / len(parts) if parts else None
        return index, [Figure("part:subjective", s), Figure("part:objective", o)]

    def is_ranked(self, figs: dict[str, Any]) -> bool:
        """Ranked when some respondent type meets the minimum sample on a scored indicator."""
        return any(
            figure.value is not None
            for per_type in figs["by_type"].values()
            for code, figure in per_type.items()
            if self.indicator(code).scored
        )

    def compute_office(self, office: OfficeData, region: RegionData) -> OfficeResult:
        figs = self.office_figures(office, region)
        index, extra = self.office_index(figs)
        bands = self.parameter("star_bands")
        figures = figs["figures"] + self.group_figures(figs["pooled"]) + extra
        stars = stars_for(index, bands)
        figures.append(Figure("index", index, stars=stars,
                              n_valid=sum(office.responses.values()),
                              reason=None if index is not None else "нет данных",
                              detail={"responses": dict(office.responses)}))
        return OfficeResult(office.office_id, figures, index, stars, self.is_ranked(figs))

    def compute_region(self, data: RegionData) -> RegionResult:
        offices = [self.compute_office(office, data) for office in data.offices]
        result = RegionResult(data.region_id, offices, *self.region_rollup(offices))
        for figure in result.figures:
            if figure.metric == "index" and figure.respondent_type is None:
                # what the index rests on: offices measured out of the offices in the network
                figure.detail["offices_in_network"] = len(data.offices)
        return result

    def region_rollup(
            self, offices: list[OfficeResult]) -> tuple[list[Figure], float | None, int | None]:
        """Region figures: each the mean over offices (each office counts once); n summed."""
        collected: dict[tuple[str, str | None], list[Figure]] = {}
        for office in offices:
            for figure in office.figures:
                collected.setdefault((figure.metric, figure.respondent_type), []).append(figure)
        figures = [_region_figure(metric, rtype, items)
                   for (metric, rtype), items in collected.items()]
        index = mean(o.index for o in offices)
        stars = stars_for(index, self.parameter("star_bands"))
        indices = [o.index for o in offices if o.index is not None]
        for figure in figures:
            if figure.metric == "index":
                figure.stars = stars
                if figure.respondent_type is None:
                    # the spread of its offices' indices (none with one office)
                    figure.ci_low, figure.ci_high = spread_interval(
                        len(indices), sum(indices), sum(v * v for v in indices))
        return figures, index, stars

    def federal_figures(self, data: FederalData) -> list[Figure]:
        """The federation's figures (the contract's means, each region counted once), with an
        interval for every figure that is not a share too: the spread of the regions' values
        (the index, perspectives, groups, the S and O parts)."""
        figures = []
        for aggregate in data.figures:
            figure = self.federal_figure(aggregate)
            if figure.value is not None and figure.ci_low is None \
                    and aggregate.share_regions == 0:
                top = 100.0 if figure.metric in HUNDRED_SCALE else 1.0
                figure.ci_low, figure.ci_high = spread_interval(
                    aggregate.regions, aggregate.value_sum, aggregate.value_squares, high=top)
            figures.append(figure)
        return figures


def _region_figure(metric: str, rtype: str | None, items: list[Figure]) -> Figure:
    """One figure of the region: the mean of its offices' figures."""
    present = [f for f in items if f.value is not None]
    # n: the answers the value rests on (those of offices left out for want of
    # answers only while no office counts, as for an office's types)
    counted = present or items
    n_valid = (sum(f.n_valid or 0 for f in counted)
               if any(f.n_valid is not None for f in counted) else None)
    detail: dict[str, Any] = {"offices": len(present)}
    # a share's mean over offices, with the interval of that mean
    low, high, extra = _mean_evidence(
        _parts([f for f in present if f.ci_low is not None]), n_valid)
    detail.update(extra)
    distributed = _region_distribution(items, detail)
    return Figure(
        metric, mean(f.value for f in present), rtype, n_valid, _count(present), low, high,
        insufficient=not present and any(f.insufficient for f in items),
        reason=None if present or distributed else (items[0].reason or "нет данных"),
        detail=detail,
    )


def _region_distribution(items: list[Figure], detail: dict[str, Any]) -> bool:
    """An unscored choice item: the region's distribution is the sum of its offices', and of
    the offices whose checklist tells, how many offer each option. False if not one."""
    distributions = [f.detail["distribution"] for f in items if "distribution" in f.detail]
    if not distributions:
        return False
    detail["distribution"] = {
        option: sum(d.get(option, 0) for d in distributions) for option in distributions[0]
    }
    checked = [f.detail["offered"] for f in items if "offered" in f.detail]
    if checked:
        known = {option: [o[option] for o in checked if o.get(option) is not None]
                 for option in checked[0]}
        detail["offered_in"] = {option: sum(v) for option, v in known.items()}
        detail["offices_checked"] = {option: len(v) for option, v in known.items()}
    return True


def _offered(answers: list[Any]) -> bool | None:
    """Offered when any of an option's channels is; not offered only when all are answered."""
    if any(_truthy(a) for a in answers if a is not None):
        return True
    return None if any(a is None or a == "" for a in answers) else False


def _mean_evidence(parts: list[Part], n_valid: int | None, *,
                   same_people: bool = False) -> tuple[float | None, float | None, dict]:
    """The interval of a mean of shares and the detail that keeps its effective n (the next level's
    mean reads it back, :func:`cci.methodology.figures.effective_n`) whenever the figure is a mean
    or that n is not its n."""
    low, high, n_effective = mean_interval([(share, n) for share, n, _ in parts],
                                           same_people=same_people)
    if n_effective is None:
        return None, None, {}
    if len(parts) > 1 or round(n_effective, 1) != n_valid:
        return low, high, {"n_effective": round(n_effective, 1)}
    return low, high, {}


def _parts(figures: list[Figure]) -> list[Part]:
    """Share figures with a value as parts of a mean: (share, its effective n, its
    answers)."""
    return [(f.value, effective_n(f), f.n_valid or 0) for f in figures if f.value is not None]


def _count(figures: list[Figure]) -> int | None:
    """The positive answers of figures from different people, if each has its count."""
    counts = [f.n_positive for f in figures if f.n_positive is not None]
    return sum(counts) if counts and len(counts) == len(figures) else None


def _truthy(value: Any) -> bool:
    """A checklist's yes, read as every path in reads it (``parse_yes_no``); anything else,
    including a value not understood, is not a yes."""
    try:
        return parse_yes_no(value)
    except ValueError:
        return False


def _number(values: dict[str, Any], key: str) -> Fraction:
    """A figure of a checklist exactly as it was entered (band rules compare it exactly)."""
    value = values.get(key)
    if value is None or value == "":
        raise NotComputable(f"не указано значение «{key}»")
    try:
        return exact_number(value)
    except (TypeError, ValueError):
        raise NotComputable(f"значение «{key}» не число") from None
