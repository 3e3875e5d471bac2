"""The REST API under /supply/api/: the router, the OpenAPI schema and its docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

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
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include(router.urls)),
]
