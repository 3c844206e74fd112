"""The kiosk channel's resources in the bearer-token API: /api/v1/kiosks….

The core mounts :data:`bp` inside its API (``Channel.api_blueprints``), so before a view here
runs the token is authenticated and its tenant scope entered (its region, or every region for
a federal token), and an :class:`~cci.web.api.errors.ApiError` becomes the API's JSON error. A
kiosk or a refused survey of another region does not exist for a regional token (404).

The same people as on the staff pages (:data:`~cci_channel_kiosk.staff.MANAGER_ROLES`) may use
these resources, through the same functions (:mod:`.devices`, :mod:`.rejections`), so changes
are checked and audit-logged alike, with the token's owner as the actor.
"""

from __future__ import annotations

from typing import Any
from typing import overload

from flask import Blueprint
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from flask_babel import gettext as _

from cci.plugin_api import ApiError
from cci.plugin_api import db
from cci.plugin_api import iso_datetime
from cci.plugin_api import list_of
from cci.plugin_api import operation
from cci.plugin_api import ref
from cci.plugin_api import utcnow

from cci_channel_kiosk import devices
from cci_channel_kiosk import payloads
from cci_channel_kiosk import rejections
from cci_channel_kiosk.models import NAME_MAX
from cci_channel_kiosk.models import Kiosk
from cci_channel_kiosk.models import KioskRejection
from cci_channel_kiosk.staff import MANAGER_ROLES

#: Endpoints are ``api.kiosks.<view>``: nested in the core's ``api`` blueprint.
bp = Blueprint("kiosks", __name__)

TAGS = ["kiosks"]
PAGE_MAX = 500
PAGE_DEFAULT = 100
REGISTER_FIELDS = ("office_id", "name")

_datetime = {"type": "string", "format": "date-time"}
_nullable_datetime = {"type": ["string", "null"], "format": "date-time"}
_nullable_count = {"type": ["integer", "null"], "minimum": 0}


