"""Who may see what: the request's tenant scope and role checks.

The scope is set once per request here; :mod:`cci.foundation.tenancy` applies it to every query.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask_login import current_user

from cci.foundation import tenancy
from cci.foundation.roles import Role


def scope_for_user(user) -> tenancy.Scope:
    if user.is_federal:
        return tenancy.Scope(region_id=None, reason=f"federal user {user.id}")
    return tenancy.Scope(region_id=user.region_id, reason=f"user {user.id}")


def enter_scope(scope: tenancy.Scope) -> None:
    """Set the scope for the rest of this request (narrowing is allowed, widening is not)."""
    previous = getattr(g, "_cci_scope_token", None)
    if previous is not None:
        tenancy.leave(previous)
    g._cci_scope_token = tenancy.enter(scope)


def init_app(app: Flask) -> None:
    @app.before_request
    def _default_scope() -> None:
        if getattr(g, "_cci_scope_token", None) is None and current_user.is_authenticated:
            enter_scope(scope_for_user(current_user))

    @app.teardown_request
    def _leave_scope(_exc) -> None:
        token = g.pop("_cci_scope_token", None)
        if token is not None:
            tenancy.leave(token)


def roles_required(*roles: Role) -> Callable:
    """A view decorator: only these roles pass, others get 403. The rule is kept on the view
    (``cci_roles``, carried through ``functools.wraps``), so menus read it: see ``may_open``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                # Flask-Login sets this attribute in init_app; Flask's stubs do not know it.
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.cci_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def blueprint_roles(blueprint: Blueprint, *roles: Role) -> None:
    """Every page of a blueprint: only these roles (others 403); menus read the same rule."""
    blueprint.cci_roles = frozenset(roles)  # type: ignore[attr-defined]

    @blueprint.before_request
    def _only_these_roles() -> None:
        if current_user.is_authenticated and not current_user.has_role(*roles):
            abort(403)


def may_open(endpoint: str) -> bool:
    """Whether the current user passes the role rules of a page: its view's and those of every
    blueprint it is nested in. A menu shows a link only when this holds."""
    rules = [getattr(current_app.view_functions.get(endpoint), "cci_roles", None)]
    blueprint = endpoint.rpartition(".")[0]
    while blueprint:
        rules.append(getattr(current_app.blueprints.get(blueprint), "cci_roles", None))
        blueprint = blueprint.rpartition(".")[0]
    return current_user.is_authenticated and all(
        rule is None or current_user.has_role(*rule) for rule in rules)


def can_see_region(user, region) -> bool:
    return user.is_federal or user.region_id == region.id


def wants_json() -> bool:
    return request.path.startswith("/api/")
