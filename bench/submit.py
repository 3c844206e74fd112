"""The submission path: simulated kiosks and web respondents against gunicorn + PostgreSQL."""

from __future__ import annotations


def bench_submit(app, campaign_id: int, results: dict) -> None:
    raise NotImplementedError
