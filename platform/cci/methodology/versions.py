"""Methodology versions as data: derived versions (draft → review → published), the approval
of packaged versions for new campaigns, the register of proposals, and the shelf of sets the
registry offers — packaged and published derived ones alike.

A derived version is the base set with changed declared parameters
(:mod:`cci.methodology.parameters`). Published, it is numbered, keyed and never changed; the
registry builds it once and keeps it.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from cci.foundation import audit
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.models import MethodologyProposal
from cci.foundation.models import MethodologyVersion
from cci.foundation.models import Region
from cci.methodology import parameters
from cci.methodology.contract import IndicatorSet

STATUS_LABELS = {
    "draft": _l("draft"),
    "submitted": _l("submitted for review"),
    "returned": _l("returned for changes"),
    "published": _l("published version"),
}
DECISION_LABELS = {
    "pending": _l("not decided"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "deferred": _l("deferred"),
}
EDITABLE = ("draft", "returned")
VERSION_FIELDS = ("title", "status", "review_comment")
PROPOSAL_FIELDS = ("region_id", "proposed_by", "summary", "indicator", "decision", "reason",
                   "version_key")


class VersionError(ValueError):
    """A step refused: the message says why, in Russian; ``errors`` maps fields to why."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


# --- the shelf: packaged and published derived sets behind one mapping ---------------------


class Shelf(Mapping[str, IndicatorSet]):
    """The registry's methodology sets: the packages' (fixed at start-up) and the published
    derived versions (read from the database, built once: published means immutable)."""

    def __init__(self, packaged: dict[str, IndicatorSet]):
        self.packaged = packaged
        self._derived: dict[tuple, IndicatorSet] = {}
        self._table_seen = False

    def _rows(self, key: str | None = None) -> list[MethodologyVersion]:
        if not has_app_context() or not self._table_ready():
            return []
        query = select(MethodologyVersion).where(MethodologyVersion.kind == "derived",
                                                 MethodologyVersion.status == "published")
        if key is not None:
            query = query.where(MethodologyVersion.key == key)
        return list(db.scalars(query.order_by(MethodologyVersion.id)))

    def _table_ready(self) -> bool:
        # an app not yet migrated (the first `cci db upgrade`) has no derived versions
        if not self._table_seen:
            self._table_seen = sa.inspect(db.get_bind()).has_table("methodology_versions")
        return self._table_seen

    def _build(self, row: MethodologyVersion) -> IndicatorSet | None:
        # the row is read each time (cheap, by its unique key); what it builds, once: a
        # published row never changes, and a database restored or emptied gives other rows
        stamp = (row.id, row.key, row.base_key, row.published_at)
        found = self._derived.get(stamp)
        if found is None:
            base = self.get(row.base_key)
            if base is None or row.key is None:
                return None  # its base's package was removed
            found = self._derived[stamp] = built(base, row)
        return found

    def __getitem__(self, key: str) -> IndicatorSet:
        if not isinstance(key, str):
            raise KeyError(key)  # e.g. a form's missing value: not a version
        if key in self.packaged:
            return self.packaged[key]
        if key.startswith("draft-"):
            return self._draft(key)
        for row in self._rows(key):
            found = self._build(row)
            if found is not None:
                return found
        raise KeyError(key)

    def _draft(self, key: str) -> IndicatorSet:
        """A draft, for its preview: built afresh each time (a draft changes); never listed."""
        number = key.removeprefix("draft-")
        row = (db.get(MethodologyVersion, int(number))
               if number.isdigit() and len(number) < 10 and has_app_context()
               and self._table_ready() else None)
        if row is None or row.kind != "derived" or row.status == "published":
            raise KeyError(key)
        base = self.get(row.base_key)
        if base is None:
            raise KeyError(key)
        return built(base, row)

    def __iter__(self) -> Iterator[str]:
        yield from self.packaged
        for row in self._rows():
            if row.key not in self.packaged and self._build(row) is not None:
                yield row.key  # type: ignore[misc]

    def __len__(self) -> int:
        return sum(1 for _key in self)


def built(base: IndicatorSet, row: MethodologyVersion) -> IndicatorSet:
    """The set of a derived version's row (a draft's too, for its preview)."""
    key = row.key or draft_key(row.id)
    version = f"{base.version}-{row.number}" if row.number else f"{base.version}-draft{row.id}"
    return parameters.derive(base, key=key, title=row.title, version=version,
                             overrides=dict(row.overrides or {}))


