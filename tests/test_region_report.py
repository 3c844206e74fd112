"""The printable region report: the page (Russian numbers as the results show them, coverage,
provenance), its PDF (made by a job, then kept for its run), its tables as XLSX, and the
region's walls (another region's report, PDF or PDF job is not there)."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pypdf
import pytest

from cci.collection.campaigns import save_campaign
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ComputationRun
from cci.web import exports
from engine_helpers import answer
from engine_helpers import offices
from engine_helpers import start
from engine_helpers import work


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def computed(app, campaign):
    """BRY's main office: 10 job seekers (9 of 10 positive on usefulness and comfort) and 10
    employers (9 of 10 on usefulness): groups II and V at 0.9, the index 90.0, five stars.
    Its branch: 3 answers, below the minimum sample of 10, not ranked."""
    bry = offices(app, "RU-BRY")
    for value in (10,) * 9 + (1,):
        answer(app, bry[0], {"usefulness": value, "comfort": value})
        answer(app, bry[0], {"usefulness": value}, rtype="employer")
    for _ in range(3):
        answer(app, bry[1], {"usefulness": 10})
    run_id, _created = start(app, campaign)
    work(app)
    with app.app_context(), tenancy.federal_scope("test"):
        run = db.get(ComputationRun, run_id)
        assert run.status == "succeeded" and run.published_at is not None
        return run_id, run.input_fingerprint


def test_the_report_page_shows_the_figures_coverage_and_provenance(
        app, client, campaign, computed, make_user, login):
    run_id, fingerprint = computed
    login(make_user("auditor", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/report?campaign={campaign}")
    assert response.status_code == 200
    html = response.get_data(as_text=True).replace("\u202f", " ")  # the thin space before «%»
    assert "css/report.css" in html and "<style" not in html and "<script" not in html
    page = text(response)
    assert "Отчёт по региону Брянская область" in page
    assert "Индекс региона 90,0" in page and "5 звёзд" in page
    assert "90.0" not in page
    # coverage: 1 office of 2 measured; answers as the run counted them, per type
    assert "Офисов измерено 1 из 2" in page
    assert "Ответов 23 (соискатели: 13, работодатели: 10)" in page
    assert "Внимание: индекс региона основан только на главном офисе; филиалы не измерены." in page
    assert "соискатели 13" in page and "работодатели 10" in page  # its table
    # offices as rows: rank, code, name, index, stars, per type, answers per type
    assert re.search(r"1 BRY-01 [^<]*? 90,0 5 90,0 90,0 10 10", page)
    assert "не участвует в рейтинге: меньше минимальной выборки" in page
    # an indicator: 18 of 20 with its Wilson interval (0.699–0.972)
    assert "S-II.1 Полезность обращения в ЦЗН 90 % 20 70 % 97 %" in page
    assert "II. Полезность обращения 90 % 1" in page  # a group with its offices measured
    # every chart has its table, and a text alternative
    assert html.count('class="rchart"') == 5  # the themes' chart: no comment, none
    assert 'href="#groups"' in html and 'id="groups"' in html
    # the chart reads top down like its table: group I first
    assert 'alt="Группы показателей. I. ' in html
    # provenance: the run, its data fingerprint, the methodology version and its parameters
    assert f"Расчёт {run_id}" in page and f"Отпечаток данных {fingerprint}" in page
    assert "Методика ИКЦ-2023 Расчёт" in page and "Версия методики cci-2023 2023.2" in page
    assert "Период 01.04.2025 — 30.06.2025" in page
    assert "Минимальная выборка на показатель в офисе 10" in page
    # the parameters in words, as the methodology pages word them (no keys, no lists)
    assert "Границы звёзд (5★, 4★, 3★, 2★) 5★ — от 90, 4★ — от 80, 3★ — от 70, 2★ — от 60, " \
        "ниже — 1★" in page
    assert "none" not in page and "office: office" not in page
    assert "{" not in page and "None" not in page and "[" not in page


def test_the_pdf_is_made_by_a_job_then_kept_for_the_run(
        app, client, campaign, computed, make_user, login):
    _run_id, fingerprint = computed
    login(make_user("regional_admin", "RU-BRY"))
    first = client.get(f"/r/RU-BRY/report.pdf?campaign={campaign}")
    assert first.status_code == 302
    waiting = first.headers["Location"]
    assert "PDF готовится" in text(client.get(waiting))
    # asked again while it is made: the same job, not a second one
    assert client.get(f"/r/RU-BRY/report.pdf?campaign={campaign}").headers["Location"] \
        == waiting
    work(app)
    assert "PDF готов." in text(client.get(waiting))
    job_id = waiting.split("/report/pdf/")[1].split("?")[0]
    job_page = text(client.get(f"/r/RU-BRY/jobs/{job_id}"))
    assert re.search(r"PDF отчёта готов: \d+ страниц", job_page)
    response = client.get(f"/r/RU-BRY/report.pdf?campaign={campaign}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert 'filename="report-RU-BRY-' in response.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) >= 4  # sections start on pages of their own
    first_page = reader.pages[0].extract_text()
    assert "Брянская область" in first_page and "90,0" in first_page  # Cyrillic, Russian digits
    assert "1 / " in first_page  # the page number in the margin
    whole = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert fingerprint[:16] in whole
    assert "S-II.1" in whole and "90 % 20 70 % 97 %" in whole


def test_the_report_tables_export_as_one_workbook(
        app, client, campaign, computed, make_user, login):
    run_id, fingerprint = computed
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/report.xlsx?campaign={campaign}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[-1] == "Происхождение" and len(book.sheetnames) == 11
    offices_sheet = next(book[name] for name in book.sheetnames if name.startswith("Офисы"))
    assert offices_sheet.freeze_panes == "D2"
    first = [c.value for c in offices_sheet[2]]
    assert first[:2] == [1, "BRY-01"] and first[3] == pytest.approx(90.0) and first[4] == 5
    assert offices_sheet.cell(row=2, column=4).number_format == "0.0"
    about = dict(book["Происхождение"].iter_rows(values_only=True))
    assert about["Расчёт"] == run_id and about["Отпечаток данных"] == fingerprint
    assert "min_sample = 10" in about["Параметры"]


def test_a_region_cannot_read_another_regions_report(
        app, client, campaign, computed, make_user, login):
    login(make_user("regional_admin", "RU-BRY"))
    waiting = client.get(f"/r/RU-BRY/report.pdf?campaign={campaign}").headers["Location"]
    client.post("/logout")
    login(make_user("regional_admin", "RU-KYA"))
    for path in ("report", "report.pdf", "report.xlsx"):
        assert client.get(f"/r/RU-BRY/{path}?campaign={campaign}").status_code == 404
    # BRY's PDF job, asked for in KYA's own area
    job_id = waiting.split("/report/pdf/")[1].split("?")[0]
    assert client.get(f"/r/RU-KYA/report/pdf/{job_id}?campaign={campaign}").status_code == 404
    # its own report of the same campaign is there, with nothing of BRY's
    page = text(client.get(f"/r/RU-KYA/report?campaign={campaign}"))
    assert "Красноярский край" in page and "BRY-01" not in page


def test_before_any_run_the_report_says_so(app, client, campaign, make_user, login):
    login(make_user("auditor", "RU-KYA"))
    page = text(client.get(f"/r/RU-KYA/report?campaign={campaign}"))
    assert "Опубликованных результатов" in page
    assert client.get(f"/r/RU-KYA/report.pdf?campaign={campaign}").status_code == 404
    assert client.get("/r/RU-KYA/report?campaign=999999").status_code == 404
    assert client.get(f"/r/RU-KYA/report?campaign={campaign}&version=nope").status_code == 404


def test_the_region_home_links_the_report(client, tenants, make_user, login):
    login(make_user("auditor", "RU-KYA"))
    html = client.get("/r/RU-KYA/").get_data(as_text=True)
    assert 'href="/r/RU-KYA/report"' in html and "Версия для печати / PDF" in html


def test_parameters_read_as_words_and_russian_numbers(app):
    with app.test_request_context("/"):
        assert exports.plain([90, 80.5]) == "90; 80,5"
        assert exports.plain([[1.0, 1.0], [0.9, 0.75]]) == "(1; 1); (0,9; 0,75)"
        assert exports.plain({"1": 2.0, "social": ["vk", "ok"]}) == "1: 2 · social: (vk; ok)"
        assert exports.plain(True) == "да" and exports.plain(None) == "—"


def test_the_trend_names_each_campaigns_run_beside_the_federation(
        app, client, campaign, make_user, login):
    """2025-Q1: BRY's main office 8 of 10 positive (index 80.0, 4 stars), KYA's 6 of 10 (60.0);
    the federation is the mean of the regions, 70.0. 2025-Q2: BRY alone, 9 of 10: 90.0 both."""
    with app.app_context(), tenancy.federal_scope("test"):
        earlier = save_campaign(name="2025-Q1", methodology_key="cci-2023",
                                starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 3, 31),
                                region_codes=["RU-BRY", "RU-KYA"])
        db.commit()
        earlier_id = earlier.id
    winter = dt.datetime(2025, 2, 5, 9, 0, tzinfo=dt.UTC)
    bry, kya = offices(app, "RU-BRY"), offices(app, "RU-KYA")
    for value in (10,) * 8 + (1, 1):
        answer(app, bry[0], {"usefulness": value, "comfort": value}, when=winter)
    for value in (10,) * 6 + (1,) * 4:
        answer(app, kya[0], {"usefulness": value, "comfort": value}, when=winter)
    first_run, _created = start(app, earlier_id)
    work(app)
    for value in (10,) * 9 + (1,):
        answer(app, bry[0], {"usefulness": value, "comfort": value})
    second_run, _created = start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/report?campaign={campaign}")
    page = text(response)
    assert f"2025-Q1 {first_run} 80,0 4 70,0" in page
    assert f"2025-Q2 {second_run} 90,0 5 90,0" in page
    assert "Индекс по кампаниям" in page
    html = response.get_data(as_text=True)
    assert 'alt="Индекс по кампаниям. Брянская область — 2025-Q1: 80,0; 2025-Q2: 90,0.' \
        ' Федерация — 2025-Q1: 70,0; 2025-Q2: 90,0"' in html
    # the earlier campaign's report has no later campaign in its trend
    earlier_page = text(client.get(f"/r/RU-BRY/report?campaign={earlier_id}"))
    assert "2025-Q2" not in earlier_page.split("Индекс по кампаниям")[1].split("Индекс по типам")[0]


def test_the_report_counts_who_commented_and_the_comments_themes(
        app, client, campaign, make_user, login):
    """BRY's main office: 10 job seekers, 4 of them commented (40 %): two thank the office,
    one of those also finds it stuffy, one wants more of the curator in person, one says
    nothing the themes know («Прочее»); 10 employers, 1 commented (10 %) on the candidates.
    Together 5 of 20 (25 %). KYA's comment is not BRY's."""
    bry, kya = offices(app, "RU-BRY"), offices(app, "RU-KYA")
    comments = ["Спасибо, всё понравилось", "Спасибо! Но душно, нужен кулер",
                "Хочу больше очно общаться с куратором", "Всё нормально"]
    for position in range(10):
        extra = {"comment": comments[position]} if position < len(comments) else {}
        answer(app, bry[0], {"usefulness": 10, "comfort": 10}, **extra)
        answer(app, bry[0], {"usefulness": 10}, rtype="employer",
               **({"comment": "Подбирайте кандидатов тщательнее"} if position == 0 else {}))
    answer(app, kya[0], {"usefulness": 10}, comment="Спасибо, Красноярск")
    start(app, campaign)
    work(app)
    login(make_user("regional_admin", "RU-BRY"))
    response = client.get(f"/r/RU-BRY/report?campaign={campaign}")
    page = text(response).replace("\u202f", " ")
    section = page.split("Комментарии респондентов")[1].split("Откуда эти цифры")[0]
    assert "соискатели 10 4 40 %" in section
    assert "работодатели 10 1 10 %" in section
    assert "все респонденты 20 5 25 %" in section
    # themes: comments with the theme and their share of the 5 comments
    assert "Благодарность ЦЗН и сотрудникам 2 40 %" in section
    assert "Комфорт в офисе ЦЗН (вода, кондиционер) 1 20 %" in section
    assert "Больше личного общения с куратором 1 20 %" in section
    assert "Подбор кандидатов на вакансии 1 20 %" in section
    assert "Дистанционное взаимодействие и портал «Работа России» 0 0 %" in section
    assert "Прочее 1 20 %" in section
    html = response.get_data(as_text=True)
    assert 'alt="Комментарии по темам. Благодарность ЦЗН и сотрудникам: 2; ' in html
    assert 'href="#comment-themes"' in html and 'id="comment-themes"' in html
    # the same tables in the workbook, numbers as numbers
    book = openpyxl.load_workbook(io.BytesIO(
        client.get(f"/r/RU-BRY/report.xlsx?campaign={campaign}").data))
    themes = next(book[name] for name in book.sheetnames if name.startswith("Темы"))
    rows = {row[0]: row[1:] for row in themes.iter_rows(min_row=2, values_only=True)}
    assert rows["Благодарность ЦЗН и сотрудникам"] == (2, pytest.approx(0.4))
    assert rows["Прочее"] == (1, pytest.approx(0.2))
    who = next(book[name] for name in book.sheetnames if name.startswith("Оставили"))
    assert [c.value for c in who[4]][1:] == [20, 5, pytest.approx(0.25)]
