"""Query filters of the catalog lists."""

from __future__ import annotations

from typing import Any

import django_filters

from supply.catalog.models import Allowance, Item, Location, canonical_nsn


class NsnFilter(django_filters.CharFilter):  # type: ignore[misc]
    """An NSN, plain or dashed as printed; anything else matches nothing, as before."""

    def filter(self, qs: Any, value: Any) -> Any:
        return super().filter(qs, canonical_nsn(value) or value)


class ItemFilter(django_filters.FilterSet):  # type: ignore[misc]
    fsc = django_filters.CharFilter(field_name="fsc", help_text="Federal supply class (4 digits)")
    category = django_filters.CharFilter(
        field_name="fsc",
        lookup_expr="startswith",
        help_text="Federal supply group: the first 2 digits of the FSC",
    )
    unit_of_issue = django_filters.CharFilter(field_name="unit_of_issue_id")

    class Meta:
        model = Item
        fields = ["fsc", "category", "unit_of_issue", "aac"]


class LocationFilter(django_filters.FilterSet):  # type: ignore[misc]
    unit = django_filters.CharFilter(field_name="unit__uic", help_text="UIC")

    class Meta:
        model = Location
        fields = ["unit", "kind", "code"]


class AllowanceFilter(django_filters.FilterSet):  # type: ignore[misc]
    unit = django_filters.CharFilter(field_name="unit__uic", help_text="UIC")
    nsn = NsnFilter(field_name="item__nsn")

    class Meta:
        model = Allowance
        fields = ["unit", "nsn"]
