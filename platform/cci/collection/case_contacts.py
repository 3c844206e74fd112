"""A respondent's e-mail address for the office's answer: stored only with explicit consent,
kept apart from the answers (its own table, linked to the case; never in answers, exports or
the API, never shown to staff), used to e-mail the answer through :func:`cci.foundation.mail.send`,
and deleted when the case closes."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy import select

from cci.foundation import mail
from cci.foundation.db import db
from cci.foundation.db import rows_updated
from cci.foundation.db import utcnow
from cci.foundation.models import Case
from cci.foundation.models import CaseContact

#: the consent the respondent ticks, word for word (stored with the address)
CONSENT_TEXT = _l("I agree that the employment centre keeps this e-mail address only to send "
                  "me its answer to my feedback, and deletes it when the case is closed.")
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class ContactError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def read(email: str | None, consent: bool) -> str | None:
    """The address to keep, or None when none was given; refused without consent or when it
    is not an address. Nothing is stored here."""
    address = (email or "").strip()
    if not address:
        return None
    if len(address) > EMAIL_MAX or not _EMAIL.match(address):
        raise ContactError("email", _("Enter a valid e-mail address."))
    if not consent:
        raise ContactError("consent", _("Tick the consent, or leave the address empty: without "
                                        "your consent it is not kept."))
    return address


def store(case: Case, address: str) -> CaseContact:
    """Keep the consented address for the case (one per case: a second one replaces it)."""
    contact = db.scalar(select(CaseContact).where(CaseContact.case_id == case.id))
    if contact is None:
        contact = CaseContact(case_id=case.id, region_id=case.region_id)
        db.add(contact)
    contact.email = address
    contact.consent_text = str(CONSENT_TEXT)
    contact.consented_at = utcnow()
    db.flush()
    return contact


def of(case: Case) -> CaseContact | None:
    return db.scalar(select(CaseContact).where(CaseContact.case_id == case.id))


def send_reply(case: Case, contact: CaseContact) -> None:
    """E-mail the office's answer to the respondent. Raises :class:`mail.MailError` when the
    mail server refuses it."""
    subject = _("The employment centre's answer to your feedback")
    body = _("You left feedback about «%(office)s» on %(date)s. The employment centre "
             "answers:\n\n%(answer)s\n\nThis message was sent once to the address you gave for "
             "it; the address is deleted when the case is closed.",
             office=case.office.name, date=_local_date(case),
             answer=case.answer or "")
    mail.send(contact.email, subject, body)


def purge(case: Case) -> int:
    """Delete the case's contact (the case closes); returns how many rows went."""
    result = db.execute(delete(CaseContact).where(CaseContact.case_id == case.id)
                        .execution_options(synchronize_session=False))
    return rows_updated(result)


def _local_date(case: Case) -> str:
    """The day the respondent wrote, in the office's time zone."""
    office = case.office
    zone = ZoneInfo(office.timezone or office.region.timezone)
    return case.received_at.astimezone(zone).strftime("%d.%m.%Y")
