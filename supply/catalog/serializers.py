"""Catalog representations. Plain model serializers: catalog writes have no stock rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from rest_framework import serializers

from supply.api.fields import MoneyField, StrictFieldsMixin
from supply.catalog import history
from supply.catalog.fields import NsnField, UicField
from supply.catalog.models import Allowance, Item, Location, Unit, UnitOfIssue, canonical_nsn


class HistoryGuardMixin(serializers.ModelSerializer[Any]):
    """Refuse an update of identity fields that past ledger rows depend on
    (supply.catalog.history); the check and the save share one transaction."""

    def update(self, instance: models.Model, validated_data: dict[str, Any]) -> models.Model:
        with transaction.atomic():
            history.check_change(instance, validated_data)
            updated: models.Model = super().update(instance, validated_data)
            return updated


class UnitOfIssueSerializer(
    StrictFieldsMixin, HistoryGuardMixin, serializers.ModelSerializer[UnitOfIssue]
):
    class Meta:
        model = UnitOfIssue
        fields = ["code", "name"]


class UnitSerializer(StrictFieldsMixin, HistoryGuardMixin, serializers.ModelSerializer[Unit]):
    class Meta:
        model = Unit
        fields = ["uic", "name"]


class ItemSerializer(StrictFieldsMixin, HistoryGuardMixin, serializers.ModelSerializer[Item]):
    price = MoneyField()
    unit_of_issue = serializers.SlugRelatedField[UnitOfIssue](
        slug_field="code",
        queryset=UnitOfIssue.objects.all(),
        error_messages={"does_not_exist": "No unit of issue {value}."},
    )

    class Meta:
        model = Item
        fields = [
            "nsn",
            "fsc",
            "common_name",
            "description",
            "price",
            "unit_of_issue",
            "aac",
            "rep_office",
        ]
        read_only_fields = ["fsc"]

    def to_internal_value(self, data: Any) -> Any:
        # An NSN typed as printed (6505-01-332-4567) is stored as its 13 digits; anything else
        # reaches the model's validator and is refused in its words.
        if isinstance(data, Mapping) and (nsn := canonical_nsn(data.get("nsn"))):
            # A form's QueryDict copies as a mutable QueryDict, one value per key kept.
            data = data.copy() if isinstance(data, dict) else dict(data)
            data["nsn"] = nsn
        return super().to_internal_value(data)


class LocationSerializer(
    StrictFieldsMixin, HistoryGuardMixin, serializers.ModelSerializer[Location]
):
    unit = UicField()

    class Meta:
        model = Location
        fields = ["id", "unit", "code", "kind", "description"]


class AllowanceSerializer(StrictFieldsMixin, serializers.ModelSerializer[Allowance]):
    unit = UicField()
    nsn = NsnField(source="item")
    common_name = serializers.CharField(source="item.common_name", read_only=True)

    class Meta:
        model = Allowance
        fields = ["id", "unit", "nsn", "common_name", "allowance", "reorder_point"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        allowance = attrs.get("allowance", getattr(self.instance, "allowance", None))
        reorder_point = attrs.get("reorder_point", getattr(self.instance, "reorder_point", None))
        if allowance is not None and reorder_point is not None and reorder_point > allowance:
            raise serializers.ValidationError({"reorder_point": ["Must not exceed the allowance."]})
        return attrs
