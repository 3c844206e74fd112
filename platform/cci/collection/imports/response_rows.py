"""Validating the rows of a responses file: the row's own columns here, its answers by the
campaign's questionnaire (:meth:`cci.methodology.contract.IndicatorSet.read_answers`, as every
channel), its office and campaign by the intake (:func:`cci.collection.intake.validate`). Errors are
worded for people filling a spreadsheet, in Russian, one per cell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from cci.collection.imports.cells import cell_text
from cci.collection.imports.cells import is_blank
from cci.collection.imports.cells import parse_moment
from cci.collection.imports.columns import Context
from cci.collection.imports.columns import Prepared
from cci.collection.imports.columns import condition_word
from cci.collection.imports.columns import follows_heading
from cci.collection.imports.columns import map_columns
from cci.collection.imports.columns import response_layout
from cci.collection.imports.files import Table
from cci.collection.intake import IntakeError
from cci.collection.intake import Submission
from cci.collection.intake import local_date
from cci.collection.intake import validate
from cci.foundation.db import db
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.methodology.contract import CONDITION_UNMET
from cci.methodology.contract import NOT_A_NUMBER
from cci.methodology.contract import NOT_ASKED
from cci.methodology.contract import NOT_WHOLE
from cci.methodology.contract import NOT_YES_NO
from cci.methodology.contract import OUT_OF_RANGE
from cci.methodology.contract import REQUIRED
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import TOO_LONG
from cci.methodology.contract import UNKNOWN_ITEM
from cci.methodology.contract import UNKNOWN_OPTION
from cci.methodology.contract import AnswerError
from cci.methodology.contract import Item
from cci.methodology.contract import read_respondent_type

CLIENT_KEY_PREFIX = "import"
CHANNEL = "import"
#: the job reports progress every so many rows
PROGRESS_EVERY = 200
SECTIONS = ("question", "profile", "comment")
RESPONDENT_DATIVE = {"job_seeker": "соискателям", "employer": "работодателям"}


def client_key(region: Region, response_id: str) -> str:
    return f"{CLIENT_KEY_PREFIX}:{region.code}:{response_id}"


def existing_keys(keys: list[str]) -> set[str]:
    """Client keys already stored (in the region: the key names the region)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(db.scalars(select(Response.client_key)
                                .where(Response.client_key.in_(chunk))))
    return found


def report_progress(report: Callable, position: int, total: int) -> None:
    if position % PROGRESS_EVERY == 0:
        report(0.05 + 0.8 * position / total, f"Проверено строк: {position} из {total}")


def prepare_responses(ctx: Context, table: Table, report: Callable) -> Prepared:
    indicator_set = ctx.indicator_set
    # a column that names no item of the questionnaire: refused as the channels refuse one
    map_columns(ctx, response_layout(indicator_set), UNKNOWN_ITEM)
    prepared = Prepared(rows_total=len(table.rows))
    if ctx.error_count:
        return prepared
    items = {item.key: item for item in indicator_set.items}
    if not any(items[key].section == "question" for key in ctx.columns.values() if key in items):
        ctx.error(1, None, "нет ни одного столбца с вопросами анкеты методики "
                           f"{indicator_set.key}")
        return prepared
    ids = [index for index, key in ctx.columns.items() if key == "response_id"]
    stored = existing_keys([client_key(ctx.region, cell_text(cells[index]))
                            for _, cells in table.rows for index in ids if index < len(cells)])
    rows = ResponseRows(ctx, items, stored)
    for position, (row, cells) in enumerate(table.rows, start=1):
        report_progress(report, position, len(table.rows))
        draft = rows.read(row, ctx.cells(cells))
        if draft is rows.EXISTING:
            prepared.existing += 1  # imported before: recognised, not validated again
        elif draft is not None:
            prepared.new.append(draft)
    return prepared


