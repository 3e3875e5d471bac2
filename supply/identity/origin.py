"""Cross-site protection for certificate-authenticated API requests.

A client certificate is an ambient credential: a browser presents it on any request to this site,
including a form or fetch POST that another site's page triggers. The API is called by a static web
app and by scripts, neither of which holds a Django CSRF token, so the API checks origins instead
(OWASP "Verifying origin with standard headers"): a state-changing request is refused when its
``Origin`` (else its ``Referer``) names another origin than this site or one of
``CSRF_TRUSTED_ORIGINS``, or when the browser marks it ``Sec-Fetch-Site: cross-site``/``same-site``.
Requests with none of these headers (curl, Python clients) are not from a browser page and pass.
The admin uses Django's own CSRF protection (token + origin) instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_origin_reason(request: HttpRequest) -> str | None:
    """Why an unsafe request must be refused as cross-site, or None if it may proceed."""
    if request.method in SAFE_METHODS:
        return None
    allowed = {f"{request.scheme}://{request.get_host()}".lower()}
    allowed.update(o.lower() for o in settings.CSRF_TRUSTED_ORIGINS)
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return None if origin.lower() in allowed else f"Origin {origin} is not this site."
    referer = request.META.get("HTTP_REFERER")
    if referer:
        source = _origin_of(referer)
        return None if source in allowed else f"Referer origin {source} is not this site."
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site in ("cross-site", "same-site"):
        return f"A {fetch_site} request cannot change data."
    return None
