"""Role checks for the API (roles: supply/identity/roles.py). Reads need any role; a write needs
one of the view's `write_roles`. Superusers pass everything."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from supply.identity.roles import roles_of


class HasRole(BasePermission):
    message = "Your roles do not allow this operation."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if getattr(user, "is_superuser", False):
            return True
        roles = roles_of(user)
        if request.method in SAFE_METHODS:
            return bool(roles)
        return bool(roles & frozenset(getattr(view, "write_roles", ())))