class ResponseRows:
    """Reads the rows of one file, remembering what a later row needs (the response ids seen,
    the offices and campaign the intake looked up)."""

    EXISTING = object()

    def __init__(self, ctx: Context, items: dict[str, Item], stored: set[str]):
        self.ctx = ctx
        self.items = items
        self.stored = stored
        self.seen: dict[str, int] = {}
        self.known: dict = {}  # offices and the campaign, looked up once for all rows

    def read(self, row: int, values: dict[str, tuple[str, Any]]):
        """The row's validated draft, :attr:`EXISTING`, or None (errors are on the context)."""
        response_id = self.response_id(row, *values["response_id"])
        if response_id is None:
            return None
        key = client_key(self.ctx.region, response_id)
        if key in self.stored:
            return self.EXISTING
        errors_before = self.ctx.error_count
        office = self.ctx.office(row, *values["office_code"])
        respondent_type = self.respondent_type(row, *values["respondent_type"])
        moment = self.moment(row, *values["submitted_at"])
        if respondent_type is None:
            return None
        answers = self.answers(row, values, respondent_type)
        if self.ctx.error_count > errors_before or office is None or moment is None:
            return None
        return self.draft(row, values, Submission(
            office_id=office.id, respondent_type=respondent_type, answers=answers["question"],
            client_key=key, channel=CHANNEL, submitted_at=moment, profile=answers["profile"],
            comment=next(iter(answers["comment"].values()), None),
            campaign_id=self.ctx.campaign.id, checked_with=self.ctx.campaign.methodology_key,
            meta={"import_row": row, "response_id": response_id},
        ))

    def response_id(self, row: int, header: str, raw: Any) -> str | None:
        response_id = cell_text(raw)
        if not response_id:
            self.ctx.error(row, header, "не указан номер анкеты (response_id)")
        elif len(response_id) > 80:
            self.ctx.error(row, header, "номер анкеты длиннее 80 символов")
        elif response_id in self.seen:
            self.ctx.error(row, header, f"номер анкеты «{response_id}» уже встречался в строке "
                                        f"{self.seen[response_id]}")
        else:
            self.seen[response_id] = row
            return response_id
        return None

    def respondent_type(self, row: int, header: str, raw: Any) -> str | None:
        try:
            return read_respondent_type(cell_text(raw))
        except AnswerError as exc:
            self.ctx.error(row, header, f"неизвестный тип респондента «{cell_text(raw)}» "
                                        "(ожидается «соискатель» или «работодатель»)", exc.reason)
        return None

    def moment(self, row: int, header: str, raw: Any) -> dt.datetime | None:
        if is_blank(raw):
            self.ctx.error(row, header, "не указана дата заполнения")
            return None
        try:
            moment = parse_moment(raw, self.ctx.region.timezone)
        except (ValueError, OverflowError):
            self.ctx.error(row, header, f"дата «{cell_text(raw)}» не распознана "
                                        "(ожидается ДД.ММ.ГГГГ [ЧЧ:ММ] или ГГГГ-ММ-ДД)")
            return None
        campaign = self.ctx.campaign
        day = local_date(self.ctx.region, moment)
        if not campaign.starts_on <= day <= campaign.ends_on:
            self.ctx.error(row, header, f"дата {day:%d.%m.%Y} вне кампании «{campaign.name}» "
                                        f"({campaign.starts_on:%d.%m.%Y}–"
                                        f"{campaign.ends_on:%d.%m.%Y})")
        return moment

    def answers(self, row: int, values: dict[str, tuple[str, Any]],
                respondent_type: str) -> dict[str, dict[str, Any]]:
        """{section: answers} read by the questionnaire; an empty cell is no answer."""
        given: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
        headers: dict[str, str] = {}
        for key, (header, raw) in values.items():
            item = self.items.get(key)
            if item is None:
                continue
            text = cell_text(raw)
            if text:  # numbers as typed in the workbook, the rest as the cell reads
                given[item.section][key] = raw if item.kind in ("scale", "yesno") and \
                    isinstance(raw, (int, float)) else text
                headers[key] = header
        clean: dict[str, dict[str, Any]] = {}
        for section, raw_answers in given.items():
            clean[section], errors = self.ctx.indicator_set.read_answers(
                respondent_type, raw_answers, section)
            for error in errors:
                self.ctx.error(row, headers.get(error.item, error.item),
                               self.message(error, raw_answers.get(error.item), respondent_type),
                               error.reason)
        questions = clean["question"]
        # an empty cell of a question asked: no answer («Затрудняюсь ответить»), if it may be
        for item in self.ctx.indicator_set.asked_items(respondent_type, questions):
            if item.key in values and item.key not in questions and item.allows_na \
                    and is_blank(values[item.key][1]):
                questions[item.key] = None
        if not given["question"]:
            self.ctx.error(row, None, "нет ни одного ответа на вопросы анкеты")
        clean["profile"] = {k: v for k, v in clean["profile"].items() if v is not None}
        return clean

    def message(self, error: AnswerError, raw: Any, respondent_type: str) -> str:
        """The questionnaire's refusal as a spreadsheet's row error."""
        item = self.items.get(error.item)
        if item is None:
            return error.message
        text = cell_text(raw)
        bounds = f"{item.scale_min}–{item.scale_max}"
        wording: dict[str, Callable[[], str]] = {
            NOT_A_NUMBER: lambda: f"«{text}» — не число (ожидается {bounds} или пусто)",
            NOT_WHOLE: lambda: f"значение {text} не целое (ожидается {bounds})",
            OUT_OF_RANGE: lambda: f"значение {text} вне шкалы {bounds}",
            REQUIRED: lambda: "у этого вопроса нет варианта «Затрудняюсь ответить»",
            NOT_YES_NO: lambda: f"ожидается «да» или «нет», а не «{text}»",
            UNKNOWN_OPTION: lambda: f"вариант «{text}» не предусмотрен (допустимо: "
                                    f"{', '.join(option.key for option in item.options)})",
            NOT_ASKED: lambda: f"этот вопрос не задаётся {RESPONDENT_DATIVE[respondent_type]}",
            CONDITION_UNMET: lambda: self.condition(item),
            TOO_LONG: lambda: f"текст длиннее {TEXT_MAX} символов",
        }
        return wording.get(error.reason, lambda: error.message)()

    def condition(self, item: Item) -> str:
        parent, expected = item.follows or ("", None)
        column = self.ctx.header_of(parent, follows_heading(self.ctx.indicator_set, item))
        answer = condition_word(self.ctx.indicator_set.item(parent), expected)
        return f"ответ возможен, только если в столбце «{column}» ответ «{answer}»"

    def draft(self, row: int, values: dict[str, tuple[str, Any]], submission: Submission):
        """The intake's draft of a row whose own columns and answers are valid, or None."""
        try:
            return validate(known=self.known, sub=submission)
        except IntakeError as exc:
            column = values.get(exc.field, (exc.field, None))[0]
            self.ctx.error(row, column, exc.message, exc.reason)
        return None
