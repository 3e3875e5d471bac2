"""`supply purge-idempotency-keys`: delete stored Idempotency-Key responses past their TTL."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from supply.commands import SupplyCommand
from supply.idempotency.keys import purge_expired


class Command(SupplyCommand):
    help = "Delete Idempotency-Key records older than SUPPLY_IDEMPOTENCY_DAYS (default 7)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired(settings.SUPPLY_IDEMPOTENCY_TTL)
        self.stdout.write(f"purged {deleted} expired idempotency record(s).")
