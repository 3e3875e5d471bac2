"""`supply load-demo`: the demo catalog, units, locations and stock (supply.inventory.demo_data)."""

from __future__ import annotations

from typing import Any

from supply.commands import SupplyCommand
from supply.inventory.demo_data import DEMO_UNIT, load_demo_stock


class Command(SupplyCommand):
    help = "Load the demo catalog, a demo unit with a receiving area and bins, and demo stock."

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_demo_stock()
        self.stdout.write(
            f"demo loaded: {result.items} catalog item(s), unit {DEMO_UNIT[0]}, "
            f"{result.ledger_rows} demo ledger row(s)."
        )
