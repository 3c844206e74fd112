"""Comments' themes, the comments a role may read (personal data masked) and respondent
profiles, per office and region: the API side of the comments and profiles pages."""

from __future__ import annotations

from flask import jsonify
from flask import request
from sqlalchemy import select

from cci.collection.comment_themes import THEME_KEYS
from cci.foundation.db import db
from cci.foundation.models import Campaign
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.tenancy import current_region_id
from cci.index.comments import BANDS
from cci.index.comments import CommentFilters
from cci.index.comments import Counts
from cci.index.comments import comment_counts
from cci.index.comments import comment_page
from cci.index.profiles import NOT_GIVEN
from cci.index.profiles import profile_distributions
from cci.web.api.blueprint import bp
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.api.methodology import _campaign_or_404
from cci.web.api.methodology import _registry
from cci.web.api.methodology import _require
from cci.web.api.resources import iso_datetime
from cci.web.api.schemas import SCHEMAS
from cci.web.comment_text import READERS
from cci.web.comment_text import masked
from cci.web.comment_text import profile_items
from cci.web.comment_text import read_filters
from cci.web.comment_text import scale_items
from cci.web.comment_text import theme_name

_count = {"type": "integer", "minimum": 0}
_share = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_theme_counts = {"type": "object", "additionalProperties": _count,
                 "description": "theme key -> comments with the theme"}
_counts = {
    "responses": {**_count, "description": "quality-valid responses (n)"},
    "commented": {**_count, "description": "of them, with a comment"},
    "share": {**_share, "description": "commented / responses; null when n is 0"},
    "themes": _theme_counts,
}
_option_counts = {"type": "object", "additionalProperties": _count,
                  "description": "option key -> respondents who chose it"}
_answers = {"answered": _count, "not_answered": _count, "counts": _option_counts}

SCHEMAS.update({
    "CommentThemes": {
        "type": "object",
        "required": ["campaign_id", "themes", "regions", "offices", "pending"],
        "properties": {
            "campaign_id": {"type": "integer"},
            "themes": {"type": "array", "items": {
                "type": "object", "required": ["key", "name"],
                "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}},
            "regions": {"type": "array", "items": {
                "type": "object", "required": ["region", *_counts],
                "properties": {"region": {"type": "string"}, **_counts}}},
            "offices": {"type": "array", "items": {
                "type": "object", "required": ["office_id", "region", "code", "name", *_counts],
                "properties": {"office_id": {"type": "integer"}, "region": {"type": "string"},
                               "code": {"type": "string"}, "name": {"type": "string"},
                               **_counts}}},
            "pending": {**_count,
                        "description": "comments not classified yet (the next computation "
                                       "classifies them)"},
        },
    },
    "Comment": {
        "type": "object",
        "required": ["id", "region", "office_id", "submitted_at", "respondent_type", "channel",
                     "mean_score", "themes", "text"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "description": "the response's uid"},
            "region": {"type": "string"},
            "office_id": {"type": "integer"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "respondent_type": {"type": "string", "enum": ["job_seeker", "employer"]},
            "channel": {"type": "string"},
            "mean_score": {"type": ["number", "null"],
                           "description": "mean of the response's 1..10 answers"},
            "themes": {"type": "array", "items": {"type": "string"}},
            "text": {"type": "string",
                     "description": "the comment, phone numbers, e-mails and names masked"},
        },
    },
    "CommentPage": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": ref("Comment")},
            "total": _count, "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1}, "pages": {"type": "integer"},
        },
    },
    "Profiles": {
        "type": "object",
        "required": ["campaign_id", "items"],
        "properties": {
            "campaign_id": {"type": "integer"},
            "items": {"type": "array", "items": {
                "type": "object",
                "required": ["respondent_type", "question", "text", "options", "regions",
                             "offices"],
                "properties": {
                    "respondent_type": {"type": "string", "enum": ["job_seeker", "employer"]},
                    "question": {"type": "string"},
                    "text": {"type": "string"},
                    "options": {"type": "array", "items": {
                        "type": "object", "required": ["key", "label"],
                        "properties": {"key": {"type": "string"},
                                       "label": {"type": "string"}}}},
                    "regions": {"type": "array", "items": {
                        "type": "object", "required": ["region", *_answers],
                        "properties": {"region": {"type": "string"}, **_answers}}},
                    "offices": {"type": "array", "items": {
                        "type": "object", "required": ["office_id", "region", *_answers],
                        "properties": {"office_id": {"type": "integer"},
                                       "region": {"type": "string"}, **_answers}}},
                },
            }},
        },
    },
})

