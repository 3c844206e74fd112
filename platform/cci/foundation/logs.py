"""Log records that say which request or job they belong to.

Every record passing the handler installed by :func:`configure` carries ``request_id`` (set
for the duration of a web request, see :mod:`cci.web.request_ids`) and ``job_id`` (the RQ job's
id while a job runs, set by :func:`cci.foundation.jobs.run_job`), so that the lines of one
request or one job can be found among those of every process. ``CCI_LOG_FORMAT=json`` writes
one JSON object a line (for a log collector); the default is a readable line.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
from collections.abc import Iterator

from pythonjsonlogger.json import JsonFormatter

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cci_request_id", default=None)
_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("cci_job_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"
JSON_FIELDS = ("levelname", "name", "message", "request_id", "job_id")


def set_request_id(value: str | None) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def request_id() -> str | None:
    return _request_id.get()


@contextlib.contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Every record logged inside the block names the job."""
    token = _job_id.set(job_id)
    try:
        yield
    finally:
        _job_id.reset(token)


class ContextFilter(logging.Filter):
    """Stamps every record with the current request's and job's ids (None outside them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.job_id = _job_id.get()
        return True


class TextFormatter(logging.Formatter):
    """A readable line; the ids, when there are any, in brackets after the logger's name."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{key}={value}" for key, value in
               (("request", getattr(record, "request_id", None)),
                ("job", getattr(record, "job_id", None))) if value]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        # "time": ISO 8601 in UTC, as log collectors read it
        return JsonFormatter(list(JSON_FIELDS), timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger"})
    return TextFormatter()


_HANDLER_NAME = "cci"


def configure(fmt: str = "text", level: str = "INFO") -> logging.Handler:
    """Install (or replace) the platform's handler on the root logger; idempotent, so each
    application the factory builds in one process leaves one handler."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    handler = _Stderr()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
