"""The definitions: words for people, and the rows the database sums (see ``CxMetric``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import true
from sqlalchemy import union_all

from cci.plugin_api import Campaign
from cci.plugin_api import Checklist
from cci.plugin_api import CxCount
from cci.plugin_api import CxMetric
from cci.plugin_api import CxQuestion
from cci.plugin_api import CxWindow
from cci.plugin_api import TouchpointAnswer
from cci.plugin_api import db
from cci.plugin_api import installed_sets

#: touchpoint surveys need this many answers before a share or mean is read
SURVEY_MIN_N = 30
CALLS_MIN_N = 30

# --- the contact centre's tables, by name (the channel plugin owns them) --------------------

CALLS = table(
    "contact_calls", column("region_id"), column("office_id"), column("started_at"),
    column("ended_at"), column("resolved_first_contact"), column("escalated"),
    column("waiting_seconds"), column("handling_seconds"), column("response_id"),
)
TELEPHONY = table(
    "telephony_stats", column("region_id"), column("day"), column("offered"),
    column("answered"), column("abandoned"), column("answered_within_20s"),
)

ONE = literal(1)
ZERO = literal(0)


def _flag(condition) -> Any:
    return case((condition, 1), else_=0)


# --- touchpoint surveys: one pass over the answers for CSAT, CES, NPS and RATING -------------


def answers_rows(window: CxWindow):
    """Every counted answer of the window, with a (den, num, neg) triple per metric."""
    t = TouchpointAnswer
    v = t.value

    def asked(question: str, condition=None, value=None):
        if value is not None:
            return case((t.question == question, value), else_=0)
        if condition is None:
            return _flag(t.question == question)
        return _flag(and_(t.question == question, condition))

    return select(
        t.region_id.label("region_id"), t.office_id.label("office_id"),
        t.touchpoint.label("touchpoint"), t.submitted_at.label("at"),
        asked("csat").label("den_csat"), asked("csat", v >= 4).label("num_csat"),
        asked("ces").label("den_ces"), asked("ces", v >= 4).label("num_ces"),
        asked("nps").label("den_nps"), asked("nps", v >= 9).label("num_nps"),
        asked("nps", v <= 6).label("neg_nps"),
        asked("window_rating").label("den_rating"),
        asked("window_rating", value=v).label("num_rating"),
    ).where(t.counted.is_(True), t.question.in_(("csat", "ces", "nps", "window_rating")),
            t.submitted_at >= window.start, t.submitted_at < window.end)


# --- calls recorded in the contact centre's console: one pass for FCR, ER, RR, AHT, ASA ------


def calls_rows(window: CxWindow):
    c = CALLS.c

    def known(column):
        return _flag(column.is_not(None))

    return select(
        c.region_id.label("region_id"), c.office_id.label("office_id"),
        literal("contact_centre").label("touchpoint"), c.started_at.label("at"),
        known(c.resolved_first_contact).label("den_fcr"),
        _flag(c.resolved_first_contact.is_(True)).label("num_fcr"),
        known(c.escalated).label("den_er"), _flag(c.escalated.is_(True)).label("num_er"),
        ONE.label("den_rr"), known(c.response_id).label("num_rr"),
        known(c.handling_seconds).label("den_aht"),
        func.coalesce(c.handling_seconds, 0).label("num_aht"),
        known(c.waiting_seconds).label("den_asa"),
        func.coalesce(c.waiting_seconds, 0).label("num_asa"),
    ).where(c.ended_at.is_not(None), c.started_at >= window.start, c.started_at < window.end)


# --- the telephony platform's daily statistics (per line: the region's, no office) -----------


def telephony_rows(window: CxWindow):
    t = TELEPHONY.c
    return select(
        t.region_id.label("region_id"), cast(null(), Integer).label("office_id"),
        literal("contact_centre").label("touchpoint"), t.day.label("at"),
        t.offered.label("den"), t.abandoned.label("num_ar"),
        t.answered_within_20s.label("num_sl"),
    ).where(t.day >= window.start.date(), t.day < window.end.date())


# --- imported day counts ---------------------------------------------------------------------


def _counts(window: CxWindow, num_kind: str, den_kind: str, touchpoint=None):
    """A ratio of two kinds of count: each row adds to one side."""
    c = CxCount
    return select(
        c.region_id.label("region_id"), c.office_id.label("office_id"),
        (literal(touchpoint) if touchpoint else c.touchpoint).label("touchpoint"),
        c.day.label("at"),
        case((c.kind == den_kind, c.count), else_=0).label("den"),
        case((c.kind == num_kind, c.count), else_=0).label("num"),
    ).where(c.kind.in_((num_kind, den_kind)), c.day >= window.start.date(),
            c.day < window.end.date())


# --- the auditors' checklists: each yes/no item a point (IQS) --------------------------------

#: the touchpoints IQS is read at; an objective indicator's checklist counts at those of them
#: its indicator names (``Indicator.touchpoints``: the mystery call at the contact centre,
#: the office's premises and information at the office, the specialist's appearance at the
#: window)
IQS_TOUCHPOINTS = ("contact_centre", "office", "specialist_window")


def _checklist_places():
    """A small table: (methodology set, indicator, touchpoint) of every installed set's
    objective indicator with a checklist at a touchpoint of IQS; None when there is none."""
    places = sorted({(indicator_set.key, indicator.key, touchpoint)
                     for indicator_set in installed_sets()
                     for indicator in indicator_set.indicators
                     if indicator.kind == "objective" and indicator.checklist
                     for touchpoint in indicator.touchpoints if touchpoint in IQS_TOUCHPOINTS})
    if not places:
        return None
    return union_all(*(
        select(literal(key, String).label("methodology"), literal(indicator, String)
               .label("indicator"), literal(touchpoint, String).label("touchpoint"))
        for key, indicator, touchpoint in places)).subquery("places")


def _checklist_items():
    """The items of a checklist's stored values (one row per key) and whether an item is a
    yes/no one and met: JSONB on PostgreSQL, JSON text on SQLite."""
    if db.get_bind().dialect.name == "postgresql":
        each = func.jsonb_each(Checklist.values).table_valued("key", "value").alias("item")
        kind = func.jsonb_typeof(each.c.value)
        return each, kind == "boolean", cast(each.c.value, String) == "true"
    each = func.json_each(Checklist.values).table_valued("key", "type").alias("item")
    return each, each.c.type.in_(("true", "false")), each.c.type == "true"


def checklist_rows(window: CxWindow):
    """Every yes/no item of the auditors' objective checklists stored in the window (by the
    moment the checklist was first saved), at its indicator's touchpoints: a point of the
    maximum, and of the score when met. Figures and choices are not items. None when no
    installed checklist reaches a touchpoint of IQS."""
    places = _checklist_places()
    if places is None:
        return None
    each, is_item, met = _checklist_items()
    return select(
        Checklist.region_id.label("region_id"), Checklist.office_id.label("office_id"),
        places.c.touchpoint.label("touchpoint"), Checklist.created_at.label("at"),
        ONE.label("den"), _flag(met).label("num"),
    ).join(Campaign, Campaign.id == Checklist.campaign_id).join(
        places, and_(places.c.methodology == Campaign.methodology_key,
                     places.c.indicator == Checklist.indicator),
    ).join(each, true()).where(is_item, Checklist.created_at >= window.start,
                               Checklist.created_at < window.end)


def iqs_rows(window: CxWindow):
    """The auditors' checklists in the platform and the quality checklists' points a region
    imports (checklists kept elsewhere, e.g. call listening): one set of points."""
    counts = _counts(window, "iqs_points", "iqs_max")
    checklists = checklist_rows(window)
    return counts if checklists is None else union_all(counts, checklists)


def rpc_rows(window: CxWindow):
    return _counts(window, "contacts", "clients")


def cv1_rows(window: CxWindow):
    return _counts(window, "preregistrations", "service_page_visits", "site")


def cv2_rows(window: CxWindow):
    return _counts(window, "services_received", "preregistrations", "office")


SURVEYED = ("site", "contact_centre", "office", "kiosk", "specialist_window", "testing",
            "training", "feedback")
FIVE = ("Очень плохо", "Плохо", "Удовлетворительно", "Хорошо", "Отлично")
EASE = ("Очень сложно", "Скорее сложно", "Ни сложно, ни легко", "Скорее легко", "Легко")

METRICS = (
    CxMetric(
        code="CSAT", title="Удовлетворённость (CSAT)",
        definition="Доля ответов «4» и «5» по шкале 1–5 на вопрос об удовлетворённости, %.",
        numerator="ответы «4» и «5»", denominator="все ответы на вопрос",
        kind="share", scale="%", window="quarter", direction="higher", min_n=SURVEY_MIN_N,
        touchpoints=SURVEYED, rows=answers_rows,
        columns=("den_csat", "num_csat", ""), sources=("touchpoint_answers",),
        question=CxQuestion("csat", "Насколько вы удовлетворены обслуживанием?", 1, 5, FIVE)),
    CxMetric(
        code="NPS", title="Индекс готовности рекомендовать (NPS)",
        definition="Доля оценок 9–10 минус доля оценок 0–6 по шкале 0–10 на вопрос "
                   "«Насколько вероятно, что вы порекомендуете…», от −100 до +100.",
        numerator="оценки 9–10 минус оценки 0–6", denominator="все оценки",
        kind="balance", scale="пункты", window="quarter", direction="higher",
        min_n=SURVEY_MIN_N, touchpoints=("office", "kiosk", "site", "feedback"),
        rows=answers_rows,
        columns=("den_nps", "num_nps", "neg_nps"), sources=("touchpoint_answers",),
        bounds=(-100.0, 100.0),
        question=CxQuestion("nps", "Насколько вероятно, что вы порекомендуете центр занятости "
                                   "друзьям и знакомым?", 0, 10)),
    CxMetric(
        code="CES", title="Лёгкость шага (CES)",
        definition="Доля ответов «Легко» и «Скорее легко» по пятибалльной шкале "
                   "«Очень сложно … Легко», %.",
        numerator="ответы «Легко» и «Скорее легко»", denominator="все ответы на вопрос",
        kind="share", scale="%", window="quarter", direction="higher", min_n=SURVEY_MIN_N,
        touchpoints=SURVEYED, rows=answers_rows,
        columns=("den_ces", "num_ces", ""), sources=("touchpoint_answers",),
        platform_defined=True,
        question=CxQuestion("ces", "Насколько легко вам было решить свой вопрос?", 1, 5, EASE)),
    CxMetric(
        code="FCR", title="Решение с первого обращения (FCR)",
        definition="Обращения, решённые при первом контакте, / все обращения с известным "
                   "исходом, %.",
        numerator="обращения, решённые с первого раза", denominator="обращения с исходом",
        kind="share", scale="%", window="month", direction="higher", min_n=CALLS_MIN_N,
        touchpoints=("contact_centre",), rows=calls_rows,
        columns=("den_fcr", "num_fcr", ""), sources=("contact_calls",)),
    CxMetric(
        code="RR", title="Доля заполненных опросов (RR)",
        definition="Опросы, пройденные после звонка, / звонки, в которых опрос предлагался "
                   "(каждый завершённый), %.",
        numerator="звонки с пройденным опросом", denominator="завершённые звонки",
        kind="share", scale="%", window="month", direction="higher", min_n=CALLS_MIN_N,
        touchpoints=("contact_centre",), rows=calls_rows,
        columns=("den_rr", "num_rr", ""), sources=("contact_calls",),
        platform_defined=True),
    CxMetric(
        code="IQS", title="Внутренняя оценка качества (IQS)",
        definition="Набранные баллы / максимум баллов чек-листов качества, %: пункт "
                   "чек-листа аудитора (тайный звонок, проверка офиса) — балл; добавляются "
                   "импортированные баллы (тайный покупатель, прослушивание звонков).",
        numerator="набранные баллы", denominator="максимум баллов",
        kind="ratio", scale="%", window="quarter", direction="higher", min_n=10,
        multiplier=100.0, touchpoints=IQS_TOUCHPOINTS,
        rows=iqs_rows, sources=("cx_counts", "checklists"), platform_defined=True),
    CxMetric(
        code="ER", title="Доля эскалаций (ER)",
        definition="Обращения, переданные руководителю, второй линии или специалисту, / все "
                   "обращения, %.",
        numerator="переданные обращения", denominator="обращения с исходом",
        kind="share", scale="%", window="month", direction="lower", min_n=CALLS_MIN_N,
        touchpoints=("contact_centre",), rows=calls_rows,
        columns=("den_er", "num_er", ""), sources=("contact_calls",),
        platform_defined=True),
    CxMetric(
        code="RpC", title="Обращений на клиента (RpC)",
        definition="Обращения / клиенты: сколько раз клиенту пришлось обратиться за один шаг "
                   "пути (меньше — лучше).",
        numerator="обращения", denominator="клиенты", kind="ratio", scale="",
        window="month", direction="lower", min_n=30, touchpoints=("office", "contact_centre"),
        rows=rpc_rows, sources=("cx_counts",), platform_defined=True,
        bounds=(0.0, float("inf"))),
    CxMetric(
        code="CV-1", title="Конверсия в предварительную запись (CV-1)",
        definition="Предварительные записи / посещения страницы услуги на сайте, %.",
        numerator="предварительные записи", denominator="посещения страницы услуги",
        kind="ratio", scale="%", window="month", direction="higher", min_n=100,
        multiplier=100.0, touchpoints=("site",), rows=cv1_rows, sources=("cx_counts",),
        platform_defined=True),
    CxMetric(
        code="CV-2", title="Конверсия в получение услуги (CV-2)",
        definition="Клиенты, получившие услугу, / предварительные записи, %.",
        numerator="клиенты, получившие услугу", denominator="предварительные записи",
        kind="ratio", scale="%", window="month", direction="higher", min_n=30,
        multiplier=100.0, touchpoints=("office",), rows=cv2_rows, sources=("cx_counts",),
        platform_defined=True),
    CxMetric(
        code="AHT", title="Среднее время обработки звонка (AHT)",
        definition="Время разговора, удержания и обработки после звонка / обработанные "
                   "звонки, в секундах.",
        numerator="время обработки звонков, с", denominator="обработанные звонки",
        kind="mean", scale="с", window="month", direction="lower", min_n=CALLS_MIN_N,
        touchpoints=("contact_centre",), rows=calls_rows,
        columns=("den_aht", "num_aht", ""), sources=("contact_calls",),
        bounds=(0.0, float("inf"))),
    CxMetric(
        code="ASA", title="Среднее время ответа (ASA)",
        definition="Время ожидания в очереди до ответа оператора / отвеченные звонки, в "
                   "секундах.",
        numerator="время ожидания, с", denominator="отвеченные звонки",
        kind="mean", scale="с", window="month", direction="lower", min_n=CALLS_MIN_N,
        touchpoints=("contact_centre",), rows=calls_rows,
        columns=("den_asa", "num_asa", ""), sources=("contact_calls",),
        bounds=(0.0, float("inf"))),
    CxMetric(
        code="AR", title="Доля потерянных звонков",
        definition="Звонки, в которых абонент положил трубку до ответа оператора, / "
                   "поступившие звонки, %.",
        numerator="потерянные звонки", denominator="поступившие звонки",
        kind="share", scale="%", window="month", direction="lower", min_n=100,
        touchpoints=("contact_centre",), rows=telephony_rows,
        columns=("den", "num_ar", ""), sources=("telephony_stats",)),
    CxMetric(
        code="SL", title="Уровень обслуживания 80/20",
        definition="Звонки, отвеченные в течение 20 секунд, / поступившие звонки, %; "
                   "норматив — не ниже 80 %.",
        numerator="отвеченные за 20 с", denominator="поступившие звонки",
        kind="share", scale="%", window="month", direction="higher", min_n=100,
        touchpoints=("contact_centre",), rows=telephony_rows,
        columns=("den", "num_sl", ""), sources=("telephony_stats",)),
    CxMetric(
        code="RATING", title="Оценка в окне специалиста",
        definition="Средняя оценка 1–5 сразу после обслуживания: "
                   "(5·n5 + 4·n4 + 3·n3 + 2·n2 + 1·n1) / n.",
        numerator="сумма оценок", denominator="число оценок",
        kind="mean", scale="баллы", window="quarter", direction="higher", min_n=SURVEY_MIN_N,
        touchpoints=("specialist_window",), rows=answers_rows,
        columns=("den_rating", "num_rating", ""), sources=("touchpoint_answers",),
        bounds=(1.0, 5.0),
        question=CxQuestion("window_rating", "Оцените, пожалуйста, работу специалиста", 1, 5,
                            FIVE)),
)
