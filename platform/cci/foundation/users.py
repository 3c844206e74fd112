"""Creating users: one path for the admin pages and the `cci users create` command."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import User
from cci.foundation.passwords import hash_password
from cci.foundation.passwords import policy_problem
from cci.foundation.roles import Role


class UserError(ValueError):
    """A user that cannot be created as asked; the message is for people."""


def create_user(
    *,
    email: str,
    role: str,
    password: str,
    region_code: str | None = None,
    office_id: int | None = None,
    full_name: str = "",
) -> User:
    """Validate and add a user to the session (the caller commits, with its audit entry)."""
    email = email.strip().lower()
    try:
        role_enum = Role(role)
    except ValueError:
        raise UserError(_("Unknown role %(role)s.", role=role)) from None
    problem = policy_problem(password, email)
    if problem:
        raise UserError(problem)
    region = None
    if role_enum.federal:
        if region_code:
            raise UserError(_("A federal role is not bound to a region."))
    else:
        if not region_code:
            raise UserError(_("A regional role needs a region."))
        region = db.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise UserError(_("Unknown region %(code)s.", code=region_code))
    scope = tenancy.current_scope()
    if scope is not None and not scope.federal and (region is None or region.id != scope.region_id):
        raise UserError(_("You can create users of your own region only."))
    if office_id is not None:
        if region is None:  # a federal role: an office would bind it to the office's region
            raise UserError(_("A federal role is not bound to a region."))
        with tenancy.region_scope(region.id, "check the user's office"):
            if db.get(Office, office_id) is None:
                raise UserError(_("The office does not belong to the region."))
    with tenancy.federal_scope("check that the e-mail is free"):
        if db.scalar(select(User.id).where(User.email == email)) is not None:
            raise UserError(_("A user with this e-mail already exists."))
    user = User(
        email=email,
        full_name=full_name,
        role=role_enum.value,
        region_id=region.id if region else None,
        office_id=office_id,
        password_hash=hash_password(password),
    )
    db.add(user)
    return user