#: The JSON schemas the routes refer to, added to the OpenAPI document through the
#: ``register_api_schemas`` hook (:mod:`cci_channel_kiosk`).
SCHEMAS = {
    "KioskOffice": {
        "type": "object",
        "required": ["id", "code", "name"],
        "additionalProperties": False,
        "properties": {"id": {"type": "integer"}, "code": {"type": "string"},
                       "name": {"type": "string"}},
    },
    "Kiosk": {
        "type": "object",
        "required": ["id", "region", "office", "name", "status", "online", "last_seen_at",
                     "app_version", "queue_length", "rejected_count",
                     "device_rejected_log_length", "paired_at", "revoked_at",
                     "pairing_expires_at", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "region": {"type": "string", "description": "ISO 3166-2:RU code of the region"},
            "office": ref("KioskOffice"),
            "name": {"type": "string"},
            "status": {"type": "string", "enum": list(devices.STATUSES),
                       "description": "pending: registered, never paired; paired: bound to a "
                                      "device; revoked: ended for good"},
            "online": {"type": "boolean",
                       "description": f"A heartbeat within the last {devices.ONLINE_SECONDS} s "
                                      "(never for a revoked kiosk)"},
            "last_seen_at": _nullable_datetime,
            "app_version": {"type": ["string", "null"]},
            "queue_length": {**_nullable_count,
                             "description": "Answers waiting on the device, as its last "
                                            "heartbeat reported"},
            "rejected_count": {"type": "integer", "minimum": 0,
                               "description": "Deliveries the server refused and kept "
                                              "(GET /api/v1/kiosks/{id}/rejections)"},
            "device_rejected_log_length": {
                **_nullable_count,
                "description": "Entries in the device's own log of refused answers (the last "
                               "50), as its last heartbeat reported; null before a device "
                               "reports it"},
            "paired_at": _nullable_datetime,
            "revoked_at": _nullable_datetime,
            "pairing_expires_at": {**_nullable_datetime,
                                   "description": "Until when the current pairing code works"},
            "created_at": _datetime,
        },
    },
    "KioskInput": {
        "type": "object",
        "required": list(REGISTER_FIELDS),
        "additionalProperties": False,
        "properties": {
            "office_id": {"type": "integer", "description": "An active office the token "
                                                            "may see"},
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX,
                     "description": "e.g. «Холл, первый этаж»"},
        },
    },
    "KioskPairingCode": {
        "type": "object",
        "required": ["kiosk", "pairing_code", "pairing_expires_at", "pair_url"],
        "additionalProperties": False,
        "properties": {
            "kiosk": ref("Kiosk"),
            "pairing_code": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{4}$",
                             "description": "One-time code to type on the device; shown "
                                            "only in this response"},
            "pairing_expires_at": _datetime,
            "pair_url": {"type": "string", "description": "The page the device opens to "
                                                         "type the code"},
        },
    },
    "KioskRejection": {
        "type": "object",
        "required": ["id", "kiosk_id", "kiosk_name", "region", "office", "received_at",
                     "client_key", "error", "field", "payload"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "kiosk_id": {"type": "integer"},
            "kiosk_name": {"type": "string"},
            "region": {"type": "string"},
            "office": ref("KioskOffice"),
            "received_at": _datetime,
            "client_key": {"type": ["string", "null"],
                           "description": "The device's key of the survey, as sent"},
            "error": {"type": "string", "description": "Why it was refused, as the device "
                                                       "was told (Russian)"},
            "field": {"type": ["string", "null"], "description": "The field or item refused"},
            "payload": {"description": "The survey as the device sent it (JSON); a string "
                                       "holding the body's text when that was not a JSON "
                                       "document"},
        },
    },
    "KioskRejectionList": {
        "type": "object",
        "required": ["items", "total", "limit", "offset"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": ref("KioskRejection")},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    },
}


@bp.before_request
def _managers_only() -> None:
    # after the core's authentication (the parent blueprint's hooks run first)
    if not g.api_user.has_role(*MANAGER_ROLES):
        raise ApiError(403)


# --- JSON ----------------------------------------------------------------------------------


def _office_json(kiosk: Kiosk) -> dict[str, Any]:
    return {"id": kiosk.office.id, "code": kiosk.office.code, "name": kiosk.office.name}


def kiosk_json(kiosk: Kiosk, rejected_count: int) -> dict[str, Any]:
    return {
        "id": kiosk.id,
        "region": kiosk.office.region.code,
        "office": _office_json(kiosk),
        "name": kiosk.name,
        "status": devices.status(kiosk),
        "online": devices.is_online(kiosk, utcnow()),
        "last_seen_at": iso_datetime(kiosk.last_seen_at),
        "app_version": kiosk.app_version,
        "queue_length": kiosk.queue_length,
        "rejected_count": rejected_count,
        "device_rejected_log_length": kiosk.rejected_log_length,
        "paired_at": iso_datetime(kiosk.paired_at),
        "revoked_at": iso_datetime(kiosk.revoked_at),
        "pairing_expires_at": iso_datetime(kiosk.pairing_expires_at),
        "created_at": iso_datetime(kiosk.created_at),
    }


def rejection_json(row: KioskRejection) -> dict[str, Any]:
    return {
        "id": row.id,
        "kiosk_id": row.kiosk_id,
        "kiosk_name": row.kiosk.name,
        "region": row.kiosk.office.region.code,
        "office": _office_json(row.kiosk),
        "received_at": iso_datetime(row.received_at),
        "client_key": row.client_key,
        "error": row.error,
        "field": row.field,
        "payload": row.payload,
    }


def _one_kiosk_json(kiosk: Kiosk) -> dict[str, Any]:
    return kiosk_json(kiosk, rejections.counts().get(kiosk.id, 0))


def _pairing_json(kiosk: Kiosk, code: str):
    response = jsonify(kiosk=_one_kiosk_json(kiosk), pairing_code=devices.format_code(code),
                       pairing_expires_at=iso_datetime(kiosk.pairing_expires_at),
                       pair_url=url_for("kiosk.pair", _external=True))
    response.headers["Cache-Control"] = "no-store"  # the code is a secret until used
    return response


# --- input ---------------------------------------------------------------------------------


@overload
def _int_arg(name: str, default: int, minimum: int | None = None,
             maximum: int | None = None) -> int: ...


@overload
def _int_arg(name: str, default: None = None, minimum: int | None = None,
             maximum: int | None = None) -> int | None: ...


def _int_arg(name: str, default: int | None = None, minimum: int | None = None,
             maximum: int | None = None) -> int | None:
    """An integer query parameter; anything else is a 422 naming it (never silently ignored:
    a mistyped filter would otherwise list everything)."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, details={name: "an integer"}) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"{'' if minimum is None else minimum}..{'' if maximum is None else maximum}"
        raise ApiError(422, details={name: bounds})
    return value


def _id_arg(name: str) -> int | None:
    return _int_arg(name, minimum=1, maximum=devices.ID_MAX)


def _kiosk_or_404(kiosk_id: int) -> Kiosk:
    # another region's kiosk is not visible in this scope
    kiosk = db.get(Kiosk, kiosk_id) if kiosk_id <= devices.ID_MAX else None
    if kiosk is None:
        raise ApiError(404)
    return kiosk


def _paging() -> tuple[int, int]:
    return (_int_arg("limit", PAGE_DEFAULT, 1, PAGE_MAX),
            _int_arg("offset", 0, 0, devices.ID_MAX))


_PAGING_QUERY = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": PAGE_DEFAULT}},
    {"name": "offset", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "default": 0}},
]


def _rejection_list(kiosk_id: int | None, office_id: int | None):
    limit, offset = _paging()
    total, rows = rejections.page(kiosk_id=kiosk_id, office_id=office_id, limit=limit,
                                  offset=offset)
    return jsonify(items=[rejection_json(row) for row in rows], total=total, limit=limit,
                   offset=offset)


# --- kiosks --------------------------------------------------------------------------------


@bp.get("/kiosks")
@operation(
    "Kiosks of the token's region (every region: federal)",
    tags=TAGS,
    response=list_of("Kiosk"),
    errors=(401, 403, 422),
    description="Revoked kiosks last. Regional administrators and platform administrators.",
    query=[
        {"name": "office_id", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "status", "in": "query", "required": False,
         "schema": {"type": "string", "enum": list(devices.STATUSES)}},
    ],
)
def list_kiosks():
    office_id = _id_arg("office_id")
    state = request.args.get("status") or None
    if state is not None and state not in devices.STATUSES:
        raise ApiError(422, details={"status": "one of " + ", ".join(devices.STATUSES)})
    counts = rejections.counts()
    return jsonify(items=[kiosk_json(k, counts.get(k.id, 0))
                          for k in devices.listing(office_id, state)])


@bp.post("/kiosks")
@operation(
    "Register a kiosk for an office and get its one-time pairing code",
    tags=TAGS,
    response=ref("KioskPairingCode"),
    status=201,
    request_body=ref("KioskInput"),
    errors=(401, 403, 422),
    description=(
        "The code (valid 24 hours, usable once) is in this response only: type it on the "
        "device at pair_url. An office of another region does not exist for a regional "
        "token (422 on office_id). Audit-logged (kiosk.register)."
    ),
)
def register_kiosk():
    body = payloads.json_body()
    if not isinstance(body, dict):
        raise ApiError(422, details=dict.fromkeys(REGISTER_FIELDS, "required"))
    unknown = sorted(str(name) for name in set(body) - set(REGISTER_FIELDS))
    if unknown:
        raise ApiError(422, details=dict.fromkeys(unknown, "unknown field"))
    office_id, name = body.get("office_id"), body.get("name")
    if not isinstance(office_id, int) or isinstance(office_id, bool):
        raise ApiError(422, details={"office_id": "an integer (required)"})
    if not isinstance(name, str):
        raise ApiError(422, details={"name": "a string (required)"})
    try:
        office = devices.office_for_kiosk(office_id)
        kiosk, code = devices.register(office, name, g.api_user.id, by=g.api_user)
    except devices.RegistrationError as exc:
        db.rollback()
        raise ApiError(422, message=exc.message, details={exc.field: exc.message}) from None
    return _pairing_json(kiosk, code), 201


@bp.get("/kiosks/<int:kiosk_id>")
@operation("One kiosk", tags=TAGS, response=ref("Kiosk"), errors=(401, 403, 404))
def get_kiosk(kiosk_id: int):
    return jsonify(_one_kiosk_json(_kiosk_or_404(kiosk_id)))


@bp.post("/kiosks/<int:kiosk_id>/pairing-code")
@operation(
    "Issue a new one-time pairing code (a replaced device, an expired code)",
    tags=TAGS,
    response=ref("KioskPairingCode"),
    errors=(401, 403, 404, 409),
    description=(
        "Once a device pairs with the new code, the previous device's token stops working. "
        "A revoked kiosk takes no new code (409 kiosk_revoked): register a new one. "
        "Audit-logged (kiosk.pairing_code)."
    ),
)
def new_pairing_code(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    try:
        code = devices.new_pairing_code(kiosk, by=g.api_user)
    except devices.KioskRevoked:
        raise ApiError(409, "kiosk_revoked",
                       _("The kiosk is revoked: register a new one.")) from None
    return _pairing_json(kiosk, code)


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@operation(
    "Revoke a kiosk: its device stops working at once",
    tags=TAGS,
    response=ref("Kiosk"),
    errors=(401, 403, 404),
    description=(
        "Its token and any pending pairing code stop working; answers it delivered stay. "
        "Audit-logged (kiosk.revoke); revoking a revoked kiosk changes nothing."
    ),
)
def revoke_kiosk(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    devices.revoke(kiosk, by=g.api_user)
    return jsonify(_one_kiosk_json(kiosk))


# --- refused surveys -----------------------------------------------------------------------


@bp.get("/kiosks/rejections")
@operation(
    "Surveys kiosks delivered that the server refused, newest first",
    tags=TAGS,
    response=ref("KioskRejectionList"),
    errors=(401, 403, 422),
    description=(
        "Of the token's region (every region: federal). Nothing of a refused survey is "
        "counted in the index; the device drops it from its queue, so this is where it stays."
    ),
    query=[
        {"name": "kiosk_id", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "office_id", "in": "query", "required": False, "schema": {"type": "integer"}},
        *_PAGING_QUERY,
    ],
)
def region_rejections():
    return _rejection_list(_id_arg("kiosk_id"), _id_arg("office_id"))


@bp.get("/kiosks/<int:kiosk_id>/rejections")
@operation(
    "Surveys one kiosk delivered that the server refused, newest first",
    tags=TAGS,
    response=ref("KioskRejectionList"),
    errors=(401, 403, 404, 422),
    query=_PAGING_QUERY,
)
def kiosk_rejections(kiosk_id: int):
    _kiosk_or_404(kiosk_id)
    return _rejection_list(kiosk_id, None)
