"""Stock, ledger and operation representations. An operation serializer only parses the request
and resolves names to rows; its save() calls the service, which holds every stock rule."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from supply.api.fields import StrictFieldsMixin, WholeNumberField
from supply.catalog.fields import NsnField, UicField
from supply.catalog.models import Allowance, Location, Unit
from supply.inventory import services
from supply.inventory.models import LedgerEntry, Place, Stock


def actor_of(request: Request) -> services.Actor:
    """The request's user, with the certificate subject DN when the authentication supplies one."""
    subject_dn = getattr(getattr(request, "auth", None), "subject_dn", "") or ""
    return services.Actor(user=request.user, subject_dn=str(subject_dn))  # type: ignore[arg-type]


class StockSerializer(serializers.ModelSerializer[Stock]):
    nsn = serializers.CharField(source="item.nsn")
    common_name = serializers.CharField(source="item.common_name")
    unit = serializers.CharField(source="location.unit.uic")
    location = serializers.CharField(source="location.code")

    class Meta:
        model = Stock
        fields = ["id", "nsn", "common_name", "unit", "location", "location_id", "on_hand"]
        read_only_fields = fields


class ReorderLineSerializer(serializers.ModelSerializer[Allowance]):
    """An allowance whose unit holds less than its reorder point (`on_hand` is annotated)."""

    unit = serializers.CharField(source="unit.uic")
    nsn = serializers.CharField(source="item.nsn")
    common_name = serializers.CharField(source="item.common_name")
    on_hand = serializers.IntegerField()
    shortfall = serializers.SerializerMethodField()

    class Meta:
        model = Allowance
        fields = [
            "unit",
            "nsn",
            "common_name",
            "allowance",
            "reorder_point",
            "on_hand",
            "shortfall",
        ]
        read_only_fields = fields

    def get_shortfall(self, obj: Allowance) -> int:
        """How many to order to get back to the allowance."""
        return int(obj.allowance - obj.on_hand)  # type: ignore[attr-defined]


class _PlaceSerializer(serializers.Serializer[Place]):
    """A location as the ledger row recorded it."""

    unit = serializers.CharField(help_text="UIC")
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=Location.Kind.choices)


class LedgerEntrySerializer(serializers.ModelSerializer[LedgerEntry]):
    """A ledger row as it was written: later catalog changes never alter how it reads."""

    from_location = _PlaceSerializer(source="from_place", allow_null=True)
    to_location = _PlaceSerializer(source="to_place", allow_null=True)
    customer_unit = serializers.SerializerMethodField(help_text="UIC, or null")
    user = serializers.CharField(source="user.get_username")
    common_name = serializers.CharField(
        source="item.common_name",
        help_text="the item's name in today's catalog (the row's NSN is what it recorded)",
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "nsn",
            "common_name",
            "unit_of_issue",
            "from_location",
            "to_location",
            "customer_unit",
            "quantity",
            "counted",
            "document_number",
            "user",
            "subject_dn",
            "created_at",
        ]
        read_only_fields = fields

    def get_customer_unit(self, entry: LedgerEntry) -> str | None:
        return entry.customer_uic or None


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": services.MAX_QUANTITY})
class QuantityField(WholeNumberField):
    """A quantity moved: the service checks the range, the schema says what it is."""


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": services.MAX_QUANTITY})
class CountedField(WholeNumberField):
    """A quantity found by a count: zero is a count too."""


class _OperationSerializer(StrictFieldsMixin, serializers.Serializer[LedgerEntry]):
    """Common parts: the acting unit, the item and the document number; the response is the
    ledger row written."""

    unit = UicField(help_text="UIC of the unit whose locations are used")
    nsn = NsnField()
    document_number = serializers.CharField(max_length=40)

    def _location(self, unit: Unit, code: object, field: str) -> Location:
        try:
            return Location.objects.select_related("unit").get(unit=unit, code=code)
        except Location.DoesNotExist:
            raise serializers.ValidationError(
                {field: [f"No location {code!r} in unit {unit.uic}."]}
            ) from None

    @property
    def actor(self) -> services.Actor:
        return actor_of(self.context["request"])

    def to_representation(self, instance: LedgerEntry) -> dict[str, Any]:
        return LedgerEntrySerializer(instance, context=self.context).data


class ReceiptSerializer(_OperationSerializer):
    location = serializers.CharField(max_length=30, help_text="code of a location of the unit")
    quantity = QuantityField()

    def create(self, validated_data: dict[str, Any]) -> LedgerEntry:
        data = validated_data
        return services.receipt(
            actor=self.actor,
            item=data["nsn"],
            location=self._location(data["unit"], data["location"], "location"),
            quantity=data["quantity"],
            document_number=data["document_number"],
        )


class StowSerializer(_OperationSerializer):
    from_location = serializers.CharField(max_length=30)
    to_location = serializers.CharField(max_length=30)
    quantity = QuantityField()

    def create(self, validated_data: dict[str, Any]) -> LedgerEntry:
        data = validated_data
        return services.stow(
            actor=self.actor,
            item=data["nsn"],
            from_location=self._location(data["unit"], data["from_location"], "from_location"),
            to_location=self._location(data["unit"], data["to_location"], "to_location"),
            quantity=data["quantity"],
            document_number=data["document_number"],
        )


class IssueSerializer(_OperationSerializer):
    location = serializers.CharField(max_length=30)
    customer_unit = UicField(help_text="UIC of the unit receiving the items")
    quantity = QuantityField()

    def create(self, validated_data: dict[str, Any]) -> LedgerEntry:
        data = validated_data
        return services.issue(
            actor=self.actor,
            item=data["nsn"],
            location=self._location(data["unit"], data["location"], "location"),
            customer_unit=data["customer_unit"],
            quantity=data["quantity"],
            document_number=data["document_number"],
        )


class AdjustmentSerializer(_OperationSerializer):
    location = serializers.CharField(max_length=30)
    counted = CountedField(help_text="the quantity found by the inventory count")

    def create(self, validated_data: dict[str, Any]) -> LedgerEntry:
        data = validated_data
        return services.adjust(
            actor=self.actor,
            item=data["nsn"],
            location=self._location(data["unit"], data["location"], "location"),
            counted=data["counted"],
            document_number=data["document_number"],
        )