_REGION = {"name": "region", "in": "query", "required": False, "schema": {"type": "string"},
           "description": "a region's code; a regional token reads its own region only"}
_OFFICE = {"name": "office", "in": "query", "required": False,
           "schema": {"type": "integer", "minimum": 1}}
_TYPE = {"name": "respondent_type", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["job_seeker", "employer"]}}
THEMES_QUERY = [_REGION, _OFFICE, _TYPE]
COMMENTS_QUERY = [
    _REGION, _OFFICE, _TYPE,
    {"name": "channel", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "band", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(BANDS)},
     "description": "the mean of the response's 1..10 answers: low (up to 5), middle, high "
                    "(the methodology's positive answer and above)"},
    {"name": "theme", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(THEME_KEYS)}},
    {"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "a part of the text; not a name, phone number or e-mail address (they "
                    "are masked, so they are not looked for either: 422)"},
    {"name": "from", "in": "query", "required": False,
     "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "required": False,
     "schema": {"type": "string", "format": "date"}},
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
]
PROFILES_QUERY = [_REGION, _OFFICE]


def _scope(campaign: Campaign) -> tuple[Region | None, dict, dict[int, str]]:
    """The region asked for (None: every region the reader sees), the filters read, and the
    region codes of the campaign by id; 404 for a region outside the reader's scope, 422 for
    a filter that does not fit."""
    values, invalid = read_filters(request.args)
    if invalid:
        raise ApiError(422, details=invalid)
    codes = {r.id: r.code for r in campaign.regions}
    region = None
    if request.args.get("region"):
        region = db.scalar(select(Region).where(Region.code == request.args["region"]))
        if region is None or region.id not in codes or (
                current_region_id() is not None and region.id != current_region_id()):
            raise ApiError(404)
    elif current_region_id() is not None:
        region = db.get(Region, current_region_id())
    if values.get("office_id") is not None:
        office = db.get(Office, values["office_id"])
        if office is None or office.region_id not in codes or (
                region is not None and office.region_id != region.id):
            raise ApiError(404)
    return region, values, codes


def _counts_json(counts: Counts | None, rtype: str | None) -> dict:
    counts = counts or Counts()
    return {"responses": counts.n(rtype), "commented": counts.n_commented(rtype),
            "share": counts.share(rtype),
            "themes": {key: counts.theme(key, rtype) for key in THEME_KEYS}}


@bp.get("/campaigns/<int:campaign_id>/comments/themes")
@operation("Comments' themes and the share of respondents who commented, per region and "
           "office", tags=["comments"], response=ref("CommentThemes"), query=THEMES_QUERY,
           errors=(401, 403, 404, 422),
           description="Quality-valid responses only. A comment may have several themes; one "
                       "with none has the theme «other». Shares are of the responses (n).")
def comment_themes(campaign_id: int):
    _require(*READERS)
    campaign = _campaign_or_404(campaign_id)
    region, values, codes = _scope(campaign)
    counts = comment_counts(campaign.id, region.id if region else None, values.get("office_id"))
    rtype = values.get("respondent_type")
    offices = {o.id: o for o in db.scalars(
        select(Office).where(Office.id.in_(list(counts.offices))))} if counts.offices else {}
    return jsonify(
        campaign_id=campaign.id,
        themes=[{"key": key, "name": theme_name(key)} for key in THEME_KEYS],
        regions=[{"region": codes[rid], **_counts_json(c, rtype)}
                 for rid, c in sorted(counts.regions.items(), key=lambda i: codes[i[0]])],
        offices=[{"office_id": oid, "region": codes[offices[oid].region_id],
                  "code": offices[oid].code, "name": offices[oid].name,
                  **_counts_json(c, rtype)}
                 for oid, c in sorted(counts.offices.items())],
        pending=counts.pending)


