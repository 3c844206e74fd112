"""What a request brings in, made safe where it is read: the one place for every view.

- Text: the NUL character (which PostgreSQL refuses in any text) and the other C0 control
  characters but tab and line breaks (which no form field means, and XLSX cannot hold) are
  removed, and a lone UTF-16 surrogate (which no UTF-8 encoder writes) becomes U+FFFD, in
  every value and key of the query string, a form and a JSON body. The request class below
  cleans them as they are read, so no view, form or plugin can forget it.
- JSON: absurd nesting is malformed JSON, a 400 (or None from ``get_json(silent=True)``).
  (NaN and Infinity are read, as Python's parser does, and refused where a number is read:
  an item's own error in a batch.)
- Ids: the ``int`` route converter and ``request.args.get(..., type=int)`` take only what
  the database's INTEGER holds (:data:`cci.foundation.db.ID_MAX`): a larger id names nothing
  (404, or the argument's default), instead of reaching PostgreSQL, which fails on it.
- Path segments: a NUL in one does not match any route (404).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import iter_multi_items
from werkzeug.routing import IntegerConverter
from werkzeug.routing import UnicodeConverter

from cci.foundation.db import ID_MAX

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` without control characters (tab, CR and LF stay) and lone surrogates."""
    value = _CONTROL.sub("", value)
    return _SURROGATE.sub("\ufffd", value)


def clean_json(value: Any) -> Any:
    """Every string of a parsed JSON document, keys included, through :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


class JSONProvider(DefaultJSONProvider):
    """Absurdly nested JSON is malformed JSON (a 400, or None from ``get_json(silent=True)``),
    not the parser's RecursionError (a 500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


def bounded_int(value: Any) -> int:
    """``int(value)`` within the database's INTEGER, else ValueError (``type=`` of a
    MultiDict's ``get``: the argument's default then)."""
    number = int(value)
    if not -ID_MAX <= number <= ID_MAX:
        raise ValueError("out of the integer range")
    return number


class CleanValues(ImmutableMultiDict):
    """The query string's and a form's values (``request.args``, ``request.form``), cleaned as
    they are parsed; ``type=int`` reads only numbers within the database's INTEGER."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        super().__init__([(clean_text(k) if isinstance(k, str) else k,
                           clean_text(v) if isinstance(v, str) else v)
                          for k, v in iter_multi_items(mapping)])

    # werkzeug's signatures (mypy sees them as overloads this one does not repeat)
    def get(self, key, default=None, type=None):  # type: ignore[override]
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key, type=None):
        return super().getlist(key, bounded_int if type is int else type)


def _up_to(bound: int) -> str:
    """A regular expression of the decimal numbers 0..``bound`` (leading zeros allowed)."""
    digits = str(bound)
    alternatives = ["0"]
    if len(digits) > 1:
        alternatives.append(f"[1-9]\\d{{0,{len(digits) - 2}}}")  # fewer digits
    for i, digit in enumerate(digits):  # as many digits: smaller at the first that differs
        low = 1 if i == 0 else 0
        if int(digit) > low:
            alternatives.append(f"{digits[:i]}[{low}-{int(digit) - 1}]\\d{{{len(digits) - i - 1}}}")
    alternatives.append(digits)
    return "0*(?:" + "|".join(alternatives) + ")"


class IdConverter(IntegerConverter):
    """``<int:…>``: a non-negative number the database's INTEGER holds. A larger one is not
    matched by the rule's pattern itself, so the path matches no route at all (404): refused
    only after matching, werkzeug would answer 405 where a rule of another method matched."""

    regex = _up_to(ID_MAX)

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """The default ``<name>`` converter, without the NUL character (which no code, key or token
    contains, and PostgreSQL refuses)."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


class _CleanRequest:
    """Mixed into the app's request class: its query string and form values, and the JSON of
    its body, cleaned as they are read. (Only the body's JSON: the app's other JSON, the
    session or stored documents, is its own.)"""

    parameter_storage_class = CleanValues

    def get_json(self, force=False, silent=False, cache=True):
        document = super().get_json(force=force, silent=silent, cache=cache)  # type: ignore[misc]
        try:
            return clean_json(document)
        except RecursionError:  # deep enough for the parser, too deep to walk
            if silent:
                return None
            return self.on_json_loading_failed(  # type: ignore[attr-defined]
                ValueError("JSON nested too deeply"))


def init_app(app: Flask) -> None:
    """After the extensions that set a request class of their own (htmx), whose class is
    extended; before any route is added, since a rule looks its converters up when bound."""
    app.request_class = type("CleanRequest", (_CleanRequest, app.request_class), {})
    app.json = JSONProvider(app)
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
