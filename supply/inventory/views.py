"""Stock and ledger endpoints, and the four operations. Views choose a serializer and the roles
that may write; the serializers call the services."""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from supply.api.permissions import HasRole
from supply.catalog.models import Allowance
from supply.idempotency import keys as idempotency
from supply.identity.roles import CLERK, ISSUER, MANAGER
from supply.inventory import filters, serializers
from supply.inventory.models import LedgerEntry, Stock


class StockViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """On-hand stock per item and location."""

    permission_classes = [HasRole]
    queryset = Stock.objects.select_related("item", "location__unit")
    serializer_class = serializers.StockSerializer
    filterset_class = filters.StockFilter
    search_fields = ["item__nsn", "item__common_name"]
    ordering_fields = ["on_hand", "item__nsn", "location__code"]
    lookup_value_regex = r"[0-9]+"


class ReorderReportViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Allowances whose unit holds less than the reorder point (all its locations together)."""

    permission_classes = [HasRole]
    serializer_class = serializers.ReorderLineSerializer
    filterset_fields = {"unit__uic": ["exact"], "item__nsn": ["exact"]}

    def get_queryset(self) -> QuerySet[Allowance]:
        on_hand = (
            Stock.objects.filter(item=OuterRef("item"), location__unit=OuterRef("unit"))
            .order_by()
            .values("item")
            .annotate(total=Sum("on_hand"))
            .values("total")
        )
        return (
            Allowance.objects.select_related("unit", "item")
            .annotate(on_hand=Coalesce(Subquery(on_hand), Value(0)))
            .filter(on_hand__lt=F("reorder_point"))
            .order_by("unit__uic", "item__nsn")
        )


class LedgerViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """The append-only ledger, newest first."""

    permission_classes = [HasRole]
    # Rows carry what they mean as written; the user and the item's current name are joined.
    queryset = LedgerEntry.objects.select_related("user", "item")
    serializer_class = serializers.LedgerEntrySerializer
    filterset_class = filters.LedgerFilter
    search_fields = ["document_number", "nsn", "item__common_name"]
    ordering_fields = ["id", "created_at"]


class OperationViewSet(
    idempotency.IdempotentCreateMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """POST only; honours Idempotency-Key (see supply.idempotency.keys)."""

    permission_classes = [HasRole]
    write_roles: tuple[str, ...] = ()

    @extend_schema(
        parameters=[idempotency.HEADER_PARAMETER],
        responses={201: serializers.LedgerEntrySerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)


class ReceiptViewSet(OperationViewSet):
    """Receive stock into a location of a unit (clerk)."""

    serializer_class = serializers.ReceiptSerializer
    write_roles = (CLERK,)


class StowViewSet(OperationViewSet):
    """Move stock between two locations of a unit (clerk)."""

    serializer_class = serializers.StowSerializer
    write_roles = (CLERK,)


class IssueViewSet(OperationViewSet):
    """Issue stock out of a location to a customer unit (issuer)."""

    serializer_class = serializers.IssueSerializer
    write_roles = (ISSUER,)


class AdjustmentViewSet(OperationViewSet):
    """Set on-hand to an inventory count (manager)."""

    serializer_class = serializers.AdjustmentSerializer
    write_roles = (MANAGER,)
