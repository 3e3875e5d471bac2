"""Idempotency-Key on the operation POSTs: replay, refusal of another body, per-user scope, expiry,
failures not stored, and (on PostgreSQL) two concurrent retries applying once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from supply.catalog.models import Item
from supply.idempotency.models import IdempotencyRecord
from supply.inventory.models import LedgerEntry, Stock

BODY = {
    "unit": "W1AAAA",
    "nsn": "6505013324567",
    "location": "RECV",
    "quantity": 5,
    "document_number": "R-1",
}


def post(client, body=BODY, key="retry-1"):
    return client.post("/supply/api/receipts/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def on_hand(site) -> int:
    row = Stock.objects.filter(item=site.item, location=site.receiving).first()
    return row.on_hand if row else 0


@pytest.mark.django_db
def test_retry_with_same_key_and_body_replays_and_applies_nothing(site, client_for):
    clerk = client_for("clerk")
    first = post(clerk)
    second = post(clerk, dict(reversed(list(BODY.items()))))  # same body, other key order
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert LedgerEntry.objects.count() == 1
    assert on_hand(site) == 5


@pytest.mark.django_db
def test_same_key_with_another_body_is_422(site, client_for):
    clerk = client_for("clerk")
    post(clerk)
    response = post(clerk, {**BODY, "quantity": 6})
    assert (response.status_code, response.json()) == (
        422,
        {
            "detail": "Idempotency-Key: This key was already used for a different request; "
            "use a new key.",
            "code": "idempotency_key_reused",
        },
    )
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
def test_same_key_on_another_endpoint_is_422(site, client_for):
    user_client = client_for("clerk", "issuer")
    post(user_client)
    response = user_client.post(
        "/supply/api/issues/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "location": "RECV",
            "customer_unit": "W3CCCC",
            "quantity": 1,
            "document_number": "I",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )
    assert response.status_code == 422
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_user(site, client_for):
    assert post(client_for("clerk")).status_code == 201
    assert post(client_for("clerk")).status_code == 201
    assert LedgerEntry.objects.count() == 2
    assert on_hand(site) == 10


@pytest.mark.django_db
def test_refused_request_is_not_stored_so_a_corrected_retry_can_run(site, client_for):
    issuer = client_for("issuer")
    body = {
        "unit": "W1AAAA",
        "nsn": "6505013324567",
        "location": "RECV",
        "customer_unit": "W3CCCC",
        "quantity": 3,
        "document_number": "I",
    }
    refused = issuer.post("/supply/api/issues/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 409
    assert IdempotencyRecord.objects.count() == 0
    site.receive(3)
    retried = issuer.post("/supply/api/issues/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 201
    assert on_hand(site) == 0


@pytest.mark.django_db
def test_expired_key_runs_again_and_purge_command_deletes_old_records(site, client_for, settings):
    clerk = client_for("clerk")
    post(clerk)
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - settings.SUPPLY_IDEMPOTENCY_TTL - timedelta(minutes=1)
    )
    assert "Idempotent-Replayed" not in post(clerk).headers
    assert LedgerEntry.objects.count() == 2
    post(clerk, key="other")
    IdempotencyRecord.objects.filter(key="other").update(
        created_at=timezone.now() - timedelta(days=30)
    )
    from io import StringIO

    out = StringIO()
    call_command("purge-idempotency-keys", stdout=out)
    assert out.getvalue() == "purged 1 expired idempotency record(s).\n"
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["retry-1"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünïcode"])
def test_malformed_key_is_400(site, client_for, key):
    response = post(client_for("clerk"), key=key)
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "Idempotency-Key: Must be 1 to 255 visible ASCII characters.",
    )
    assert LedgerEntry.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_apply_once(site, make_user):
    user = make_user("clerk")
    workers = 6
    barrier = threading.Barrier(workers, timeout=30)
    results: list[tuple[int, dict[str, object]]] = []
    lock = threading.Lock()

    def retry() -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait()
            response = post(client)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert [status for status, _ in results] == [201] * workers
    assert len({body["id"] for _, body in results}) == 1
    assert LedgerEntry.objects.count() == 1
    assert on_hand(site) == 5


ITEM = {
    "nsn": "8465014658410",
    "common_name": "Canteen",
    "price": "6.00",
    "unit_of_issue": "EA",
}


@pytest.mark.django_db
def test_catalog_creates_honour_the_key_too(site, client_for):
    manager = client_for("manager")

    def create(body):
        return manager.post(
            "/supply/api/items/", body, format="json", HTTP_IDEMPOTENCY_KEY="item-1"
        )

    first, second = create(ITEM), create(ITEM)
    assert first.status_code == second.status_code == 201, first.json()
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert (create({**ITEM, "common_name": "Other"}).status_code, Item.objects.count()) == (422, 3)
    assert Item.objects.get(nsn="8465014658410").common_name == "Canteen"


@pytest.mark.django_db
def test_schema_documents_the_header_on_every_create(client_for):
    schema = client_for("viewer").get("/supply/api/schema/", {"format": "json"}).json()
    creates = {
        path: operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method == "post"
    }
    assert {"/supply/api/items/", "/supply/api/receipts/", "/supply/api/units/"} <= set(creates)
    for path, operation in creates.items():
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path
