"""Query filters of the stock and ledger lists."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from supply.api.filters import IdFilter, StrictBooleanFilter, UtcDateTimeFilter
from supply.catalog.filters import NsnFilter
from supply.inventory.models import LedgerEntry, Stock


class StockFilter(django_filters.FilterSet):  # type: ignore[misc]
    unit = django_filters.CharFilter(field_name="location__unit__uic", help_text="UIC")
    location = django_filters.CharFilter(field_name="location__code", help_text="location code")
    location_id = IdFilter(field_name="location_id", help_text="location id")
    nsn = NsnFilter(field_name="item__nsn")
    in_stock = StrictBooleanFilter(
        method="filter_in_stock", help_text="true: only rows with something on hand"
    )

    class Meta:
        model = Stock
        fields = ["unit", "location", "location_id", "nsn", "in_stock"]

    def filter_in_stock(
        self, queryset: QuerySet[Stock], name: str, value: bool | None
    ) -> QuerySet[Stock]:
        if value is None:
            return queryset
        return queryset.filter(on_hand__gt=0) if value else queryset.filter(on_hand=0)


class LedgerFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Filters on what the rows recorded when written (NSN, UICs), not on today's catalog."""

    nsn = NsnFilter(field_name="nsn")
    unit = django_filters.CharFilter(
        method="filter_unit", help_text="UIC: rows moving stock in or out of the unit's locations"
    )
    location = IdFilter(method="filter_location", help_text="location id, as source or destination")
    customer_unit = django_filters.CharFilter(field_name="customer_uic", help_text="UIC")
    user = django_filters.CharFilter(field_name="user__username")
    after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="at or after (ISO 8601)"
    )
    before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="before (ISO 8601)"
    )

    class Meta:
        model = LedgerEntry
        fields = ["kind", "nsn", "unit", "location", "customer_unit", "user", "document_number"]

    def filter_unit(
        self, queryset: QuerySet[LedgerEntry], name: str, value: str
    ) -> QuerySet[LedgerEntry]:
        return queryset.filter(Q(from_uic=value) | Q(to_uic=value))

    def filter_location(
        self, queryset: QuerySet[LedgerEntry], name: str, value: int
    ) -> QuerySet[LedgerEntry]:
        return queryset.filter(Q(from_location_id=value) | Q(to_location_id=value))
