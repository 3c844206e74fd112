"""Sending e-mail: one function, two backends.

With ``CCI_SMTP_HOST`` set, messages go through that SMTP server (``CCI_SMTP_PORT``, STARTTLS
unless ``CCI_SMTP_STARTTLS=0``, login with ``CCI_SMTP_USER``/``CCI_SMTP_PASSWORD`` when given,
sender ``CCI_MAIL_FROM``). Without it they go to the outbox: kept in the process
(:func:`outbox`, what tests read) and written to the log, so a single-machine installation
without a mail server still shows them to its operator.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

SMTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def outbox() -> list[Message]:
    """The messages this app sent to the outbox (no SMTP server configured)."""
    return current_app.extensions.setdefault("cci.outbox", [])


def send(to: str, subject: str, body: str) -> None:
    message = Message(to=to, subject=subject, body=body)
    config = current_app.config
    if not config.get("SMTP_HOST"):
        outbox().append(message)
        current_app.logger.warning("no SMTP server configured (CCI_SMTP_HOST): e-mail to %s "
                                   "kept in the outbox: %s\n%s", to, subject, body)
        return
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = to
    email["Subject"] = subject
    email.set_content(body)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                          timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(str(exc)) from exc
