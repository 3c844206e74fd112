"""The contract of a CX metric (customer-experience figures of a journey map's touchpoints).

A metric is a plugin's definition (hook ``register_cx_metrics``): what it counts (numerator and
denominator in words, a one-line Russian definition shown wherever the figure appears), how the
database sums it (``rows``), its scale, window, direction and minimum n. The core knows no
metric by name: it runs every installed definition's ``rows`` through the same aggregation
(``cci.index.cx_compute``) and turns the sums into a value with its interval here.

``rows(window)`` returns a SQLAlchemy ``Select`` of one row per observation (an answer, a call,
a day of statistics) with the labelled columns:

- ``region_id``, ``office_id`` (None: the region's own, not one office's, e.g. a telephony
  line), ``touchpoint`` (a code of :data:`TOUCHPOINTS`), ``at`` (date or datetime of the
  observation, within ``window``);
- ``den`` — the observation's part of the denominator (1 for an answer; the answered calls of
  a day of telephony statistics);
- ``num`` — its part of the numerator (1/0 for a share; the value for a mean);
- ``neg`` (``balance`` only) — its part of the subtracted share (NPS's detractors).

Several metrics over one table may share one ``rows`` function whose select has a (den, num,
neg) triple of columns for each (``CxMetric.columns``): the core then reads that table once for
all of them. The core sums them per office, touchpoint and month (Σden, Σnum, Σnum², Σneg) and
then reads:

=============  ================================================  ========================
kind           value                                             interval (95 %)
=============  ================================================  ========================
``share``      100 · Σnum / Σden                                 Wilson
``mean``       Σnum / Σden                                       Student's t (Σnum²)
``balance``    100 · (Σnum − Σneg) / Σden (NPS: −100…+100)       t over scores +1/0/−1
``ratio``      multiplier · Σnum / Σden (a ratio of sums)        none
=============  ================================================  ========================
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from cci.foundation import journey_maps
from cci.methodology.figures import spread_interval
from cci.methodology.figures import wilson

KINDS = ("share", "mean", "balance", "ratio")
DIRECTIONS = ("higher", "lower")
#: the period one headline value covers; every run also keeps each calendar month's value
WINDOWS = ("month", "quarter")

#: The touchpoints of the journey map (docs/cjm.md), by the codes metrics and maps share: one
#: vocabulary, the maps'.
TOUCHPOINTS = journey_maps.TOUCHPOINTS

#: where a figure stands against its target (value vs target, read with its interval)
STATUSES = ("green", "amber", "red")


@dataclass(frozen=True)
class CxQuestion:
    """The one question of a short touchpoint survey that feeds a metric."""

    key: str
    text: str
    low: int
    high: int
    #: the answers' words from ``low`` to ``high`` (empty: the numbers alone)
    labels: tuple[str, ...] = ()

    def label(self, value: int) -> str:
        if self.labels and self.low <= value <= self.high:
            return self.labels[value - self.low]
        return str(value)


@dataclass(frozen=True)
class CxWindow:
    """The period a computation reads: ``start`` ≤ at < ``end`` (UTC)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class CxMetric:
    code: str
    title: str
    #: one line in Russian, shown wherever the figure appears
    definition: str
    numerator: str
    denominator: str
    kind: str
    #: the unit people read the value in: "%", "баллы", "с", "" (a plain ratio)
    scale: str
    window: str
    direction: str
    min_n: int
    touchpoints: tuple[str, ...]
    #: the observations the database sums (see the module's doc); None: no source installed
    rows: Callable[[CxWindow], Any] | None = None
    #: the question a touchpoint survey asks for this metric, if it is measured by one
    question: CxQuestion | None = None
    #: True when the source leaves the metric open and the platform's glossary fixes it
    platform_defined: bool = False
    version: str = "1"
    #: ``ratio`` only: 100 for a ratio shown in %
    multiplier: float = 1.0
    #: the value's natural bounds, for intervals and charts
    bounds: tuple[float, float] = (0.0, 100.0)
    #: the tables ``rows`` reads: a metric whose table is not installed is not computed
    sources: tuple[str, ...] = ()
    #: the labels of its (den, num, neg) columns in ``rows``' select; metrics that share one
    #: ``rows`` function (with columns of their own) are summed in one pass over their rows
    columns: tuple[str, str, str] = ("den", "num", "neg")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.code

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind {self.kind!r} is not one of {KINDS}")
        if self.direction not in DIRECTIONS:
            problems.append(f"direction {self.direction!r} is not one of {DIRECTIONS}")
        if self.window not in WINDOWS:
            problems.append(f"window {self.window!r} is not one of {WINDOWS}")
        if self.min_n < 1:
            problems.append("min_n must be at least 1")
        unknown = [t for t in self.touchpoints if t not in TOUCHPOINTS]
        if unknown or not self.touchpoints:
            problems.append(f"touchpoints {unknown or '()'} are not among {sorted(TOUCHPOINTS)}")
        if problems:
            raise ValueError(f"CX metric {self.code!r}: " + "; ".join(problems))

    def describe(self) -> dict[str, Any]:
        """The definition as stored with every value and served by the API."""
        return {
            "code": self.code, "title": str(self.title), "definition": str(self.definition),
            "numerator": str(self.numerator), "denominator": str(self.denominator),
            "kind": self.kind, "scale": self.scale, "window": self.window,
            "direction": self.direction, "min_n": self.min_n,
            "touchpoints": list(self.touchpoints), "platform_defined": self.platform_defined,
            "version": self.version,
            "question": None if self.question is None else {
                "key": self.question.key, "text": self.question.text,
                "low": self.question.low, "high": self.question.high,
                "labels": list(self.question.labels)},
        }