@bp.get("/campaigns/<int:campaign_id>/comments")
@operation("Respondents' comments, newest first, phone numbers, e-mails and names masked",
           tags=["comments"], response=ref("CommentPage"), query=COMMENTS_QUERY,
           errors=(401, 403, 404, 422),
           description="Quality-valid responses only; a regional token reads its region's.")
def comments(campaign_id: int):
    _require(*READERS)
    campaign = _campaign_or_404(campaign_id)
    region, values, codes = _scope(campaign)
    page = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", 25, type=int)
    bad = {name: rule for name, rule, wrong in (
        ("page", ">= 1", page < 1), ("per_page", "1..100", not 1 <= per_page <= 100)) if wrong}
    if bad:
        raise ApiError(422, details=bad)
    indicator_set = _registry().indicator_set(campaign.methodology_key)
    filters = CommentFilters(campaign_id=campaign.id, region_id=region.id if region else None,
                             timezone=region.timezone if region else "Europe/Moscow", **values)
    found = comment_page(filters, scale_items=scale_items(indicator_set),
                         positive_min=int(indicator_set.parameter("positive_min")),
                         page=page, per_page=per_page)
    return jsonify(
        items=[{"id": line.response.uid, "region": codes.get(line.response.region_id, ""),
                "office_id": line.response.office_id,
                "submitted_at": iso_datetime(line.response.submitted_at),
                "respondent_type": line.response.respondent_type,
                "channel": line.response.channel, "mean_score": line.mean_score,
                "themes": list(line.themes), "text": masked(line.response.comment)}
               for line in found.lines],
        total=found.total, page=found.page, per_page=found.per_page, pages=found.pages)


@bp.get("/campaigns/<int:campaign_id>/profiles")
@operation("Respondent profiles: each profile question's answers per region and office, per "
           "respondent type", tags=["comments"], response=ref("Profiles"),
           query=PROFILES_QUERY, errors=(401, 404, 422),
           description="Quality-valid responses only; counts per option key (labels in "
                       "`options`), and those who left the question unanswered.")
def profiles(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    region, values, codes = _scope(campaign)
    indicator_set = _registry().indicator_set(campaign.methodology_key)
    found = profile_distributions(campaign.id, profile_items(indicator_set),
                                  region_id=region.id if region else None,
                                  office_id=values.get("office_id"))
    office_regions: dict[int, int] = dict(db.execute(select(Office.id, Office.region_id)).all())

    def answers(counts: dict[str, int]) -> dict:
        return {"answered": sum(n for k, n in counts.items() if k != NOT_GIVEN),
                "not_answered": counts.get(NOT_GIVEN, 0),
                "counts": {k: n for k, n in counts.items() if k != NOT_GIVEN}}

    items = []
    for d in found:
        per_region: dict[int, dict[str, int]] = {}
        for office_id, counts in d.offices.items():
            target = per_region.setdefault(office_regions[office_id], {})
            for key, n in counts.items():
                target[key] = target.get(key, 0) + n
        items.append({
            "respondent_type": d.respondent_type, "question": d.item.key,
            "text": d.item.for_type(d.respondent_type) or d.item.key,
            "options": [{"key": k, "label": label} for k, label in d.options()],
            "regions": [{"region": codes[rid], **answers(c)}
                        for rid, c in sorted(per_region.items(), key=lambda i: codes[i[0]])
                        if rid in codes],
            "offices": [{"office_id": oid, "region": codes.get(office_regions[oid], ""),
                         **answers(c)} for oid, c in sorted(d.offices.items())],
        })
    return jsonify(campaign_id=campaign.id, items=items)
