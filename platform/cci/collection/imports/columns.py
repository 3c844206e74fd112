"""Matching a file's columns to the methodology, and what validating one file needs (its
region, campaign, offices, column map and the errors found so far)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from cci.collection.imports.cells import cell_text
from cci.collection.imports.errors import MAX_ERRORS
from cci.collection.imports.errors import RowError
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item

RESPONSE_COLUMNS = ("response_id", "office_code", "respondent_type", "submitted_at")
CHECKLIST_COLUMNS = ("office_code", "indicator")
EVIDENCE_COLUMN = "evidence"

# Cyrillic letters that look like the Latin ones of indicator codes (О-V.2 typed in Russian).
LOOKALIKES = str.maketrans({"О": "O", "о": "O", "С": "C", "с": "C", "Х": "X", "х": "X",
                            "І": "I", "і": "I", "–": "-", "—": "-"})


@dataclass
class Context:
    """What validating one file needs: its region, campaign, set and column mapping."""

    region: Region
    campaign: Campaign
    indicator_set: IndicatorSet
    offices: dict[str, Office]
    headers: list[str]
    #: column index -> canonical key (item key, parameter key, or a fixed column)
    columns: dict[int, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int | None, column: str | None, message: str,
              reason: str | None = None) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message, reason))

    def cells(self, cells: list[Any]) -> dict[str, tuple[str, Any]]:
        """key -> (header as in the file, raw value) for one row."""
        return {
            key: (self.headers[index], cells[index] if index < len(cells) else None)
            for index, key in self.columns.items()
        }

    def office(self, row: int, column: str, raw: Any, required: bool = True) -> Office | None:
        code = cell_text(raw)
        if not code:
            if required:
                self.error(row, column, "не указан код офиса")
            return None
        office = self.offices.get(code.upper())
        if office is None:
            self.error(row, column, f"офис «{code}» не найден в регионе {self.region.code}")
        elif not office.active:
            self.error(row, column, f"офис «{code}» закрыт (неактивен)")
            return None
        return office


@dataclass
class Prepared:
    """The validated rows of a file, ready to be written."""

    rows_total: int
    new: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    existing: int = 0


def map_columns(ctx: Context, known: dict[str, str], required: tuple[str, ...],
                unknown_reason: str | None = None) -> None:
    """Match headers to keys (case-insensitively); report unknown (with ``unknown_reason``),
    duplicate and missing ones."""
    seen: dict[str, str] = {}
    for index, header in enumerate(ctx.headers):
        if not header:
            ctx.error(1, f"№{index + 1}", "у столбца нет заголовка")
            continue
        key = known.get(header.lower()) or known.get(header.translate(LOOKALIKES).upper())
        if key is None:
            ctx.error(1, header, "неизвестный столбец: ожидаются столбцы шаблона методики "
                                 f"{ctx.indicator_set.key}", unknown_reason)
            continue
        if key in seen:
            ctx.error(1, header, f"столбец повторяется (уже есть «{seen[key]}»)")
            continue
        seen[key] = header
        ctx.columns[index] = key
    for key in required:
        if key not in seen:
            ctx.error(1, None, f"нет обязательного столбца {key}")


def response_columns(indicator_set: IndicatorSet) -> list[Item]:
    """Questionnaire items in file order: questions, then profile, then the comment."""
    order = {"question": 0, "profile": 1, "comment": 2}
    return sorted(indicator_set.items, key=lambda item: order[item.section])


def checklist_params(indicator_set: IndicatorSet) -> list[str]:
    """Every checklist parameter key of the set, in the order the indicators declare them."""
    keys: list[str] = []
    for indicator in checklist_indicators(indicator_set):
        for param in indicator.checklist:
            if param.key not in keys:
                keys.append(param.key)
    return keys


def checklist_indicators(indicator_set: IndicatorSet) -> list[Indicator]:
    return [i for i in indicator_set.indicators if i.kind == "objective" and i.checklist]


def response_known_columns(indicator_set: IndicatorSet) -> dict[str, str]:
    known = {key: key for key in RESPONSE_COLUMNS}
    for item in indicator_set.items:
        known[item.key.lower()] = item.key
    # An indicator measured by one item may be headed by its code (S-I.1 → prof_competence).
    for indicator in indicator_set.indicators:
        if indicator.kind == "subjective" and len(indicator.items) == 1:
            known.setdefault(indicator.code.upper(), indicator.items[0])
    return known
