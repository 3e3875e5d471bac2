"""Certificate login for the admin and the other HTML pages under /supply/.

The API is left to DRF (``ClientCertificateAuthentication``, JSON errors); health checks and static
files are public. Everything else needs a certificate that maps to an active user, else 403 with a
page that shows the DN and how to get access. No session and no password are involved: the user is
set on each request from the certificate, so a superuser's certificate opens the admin directly.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from supply.identity.errors import LoginFailure
from supply.identity.login import login_for_request
from supply.identity.responses import forbidden_page

PREFIX = "/supply/"
API_PREFIX = "/supply/api/"
PUBLIC = ("/supply/healthz", "/supply/readyz", "/supply/static/")


class CertificateLoginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(PREFIX) or path.startswith(API_PREFIX) or path.startswith(PUBLIC):
            return self.get_response(request)
        try:
            login = login_for_request(request)
        except LoginFailure as failure:
            return forbidden_page(request, failure)
        if login is None:
            return forbidden_page(request, None)
        request.user = login.user
        request.client_certificate = login.info  # type: ignore[attr-defined]
        return self.get_response(request)
