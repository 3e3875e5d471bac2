"""The benchmark's stand-in for certificate login (see identity_off.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

_user: list[User] = []


class FixedUserAuthentication(BaseAuthentication):
    """Everyone is the first user (loaded once): no header, certificate or mapping is read."""

    def authenticate(self, request: Request) -> tuple[Any, None]:
        if not _user:
            first = User.objects.order_by("pk").first()
            if first is None:
                raise RuntimeError("the bench grants a user first")
            _user.append(first)
        return _user[0], None
