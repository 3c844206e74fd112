"""The audit log of administrative changes: who, when, what, before and after."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import has_request_context
from flask import request
from flask_login import current_user

from cci.foundation.db import db
from cci.foundation.models import AuditEntry


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    region_id: int | None = None,
    actor: str | None = None,
    user: Any = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (committed with the change itself).

    ``user`` is who acted when it is not the session's user: an API token's owner (API
    requests carry no login session).
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if region_id is None and obj is not None:
        region_id = getattr(obj, "region_id", None)
    entry = AuditEntry(
        actor_id=user.id if user else None,
        actor=actor or (user.email if user else "system"),
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "")),
        before=before,
        after=after,
        region_id=region_id,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.add(entry)
    return entry


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields of an object as plain JSON values, for before/after."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
    return out


# --- how the log reads: each plugin names its actions, objects and fields (hook
# ``register_audit_vocabulary``); the core names its own the same way (cci.hooks.core) ---------


@dataclass(frozen=True)
class AuditObject:
    """How the audit log names one type of object (``object_type`` as recorded) and where a
    person reads about it."""

    label: str  # «Пользователь»
    model: type | None = None  # loads the logged objects by id, one query per type and page
    name: Callable[[Any], str] = str  # the object as people know it: a name, not an id
    url: Callable[[Any], str | None] | None = None  # its page (called in a request)
    #: words for the keys inside this object's recorded state (a checklist's parameters)
    words: Callable[[Any], Mapping[str, str]] | None = None


@dataclass(frozen=True)
class AuditVocabulary:
    """The words of the audit log: actions (``"kiosk.revoke"``), objects, and the fields of
    «поле: было → стало»; ``references`` says which fields hold another object's id
    (``"office_id": "Office"``), ``values`` which values have words of their own (a mapping,
    or a function of the value); ``actors`` names who acted when no person did, by the first
    word of the recorded actor (``"kiosk 1"``: ``actors["kiosk"]("1")`` → «киоск №1»)."""

    actions: Mapping[str, str] = field(default_factory=dict)
    objects: Mapping[str, AuditObject] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    references: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[Any, str] | Callable[[Any], str]] = field(default_factory=dict)
    actors: Mapping[str, Callable[[str], str]] = field(default_factory=dict)