def draft_key(version_id: int) -> str:
    """The key a draft is previewed under (never offered for campaigns)."""
    return f"draft-{version_id}"


@functools.cache
def _platform_distribution() -> str:
    """The distribution the core is installed from: its built-in sets ship in it."""
    return (importlib.metadata.packages_distributions().get("cci") or [""])[0]


def approved_packages(sets: Mapping[str, IndicatorSet] | None = None) -> set[str]:
    """Keys of the packaged versions approved for new campaigns: those a methodology owner
    approved (the migration that brought approval recorded the built-in ones), and, with
    ``sets``, those shipped in the platform's own distribution — released, and so reviewed,
    with the platform itself."""
    approved = set(db.scalars(select(MethodologyVersion.key).where(
        MethodologyVersion.kind == "package", MethodologyVersion.status == "published")))
    if sets is not None:
        platform = _platform_distribution()
        packaged = getattr(sets, "packaged", sets)
        approved |= {key for key, s in packaged.items() if platform and s.package == platform}
    return approved  # type: ignore[return-value]


def offered(sets: Mapping[str, IndicatorSet]) -> list[str]:
    """The versions new campaigns may use: approved packages and published derived ones."""
    approved = approved_packages(sets)
    return [key for key in sorted(sets)
            if key in approved or (sets[key].derived_from and not key.startswith("draft-"))]


def is_offered(sets: Mapping[str, IndicatorSet], key: str) -> bool:
    return key in offered(sets)


#: what a published version is: never changed once published
PUBLISHED_FIELDS = ("key", "base_key", "title", "number", "overrides", "status", "kind")


@event.listens_for(MethodologyVersion, "before_update")
def _published_is_immutable(_mapper, _connection, target: MethodologyVersion) -> None:
    """The last guard of immutability, below every path (a page, the API, a script): a row
    that was published does not change."""
    state = sa.inspect(target)
    status = state.attrs.status.history
    was = (status.deleted or status.unchanged or [None])[0]
    if was == "published" and any(state.attrs[name].history.has_changes()
                                   for name in PUBLISHED_FIELDS):
        raise VersionError(_("A published version cannot be changed: derive a new one from it."))


# --- derived versions: draft → submitted → published (or returned) --------------------------


def _check_title(sets: Mapping[str, IndicatorSet], title: str,
                 version: MethodologyVersion | None) -> str:
    title = (title or "").strip()
    if not title:
        raise VersionError(_("Name the version."), {"title": _("Name the version.")})
    if len(title) > 200:
        raise VersionError(_("The name is too long: at most 200 characters."),
                           {"title": _("The name is too long: at most 200 characters.")})
    taken = {s.title for s in sets.values()} | set(db.scalars(
        select(MethodologyVersion.title).where(
            MethodologyVersion.kind == "derived",
            MethodologyVersion.id != (version.id if version else -1))))
    if title in taken:
        message = _("A version named «%(title)s» already exists.", title=title)
        raise VersionError(message, {"title": message})
    return title


def _changed_words(base: IndicatorSet, overrides: dict[str, Any]) -> str:
    """What a version changes, as the audit log shows it: the parameters' names."""
    declared = {t.key: t.label for t in parameters.tunables(base)}
    return "; ".join(declared.get(key, key) for key in overrides) or "—"


def _checked(base: IndicatorSet, overrides: dict[str, Any]) -> dict[str, Any]:
    try:
        return parameters.check(base, overrides)
    except parameters.ParameterError as exc:
        raise VersionError(_("Some values do not fit: %(errors)s",
                             errors="; ".join(exc.errors.values())), exc.errors) from None


def create_draft(sets: Mapping[str, IndicatorSet], base_key: str, title: str,
                 overrides: dict[str, Any], user: Any) -> MethodologyVersion:
    """A new derived version of ``base_key`` (the caller commits)."""
    base = sets.get(base_key)
    if base is None:
        raise VersionError(_("Methodology version %(key)s is not installed.", key=base_key))
    version = MethodologyVersion(
        kind="derived", base_key=base_key, title=_check_title(sets, title, None),
        overrides=_checked(base, overrides), status="draft",
        created_by_id=user.id if user else None)
    db.add(version)
    db.flush()
    audit.record("methodology_version.create", version,
                 after={**audit.snapshot(version, VERSION_FIELDS), "base_key": base_key,
                        "changed": _changed_words(base, version.overrides)}, user=user)
    return version


