"""Catalog endpoints: read for every role, write for managers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from supply.api.permissions import HasRole
from supply.catalog import filters, serializers
from supply.catalog.models import Allowance, Item, Location, Unit, UnitOfIssue, canonical_nsn
from supply.idempotency import keys as idempotency
from supply.identity.roles import MANAGER


@extend_schema_view(create=extend_schema(parameters=[idempotency.HEADER_PARAMETER]))
class CatalogViewSet(idempotency.IdempotentCreateMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    permission_classes = [HasRole]
    write_roles = (MANAGER,)


class UnitOfIssueViewSet(CatalogViewSet):
    queryset = UnitOfIssue.objects.all()
    serializer_class = serializers.UnitOfIssueSerializer
    search_fields = ["code", "name"]


class UnitViewSet(CatalogViewSet):
    queryset = Unit.objects.all()
    serializer_class = serializers.UnitSerializer
    lookup_field = "uic"
    search_fields = ["uic", "name"]


class ItemViewSet(CatalogViewSet):
    queryset = Item.objects.select_related("unit_of_issue")
    serializer_class = serializers.ItemSerializer
    lookup_field = "nsn"
    filterset_class = filters.ItemFilter
    search_fields = ["nsn", "common_name", "description"]

    @staticmethod
    def search_term(term: str) -> str:
        """An NSN typed as printed (6505-01-332-4567) finds the item."""
        return canonical_nsn(term) or term

    ordering_fields = ["nsn", "common_name", "price"]

    def get_object(self) -> Item:
        # items/6505-01-332-4567/ is the same item as items/6505013324567/.
        nsn = canonical_nsn(self.kwargs.get(self.lookup_field))
        if nsn:
            self.kwargs[self.lookup_field] = nsn
        return super().get_object()  # type: ignore[no-any-return]


class LocationViewSet(CatalogViewSet):
    queryset = Location.objects.select_related("unit")
    serializer_class = serializers.LocationSerializer
    filterset_class = filters.LocationFilter
    search_fields = ["code", "description"]


class AllowanceViewSet(CatalogViewSet):
    queryset = Allowance.objects.select_related("unit", "item")
    serializer_class = serializers.AllowanceSerializer
    filterset_class = filters.AllowanceFilter
