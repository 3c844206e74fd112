"""The client-centricity index (ИКЦ) platform core.

Plugins import what they use of the core from :mod:`cci.plugin_api` only, and implement the
hooks in :mod:`cci.hooks.specs`.
"""

from __future__ import annotations

from cci.hooks.specs import hookimpl  # kept for plugins written against the older surface

__all__ = ["create_app", "hookimpl"]


def create_app(test_config: dict | None = None, plugins: tuple = ()):
    """Build the application. ``plugins`` are extra plugin objects (tests register them)."""
    from cci.web.app import build

    return build(test_config=test_config, extra_plugins=plugins)
