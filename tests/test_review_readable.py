"""The review queue as a reviewer reads it: each answer as the question its respondent was asked
and the answer in words, the comment, the channel and who or what took it (in the channel's own
words), each flag's reason; never a stored key or raw metadata."""

from __future__ import annotations

import re

from engine_helpers import DAY
from engine_helpers import answer
from engine_helpers import offices


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_flagged_answer_reads_as_the_respondent_gave_it(app, client, campaign, make_user,
                                                          login):
    office = offices(app, "RU-BRY")[0]
    response_id, _ = answer(
        app, office, {"usefulness": 9, "management_contact": 1, "management_openness": 4,
                      "preferred_channel": "gosuslugi", "comfort": None},
        channel="web", when=DAY, comment="Долго ждала в очереди, но консультант помог.",
        meta={"staff_session": True, "invitation_code": "K7Q2M9", "ip_hash": "ab" * 32,
              "verified": True, "timings": {"usefulness": 3.2}})
    login(make_user("regional_admin", "RU-BRY"))
    html = client.get("/r/RU-BRY/review").get_data(as_text=True)
    assert f'id="review-{response_id}"' in html
    page = _text(html)
    for shown in ("Я считаю свое обращение в ЦЗН полезным 9 из 10",
                  "Приходилось ли Вам обращаться к руководству ЦЗН? Да",
                  "Мне удалось без труда обратиться к руководству ЦЗН 4 из 10",
                  "Какой канал взаимодействия является для Вас наиболее удобным? Госуслуги",
                  "Мое пребывание в ЦЗН было комфортным затрудняюсь ответить",
                  "Долго ждала в очереди, но консультант помог.",
                  "Веб-анкета",
                  "Код приглашения: K7Q2M9",
                  "Ответ дан в сеансе сотрудника"):
        assert shown in page, shown
    for raw in ("usefulness", "staff_session", "ip_hash", "invitation_code", "True", "False",
                "gosuslugi", "timings", "verified"):
        assert raw not in page, raw


def test_the_channel_names_the_kiosk_and_the_operator(app, client, campaign, make_user, login):
    from sqlalchemy import select

    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import Response
    from cci.foundation.models import User
    from conftest import region_id

    from cci_channel_kiosk.models import Kiosk

    office = offices(app, "RU-BRY")[0]
    operator = make_user("operator", "RU-BRY", email="op@bry.example.ru")
    with app.app_context(), tenancy.region_scope(region_id(app, "RU-BRY")):
        kiosk = Kiosk(office_id=office, name="Зал, первый этаж")
        db.add(kiosk)
        db.commit()
        kiosk_id = kiosk.id
        operator_id = db.scalar(select(User.id).where(User.email == operator))
    ids = [answer(app, office, {"usefulness": 5}, channel="kiosk",
                  meta={"device_id": kiosk_id, "app_version": "3.1.0"})[0],
           answer(app, office, {"usefulness": 6}, channel="contact_center",
                  meta={"operator_id": operator_id, "call_id": 41})[0]]
    with app.app_context(), tenancy.federal_scope("test: put both in the queue"):
        for response in db.scalars(select(Response).where(Response.id.in_(ids))):
            response.review_status = "pending"
        db.commit()
    login(make_user("regional_admin", "RU-BRY"))
    page = _text(client.get("/r/RU-BRY/review").get_data(as_text=True))
    assert "Киоск: Зал, первый этаж · Версия приложения: 3.1.0" in page
    assert "Оператор: op@bry.example.ru · Звонок: №41" in page
    assert "device_id" not in page and "operator_id" not in page
