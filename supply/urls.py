"""Root URLs: everything lives under /supply/ (nginx routes that prefix here), and the REST API's
router under /supply/api/ with the OpenAPI schema and its docs. The router is composed here, above
the apps, so the API's building blocks (supply.api) need not know the apps that use them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from supply import health
from supply.catalog import views as catalog
from supply.inventory import views as inventory

router = DefaultRouter()
router.register("units-of-issue", catalog.UnitOfIssueViewSet, basename="unit-of-issue")
router.register("units", catalog.UnitViewSet, basename="unit")
router.register("items", catalog.ItemViewSet, basename="item")
router.register("locations", catalog.LocationViewSet, basename="location")
router.register("allowances", catalog.AllowanceViewSet, basename="allowance")
# Before "stock", whose detail route would otherwise claim the name.
router.register(
    "stock/below-reorder-point", inventory.ReorderReportViewSet, basename="below-reorder-point"
)
router.register("stock", inventory.StockViewSet, basename="stock")
router.register("transactions", inventory.LedgerViewSet, basename="transaction")
router.register("receipts", inventory.ReceiptViewSet, basename="receipt")
router.register("stows", inventory.StowViewSet, basename="stow")
router.register("issues", inventory.IssueViewSet, basename="issue")
router.register("adjustments", inventory.AdjustmentViewSet, basename="adjustment")

urlpatterns: list[URLPattern | URLResolver] = [
    path("supply/healthz", health.healthz, name="healthz"),
    path("supply/readyz", health.readyz, name="readyz"),
    path("supply/admin/", admin.site.urls),
    # --- identity (certificate login, whoami): the identity app adds its lines here ---
    path("supply/", include("supply.identity.urls")),
    # --- end identity ---
    path("supply/api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("supply/api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("supply/api/", include(router.urls)),
]

# Under /supply/api/ Django's own errors are JSON too (supply.api.error_views).
handler400 = "supply.api.error_views.bad_request"
handler403 = "supply.api.error_views.permission_denied"
handler404 = "supply.api.error_views.not_found"
handler500 = "supply.api.error_views.server_error"
