"""`supply check-ledger`: exit 1 when any stock row differs from its ledger sum, or when a ledger
row no longer reads through the catalog as it was written."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from supply.commands import SupplyCommand
from supply.inventory.ledger import find_drift, find_rewritten


class Command(SupplyCommand):
    help = (
        "Recompute on-hand from the ledger and compare each ledger row with the catalog rows it "
        "names; exit non-zero on any drift."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        drift = find_drift()
        rewritten = find_rewritten()
        for entry in drift:
            self.stderr.write(f"drift: {entry}")
        for row in rewritten:
            self.stderr.write(f"rewritten: {row}")
        problems = []
        if drift:
            problems.append(f"{len(drift)} stock row(s) disagree with the ledger")
        if rewritten:
            problems.append(
                f"{len(rewritten)} ledger reference(s) no longer read as recorded "
                "(a catalog row was changed outside the service)"
            )
        if problems:
            raise CommandError("ledger: " + "; ".join(problems) + ".")
        self.stdout.write(
            "ledger consistent: every stock row equals its ledger sum, and every ledger row "
            "reads as it was written."
        )
