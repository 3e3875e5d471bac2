"""Recompute on-hand from the ledger and compare it with the stock table (`supply check-ledger`).

A ledger row adds to its `to_location` (RECEIPT, STOW, and the signed ADJUSTMENT change) and takes
from its `from_location` (STOW, ISSUE).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from supply.catalog.models import Item, Location
from supply.inventory.models import LedgerEntry, Stock


@dataclass(frozen=True)
class Drift:
    """A (item, location) whose stock row disagrees with its ledger sum."""

    nsn: str
    location: str
    on_hand: int
    ledger_sum: int

    def __str__(self) -> str:
        return (
            f"{self.nsn} at {self.location}: on hand {self.on_hand}, ledger says {self.ledger_sum}"
        )


def ledger_sums() -> dict[tuple[int, int], int]:
    """On-hand per (item id, location id) as the ledger explains it (two grouped queries)."""
    sums: dict[tuple[int, int], int] = defaultdict(int)
    inflows = (
        LedgerEntry.objects.filter(to_location__isnull=False)
        .order_by()
        .values_list("item_id", "to_location_id")
        .annotate(total=Sum("quantity"))
    )
    for item_id, location_id, total in inflows:
        sums[(item_id, location_id)] += total
    outflows = (
        LedgerEntry.objects.filter(from_location__isnull=False)
        .order_by()
        .values_list("item_id", "from_location_id")
        .annotate(total=Sum("quantity"))
    )
    for item_id, location_id, total in outflows:
        sums[(item_id, location_id)] -= total
    return dict(sums)


def find_drift() -> list[Drift]:
    """Every (item, location) where the stock table and the ledger disagree, in a stable order."""
    expected = ledger_sums()
    actual = {
        (item_id, location_id): on_hand
        for item_id, location_id, on_hand in Stock.objects.order_by().values_list(
            "item_id", "location_id", "on_hand"
        )
    }
    keys = [
        key
        for key in sorted(expected.keys() | actual.keys())
        if actual.get(key, 0) != expected.get(key, 0)
    ]
    nsns = dict(Item.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "nsn"))
    locations = {
        loc.pk: str(loc)
        for loc in Location.objects.filter(pk__in={k[1] for k in keys}).select_related("unit")
    }
    return [
        Drift(nsns[item_id], locations[location_id], actual.get(key, 0), expected.get(key, 0))
        for key in keys
        for item_id, location_id in [key]
    ]
