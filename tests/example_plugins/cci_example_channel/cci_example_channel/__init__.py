"""Обратная связь по QR-коду: an example channel with a table of its own.

A poster in an office carries a QR code of ``/qr-feedback/<region>/<office>``; the page behind
it (or any client) posts a finished survey there as JSON. The answer is stored through
:func:`cci.collection.intake.submit` like every channel's, and the channel keeps, in its own table
``qr_feedback_offices``, how many answers each office received this way. The table is created
by the channel's own Alembic branch ``qr_feedback`` (``migrations/versions/``), which
``cci db upgrade`` runs with the core's: installing the package is all it takes.
"""

from __future__ import annotations

from pathlib import Path

from cci import hookimpl
from cci.plugin_api import Channel

from cci_example_channel import models  # noqa: F401 - registers the table on the metadata
from cci_example_channel.views import KEY
from cci_example_channel.views import URL_PREFIX
from cci_example_channel.views import bp

CHANNEL = Channel(
    key=KEY,
    label="Отзыв по QR-коду",
    blueprints=((bp, URL_PREFIX),),
    metadata_fields=("ip_hash", "user_agent", "session"),
    description="Плакат с QR-кодом в офисе: посетитель отвечает со своего телефона",
)


@hookimpl
def register_channels():
    return [CHANNEL]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations" / "versions"