@dataclass(frozen=True)
class CxSums:
    """What the database summed for one cell: Σden, Σnum, Σnum², Σneg."""

    den: float
    num: float
    squares: float = 0.0
    neg: float = 0.0


@dataclass(frozen=True)
class CxValue:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: float
    insufficient: bool


def evaluate(metric: CxMetric, sums: CxSums) -> CxValue:
    """The value and 95 % interval of a cell from its sums. An empty denominator has no value
    (never zero); below the metric's minimum n the value is kept but marked insufficient."""
    n = sums.den or 0.0
    insufficient = n < metric.min_n
    if n <= 0:
        return CxValue(None, None, None, 0.0, True)
    low: float | None
    high: float | None
    if metric.kind == "share":
        value = 100.0 * sums.num / n
        low, high = wilson(round(sums.num), round(n))
        low, high = _scaled(low, 100.0), _scaled(high, 100.0)
    elif metric.kind == "mean":
        value = sums.num / n
        low, high = spread_interval(round(n), sums.num, sums.squares,
                                    low=metric.bounds[0], high=metric.bounds[1])
    elif metric.kind == "balance":
        value = 100.0 * (sums.num - sums.neg) / n
        # each answer scores +1, 0 or −1: Σscore = Σnum − Σneg, Σscore² = Σnum + Σneg
        low, high = spread_interval(round(n), sums.num - sums.neg, sums.num + sums.neg,
                                    low=-1.0, high=1.0)
        low, high = _scaled(low, 100.0), _scaled(high, 100.0)
    else:
        value = metric.multiplier * sums.num / n
        low = high = None
    return CxValue(value, low, high, n, insufficient)


def _scaled(x: float | None, factor: float) -> float | None:
    return None if x is None else x * factor


def status(metric: CxMetric, value: float | None, target: float | None,
           ci_low: float | None = None, ci_high: float | None = None) -> str | None:
    """Green when the value meets the target in the metric's direction; amber when it misses
    it but the target lies within the value's 95 % interval (the miss is not distinguishable
    from chance); red when the interval too is on the wrong side. None: nothing to compare."""
    if value is None or target is None or math.isnan(value):
        return None
    higher = metric.direction == "higher"
    if (value >= target) if higher else (value <= target):
        return "green"
    if ci_low is not None and ci_high is not None and ci_low <= target <= ci_high:
        return "amber"
    return "red"


def trend(metric: CxMetric, previous: float | None, current: float | None,
          tolerance: float = 1e-9) -> str | None:
    """"up"/"down"/"flat" of the value itself, and whether that is better is the direction's
    business (``improved``); None without two values."""
    if previous is None or current is None:
        return None
    if abs(current - previous) <= tolerance:
        return "flat"
    return "up" if current > previous else "down"


def improved(metric: CxMetric, arrow: str | None) -> bool | None:
    if arrow in (None, "flat"):
        return None
    return (arrow == "up") == (metric.direction == "higher")
