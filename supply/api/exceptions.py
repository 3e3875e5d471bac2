"""The one place where domain errors become HTTP responses (REST_FRAMEWORK EXCEPTION_HANDLER)."""

from __future__ import annotations

from typing import Any

from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from supply.errors import SupplyError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """SupplyError -> its status (400/409/422) with {"detail", "code"}; deleting a referenced
    row -> 409; everything else as DRF does it."""
    if isinstance(exc, SupplyError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(
            {
                "detail": "cannot delete: other records still refer to it.",
                "code": "still_referenced",
            },
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