def update_draft(sets: Mapping[str, IndicatorSet], version: MethodologyVersion, title: str,
                 overrides: dict[str, Any], user: Any) -> MethodologyVersion:
    """Change a draft (or a returned one); a submitted or published version is refused."""
    _refuse_unless_editable(version)
    base = sets.get(version.base_key)
    if base is None:
        raise VersionError(_("Methodology version %(key)s is not installed.",
                             key=version.base_key))
    before = {**audit.snapshot(version, VERSION_FIELDS),
              "changed": _changed_words(base, version.overrides)}
    version.title = _check_title(sets, title, version)
    version.overrides = _checked(base, overrides)
    version.updated_at = utcnow()
    audit.record("methodology_version.update", version, before=before,
                 after={**audit.snapshot(version, VERSION_FIELDS),
                        "changed": _changed_words(base, version.overrides)}, user=user)
    return version


def _refuse_unless_editable(version: MethodologyVersion) -> None:
    if version.status == "published":
        raise VersionError(_("A published version cannot be changed: derive a new one from it."))
    if version.status not in EDITABLE:
        raise VersionError(_("The version is under review: it can be changed once it is "
                             "returned."))


def submit(version: MethodologyVersion, user: Any) -> None:
    _refuse_unless_editable(version)
    before = audit.snapshot(version, VERSION_FIELDS)
    version.status = "submitted"
    version.submitted_at = version.updated_at = utcnow()
    audit.record("methodology_version.submit", version, before=before,
                 after=audit.snapshot(version, VERSION_FIELDS), user=user)


def _review(version: MethodologyVersion, user: Any) -> dict[str, Any]:
    if version.status != "submitted":
        raise VersionError(_("Only a version submitted for review can be approved or "
                             "returned."))
    if user is None or version.created_by_id == user.id:
        raise VersionError(_("A second methodology owner reviews a version: its author "
                             "cannot approve or return it."))
    return audit.snapshot(version, VERSION_FIELDS)


def approve(sets: Mapping[str, IndicatorSet], version: MethodologyVersion, user: Any) -> None:
    """Publish a submitted version reviewed by someone other than its author: numbered within
    its base, keyed, immutable, offered for new campaigns."""
    before = _review(version, user)
    if version.base_key not in sets:
        raise VersionError(_("Methodology version %(key)s is not installed.",
                             key=version.base_key))
    number = (db.scalar(select(func.max(MethodologyVersion.number)).where(
        MethodologyVersion.kind == "derived",
        MethodologyVersion.base_key == version.base_key)) or 0) + 1
    version.number = number
    version.key = f"{version.base_key}-{number}"
    version.status = "published"
    version.reviewed_by_id = user.id
    version.review_comment = ""
    version.published_at = version.updated_at = utcnow()
    audit.record("methodology_version.approve", version, before=before,
                 after={**audit.snapshot(version, VERSION_FIELDS),
                        "methodology_key": version.key},
                 user=user)


def return_for_changes(version: MethodologyVersion, user: Any, comment: str) -> None:
    before = _review(version, user)
    comment = (comment or "").strip()
    if not comment:
        raise VersionError(_("Say what to change: a comment is required."),
                           {"comment": _("Say what to change: a comment is required.")})
    version.status = "returned"
    version.review_comment = comment[:4000]
    version.reviewed_by_id = user.id
    version.updated_at = utcnow()
    audit.record("methodology_version.return", version, before=before,
                 after=audit.snapshot(version, VERSION_FIELDS), user=user)


def approve_package(sets: Mapping[str, IndicatorSet], key: str, user: Any) -> MethodologyVersion:
    """Approve an installed package's set for new campaigns."""
    indicator_set = sets.get(key)
    if indicator_set is None or indicator_set.derived_from:
        raise VersionError(_("Methodology version %(key)s is not installed.", key=key))
    if key in approved_packages(sets):
        raise VersionError(_("Version «%(title)s» is already approved.",
                             title=indicator_set.title))
    row = MethodologyVersion(kind="package", key=key, title=indicator_set.title,
                             status="published", package_version=indicator_set.package_version,
                             reviewed_by_id=user.id if user else None, published_at=utcnow())
    db.add(row)
    db.flush()
    audit.record("methodology_version.approve_package", row,
                 after={"title": row.title, "status": row.status}, user=user)
    return row


