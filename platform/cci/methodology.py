"""The contract of a methodology plugin set: what a version of the index declares.

The core stores answers and checklists and aggregates them in the database; the set
declares the questionnaire, the checklists, the parameters and the formula that turns the
aggregates into scores. Types here are plain frozen dataclasses so a set is data plus a few
functions, easy to diff between versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from flask_babel import gettext as _

from cci.results import FederalResult
from cci.results import RegionData
from cci.results import RegionResult
from cci.results import stars_for

RESPONDENT_TYPES = ("job_seeker", "employer")

ItemKind = Literal["scale", "yesno", "choice", "text"]


@dataclass(frozen=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True)
class Item:
    """A questionnaire item. ``text`` maps respondent type to its wording."""

    key: str
    kind: ItemKind
    text: dict[str, str]
    options: tuple[Option, ...] = ()
    #: «Затрудняюсь ответить» is offered and stored as no value.
    allows_na: bool = True
    #: Asked only when another item has this answer: ``(item_key, value)``.
    follows: tuple[str, Any] | None = None
    scale_min: int = 1
    scale_max: int = 10
    #: "question" items are scored and stored as answers; "profile" items describe the
    #: respondent (stored on the response); "comment" is the free-text remark.
    section: Literal["question", "profile", "comment"] = "question"

    def for_type(self, respondent_type: str) -> str | None:
        return self.text.get(respondent_type)


@dataclass(frozen=True)
class ChecklistParam:
    key: str
    label: str
    #: Points for a present parameter; None for a figure (a number entered as is).
    points: float | None = None
    kind: Literal["bool", "number", "choice"] = "bool"
    options: tuple[Option, ...] = ()
    is_default: bool = False


@dataclass(frozen=True)
class Indicator:
    code: str
    key: str
    group: str
    kind: Literal["subjective", "objective"]
    title: str
    items: tuple[str, ...] = ()
    checklist: tuple[ChecklistParam, ...] = ()
    #: "office": filled per office; "network": once per region in a centralized network.
    level: Literal["office", "network"] = "office"
    #: False: reported but not part of the index (a distribution, or a component below).
    scored: bool = True
    #: A composite indicator is the mean of these indicators' scores (e.g. the pilot's single
    #: information-accessibility indicator over S-III.1..4).
    components: tuple[str, ...] = ()
    is_default: bool = False
    description: str = ""


@dataclass(frozen=True)
class Parameter:
    """A number or choice the formula depends on; ``is_default`` marks a platform default."""

    key: str
    label: str
    value: Any
    is_default: bool = False
    description: str = ""


class AnswerError(ValueError):
    """An answer that does not fit the questionnaire; ``item`` names the item."""

    def __init__(self, item: str, message: str):
        super().__init__(message)
        self.item = item
        self.message = message


@dataclass
class IndicatorSet:
    """One methodology version. Plugins build one and return it from ``register_indicator_sets``."""

    key: str
    version: str
    title: str
    groups: dict[str, str]
    indicators: list[Indicator]
    items: list[Item]
    parameters: dict[str, Parameter] = field(default_factory=dict)
    based_on: str | None = None
    changes: list[str] = field(default_factory=list)
    description: str = ""
    #: Filled by the core at load time: the distribution and version that provided the set.
    package: str = ""
    package_version: str = ""

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def items_for(self, respondent_type: str, section: str = "question") -> list[Item]:
        return [
            item for item in self.items
            if respondent_type in item.text and item.section == section
        ]

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    def parameter(self, key: str) -> Any:
        return self.parameters[key].value

    def validate_answers(
        self, respondent_type: str, answers: dict[str, Any], section: str = "question"
    ) -> dict[str, Any]:
        """Check raw answers (or, with ``section="profile"``, a profile) against the
        questionnaire; return them normalised.

        Raises :class:`AnswerError` for an unknown item, an out-of-range value, an unknown
        option, or an answer to a follow-up whose condition was not met.
        """
        if respondent_type not in RESPONDENT_TYPES:
            raise AnswerError("respondent_type", _("Unknown respondent type %(value)s.", value=respondent_type))
        known = {item.key: item for item in self.items_for(respondent_type, section)}
        clean: dict[str, Any] = {}
        for key, raw in answers.items():
            item = known.get(key)
            if item is None:
                raise AnswerError(key, _("Unknown question %(key)s.", key=key))
            clean[key] = _normalise(item, raw)
        for key, value in list(clean.items()):
            item = known[key]
            if item.follows and value is not None:
                parent, expected = item.follows
                if clean.get(parent) != expected:
                    raise AnswerError(key, _("Question %(key)s is asked only after the answer %(expected)s to %(parent)s.", key=key, expected=expected, parent=parent))
        return clean

    # --- computation ----------------------------------------------------------------------
    # Parameters every set declares, because the core's aggregation and roll-up read them:
    #   positive_min  the lowest scale answer counted as positive (SQL counts answers >= it)
    #   star_bands    index thresholds for 5, 4, 3 and 2 stars, highest first

    def compute_region(self, data: RegionData) -> RegionResult:  # pragma: no cover
        """Turn one region's database aggregates into office and region figures."""
        raise NotImplementedError(f"{self.key} does not implement compute_region()")

    def rollup_federal(self, regions: list[RegionResult]) -> FederalResult:
        """Federal index: the mean of the region indices, each region counted once."""
        indices = [r.index for r in regions if r.index is not None]
        index = sum(indices) / len(indices) if indices else None
        return FederalResult(
            index=index,
            stars=stars_for(index, self.parameter("star_bands")),
            regions_counted=len(indices),
        )


def _normalise(item: Item, raw: Any) -> Any:
    if raw is None or raw == "":
        if item.allows_na or item.kind == "text":
            return None
        raise AnswerError(item.key, _("An answer is required."))
    if item.kind == "scale":
        if isinstance(raw, bool):
            raise AnswerError(item.key, _("A number is expected."))
        try:
            value = int(raw)
        except (TypeError, ValueError, OverflowError):  # JSON's 1e400 is infinity to Python
            raise AnswerError(item.key, _("A number is expected.")) from None
        if str(value) != str(raw).strip() and value != raw:
            raise AnswerError(item.key, _("A whole number is expected."))
        if not item.scale_min <= value <= item.scale_max:
            raise AnswerError(item.key, _("The answer must be between %(low)d and %(high)d.",
                                          low=item.scale_min, high=item.scale_max))
        return value
    if item.kind == "yesno":
        if raw in (True, 1, "1", "yes", "да", "Да"):
            return 1
        if raw in (False, 0, "0", "no", "нет", "Нет"):
            return 0
        raise AnswerError(item.key, _("Yes or no is expected."))
    if item.kind == "choice":
        if raw not in {option.key for option in item.options}:
            raise AnswerError(item.key, _("Unknown option %(value)s.", value=raw))
        return raw
    return str(raw)[:4000]
