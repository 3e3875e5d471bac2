"""Django's own error responses (no view answered, or a view failed) under /supply/api/ are JSON
like every other API answer; elsewhere they stay Django's pages. Wired in supply.urls."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/supply/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json(
            500,
            "server: The service failed on this request and logged why; try again, and tell "
            "your site administrator if it repeats.",
            "server_error",
        )
    return defaults.server_error(request)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json(404, f"{request.path}: No such API endpoint or object.", "not_found")
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json(400, "request: The request is malformed.", "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json(403, "permission: You may not do this.", "permission_denied")
    return defaults.permission_denied(request, exception)
