"""Loading plugins through entry points and collecting what they register.

Built-in plugins travel the same path as third-party ones: they are declared as entry
points (groups :data:`ENTRY_POINT_GROUPS`) in their package's metadata.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from typing import Protocol
from typing import TypeVar

import pluggy
from flask import current_app

from cci.collection.channels import Channel
from cci.collection.channels import QualityRule
from cci.foundation.audit import AuditVocabulary
from cci.hooks import specs as hookspecs
from cci.methodology.contract import IndicatorSet
from cci.methodology.cx import CxMetric
from cci.methodology.versions import Shelf

ENTRY_POINT_GROUPS = ("cci.indicators", "cci.channels", "cci.plugins")

#: The core's own hook implementations (its jobs, the built-in quality rules) travel the same
#: path as any plugin.
DEFAULT_PLUGINS = ("cci.hooks.core",)


class PluginError(RuntimeError):
    """A plugin could not be loaded or contradicts another one; the app must not start."""


def build_plugin_manager(blocked: Iterable[str] = (),
                         extra: Iterable[Any] = ()) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("cci")
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    for group in ENTRY_POINT_GROUPS:
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            if pm.is_blocked(ep.name):
                continue
            plugin = _load(ep, group)
            if pm.is_registered(plugin):
                continue  # one module listed in several groups provides its hooks once
            _register(pm, plugin, ep.name, f"entry point {ep.value!r} in group {group!r}")
            _DISTRIBUTIONS[ep.name] = (
                (ep.dist.name, ep.dist.version) if ep.dist is not None else ("", "")
            )
    for plugin in extra:
        _register(pm, plugin, None, "passed to create_app")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"Plugin {name!r} implements an unknown hook: {exc}") from exc
    return pm


def _register(pm: pluggy.PluginManager, plugin: Any, name: str | None, where: str) -> None:
    """Register, turning pluggy's errors (a taken name, a bad hook signature) into ours."""
    try:
        pm.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(
            f"Plugin {name or plugin!r} ({where}) cannot be registered: {exc}"
        ) from exc


_DISTRIBUTIONS: dict[str, tuple[str, str]] = {}


