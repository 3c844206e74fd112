"""Validating the rows of a checklists file: one indicator's checklist per row, for an office
or (an indicator filled once in a centralized network) for the region; values read as
:mod:`cci.methodology.values` reads them on every path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from cci.collection.imports.cells import cell_text
from cci.collection.imports.cells import cell_word
from cci.collection.imports.cells import is_blank
from cci.collection.imports.columns import CHECKLIST_COLUMNS
from cci.collection.imports.columns import EVIDENCE_COLUMN
from cci.collection.imports.columns import LOOKALIKES
from cci.collection.imports.columns import Context
from cci.collection.imports.columns import Prepared
from cci.collection.imports.columns import checklist_indicators
from cci.collection.imports.columns import checklist_params
from cci.collection.imports.columns import map_columns
from cci.collection.imports.files import Table
from cci.collection.imports.response_rows import report_progress
from cci.foundation.db import db
from cci.foundation.models import Checklist
from cci.foundation.models import Office
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import Indicator
from cci.methodology.values import NegativeNumber
from cci.methodology.values import parse_amount
from cci.methodology.values import parse_yes_no

_FIXED = (*CHECKLIST_COLUMNS, EVIDENCE_COLUMN)


def option_key(options, raw: Any) -> str | None:
    text = cell_text(raw)
    spoken = cell_word(raw)
    for option in options:
        if text == option.key or spoken in {option.key.lower(), cell_word(option.label)}:
            return option.key
    return None


def param_value(ctx: Context, row: int, column: str, param: ChecklistParam, raw: Any) -> Any:
    if param.kind == "number":
        try:
            return parse_amount(raw)
        except NegativeNumber:
            ctx.error(row, column, f"отрицательное значение {cell_text(raw)}")
        except ValueError:
            ctx.error(row, column, f"«{cell_text(raw)}» — не число")
        return None
    if param.kind == "choice":
        key = option_key(param.options, raw)
        if key is None:
            allowed = ", ".join(option.key for option in param.options)
            ctx.error(row, column,
                      f"вариант «{cell_text(raw)}» не предусмотрен (допустимо: {allowed})")
        return key
    try:
        return parse_yes_no(raw)
    except ValueError:
        ctx.error(row, column, f"ожидается «да» или «нет», а не «{cell_text(raw)}»")
        return None


def prepare_checklists(ctx: Context, table: Table, report: Callable) -> Prepared:
    params = checklist_params(ctx.indicator_set)
    known = {key: key for key in _FIXED}
    known.update({key.lower(): key for key in params})
    map_columns(ctx, known, CHECKLIST_COLUMNS)
    prepared = Prepared(rows_total=len(table.rows))
    if ctx.error_count:
        return prepared
    rows = ChecklistRows(ctx, prepared)
    for position, (row, cells) in enumerate(table.rows, start=1):
        report_progress(report, position, len(table.rows))
        rows.read(row, ctx.cells(cells))
    return prepared


class ChecklistRows:
    """Reads the rows of one file into new and updated checklists (on ``prepared``)."""

    def __init__(self, ctx: Context, prepared: Prepared):
        self.ctx = ctx
        self.prepared = prepared
        self.indicators = {i.code.upper(): i for i in checklist_indicators(ctx.indicator_set)}
        self.all_codes = {i.code.upper(): i for i in ctx.indicator_set.indicators}
        self.stored = {
            (c.office_id, c.indicator): c
            for c in db.scalars(select(Checklist).where(
                Checklist.campaign_id == ctx.campaign.id, Checklist.region_id == ctx.region.id))
        }
        self.centralized = ctx.region.network_type == "centralized"
        self.seen: dict[tuple[int | None, str], int] = {}

    def read(self, row: int, values: dict[str, tuple[str, Any]]) -> None:
        errors_before = self.ctx.error_count
        indicator = self.indicator(row, *values["indicator"])
        if indicator is None:
            return
        office = self.office(row, indicator, *values["office_code"])
        filled = self.filled(row, values, indicator, errors_before)
        if self.ctx.error_count > errors_before:
            return
        office_id = office.id if office is not None else None
        where = (office_id, indicator.code)
        if where in self.seen:
            self.ctx.error(row, None, f"чек-лист {indicator.code} для "
                                      f"{'этого офиса' if office_id else 'региона'} уже есть в "
                                      f"строке {self.seen[where]}")
            return
        self.seen[where] = row
        self.keep(where, filled, cell_text(values.get(EVIDENCE_COLUMN, ("", None))[1]))

    def indicator(self, row: int, header: str, raw: Any) -> Indicator | None:
        code = cell_text(raw).translate(LOOKALIKES).upper().replace(" ", "")
        indicator = self.indicators.get(code)
        if not code:
            self.ctx.error(row, header, "не указан показатель (например, O-V.2)")
        elif indicator is None and code in self.all_codes:
            self.ctx.error(row, header, f"у показателя {self.all_codes[code].code} нет чек-листа")
        elif indicator is None:
            self.ctx.error(row, header, f"показатель «{cell_text(raw)}» не найден в методике "
                                        f"{self.ctx.indicator_set.key}")
        return indicator

    def office(self, row: int, indicator: Indicator, header: str, raw: Any) -> Office | None:
        region_level = indicator.level == "network" and self.centralized
        if is_blank(raw):
            if not region_level:
                self.ctx.error(row, header, f"показатель {indicator.code} заполняется по "
                                            "офисам: укажите код офиса")
            return None
        if region_level:
            self.ctx.error(row, header, f"показатель {indicator.code} заполняется один раз для "
                                        "региона (централизованная сеть): оставьте код офиса "
                                        "пустым")
            return None
        return self.ctx.office(row, header, raw)

    def filled(self, row: int, values: dict[str, tuple[str, Any]], indicator: Indicator,
               errors_before: int) -> dict[str, Any]:
        own = {param.key: param for param in indicator.checklist}
        filled: dict[str, Any] = {}
        for key, (header, raw) in values.items():
            if key in _FIXED or is_blank(raw):
                continue
            param = own.get(key)
            if param is None:
                self.ctx.error(row, header, f"параметр не относится к показателю "
                                            f"{indicator.code}")
                continue
            filled[key] = param_value(self.ctx, row, header, param, raw)
        missing = [key for key in own if key not in filled]
        if not filled and self.ctx.error_count == errors_before:
            self.ctx.error(row, None, f"не заполнен ни один параметр показателя {indicator.code}")
        elif missing and filled:
            # as in the checklist form: a checklist is scored only when it is complete
            self.ctx.error(row, None, f"не заполнены параметры показателя {indicator.code}: "
                                      f"{', '.join(missing)}")
        return filled

    def keep(self, where: tuple[int | None, str], filled: dict[str, Any], evidence: str) -> None:
        current = self.stored.get(where)
        if current is None:
            self.prepared.new.append(Checklist(
                campaign_id=self.ctx.campaign.id, region_id=self.ctx.region.id,
                office_id=where[0], indicator=where[1], values=filled,
                evidence={"note": evidence} if evidence else {},
            ))
            return
        new_evidence = {**(current.evidence or {}), "note": evidence} if evidence \
            else current.evidence
        if current.values == filled and new_evidence == current.evidence:
            self.prepared.existing += 1
        else:
            self.prepared.updated.append((current, filled, new_evidence))
