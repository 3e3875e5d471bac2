"""DRF authentication by client certificate (per request; the API has no session login)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from pki.certinfo import CertInfo
from supply.identity.errors import LoginFailure
from supply.identity.login import login_for_request
from supply.identity.origin import cross_origin_reason
from supply.identity.responses import failure_body


class CertificateNotAccepted(exceptions.APIException):
    """403 with the certificate's DNs and how to get access."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "certificate_not_accepted"

    def __init__(self, failure: LoginFailure) -> None:
        super().__init__(detail=failure_body(failure))


class ClientCertificateAuthentication(BaseAuthentication):
    """``request.user`` from the mapping, ``request.auth`` the certificate's :class:`CertInfo`.

    No certificate (or not through the trusted proxy): not authenticated, so protected views answer
    403 (no ``WWW-Authenticate`` challenge exists for TLS client certificates).
    """

    def authenticate(self, request: Request) -> tuple[Any, CertInfo] | None:
        try:
            login = login_for_request(request._request)
        except LoginFailure as failure:
            raise CertificateNotAccepted(failure) from None
        if login is None:
            return None
        reason = cross_origin_reason(request._request)
        if reason:
            raise exceptions.PermissionDenied(f"origin: {reason}")
        return login.user, login.info

    def authenticate_header(self, request: Request) -> str | None:
        return None