def version_rows(kind: str | None = None) -> list[MethodologyVersion]:
    query = select(MethodologyVersion).order_by(MethodologyVersion.id.desc())
    if kind:
        query = query.where(MethodologyVersion.kind == kind)
    return list(db.scalars(query))


# --- proposals and the change log -----------------------------------------------------------


def seed_declared(sets: Mapping[str, IndicatorSet]) -> int:
    """Add to the register the changes packages declare (``change_log``) that are not there
    yet; the caller commits. Returns how many were added."""
    present = set(db.scalars(select(MethodologyProposal.source).where(
        MethodologyProposal.source.is_not(None))))
    added = 0
    for key, indicator_set in sorted(getattr(sets, "packaged", sets).items()):
        for change in indicator_set.change_log:
            source = f"{key}#{change.number:02d}"
            if source in present:
                continue
            db.add(MethodologyProposal(
                proposed_by=change.proposed_by, summary=change.summary,
                indicator=", ".join(change.indicators), decision="accepted",
                reason=change.reason or f"Изменение {change.number:02d} версии "
                                        f"«{indicator_set.title}»",
                version_key=key, number=change.number, source=source))
            added += 1
    if added:
        db.flush()
    return added


def change_log(key: str) -> list[MethodologyProposal]:
    """The accepted proposals a version implements, in their order."""
    return list(db.scalars(select(MethodologyProposal).where(
        MethodologyProposal.version_key == key, MethodologyProposal.decision == "accepted")
        .order_by(MethodologyProposal.number.is_(None), MethodologyProposal.number,
                  MethodologyProposal.id)))


def save_proposal(sets: Mapping[str, IndicatorSet], values: Mapping[str, Any], user: Any,
                  proposal: MethodologyProposal | None = None) -> MethodologyProposal:
    """Create or change a proposal from plain values (a form's, the API's); the caller
    commits."""
    errors: dict[str, str] = {}

    def text(name: str, limit: int) -> str:
        value = values.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            errors[name] = _("Text is expected.")
            return ""
        value = value.strip()
        if len(value) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
        return value

    summary = text("summary", 4000)
    if not summary and "summary" not in errors:
        errors["summary"] = _("Say what is proposed.")
    proposed_by, indicator = text("proposed_by", 300), text("indicator", 100)
    reason, version_key = text("reason", 4000), text("version_key", 64)
    region_code = text("region", 10)
    decision = values.get("decision") or "pending"
    if not isinstance(decision, str) or decision not in DECISION_LABELS:
        errors["decision"] = _("Unknown decision.")
    if version_key and version_key not in sets:
        errors["version_key"] = _("Methodology version %(key)s is not installed.",
                                  key=version_key)
    region = None
    if region_code:
        region = db.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            errors["region"] = _("Unknown region %(code)s.", code=region_code)
    if decision in ("rejected", "deferred") and not reason and "reason" not in errors:
        errors["reason"] = _("Give the reason for the decision.")
    if errors:
        raise VersionError(_("Some values do not fit: %(errors)s",
                             errors="; ".join(errors.values())), errors)
    before = audit.snapshot(proposal, PROPOSAL_FIELDS) if proposal is not None else None
    if proposal is None:
        proposal = MethodologyProposal(summary=summary, created_by_id=user.id if user else None)
        db.add(proposal)
    proposal.summary, proposal.proposed_by, proposal.indicator = summary, proposed_by, indicator
    proposal.reason, proposal.version_key, proposal.decision = reason, version_key, decision
    proposal.region_id = region.id if region is not None else None
    proposal.updated_at = utcnow()
    db.flush()
    audit.record("proposal.update" if before is not None else "proposal.create", proposal,
                 before=before, after=audit.snapshot(proposal, PROPOSAL_FIELDS), user=user)
    return proposal


def delete_proposal(proposal: MethodologyProposal, user: Any) -> None:
    """Remove a proposal registered by mistake; one a package declares stays (it would come
    back from the package anyway)."""
    if proposal.source:
        raise VersionError(_("This proposal is declared by the version's package: change its "
                             "decision instead."))
    audit.record("proposal.delete", proposal, before=audit.snapshot(proposal, PROPOSAL_FIELDS),
                 user=user)
    db.delete(proposal)
