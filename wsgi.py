"""WSGI entry point: `gunicorn wsgi:app`."""

from cci import create_app

app = create_app()
