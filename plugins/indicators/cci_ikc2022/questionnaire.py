"""The survey of job seekers and employers (both versions share it; wording from the pilot)."""

from __future__ import annotations

from cci.plugin_api import Item
from cci.plugin_api import Option

JS = "job_seeker"
EMP = "employer"


def both(text: str, employer: str | None = None) -> dict[str, str]:
    return {JS: text, EMP: employer or text}


YES_NO = (Option("1", "Да"), Option("0", "Нет"))

INFO = (
    "Информация о ЦЗН, его услугах и сервисах сформулирована и представлена в понятной и "
    "доступной для меня форме"
)

QUESTIONS: list[Item] = [
    Item("prof_competence", "scale", both(
        "Сотрудники ЦЗН обладают высоким уровнем профессиональных знаний для оказания услуг и "
        "сервисов в сфере занятости")),
    Item("comm_competence", "scale", both(
        "Сотрудники ЦЗН обладают хорошими коммуникативными навыками (проявление чуткости, "
        "внимательности и т.д.)")),
    Item("management_contact", "yesno", both("Приходилось ли Вам обращаться к руководству ЦЗН?"),
         options=YES_NO, allows_na=False),
    Item("management_openness", "scale", both("Мне удалось без труда обратиться к руководству ЦЗН"),
         follows=("management_contact", 1)),
    Item("usefulness", "scale", both(
        "Я считаю свое обращение в ЦЗН полезным",
        "Обращение в ЦЗН было полезным для моей организации / организации, в которой я работаю")),
    Item("info_office", "scale", both(f"{INFO} — в офисе ЦЗН")),
    Item("info_website", "scale", both(f"{INFO} — на региональном сайте СЗН")),
    Item("info_social", "scale", both(f"{INFO} — в социальных сетях СЗН")),
    Item("info_contact_center", "scale", both(f"{INFO} — в контакт-центре")),
    Item("simplicity", "scale", both(
        "Мне было просто пройти все процедуры в ЦЗН (например, заполнить документы и пр.)",
        "Мне, как представителю организации, было просто пройти все процедуры в ЦЗН (например, "
        "заполнить документы и пр.)")),
    Item("responsiveness", "scale", both(
        "В ЦЗН быстро и оперативно реагируют на мои обращения",
        "В ЦЗН оперативно реагируют на обращения организации, в которой я работаю")),
    Item("preferred_channel", "choice", both(
        "Какой канал взаимодействия является для Вас наиболее удобным?"),
        options=(
            Option("office", "Офис ЦЗН"),
            Option("contact_center", "Контакт-центр"),
            Option("social", "Социальные сети ЦЗН"),
            Option("website", "Сайт СЗН"),
            Option("trudvsem", "Портал «Работа России»"),
            Option("gosuslugi", "Госуслуги"),
            Option("messengers", "Мессенджеры"),
            Option("email", "Электронная почта"),
        )),
    Item("pre_registration", "choice", both("Пользовались ли Вы функцией предварительной записи?"),
         options=(Option("yes", "Да"), Option("no", "Нет"),
                  Option("unaware", "Не знал(а) о такой возможности"))),
    Item("personal_consultant", "yesno", both(
        "Есть ли у Вас личный, закреплённый за Вами консультант (куратор)?"), options=YES_NO),
    Item("personal_circumstances", "scale", both(
        "Мои личные обстоятельства были учтены сотрудниками ЦЗН при оказании услуг",
        "Обстоятельства, важные для моей организации, были учтены сотрудниками ЦЗН при оказании "
        "услуг")),
    Item("comfort", "scale", both("Мое пребывание в ЦЗН было комфортным")),
    Item("transport", "scale", both("Мне было легко добраться до ЦЗН")),
    Item("appearance", "scale", both("Внешний вид сотрудников ЦЗН соответствует деловому стилю")),
    Item("coordination", "scale",
         both("Действия сотрудников ЦЗН между собой были согласованы и слажены")),
]

PROFILE: list[Item] = [
    Item("gender", "choice", {JS: "Пол"}, section="profile",
         options=(Option("male", "Мужской"), Option("female", "Женский"))),
    Item("age", "choice", {JS: "Возраст"}, section="profile",
         options=tuple(Option(k, k.replace("-", "–"))
                       for k in ("18-24", "25-34", "35-44", "45-54", "55+"))),
    Item("education", "choice", {JS: "Образование"}, section="profile", options=(
        Option("school", "Общее среднее"),
        Option("vocational", "Среднее профессиональное"),
        Option("higher", "Высшее"),
        Option("other", "Другое"),
    )),
    Item("status", "choice", {JS: "Статус"}, section="profile", options=(
        Option("unemployed", "Безработный"),
        Option("seeking", "Ищу работу"),
        Option("employed_seeking", "Работаю и ищу другую"),
    )),
    Item("ownership", "choice", {EMP: "Форма собственности"}, section="profile", options=(
        Option("state", "Государственная"),
        Option("municipal", "Муниципальная"),
        Option("private", "Частная"),
        Option("other", "Иная"),
    )),
    Item("employer_category", "choice", {EMP: "Категория работодателя"}, section="profile",
         options=(
             Option("smb", "Малый и средний бизнес"),
             Option("large", "Крупный бизнес"),
             Option("public", "Бюджетная организация"),
             Option("other", "Иное"),
         )),
    Item("headcount", "choice", {EMP: "Численность сотрудников"}, section="profile",
         options=tuple(Option(k, label) for k, label in (
             ("1-15", "до 15"), ("16-100", "16–100"), ("101-250", "101–250"),
             ("251-1000", "251–1000"), ("1000+", "более 1000")))),
]

COMMENT = Item("comment", "text", both("Ваши замечания и предложения (необязательно)"),
               section="comment")

ITEMS: list[Item] = QUESTIONS + PROFILE + [COMMENT]
