"""Django admin for stock, the ledger and stored idempotent responses. All are read-only here:
stock changes only through the services (which write the ledger), ledger rows are never edited, and
a stored response is what a retry must get back (expired ones are purged by
`supply purge-idempotency-keys`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from supply.inventory.models import IdempotencyRecord, LedgerEntry, Stock


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Stock)
class StockAdmin(ReadOnlyAdmin):
    list_display = ["item", "location", "on_hand"]
    search_fields = ["item__nsn", "item__common_name", "location__code", "location__unit__uic"]
    list_select_related = ["item", "location__unit"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "kind",
        "item",
        "from_location",
        "to_location",
        "customer_unit",
        "quantity",
        "document_number",
        "user",
        "subject_dn",
    ]
    list_filter = ["kind"]
    search_fields = ["document_number", "item__nsn", "user__username", "subject_dn"]
    list_select_related = [
        "item",
        "from_location__unit",
        "to_location__unit",
        "customer_unit",
        "user",
    ]
    date_hierarchy = "created_at"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "key", "method", "path", "status_code"]
    search_fields = ["key", "user__username", "path"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
