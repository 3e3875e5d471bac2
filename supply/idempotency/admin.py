"""Django admin for stored idempotent responses, read-only: a stored response is what a retry must
get back (expired ones are purged by `supply purge-idempotency-keys`)."""

from __future__ import annotations

from django.contrib import admin

from supply.admin import ReadOnlyAdmin
from supply.idempotency.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "key", "method", "path", "status_code"]
    search_fields = ["key", "user__username", "path"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
