"""The contract of a methodology plugin set: what a version of the index declares.

The core stores answers and checklists and aggregates them in the database; the set
declares the questionnaire, the checklists, the parameters and the formula that turns the
aggregates into scores. Types here are plain frozen dataclasses so a set is data plus a few
functions, easy to diff between versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from flask_babel import gettext as _

from cci.foundation import journey_maps
from cci.methodology.figures import FederalData
from cci.methodology.figures import FederalResult
from cci.methodology.figures import Figure
from cci.methodology.figures import RegionData
from cci.methodology.figures import RegionResult
from cci.methodology.figures import interval_of_shares
from cci.methodology.figures import spread_interval
from cci.methodology.figures import stars_for
from cci.methodology.values import is_no_answer
from cci.methodology.values import parse_number
from cci.methodology.values import parse_yes_no
from cci.methodology.values import word

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
    #: The journey-map touchpoints (cci.foundation.journey_maps.TOUCHPOINTS codes) whose
    #: experience this indicator measures, e.g. the contact centre's information for S-III.4:
    #: a map shows it beside the touchpoint's own CX metrics. The core names no indicator.
    touchpoints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.touchpoints) - set(journey_maps.TOUCHPOINTS))
        if unknown:
            raise ValueError(f"indicator {self.code!r}: touchpoints {unknown} are not among "
                             f"{sorted(journey_maps.TOUCHPOINTS)}")


@dataclass(frozen=True)
class ThemePair:
    """A subjective and an objective indicator that measure the same theme from two sides
    (respondents' view, the auditors' checklist), e.g. information on the website: S-III.2
    and O-III.2. The core flags the offices where the two disagree; it knows no indicator
    by name, the set declares its pairs."""

    subjective: str
    objective: str


@dataclass(frozen=True)
class Parameter:
    """A number or choice the formula depends on; ``is_default`` marks a platform default."""

    key: str
    label: str
    value: Any
    is_default: bool = False
    description: str = ""
    #: What a derived version may set it to (:mod:`cci.methodology.parameters`): ``kind`` is
    #: "integer", "number", "numbers" (a list, e.g. star bands), "weights" (a number per key),
    #: "bands" (a list of [threshold, score]) or "mapping" (option → keys from ``choices``);
    #: "" leaves the parameter as the set fixes it. ``minimum``/``maximum`` bound every number
    #: in it; ``unit`` names what it counts.
    kind: str = ""
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    #: how people read the keys of a "weights" or "mapping" value and of ``choices``, where
    #: the set's groups, options and checklist parameters do not name them
    words: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeclaredChange:
    """One change a version made, as its package declares it: the core seeds the register of
    proposals from it (the proposal behind the change, accepted, implemented by the version)."""

    number: int
    summary: str
    indicators: tuple[str, ...] = ()
    proposed_by: str = ""
    reason: str = ""


#: Why an answer is refused: every channel gets the same reason for the same answer (and
#: words it its own way: a form's message, an import's row error, the API's JSON).
UNKNOWN_RESPONDENT_TYPE = "unknown_respondent_type"
UNKNOWN_ITEM = "unknown_item"
NOT_ASKED = "not_asked"  # an item of the other respondent type
REQUIRED = "required"  # no answer («Затрудняюсь ответить») to an item that needs one
NOT_A_NUMBER = "not_a_number"
NOT_WHOLE = "not_whole"
OUT_OF_RANGE = "out_of_range"
NOT_YES_NO = "not_yes_no"
UNKNOWN_OPTION = "unknown_option"
TOO_LONG = "too_long"
CONDITION_UNMET = "condition_unmet"  # a follow-up answered though its condition does not hold
UNANSWERED = "unanswered"  # a channel that takes whole questionnaires only: a question skipped
REASONS = (UNKNOWN_RESPONDENT_TYPE, UNKNOWN_ITEM, NOT_ASKED, REQUIRED, NOT_A_NUMBER, NOT_WHOLE,
           OUT_OF_RANGE, NOT_YES_NO, UNKNOWN_OPTION, TOO_LONG, CONDITION_UNMET, UNANSWERED)

#: A free-text answer (the comment) is at most this long.
TEXT_MAX = 4000

#: The respondent types as people write them (an import's cells, an integration's JSON).
RESPONDENT_WORDS = {
    "соискатель": "job_seeker", "соискатели": "job_seeker", "гражданин": "job_seeker",
    "job_seeker": "job_seeker", "jobseeker": "job_seeker", "job seeker": "job_seeker",
    "работодатель": "employer", "работодатели": "employer", "employer": "employer",
}


class AnswerError(ValueError):
    """An answer that does not fit the questionnaire: ``item`` names the item, ``reason`` says
    why (one of the reasons above), ``message`` says it to people."""

    def __init__(self, item: str, message: str, reason: str = ""):
        super().__init__(message)
        self.item = item
        self.message = message
        self.reason = reason


def read_respondent_type(raw: Any) -> str:
    """The respondent type as written («соискатель», "job_seeker"); raises :class:`AnswerError`."""
    if isinstance(raw, str):
        if raw in RESPONDENT_TYPES:
            return raw
        found = RESPONDENT_WORDS.get(word(raw))
        if found is not None:
            return found
    raise AnswerError("respondent_type", _("Unknown respondent type %(value)s.", value=raw),
                      UNKNOWN_RESPONDENT_TYPE)


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
    #: Optional: the subjective and objective indicators of the same theme, compared per office
    #: (:class:`ThemePair`); none declared, nothing is compared.
    theme_pairs: list[ThemePair] = field(default_factory=list)
    #: Filled by the core at load time: the distribution and version that provided the set.
    package: str = ""
    package_version: str = ""
    #: What a reader should know of the questionnaire's version (the items are its data).
    questionnaire_note: str = ""
    #: The changes of this version as data (the register of proposals is seeded from them).
    change_log: list[DeclaredChange] = field(default_factory=list)
    #: A derived version (made in the interface): the set it changes, and what it changed
    #: (:mod:`cci.methodology.parameters`); empty for a packaged version.
    derived_from: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)

    def _lookup(self) -> dict:
        """Look-ups of the items, built once (a channel asks for every answer; an import for
        every row); built again if the items were replaced or added to."""
        stamp = (id(self.items), len(self.items))
        cache = self.__dict__.get("_cci_lookup")
        if cache is None or cache["stamp"] != stamp:
            cache = self.__dict__["_cci_lookup"] = {
                "stamp": stamp, "by_key": {}, "for": {}}
            for item in self.items:
                cache["by_key"].setdefault(item.key, item)
        return cache

    def item(self, key: str) -> Item:
        found = self._lookup()["by_key"].get(key)
        if found is None:
            raise KeyError(key)
        return found

    def items_for(self, respondent_type: str, section: str = "question") -> list[Item]:
        cached = self._lookup()["for"]
        items = cached.get((respondent_type, section))
        if items is None:
            items = cached[respondent_type, section] = [
                item for item in self.items
                if respondent_type in item.text and item.section == section
            ]
        return list(items)

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    def parameter(self, key: str) -> Any:
        return self.parameters[key].value

    # --- the questionnaire: the one authority every channel asks --------------------------

    def asked_items(self, respondent_type: str, answered: Mapping[str, Any] | None = None,
                    section: str = "question") -> list[Item]:
        """The items of a section asked of a respondent type, in order. With ``answered`` (the
        section's answers so far), a follow-up only when its parent is asked and got the
        expected answer; without it, every item that may be asked."""
        items = self.items_for(respondent_type, section)
        if answered is None:
            return items
        asked: list[Item] = []
        keys: set[str] = set()
        for item in items:
            if item.follows is not None:
                parent, expected = item.follows
                if parent not in keys or answered.get(parent) != expected:
                    continue
            keys.add(item.key)
            asked.append(item)
        return asked

    def unanswered(self, respondent_type: str, answers: Mapping[str, Any],
                   section: str = "question") -> list[str]:
        """The items asked (given ``answers``) that have no answer, not even «Затрудняюсь»."""
        return [item.key for item in self.asked_items(respondent_type, answers, section)
                if item.key not in answers]

    def read_answer(self, item: Item, raw: Any) -> Any:
        """One answer as people write it, normalised: a whole number for a scale, 1/0 for yes/no
        (:func:`cci.methodology.values.parse_yes_no`), an option key, text; None for no answer
        (empty, «Затрудняюсь ответить»). Raises :class:`AnswerError`."""
        return read_value(item, raw)

    def read_answers(self, respondent_type: str, answers: Mapping[str, Any],
                     section: str = "question") -> tuple[dict[str, Any], list[AnswerError]]:
        """Every answer of a section read and checked: (the answers that fit, normalised;
        every refusal, in the order of ``answers``, then the follow-ups' conditions)."""
        if respondent_type not in RESPONDENT_TYPES:
            return {}, [AnswerError("respondent_type", _("Unknown respondent type %(value)s.",
                                                         value=respondent_type),
                                    UNKNOWN_RESPONDENT_TYPE)]
        known = {item.key: item for item in self.items_for(respondent_type, section)}
        clean: dict[str, Any] = {}
        errors: list[AnswerError] = []
        for key, raw in answers.items():
            item = known.get(key)
            try:
                if item is None:
                    raise self._unknown(key, section)
                clean[key] = self.read_answer(item, raw)
            except AnswerError as exc:
                errors.append(exc)
        for key, value in list(clean.items()):
            follows = known[key].follows
            if follows and value is not None and clean.get(follows[0]) != follows[1]:
                parent, expected = follows
                errors.append(AnswerError(key, _(
                    "Question %(key)s is asked only after the answer %(expected)s to "
                    "%(parent)s.", key=key, expected=expected, parent=parent), CONDITION_UNMET))
                del clean[key]
        return clean, errors

    def _unknown(self, key: str, section: str) -> AnswerError:
        if any(item.key == key and item.section == section for item in self.items):
            return AnswerError(key, _("Question %(key)s is not asked of this respondent type.",
                                      key=key), NOT_ASKED)
        return AnswerError(key, _("Unknown question %(key)s.", key=key), UNKNOWN_ITEM)

    def validate_answers(
        self, respondent_type: str, answers: dict[str, Any], section: str = "question"
    ) -> dict[str, Any]:
        """Check raw answers (or, with ``section="profile"``, a profile) against the
        questionnaire; return them normalised.

        Raises :class:`AnswerError` (the first of :meth:`read_answers`) for an unknown item,
        an out-of-range value, an unknown option, or an answer to a follow-up whose condition
        was not met.
        """
        clean, errors = self.read_answers(respondent_type, answers, section)
        if errors:
            raise errors[0]
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

    def federal_figures(self, data: FederalData) -> list[Figure]:
        """The federation's own figures, one per region figure (metric, respondent type):
        the plain mean over the regions that have it, each region counted once, n summed; a
        share with the interval of that mean (:func:`cci.methodology.figures.mean_interval`,
        from the database's sums); the index with its stars and the spread interval of the
        region indices. Stored as the run's rows at level "federation". A set overrides this
        to give its other figures an interval (the built-in sets do)."""
        figures = []
        for aggregate in data.figures:
            figures.append(self.federal_figure(aggregate))
        return figures

    def federal_figure(self, aggregate) -> Figure:
        """One federation figure from its aggregate (see :meth:`federal_figures`)."""
        detail: dict[str, Any] = {"regions": aggregate.regions}
        if not aggregate.regions:
            return Figure(aggregate.metric, None, aggregate.respondent_type,
                          n_valid=aggregate.n_valid, reason="нет данных", detail=detail)
        value = aggregate.value_sum / aggregate.regions
        low, high, n_effective = interval_of_shares(aggregate, value)
        if n_effective is not None:
            detail["n_effective"] = round(n_effective, 1)
        stars = None
        if aggregate.metric == "index" and aggregate.respondent_type is None:
            low, high = spread_interval(aggregate.regions, aggregate.value_sum,
                                        aggregate.value_squares)
            stars = stars_for(value, self.parameter("star_bands"))
        return Figure(aggregate.metric, value, aggregate.respondent_type,
                      n_valid=aggregate.n_valid, n_positive=aggregate.n_positive,
                      ci_low=low, ci_high=high, stars=stars, detail=detail)


def read_value(item: Item, raw: Any) -> Any:
    """:meth:`IndicatorSet.read_answer` of the core (a set may refine the method)."""
    if item.kind == "scale" and type(raw) is str and raw.isascii() and raw.isdigit():
        return _in_range(item, int(raw))  # the usual answer, «7», read at once
    if item.kind == "choice":
        key = _option(item, raw)
        if key is not None:
            return key
    if is_no_answer(raw):
        if item.allows_na or item.kind == "text":
            return None
        raise AnswerError(item.key, _("An answer is required."), REQUIRED)
    if item.kind == "scale":
        return _scale(item, raw)
    if item.kind == "yesno":
        try:
            return int(parse_yes_no(raw))
        except ValueError:
            raise AnswerError(item.key, _("Yes or no is expected."), NOT_YES_NO) from None
    if item.kind == "choice":
        raise AnswerError(item.key, _("Unknown option %(value)s.", value=raw), UNKNOWN_OPTION)
    text = str(raw).strip()
    if len(text) > TEXT_MAX:
        raise AnswerError(item.key, _("The answer is too long: at most %(max)d characters.",
                                      max=TEXT_MAX), TOO_LONG)
    return text


def _scale(item: Item, raw: Any) -> int:
    try:
        number = parse_number(raw)
    except ValueError:
        raise AnswerError(item.key, _("A number is expected."), NOT_A_NUMBER) from None
    if not number.is_integer():
        raise AnswerError(item.key, _("A whole number is expected."), NOT_WHOLE)
    return _in_range(item, int(number))


def _in_range(item: Item, value: int) -> int:
    if not item.scale_min <= value <= item.scale_max:
        raise AnswerError(item.key, _("The answer must be between %(low)d and %(high)d.",
                                      low=item.scale_min, high=item.scale_max), OUT_OF_RANGE)
    return value


def _option(item: Item, raw: Any) -> str | None:
    """The option a value names: its key, or its key or label as written."""
    if isinstance(raw, bool) or raw is None:
        return None
    text = str(raw).strip()
    spoken = word(text)
    for option in item.options:
        if text == option.key or spoken in (option.key.lower(), word(option.label)):
            return option.key
    return None
