"""Stock operations. Each is one atomic function that locks the stock rows it changes, changes them,
and appends its ledger row; every caller (API, commands, demo) goes through here.

Concurrency (PostgreSQL): the stock rows an operation touches are locked with SELECT ... FOR UPDATE
in one fixed order (item id, location id), so two stows crossing between the same bins wait for
each other instead of deadlocking; a missing destination row is then inserted
(INSERT ... ON CONFLICT DO NOTHING) and locked. Decrements are conditional UPDATEs
(`on_hand >= quantity`) on top of the lock; an issue touches one row, so its conditional UPDATE is
the lock. The CHECK constraint `on_hand >= 0` is the last line. On SQLite the settings open write
transactions with BEGIN IMMEDIATE, which serializes writers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from supply.catalog.models import Item, Location, Unit
from supply.errors import InsufficientStock, SupplyError
from supply.inventory.models import LedgerEntry, Stock
from supply.text import unstorable

MAX_QUANTITY = 1_000_000
"""The largest quantity one operation may move: a typo guard far above any real shipment."""


@dataclass(frozen=True)
class Actor:
    """Who performs an operation: the user, and the certificate subject DN when there is one."""

    user: User
    subject_dn: str = ""


def _check_quantity(quantity: object, name: str = "quantity", minimum: int = 1) -> int:
    # bool is an int subclass; True must not mean 1.
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise SupplyError(f"{name}: Must be a whole number.")
    if not minimum <= quantity <= MAX_QUANTITY:
        raise SupplyError(f"{name}: Must be from {minimum} to {MAX_QUANTITY}, not {quantity}.")
    return quantity


def _check_document_number(document_number: str) -> str:
    cleaned = document_number.strip()
    if not cleaned:
        raise SupplyError("document_number: Must not be blank.")
    if len(cleaned) > 40:
        raise SupplyError("document_number: Must be at most 40 characters.")
    why = unstorable(cleaned)
    if why:
        raise SupplyError(f"document_number: It {why}.")
    return cleaned


@dataclass
class _Locked:
    """A locked stock row: its id and on-hand as read under the lock."""

    pk: int
    on_hand: int


def _lock_stock(
    item: Item, locations: Iterable[Location], *, create: Location | None = None
) -> dict[int, _Locked]:
    """Lock the existing stock rows of `item` at `locations` (in location id order); then, when
    the row at `create` does not exist yet, insert and lock it too. Sources are never created: no
    row, no stock."""
    location_ids = sorted({loc.pk for loc in locations})
    rows = _select_for_update(item, location_ids)
    if create is not None and create.pk not in rows:
        # Rows only appear here after this transaction holds its existing rows' locks, and only
        # at a destination, so a waiter never holds a row that the holder still needs.
        Stock.objects.bulk_create(
            [Stock(item=item, location_id=create.pk, on_hand=0)], ignore_conflicts=True
        )
        rows = _select_for_update(item, location_ids)
    return rows


def _select_for_update(item: Item, location_ids: list[int]) -> dict[int, _Locked]:
    rows = (
        Stock.objects.select_for_update()
        .filter(item_id=item.pk, location_id__in=location_ids)
        .order_by("item_id", "location_id")
        .values_list("location_id", "pk", "on_hand")
    )
    return {location_id: _Locked(pk, on_hand) for location_id, pk, on_hand in rows}


def _add(row: _Locked, quantity: int) -> None:
    Stock.objects.filter(pk=row.pk).update(on_hand=F("on_hand") + quantity)
    row.on_hand += quantity


def _take(row: _Locked | None, item: Item, location: Location, quantity: int) -> None:
    taken = row is not None and bool(
        Stock.objects.filter(pk=row.pk, on_hand__gte=quantity).update(
            on_hand=F("on_hand") - quantity
        )
    )
    if row is None or not taken:
        raise InsufficientStock(
            f"stock: Only {row.on_hand if row else 0} of {item.nsn} on hand at "
            f"{location}, {quantity} requested."
        )
    row.on_hand -= quantity


_TAKE_SQL = (
    "UPDATE inventory_stock SET on_hand = on_hand - %s "
    "WHERE item_id = %s AND location_id = %s AND on_hand >= %s"
)


def _take_one(item: Item, location: Location, quantity: int) -> None:
    """Take from a single row with one conditional UPDATE and no SELECT ... FOR UPDATE first: the
    UPDATE locks the row itself, and PostgreSQL (READ COMMITTED) re-evaluates `on_hand >= quantity`
    on the newest row version after waiting for a concurrent writer, so it can neither lose an
    update nor go negative. One lock means no lock-ordering question either.

    The statement is written out rather than built by the ORM: an issue is the hot path, and
    building this UPDATE with QuerySet.update() cost several times the CPU of running it (the
    issue benchmark, 8 clients on 2 cores, is CPU-bound)."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL, [quantity, item.pk, location.pk, quantity])
        taken = cursor.rowcount == 1
    if not taken:
        stock = Stock.objects.filter(item_id=item.pk, location_id=location.pk)
        on_hand = stock.values_list("on_hand", flat=True).first() or 0
        raise InsufficientStock(
            f"stock: Only {on_hand} of {item.nsn} on hand at {location}, {quantity} requested."
        )


