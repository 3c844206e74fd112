"""The questionnaire of ИКЦ-2023, a versioned part of the set (change 10).

The source says the job seeker's and the employer's questionnaires were revised («Внесены
изменения в опросные листы соискателя и работодателя») but gives no new wording. The set
declares its own list of items, so a later version revises any wording per respondent type
and the comparison of two versions shows it item by item; until then the items read as the
pilot's."""

from __future__ import annotations

from cci_ikc2022.questionnaire import ITEMS as PILOT_ITEMS

ITEMS = list(PILOT_ITEMS)

NOTE = (
    "Изменение 10: «Внесены изменения в опросные листы соискателя и работодателя». Новых "
    "формулировок источник не приводит, поэтому вопросы этой версии звучат, как в пилоте. "
    "Анкета — часть версии методики: новая версия может изменить формулировку любого вопроса "
    "для соискателей и для работодателей, а сравнение версий покажет изменения по каждому "
    "вопросу."
)