def _load(ep: EntryPoint, group: str) -> Any:
    try:
        return ep.load()
    except Exception as exc:  # any import error must stop start-up with the plugin's name
        raise PluginError(
            f"Plugin {ep.name!r} (entry point {ep.value!r} in group {group!r}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


@dataclass
class Registry:
    """What the installed plugins provide, checked for conflicts once at start-up."""

    #: the packages' sets and the published derived versions alike (a :class:`Shelf`)
    indicator_sets: Mapping[str, IndicatorSet] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    quality_rules: dict[str, QualityRule] = field(default_factory=dict)
    jobs: dict[str, Any] = field(default_factory=dict)
    #: JSON schemas of the plugins' API resources (``register_api_schemas``), by name.
    api_schemas: dict[str, dict] = field(default_factory=dict)
    #: the audit log's words, the core's and every plugin's (``register_audit_vocabulary``)
    audit: AuditVocabulary = field(default_factory=AuditVocabulary)
    #: the customer-experience metrics (``register_cx_metrics``), by code
    cx_metrics: dict[str, CxMetric] = field(default_factory=dict)

    def indicator_set(self, key: str) -> IndicatorSet:
        try:
            return self.indicator_sets[key]
        except KeyError:
            raise LookupError(f"methodology version {key!r} is not installed") from None


def installed_set(key: str) -> IndicatorSet:
    """The installed methodology set ``key`` in the current app; :class:`LookupError` when it
    is not installed (blocked, or its package removed)."""
    return current_app.extensions["cci.registry"].indicator_set(key)


def installed_sets() -> list[IndicatorSet]:
    """Every installed methodology set in the current app (blocked ones left out)."""
    return list(current_app.extensions["cci.registry"].indicator_sets.values())


def installed_cx_metrics() -> dict[str, CxMetric]:
    """The installed CX metrics in the current app, by code, in the plugins' order."""
    return current_app.extensions["cci.registry"].cx_metrics


def installed_channel(key: str) -> Channel | None:
    """The installed channel ``key`` in the current app, or ``None`` (blocked or removed)."""
    return current_app.extensions["cci.registry"].channels.get(key)


def _each_impl(pm: pluggy.PluginManager, hook_name: str):
    """Yield (plugin name, result) for every implementation, so conflicts can be named."""
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        try:
            result = impl.function()
        except Exception as exc:
            raise PluginError(
                f"Plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
            ) from exc
        if result is not None:
            yield impl.plugin_name, result


class _Keyed(Protocol):
    """What a plugin registers by a key of its own (a methodology version, a channel, a rule)."""

    @property
    def key(self) -> str: ...


_K = TypeVar("_K", bound=_Keyed)


def _collect(pm: pluggy.PluginManager, hook_name: str, kind: type[_K],
             what: str) -> dict[str, _K]:
    found: dict[str, _K] = {}
    owners: dict[str, str] = {}
    for plugin_name, things in _each_impl(pm, hook_name):
        for thing in things:
            if not isinstance(thing, kind):
                raise PluginError(
                    f"Plugin {plugin_name!r} returned {type(thing).__name__} from {hook_name}, "
                    f"expected {kind.__name__}"
                )
            if thing.key in found:
                raise PluginError(
                    f"Two plugins register the {what} {thing.key!r}: "
                    f"{owners[thing.key]!r} and {plugin_name!r}"
                )
            found[thing.key] = thing
            owners[thing.key] = plugin_name
            if isinstance(thing, IndicatorSet) and plugin_name in _DISTRIBUTIONS:
                # the distribution that registered the set, even when it copied another set
                thing.package, thing.package_version = _DISTRIBUTIONS.get(
                    plugin_name, (plugin_name, "")
                )
    return found


def build_registry(pm: pluggy.PluginManager) -> Registry:
    registry = Registry(
        indicator_sets=Shelf(_collect(pm, "register_indicator_sets", IndicatorSet,
                                      "methodology version")),
        channels=_collect(pm, "register_channels", Channel, "channel"),
        quality_rules=_collect(pm, "register_quality_rules", QualityRule, "quality rule"),
        cx_metrics=_collect(pm, "register_cx_metrics", CxMetric, "CX metric"),
    )
    for plugin_name, jobs in _each_impl(pm, "register_jobs"):
        for name, func in jobs.items():
            if name in registry.jobs:
                raise PluginError(f"Plugin {plugin_name!r} registers the job {name!r} twice")
            registry.jobs[name] = func
    schema_owners: dict[str, str] = {}
    for plugin_name, schemas in _each_impl(pm, "register_api_schemas"):
        if not isinstance(schemas, dict):
            raise PluginError(f"Plugin {plugin_name!r} returned {type(schemas).__name__} from "
                              "register_api_schemas, expected a dict {name: JSON schema}")
        for name, schema in schemas.items():
            if name in schema_owners:
                raise PluginError(f"Two plugins register the API schema {name!r}: "
                                  f"{schema_owners[name]!r} and {plugin_name!r}")
            if not isinstance(schema, dict):
                raise PluginError(f"Plugin {plugin_name!r} registers the API schema {name!r} "
                                  f"as {type(schema).__name__}, expected a dict")
            schema_owners[name] = plugin_name
            registry.api_schemas[name] = schema
    registry.audit = _audit_vocabulary(pm)
    packaged = registry.indicator_sets.packaged  # type: ignore[attr-defined]
    for key, indicator_set in packaged.items():
        if indicator_set.based_on and indicator_set.based_on not in packaged:
            raise PluginError(
                f"Methodology version {key!r} (package {indicator_set.package!r}) is based on "
                f"{indicator_set.based_on!r}, which is not installed"
            )
    return registry


def _audit_vocabulary(pm: pluggy.PluginManager) -> AuditVocabulary:
    """One vocabulary from every plugin's: actions and object types have one owner each;
    fields and values are words shared by all (the first plugin's word stands)."""
    merged: dict[str, dict] = {"actions": {}, "objects": {}, "fields": {}, "references": {},
                               "values": {}, "actors": {}}
    owners: dict[tuple[str, str], str] = {}
    for plugin_name, vocabulary in _each_impl(pm, "register_audit_vocabulary"):
        if not isinstance(vocabulary, AuditVocabulary):
            raise PluginError(f"Plugin {plugin_name!r} returned {type(vocabulary).__name__} from "
                              "register_audit_vocabulary, expected an AuditVocabulary")
        for part in ("actions", "objects"):
            for key, word in getattr(vocabulary, part).items():
                if (part, key) in owners:
                    raise PluginError(f"Two plugins name the audit {part[:-1]} {key!r}: "
                                      f"{owners[part, key]!r} and {plugin_name!r}")
                owners[part, key] = plugin_name
                merged[part][key] = word
        for part in ("fields", "references", "values", "actors"):
            for key, word in getattr(vocabulary, part).items():
                merged[part].setdefault(key, word)
    return AuditVocabulary(**merged)


def migration_locations(pm: pluggy.PluginManager) -> list[Path]:
    """The folders of the plugins' own Alembic revisions (hook ``register_migrations``), in
    the order the plugins were registered; a folder that is not there is the plugin's error."""
    locations: list[Path] = []
    for plugin_name, folder in _each_impl(pm, "register_migrations"):
        if not isinstance(folder, (str, os.PathLike)):
            raise PluginError(
                f"Plugin {plugin_name!r} returned {type(folder).__name__} from "
                "register_migrations, expected the path of a folder"
            )
        path = Path(folder).resolve()
        if not path.is_dir():
            raise PluginError(
                f"Plugin {plugin_name!r} registers the migrations folder {str(path)!r}, "
                "which is not a folder"
            )
        if path not in locations:
            locations.append(path)
    return locations
