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
