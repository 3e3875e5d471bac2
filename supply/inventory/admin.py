"""Django admin for stock and the ledger. Both are read-only here: stock changes only through the
services (which write the ledger), and ledger rows are never edited."""

from __future__ import annotations

from django.contrib import admin

from supply.admin import ReadOnlyAdmin
from supply.inventory.models import LedgerEntry, Stock


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
