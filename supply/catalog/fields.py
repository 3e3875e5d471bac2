"""Serializer fields that look up catalog rows by their codes: an item by NSN, a unit by UIC, with
the format refused in the catalog's words before the lookup. The schema states the same pattern
the field checks (supply.catalog.models)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from supply.catalog.models import (
    NSN_INPUT_MESSAGE,
    NSN_INPUT_PATTERN,
    UIC,
    UIC_MESSAGE,
    UIC_PATTERN,
    Item,
    Unit,
    canonical_nsn,
)


@extend_schema_field(
    {"type": "string", "pattern": NSN_INPUT_PATTERN, "minLength": 13, "maxLength": 16}
)
class NsnField(serializers.SlugRelatedField[Item]):
    """An item by its NSN: 13 digits, or dashed as printed (``6505-01-332-4567``)."""

    default_error_messages = {
        "format": NSN_INPUT_MESSAGE,
        "does_not_exist": "No item with NSN {value}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Item.objects.all())
        super().__init__(slug_field="nsn", **kwargs)

    def to_internal_value(self, data: Any) -> Item:
        nsn = canonical_nsn(data)
        if nsn is None:
            self.fail("format")
        return super().to_internal_value(nsn)


@extend_schema_field({"type": "string", "pattern": UIC_PATTERN, "minLength": 6, "maxLength": 6})
class UicField(serializers.SlugRelatedField[Unit]):
    """A unit by its 6-character UIC."""

    default_error_messages = {
        "format": UIC_MESSAGE,
        "does_not_exist": "No unit with UIC {value}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Unit.objects.all())
        super().__init__(slug_field="uic", **kwargs)

    def to_internal_value(self, data: Any) -> Unit:
        if not isinstance(data, str) or not UIC.match(data):
            self.fail("format")
        return super().to_internal_value(data)
