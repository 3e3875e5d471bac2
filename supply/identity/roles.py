"""The four roles of the supply service. Each is a Django group made by a data migration
(`identity/migrations/0002_roles.py`); superusers do everything.

    viewer   read everything
    clerk    read; receipts and stows
    issuer   read; issues
    manager  read; catalog (items, units, locations, allowances) and adjustments
"""

from __future__ import annotations

from typing import Final

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

VIEWER: Final = "viewer"
CLERK: Final = "clerk"
ISSUER: Final = "issuer"
MANAGER: Final = "manager"
ROLES: Final = (VIEWER, CLERK, ISSUER, MANAGER)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The role names a user holds (one query, cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_supply_roles", None)
    if cached is None:
        cached = frozenset(
            user.groups.filter(name__in=ROLES).values_list("name", flat=True)  # type: ignore[attr-defined]
        )
        user.__dict__["_supply_roles"] = cached
    return cached
