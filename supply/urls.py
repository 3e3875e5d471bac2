"""Root URLs: everything lives under /supply/ (nginx routes that prefix here)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from supply import health

urlpatterns: list[URLPattern | URLResolver] = [
    path("supply/healthz", health.healthz, name="healthz"),
    path("supply/readyz", health.readyz, name="readyz"),
    path("supply/admin/", admin.site.urls),
    # --- identity (certificate login, whoami): the identity app adds its lines here ---
    path("supply/", include("supply.identity.urls")),
    # --- end identity ---
    path("supply/", include("supply.api.urls")),
]

# Under /supply/api/ Django's own errors are JSON too (supply.api.error_views).
handler400 = "supply.api.error_views.bad_request"
handler403 = "supply.api.error_views.permission_denied"
handler404 = "supply.api.error_views.not_found"
handler500 = "supply.api.error_views.server_error"
