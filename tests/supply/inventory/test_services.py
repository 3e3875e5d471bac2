"""The stock services against a real database: each operation, its ledger row, the rules, and the
database's own guarantees (CHECK constraint, append-only ledger)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from supply.errors import AppendOnlyError, InsufficientStock, SupplyError
from supply.inventory import services
from supply.inventory.ledger import find_drift
from supply.inventory.models import LedgerEntry, Stock

pytestmark = pytest.mark.django_db


def on_hand(site, location, item=None) -> int:
    row = Stock.objects.filter(item=item or site.item, location=location).first()
    return row.on_hand if row else 0


def actor(site, dn: str = "") -> services.Actor:
    return services.Actor(site.loader, dn)


def test_receipt_adds_stock_and_writes_one_ledger_row(site):
    entry = services.receipt(
        actor=actor(site, "CN=Jane Doe,O=Army"),
        item=site.item,
        location=site.receiving,
        quantity=7,
        document_number=" W1AAAA-0001 ",
    )
    assert on_hand(site, site.receiving) == 7
    assert LedgerEntry.objects.count() == 1
    assert (entry.kind, entry.quantity, entry.to_location, entry.from_location) == (
        "RECEIPT",
        7,
        site.receiving,
        None,
    )
    assert (entry.user, entry.subject_dn, entry.document_number) == (
        site.loader,
        "CN=Jane Doe,O=Army",
        "W1AAAA-0001",
    )


def test_stow_moves_between_locations_of_the_unit(site):
    site.receive(10)
    entry = services.stow(
        actor=actor(site),
        item=site.item,
        from_location=site.receiving,
        to_location=site.bin_a,
        quantity=4,
        document_number="S1",
    )
    assert (on_hand(site, site.receiving), on_hand(site, site.bin_a)) == (6, 4)
    assert (entry.kind, entry.from_location, entry.to_location) == (
        "STOW",
        site.receiving,
        site.bin_a,
    )


def test_issue_takes_stock_out_to_the_customer(site):
    site.receive(10)
    entry = services.issue(
        actor=actor(site),
        item=site.item,
        location=site.receiving,
        customer_unit=site.customer,
        quantity=10,
        document_number="I1",
    )
    assert on_hand(site, site.receiving) == 0
    assert (entry.kind, entry.customer_unit, entry.quantity) == ("ISSUE", site.customer, 10)


@pytest.mark.parametrize(("counted", "delta"), [(3, -7), (10, 0), (15, 5), (0, -10)])
def test_adjustment_sets_on_hand_and_records_the_signed_change(site, counted, delta):
    site.receive(10)
    entry = services.adjust(
        actor=actor(site),
        item=site.item,
        location=site.receiving,
        counted=counted,
        document_number="C1",
    )
    assert on_hand(site, site.receiving) == counted
    assert (entry.kind, entry.quantity, entry.counted) == ("ADJUSTMENT", delta, counted)
    assert find_drift() == []


def test_issue_more_than_on_hand_is_refused_and_changes_nothing(site):
    site.receive(5)
    with pytest.raises(InsufficientStock) as caught:
        services.issue(
            actor=actor(site),
            item=site.item,
            location=site.receiving,
            customer_unit=site.customer,
            quantity=6,
            document_number="I1",
        )
    assert caught.value.message == (
        "stock: Only 5 of 6505013324567 on hand at W1AAAA/RECV, 6 requested."
    )
    assert caught.value.status_code == 409
    assert on_hand(site, site.receiving) == 5
    assert LedgerEntry.objects.count() == 1


def test_issue_from_a_location_that_never_held_the_item_is_refused(site):
    with pytest.raises(InsufficientStock, match="stock: Only 0 of 6505013324567"):
        services.issue(
            actor=actor(site),
            item=site.item,
            location=site.bin_b,
            customer_unit=site.customer,
            quantity=1,
            document_number="I1",
        )
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "quantity: Must be from 1 to 1000000, not 0."),
        (-3, "quantity: Must be from 1 to 1000000, not -3."),
        (10**12, "quantity: Must be from 1 to 1000000, not 1000000000000."),
        (True, "quantity: Must be a whole number."),
        (2.5, "quantity: Must be a whole number."),
    ],
)
def test_receipt_quantity_rules(site, quantity, message):
    with pytest.raises(SupplyError) as caught:
        services.receipt(
            actor=actor(site),
            item=site.item,
            location=site.receiving,
            quantity=quantity,
            document_number="R",
        )
    assert caught.value.message == message
    assert LedgerEntry.objects.count() == 0


def test_stow_rules(site):
    site.receive(5)
    with pytest.raises(SupplyError) as same:
        services.stow(
            actor=actor(site),
            item=site.item,
            from_location=site.receiving,
            to_location=site.receiving,
            quantity=1,
            document_number="S",
        )
    assert same.value.message == "to_location: Must differ from from_location."
    with pytest.raises(SupplyError) as foreign:
        services.stow(
            actor=actor(site),
            item=site.item,
            from_location=site.receiving,
            to_location=site.foreign_bin,
            quantity=1,
            document_number="S",
        )
    assert (
        foreign.value.message
        == "to_location: W2BBBB/Z-99 does not belong to the unit of W1AAAA/RECV."
    )
    assert LedgerEntry.objects.count() == 1


def test_blank_document_number_is_refused(site):
    with pytest.raises(SupplyError, match=r"^document_number: Must not be blank\.$"):
        services.receipt(
            actor=actor(site),
            item=site.item,
            location=site.receiving,
            quantity=1,
            document_number="  ",
        )


def test_ledger_rows_cannot_be_changed_or_deleted(site):
    entry = site.receive(3)
    entry.quantity = 300
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(quantity=300)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.quantity == 3


def test_database_refuses_negative_stock(site):
    site.receive(2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(item=site.item, location=site.receiving).update(on_hand=-1)
    assert on_hand(site, site.receiving) == 2


def test_ledger_sum_matches_stock_after_a_mix_of_operations(site):
    site.receive(50)
    site.receive(5, item=site.other_item)
    a = actor(site)
    services.stow(
        actor=a,
        item=site.item,
        from_location=site.receiving,
        to_location=site.bin_a,
        quantity=20,
        document_number="S",
    )
    services.stow(
        actor=a,
        item=site.item,
        from_location=site.bin_a,
        to_location=site.bin_b,
        quantity=5,
        document_number="S",
    )
    services.issue(
        actor=a,
        item=site.item,
        location=site.bin_b,
        customer_unit=site.customer,
        quantity=5,
        document_number="I",
    )
    services.adjust(actor=a, item=site.item, location=site.bin_a, counted=14, document_number="C")
    assert [on_hand(site, loc) for loc in (site.receiving, site.bin_a, site.bin_b)] == [30, 14, 0]
    assert find_drift() == []


def test_returned_ledger_rows_match_the_stored_rows(site):
    """The services write ledger rows with their own INSERT; what they return must be exactly
    what the database holds, field by field, and every column of the model must be written."""
    site.receive(10)
    entries = [
        services.receipt(
            actor=actor(site, "CN=R"),
            item=site.item,
            location=site.bin_a,
            quantity=2,
            document_number="R1",
        ),
        services.stow(
            actor=actor(site),
            item=site.item,
            from_location=site.receiving,
            to_location=site.bin_b,
            quantity=3,
            document_number="S1",
        ),
        services.issue(
            actor=actor(site, "CN=I"),
            item=site.item,
            location=site.bin_b,
            customer_unit=site.customer,
            quantity=1,
            document_number="I1",
        ),
        services.adjust(
            actor=actor(site), item=site.item, location=site.bin_a, counted=1, document_number="A1"
        ),
    ]
    fields = [f.attname for f in LedgerEntry._meta.concrete_fields]
    for entry in entries:
        stored = LedgerEntry.objects.get(pk=entry.pk)
        assert [getattr(entry, f) for f in fields] == [getattr(stored, f) for f in fields]
        assert not entry._state.adding
    assert [e.kind for e in entries] == ["RECEIPT", "STOW", "ISSUE", "ADJUSTMENT"]
    assert (entries[3].quantity, entries[3].counted) == (-1, 1)
    written = {f.column for f in LedgerEntry._meta.concrete_fields if not f.primary_key}
    assert written == set(services._ENTRY_COLUMNS)


def test_a_long_certificate_dn_is_recorded_whole(site):
    """A certificate of another CA may carry a DN of any length (was varchar(1000): a DataError on
    PostgreSQL, while SQLite stored it)."""
    dn = ",".join(f"OU=Unit {n:04d} of a long chain of command" for n in range(40))
    assert len(dn) > 1000
    entry = services.receipt(
        actor=actor(site, dn),
        item=site.item,
        location=site.receiving,
        quantity=1,
        document_number="LONG-DN",
    )
    assert LedgerEntry.objects.get(pk=entry.pk).subject_dn == dn
