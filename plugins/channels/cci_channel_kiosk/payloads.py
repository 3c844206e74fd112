"""Request bodies of the kiosk's endpoints: reading JSON safely, and keeping a refused one.

A device (or whoever holds its token) controls these bodies, so reading one must never fail
with a 500, and what is kept of a refused one must fit any database the core supports.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request

#: A delivered survey nests two levels (``answers``, ``timings``); deeper is not a survey.
MAX_DEPTH = 8
#: At most this many characters of a refused body are kept (the body itself is limited to
#: 64 KB, but re-serialising JSON can grow it a little).
MAX_CHARS = 64 * 1024


def json_body() -> Any:
    """The request's JSON, or None when the body is not JSON.

    Deeply nested JSON makes the parser raise RecursionError, which Flask does not treat as
    malformed JSON (it would be a 500): it is malformed here."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _shallow(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_shallow(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_shallow(v, depth + 1) for v in value)
    return True


def _clean(value: Any) -> Any:
    # PostgreSQL's JSONB refuses the NUL character (\u0000) in any string and the NaN and
    # Infinity that Python's parser lets through; neither is valid JSON for SQLite either.
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def storable(payload: Any) -> Any:
    """What to keep of a refused body: the JSON as sent when it is a reasonable document;
    otherwise (not JSON, absurdly nested, too long) the body's text as one JSON string, cut
    to :data:`MAX_CHARS`. Either way bounded and accepted by SQLite and PostgreSQL."""
    if payload is not None and _shallow(payload):
        cleaned = _clean(payload)
        if len(json.dumps(cleaned, ensure_ascii=False)) <= MAX_CHARS:
            return cleaned
    text = request.get_data(cache=True, as_text=True)
    return _clean(text[:MAX_CHARS])
