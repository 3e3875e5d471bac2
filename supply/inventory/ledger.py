"""The two checks of `supply check-ledger`: on-hand recomputed from the ledger against the stock
table, and each ledger row's record of what it meant (NSN, unit of issue, locations, customer)
against the catalog rows it refers to.

A ledger row adds to its `to_location` (RECEIPT, STOW, and the signed ADJUSTMENT change) and takes
from its `from_location` (STOW, ISSUE).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Q, Sum

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


@dataclass(frozen=True)
class Rewritten:
    """A ledger row whose catalog references no longer read as the row recorded them."""

    entry_id: int
    kind: str
    field: str
    recorded: str
    now: str

    def __str__(self) -> str:
        return (
            f"ledger #{self.entry_id} ({self.kind}): {self.field} recorded {self.recorded}, "
            f"now {self.now}"
        )


# (what the API calls it, the recorded columns, the catalog paths they must still equal)
_RECORDED = (
    ("nsn", ("nsn",), ("item__nsn",)),
    ("unit_of_issue", ("unit_of_issue",), ("item__unit_of_issue_id",)),
    (
        "from_location",
        ("from_uic", "from_code", "from_kind"),
        ("from_location__unit__uic", "from_location__code", "from_location__kind"),
    ),
    (
        "to_location",
        ("to_uic", "to_code", "to_kind"),
        ("to_location__unit__uic", "to_location__code", "to_location__kind"),
    ),
    ("customer_unit", ("customer_uic",), ("customer_unit__uic",)),
)


def _shown(values: tuple[object, ...]) -> str:
    if len(values) == 3:
        return f"{values[0]}/{values[1]} ({values[2]})"
    return str(values[0])


def find_rewritten() -> list[Rewritten]:
    """Every ledger row that reads differently through its foreign keys than it was written (a
    catalog change made behind the service's back), oldest first. One query; only differing rows
    come back."""
    differs = Q()
    for _name, recorded, paths in _RECORDED:
        for column, path in zip(recorded, paths, strict=True):
            # A null reference (no from_location) makes F(path) NULL: skipped by the isnull test.
            differs |= Q(**{f"{path.rsplit('__', 1)[0]}__isnull": False}) & ~Q(**{column: F(path)})
    columns = [c for _n, recorded, paths in _RECORDED for c in (*recorded, *paths)]
    rows = LedgerEntry.objects.filter(differs).order_by("id").values_list("id", "kind", *columns)
    found: list[Rewritten] = []
    for entry_id, kind, *values in rows:
        at = 0
        for name, recorded, _paths in _RECORDED:
            width = len(recorded)
            was, now = tuple(values[at : at + width]), tuple(values[at + width : at + 2 * width])
            at += 2 * width
            if any(v is not None for v in now) and was != now:
                found.append(Rewritten(entry_id, kind, name, _shown(was), _shown(now)))
    return found