_ENTRY_COLUMNS = (
    "kind",
    "item_id",
    "nsn",
    "unit_of_issue",
    "from_location_id",
    "from_uic",
    "from_code",
    "from_kind",
    "to_location_id",
    "to_uic",
    "to_code",
    "to_kind",
    "customer_unit_id",
    "customer_uic",
    "quantity",
    "counted",
    "document_number",
    "user_id",
    "subject_dn",
    "created_at",
)
# Built from the fixed column tuple above, never from input.
_ENTRY_SQL = (
    f"INSERT INTO inventory_ledgerentry ({', '.join(_ENTRY_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_ENTRY_COLUMNS))}) RETURNING id"
)


def _place(location: Location | None) -> dict[str, str]:
    if location is None:
        return {"uic": "", "code": "", "kind": ""}
    return {"uic": location.unit.uic, "code": location.code, "kind": location.kind}


def _entry(
    actor: Actor,
    *,
    item: Item,
    from_location: Location | None = None,
    to_location: Location | None = None,
    customer_unit: Unit | None = None,
    **fields: object,
) -> LedgerEntry:
    """Append one ledger row, with what it means as of now (NSN, unit of issue, each location's
    unit, code and kind, the customer's UIC), and return it as a saved model instance.

    Written out for the same reason as `_TAKE_SQL`: Model.save() cost about four times the CPU of
    the INSERT itself. The model still guards against edits and deletes; the CHECK constraints and
    foreign keys are the database's."""
    source, destination = _place(from_location), _place(to_location)
    entry = LedgerEntry(
        user=actor.user,
        subject_dn=actor.subject_dn,
        created_at=timezone.now(),
        item=item,
        nsn=item.nsn,
        unit_of_issue=item.unit_of_issue_id,
        from_location=from_location,
        from_uic=source["uic"],
        from_code=source["code"],
        from_kind=source["kind"],
        to_location=to_location,
        to_uic=destination["uic"],
        to_code=destination["code"],
        to_kind=destination["kind"],
        customer_unit=customer_unit,
        customer_uic=customer_unit.uic if customer_unit else "",
        **fields,
    )
    values = [getattr(entry, column) for column in _ENTRY_COLUMNS]
    values[-1] = connection.ops.adapt_datetimefield_value(entry.created_at)
    with connection.cursor() as cursor:
        cursor.execute(_ENTRY_SQL, values)
        (entry.pk,) = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def receipt(
    *, actor: Actor, item: Item, location: Location, quantity: int, document_number: str
) -> LedgerEntry:
    """Receive `quantity` of `item` into `location` (usually the unit's receiving area)."""
    quantity = _check_quantity(quantity)
    document_number = _check_document_number(document_number)
    with transaction.atomic():
        rows = _lock_stock(item, [location], create=location)
        _add(rows[location.pk], quantity)
        return _entry(
            actor,
            kind=LedgerEntry.Kind.RECEIPT,
            item=item,
            to_location=location,
            quantity=quantity,
            document_number=document_number,
        )


def stow(
    *,
    actor: Actor,
    item: Item,
    from_location: Location,
    to_location: Location,
    quantity: int,
    document_number: str,
) -> LedgerEntry:
    """Move `quantity` of `item` between two locations of the same unit."""
    quantity = _check_quantity(quantity)
    document_number = _check_document_number(document_number)
    if from_location.pk == to_location.pk:
        raise SupplyError("to_location: Must differ from from_location.")
    if from_location.unit_id != to_location.unit_id:
        raise SupplyError(
            f"to_location: {to_location} does not belong to the unit of {from_location}."
        )
    with transaction.atomic():
        rows = _lock_stock(item, [from_location, to_location], create=to_location)
        _take(rows.get(from_location.pk), item, from_location, quantity)
        _add(rows[to_location.pk], quantity)
        return _entry(
            actor,
            kind=LedgerEntry.Kind.STOW,
            item=item,
            from_location=from_location,
            to_location=to_location,
            quantity=quantity,
            document_number=document_number,
        )


def issue(
    *,
    actor: Actor,
    item: Item,
    location: Location,
    customer_unit: Unit,
    quantity: int,
    document_number: str,
) -> LedgerEntry:
    """Issue `quantity` of `item` out of `location` to `customer_unit`."""
    quantity = _check_quantity(quantity)
    document_number = _check_document_number(document_number)
    with transaction.atomic():
        _take_one(item, location, quantity)
        return _entry(
            actor,
            kind=LedgerEntry.Kind.ISSUE,
            item=item,
            from_location=location,
            customer_unit=customer_unit,
            quantity=quantity,
            document_number=document_number,
        )


def adjust(
    *, actor: Actor, item: Item, location: Location, counted: int, document_number: str
) -> LedgerEntry:
    """Record an inventory count: on-hand becomes `counted`; the ledger row holds the signed
    change (zero when the count confirms the books)."""
    counted = _check_quantity(counted, name="counted", minimum=0)
    document_number = _check_document_number(document_number)
    with transaction.atomic():
        row = _lock_stock(item, [location], create=location)[location.pk]
        delta = counted - row.on_hand
        Stock.objects.filter(pk=row.pk).update(on_hand=counted)
        row.on_hand = counted
        return _entry(
            actor,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            item=item,
            to_location=location,
            quantity=delta,
            counted=counted,
            document_number=document_number,
        )
