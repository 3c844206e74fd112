"""Validating the rows of a checklists file, for an office or (an indicator filled once in a
centralized network) for the region; values read as :mod:`cci.methodology.values` reads them
on every path. Two layouts: the template's, one row per office and parameter with a value
column (:class:`ParameterRows`), and the earlier one, one row per office and indicator with a
column per parameter (:class:`ChecklistRows`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from cci.collection.imports.cells import cell_text
from cci.collection.imports.cells import cell_word
from cci.collection.imports.cells import is_blank
from cci.collection.imports.columns import CHECKLIST_COLUMNS
from cci.collection.imports.columns import CHECKLIST_LONG
from cci.collection.imports.columns import EVIDENCE_COLUMN
from cci.collection.imports.columns import LOOKALIKES
from cci.collection.imports.columns import Context
from cci.collection.imports.columns import Prepared
from cci.collection.imports.columns import checklist_indicators
from cci.collection.imports.columns import checklist_wide_layout
from cci.collection.imports.columns import header_name
from cci.collection.imports.columns import is_long_checklist
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
    long = is_long_checklist(ctx.headers)
    map_columns(ctx, list(CHECKLIST_LONG) if long else checklist_wide_layout(ctx.indicator_set))
    if long and not ctx.error_count and not {"parameter", "parameter_key"} & set(
            ctx.columns.values()):
        ctx.error(1, None, "нет столбца «Параметр» или «Код параметра»")
    prepared = Prepared(rows_total=len(table.rows))
    if ctx.error_count:
        return prepared
    rows = (ParameterRows if long else ChecklistRows)(ctx, prepared)
    for position, (row, cells) in enumerate(table.rows, start=1):
        report_progress(report, position, len(table.rows))
        rows.read(row, ctx.cells(cells))
    rows.finish()
    return prepared


class ChecklistRows:
    """Reads the rows of one file (a row per office and indicator, a column per parameter)
    into new and updated checklists (on ``prepared``)."""

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

    def finish(self) -> None:
        """After the last row (every row's checklist is kept as it is read)."""

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


class ParameterRows(ChecklistRows):
    """Reads the template's layout: a row per office (or the region) and parameter, its value
    in one column. A row without a value or evidence is not data (the template lists every
    parameter of every office, for the auditor to fill what was checked); the filled rows of
    one office and indicator make its checklist, which must be complete."""

    def __init__(self, ctx: Context, prepared: Prepared):
        super().__init__(ctx, prepared)
        prepared.rows_total = 0
        #: (office id, indicator code) -> its first row, values, the rows they came from,
        #: evidence notes
        self.groups: dict[tuple[int | None, str], _Group] = {}

    def read(self, row: int, values: dict[str, tuple[str, Any]]) -> None:
        value_header, raw = values["value"]
        evidence = cell_text(values.get(EVIDENCE_COLUMN, ("", None))[1])
        if is_blank(raw) and not evidence:
            return  # not filled in: not data
        self.prepared.rows_total += 1
        errors_before = self.ctx.error_count
        indicator = self.indicator(row, *values["indicator"])
        if indicator is None:
            return
        office = self.office(row, indicator, *values["office_code"])
        param = self.param(row, indicator, values)
        if param is None or self.ctx.error_count > errors_before:
            return
        if is_blank(raw):
            self.ctx.error(row, value_header, f"не указано значение параметра «{param.label}» "
                                              f"(указано только подтверждение)")
            return
        value = param_value(self.ctx, row, value_header, param, raw)
        if self.ctx.error_count > errors_before:
            return
        where = (office.id if office is not None else None, indicator.code)
        group = self.groups.setdefault(where, _Group(row, indicator, office))
        if param.key in group.rows:
            self.ctx.error(row, None, f"параметр «{param.label}» показателя {indicator.code} "
                                      f"для {group.whom()} уже указан в строке "
                                      f"{group.rows[param.key]}")
            return
        group.rows[param.key] = row
        group.values[param.key] = value
        if evidence and evidence not in group.evidence:
            group.evidence.append(evidence)

    def param(self, row: int, indicator: Indicator,
              values: dict[str, tuple[str, Any]]) -> ChecklistParam | None:
        """The parameter a row names: by its code, else by its label, within the indicator."""
        key_header, key_raw = values.get("parameter_key", ("", None))
        label_header, label_raw = values.get("parameter", ("", None))
        if not is_blank(key_raw):
            code = cell_text(key_raw).lower()
            found = next((p for p in indicator.checklist if p.key.lower() == code), None)
            if found is None:
                self.ctx.error(row, key_header, f"параметр «{cell_text(key_raw)}» не относится "
                                                f"к показателю {indicator.code}")
            return found
        if is_blank(label_raw):
            self.ctx.error(row, label_header or key_header, "не указан параметр")
            return None
        label = header_name(cell_text(label_raw))
        found = next((p for p in indicator.checklist if header_name(p.label) == label), None)
        if found is None:
            self.ctx.error(row, label_header, f"параметр «{cell_text(label_raw)}» не относится "
                                              f"к показателю {indicator.code}")
        return found

    def finish(self) -> None:
        """Each office's checklist of an indicator, once every row is read: complete, or an
        error naming what is missing."""
        for where, group in self.groups.items():
            missing = [p.label for p in group.indicator.checklist if p.key not in group.values]
            if missing:
                self.ctx.error(group.first_row, None,
                               f"не заполнены параметры показателя {group.indicator.code} "
                               f"для {group.whom()}: {'; '.join(missing)}")
            elif not self.ctx.error_count:
                self.keep(where, group.values, "; ".join(group.evidence))


class _Group:
    """The filled rows of one office's (or the region's) checklist of one indicator."""

    def __init__(self, first_row: int, indicator: Indicator, office: Office | None):
        self.first_row = first_row
        self.indicator = indicator
        self.office = office
        self.values: dict[str, Any] = {}
        self.rows: dict[str, int] = {}
        self.evidence: list[str] = []

    def whom(self) -> str:
        return f"офиса {self.office.code}" if self.office is not None else "региона"
