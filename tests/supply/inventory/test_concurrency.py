"""Concurrent operations on PostgreSQL: workers with their own connections, released together by a
barrier. No lost update, no negative stock, on-hand equals the ledger, crossing stows finish."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from supply.errors import InsufficientStock
from supply.inventory import services
from supply.inventory.ledger import find_drift
from supply.inventory.models import LedgerEntry, Stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8
JOIN_TIMEOUT = 60.0


def run_together(jobs: list[Callable[[], object]]) -> list[object]:
    """Run each job in its own thread (own DB connection), all released at once; returns each
    job's result or the exception it raised."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    results: list[object] = [None] * len(jobs)

    def work(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker is stuck (deadlock?)"
    return results


def on_hand(item, location) -> int:
    return Stock.objects.get(item=item, location=location).on_hand


@pytest.mark.parametrize("quantity", [3, 7])
def test_concurrent_issues_never_oversell(site, quantity):
    start = 20
    site.receive(start)
    actor = services.Actor(site.loader)

    def issue() -> object:
        return services.issue(
            actor=actor,
            item=site.item,
            location=site.receiving,
            customer_unit=site.customer,
            quantity=quantity,
            document_number="RACE",
        )

    results = run_together([issue] * WORKERS)
    successes = [r for r in results if isinstance(r, LedgerEntry)]
    refusals = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(successes) + len(refusals) == WORKERS, results
    assert len(successes) == start // quantity
    assert on_hand(site.item, site.receiving) == start - len(successes) * quantity >= 0
    assert find_drift() == []


def test_concurrent_receipts_lose_no_update(site):
    actor = services.Actor(site.loader)

    def receive() -> object:
        return services.receipt(
            actor=actor, item=site.item, location=site.bin_a, quantity=2, document_number="R"
        )

    results = run_together([receive] * WORKERS)
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert on_hand(site.item, site.bin_a) == 2 * WORKERS
    assert find_drift() == []


def test_crossing_stows_finish_without_deadlock(site):
    site.receive(100, location=site.bin_a)
    site.receive(100, location=site.bin_b)
    actor = services.Actor(site.loader)

    def stow(source, target) -> Callable[[], object]:
        return lambda: services.stow(
            actor=actor,
            item=site.item,
            from_location=source,
            to_location=target,
            quantity=1,
            document_number="X",
        )

    jobs = [stow(site.bin_a, site.bin_b), stow(site.bin_b, site.bin_a)] * (WORKERS // 2)
    for _ in range(3):  # a few rounds: a lock-order bug shows up as a deadlock error
        results = run_together(jobs)
        assert all(isinstance(r, LedgerEntry) for r in results), results
    assert on_hand(site.item, site.bin_a) + on_hand(site.item, site.bin_b) == 200
    assert on_hand(site.item, site.bin_a) == 100
    assert find_drift() == []


def test_first_receipts_into_an_empty_location_create_one_stock_row(site):
    actor = services.Actor(site.loader)

    def receive() -> object:
        return services.receipt(
            actor=actor, item=site.other_item, location=site.bin_b, quantity=1, document_number="R"
        )

    results = run_together([receive] * WORKERS)
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert Stock.objects.filter(item=site.other_item, location=site.bin_b).count() == 1
    assert on_hand(site.other_item, site.bin_b) == WORKERS
