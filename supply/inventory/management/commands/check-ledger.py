"""`supply check-ledger`: exit 1 when any stock row differs from its ledger sum."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supply.inventory.ledger import find_drift


class Command(BaseCommand):
    help = "Recompute on-hand from the ledger; exit non-zero on any drift."

    def handle(self, *args: Any, **options: Any) -> None:
        drift = find_drift()
        for entry in drift:
            self.stderr.write(f"drift: {entry}")
        if drift:
            raise CommandError(f"{len(drift)} stock row(s) disagree with the ledger.")
        self.stdout.write("ledger consistent: every stock row equals its ledger sum.")
