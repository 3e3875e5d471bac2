"""Every list page costs the same number of queries whatever its size (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supply.catalog.models import Allowance, Item, Location, UnitOfIssue
from supply.inventory import services
from supply.inventory.models import LedgerEntry, Stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_site(site):
    ea = UnitOfIssue.objects.get(code="EA")
    items = Item.objects.bulk_create(
        [
            Item(nsn=f"5340{n:09d}", fsc="5340", common_name=f"Part {n}", price=1, unit_of_issue=ea)
            for n in range(110)
        ]
    )
    bins = Location.objects.bulk_create(
        [Location(unit=site.unit, code=f"B-{n:03d}") for n in range(110)]
    )
    pairs = list(zip(items, bins, strict=True))
    # Rows straight in bulk (the services are tested elsewhere); these only fill pages.
    Stock.objects.bulk_create([Stock(item=i, location=loc, on_hand=1) for i, loc in pairs])
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                kind="RECEIPT",
                item=i,
                to_location=loc,
                quantity=1,
                document_number="Q",
                user=site.loader,
            )
            for i, loc in pairs
        ]
    )
    Allowance.objects.bulk_create(
        [Allowance(unit=site.unit, item=i, allowance=10, reorder_point=5) for i, _ in pairs]
    )
    actor = services.Actor(site.loader)
    services.issue(
        actor=actor,
        item=items[0],
        location=bins[0],
        customer_unit=site.customer,
        quantity=1,
        document_number="Q",
    )
    services.stow(
        actor=actor,
        item=items[1],
        from_location=bins[1],
        to_location=bins[2],
        quantity=1,
        document_number="Q",
    )
    return site


@pytest.mark.parametrize(
    "url",
    [
        "/supply/api/items/",
        "/supply/api/locations/",
        "/supply/api/allowances/",
        "/supply/api/stock/",
        "/supply/api/stock/below-reorder-point/",
        "/supply/api/transactions/",
    ],
)
def test_list_query_count_does_not_grow_with_page_size(
    busy_site, make_user, url, django_assert_num_queries
):
    from rest_framework.test import APIClient

    user = make_user("viewer")

    def client() -> APIClient:
        # A fresh user object per request, as authentication gives in production (no role cache).
        fresh = APIClient()
        fresh.force_authenticate(type(user).objects.get(pk=user.pk))
        return fresh

    def queries_for(page_size: int) -> int:
        api = client()
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url, {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        return len(captured)

    small = queries_for(10)
    api = client()
    with django_assert_num_queries(small):
        response = api.get(url, {"page_size": 100})
    assert len(response.json()["results"]) == 100
    # roles + count + page; a fixed handful, whatever the page holds
    assert small <= 4
