"""What a person whose certificate does not log in is told (JSON for the API, HTML for browsers)."""

from __future__ import annotations

import shlex
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from supply.identity.errors import LoginFailure

NO_CERTIFICATE = (
    "certificate: A client certificate is required; present yours through the site's address."
)


def grant_command(failure: LoginFailure) -> str | None:
    if failure.reason != "unknown" or failure.info is None:
        return None
    if failure.identity is not None:
        anchor, rule, value = failure.identity
        return f"supply grant --anchor {anchor} --{rule} {shlex.quote(value)} --role viewer"
    return (
        f"supply grant --subject-dn {shlex.quote(failure.info.subject_dn)} "
        f"--issuer-dn {shlex.quote(failure.info.issuer_dn)} --role viewer"
    )


def _advice(failure: LoginFailure | None) -> str:
    if failure is None:
        return "Import your .p12 file into your browser and open this site through its address."
    if failure.reason == "unknown":
        return (
            "Send the subject and issuer DN below to an administrator, who grants access with "
            "`supply grant` (or in the admin); then reload."
        )
    if failure.reason == "inactive":
        return "Your account is disabled; ask an administrator to enable it."
    if failure.reason == "pending":
        return "An administrator approves your account in one step; reload this page then."
    return "Ask an administrator for a new certificate (`pki issue-user`) and import it."


def failure_body(failure: LoginFailure) -> dict[str, Any]:
    """The JSON body of an API 403 for a certificate that logs nobody in."""
    body: dict[str, Any] = {
        "detail": failure.message,
        "code": failure.code,
        "how_to_get_access": _advice(failure),
    }
    if failure.info is not None:
        body.update(
            subject_dn=failure.info.subject_dn,
            issuer_dn=failure.info.issuer_dn,
            serial=failure.info.serial,
            sha256=failure.info.sha256,
        )
    command = grant_command(failure)
    if command:
        body["grant_command"] = command
    return body


def forbidden_page(request: HttpRequest, failure: LoginFailure | None) -> HttpResponse:
    """The HTML 403 page for the admin and other pages."""
    context = {
        "message": failure.message if failure else NO_CERTIFICATE,
        "advice": _advice(failure),
        "info": failure.info if failure else None,
        "grant_command": grant_command(failure) if failure else None,
    }
    html = render_to_string("identity/forbidden.html", context, request=request)
    return HttpResponse(html, status=403)
