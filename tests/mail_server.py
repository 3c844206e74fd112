"""A real SMTP server on loopback (aiosmtpd) for the tests that follow e-mailed links: the app
sends through smtplib to it, as it would to the organisation's mail server."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

from aiosmtpd.controller import Controller

SMTP_KEYS = ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USER", "SMTP_PASSWORD")


class Inbox:
    """aiosmtpd's handler: every message received, parsed, with its envelope recipients."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.delay = delay
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            time.sleep(self.delay)  # a slow mail server (blocks this server's loop only)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 15) -> list[EmailMessage]:
        """The first ``count`` messages, waiting for them to arrive; fails after ``timeout``."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert arrived, f"{count} e-mail(s) expected, {len(self.messages)} received"
        return self.messages[:count]


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_smtp(app, delay: float = 0.0) -> Iterator[Inbox]:
    """Start an SMTP server on a free loopback port and point ``app``'s mail at it (plain SMTP,
    no login); the app's settings are restored and the server stopped afterwards."""
    inbox = Inbox(delay)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {key: app.config.get(key) for key in SMTP_KEYS}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
                      SMTP_USER="", SMTP_PASSWORD="")
    try:
        yield inbox
    finally:
        app.config.update(saved)
        controller.stop()
