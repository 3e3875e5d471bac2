"""Django admin for the reference data."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from supply.catalog import history
from supply.catalog.models import Allowance, Item, Location, Unit, UnitOfIssue
from supply.errors import HistoryFrozen


class HistoryGuardForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's side of supply.catalog.history: the refusal shows on the form."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        try:
            history.check_change(self.instance, changes)
        except HistoryFrozen as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


@admin.register(UnitOfIssue)
class UnitOfIssueAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = HistoryGuardForm
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = HistoryGuardForm
    list_display = ["uic", "name"]
    search_fields = ["uic", "name"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = HistoryGuardForm
    list_display = ["nsn", "common_name", "fsc", "unit_of_issue", "price", "aac"]
    list_filter = ["unit_of_issue", "aac"]
    search_fields = ["nsn", "common_name", "description"]
    readonly_fields = ["fsc"]
    list_select_related = ["unit_of_issue"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = HistoryGuardForm
    list_display = ["unit", "code", "kind", "description"]
    list_filter = ["kind"]
    search_fields = ["code", "unit__uic"]
    list_select_related = ["unit"]


@admin.register(Allowance)
class AllowanceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["unit", "item", "allowance", "reorder_point"]
    search_fields = ["unit__uic", "item__nsn", "item__common_name"]
    list_select_related = ["unit", "item"]
    autocomplete_fields = ["unit", "item"]
