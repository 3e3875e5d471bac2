"""POST receipts / stows / issues / adjustments over HTTP: the happy paths, and every bad input of
the issue giving a clear 4xx and writing no ledger row."""

from __future__ import annotations

from typing import Any

import pytest

from supply.catalog.models import NSN_INPUT_MESSAGE
from supply.inventory import services
from supply.inventory.models import LedgerEntry, Stock

pytestmark = pytest.mark.django_db


def stock(site, location) -> int:
    row = Stock.objects.filter(item=site.item, location=location).first()
    return row.on_hand if row else 0


@pytest.fixture
def clerk(client_for):
    return client_for("clerk")


@pytest.fixture
def issuer(client_for):
    return client_for("issuer")


def receipt_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "unit": "W1AAAA",
        "nsn": "6505013324567",
        "location": "RECV",
        "quantity": 12,
        "document_number": "W1AAAA-6001-0001",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def test_receipt_returns_the_ledger_row(site, clerk):
    response = clerk.post("/supply/api/receipts/", receipt_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    entry = LedgerEntry.objects.get()
    assert body == {
        "id": entry.pk,
        "kind": "RECEIPT",
        "nsn": "6505013324567",
        "common_name": "Bandage",
        "unit_of_issue": "EA",
        "from_location": None,
        "to_location": {"unit": "W1AAAA", "code": "RECV", "kind": "RECEIVING"},
        "customer_unit": None,
        "quantity": 12,
        "counted": None,
        "document_number": "W1AAAA-6001-0001",
        "user": entry.user.username,
        "subject_dn": "",
        "created_at": body["created_at"],
    }
    assert stock(site, site.receiving) == 12


def test_an_nsn_typed_as_printed_books_the_item_and_filters_find_it(site, clerk):
    response = clerk.post(
        "/supply/api/receipts/", receipt_body(nsn="6505-01-332-4567"), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["nsn"] == "6505013324567"
    assert stock(site, site.receiving) == 12
    for path in ("/supply/api/stock/", "/supply/api/transactions/"):
        found = clerk.get(path, {"nsn": "6505-01-332-4567"}).json()["results"]
        assert [row["nsn"] for row in found] == ["6505013324567"], path
    searched = clerk.get("/supply/api/items/", {"search": "6505-01-332-4567"}).json()["results"]
    assert [item["nsn"] for item in searched] == ["6505013324567"]
    assert clerk.get("/supply/api/stock/", {"nsn": "6505-01-33-24567"}).json()["results"] == []


def test_stow_and_issue_over_http(site, clerk, issuer):
    site.receive(10)
    stow = clerk.post(
        "/supply/api/stows/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "from_location": "RECV",
            "to_location": "A-01",
            "quantity": 6,
            "document_number": "S-1",
        },
        format="json",
    )
    assert stow.status_code == 201, stow.json()
    issue = issuer.post(
        "/supply/api/issues/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "location": "A-01",
            "customer_unit": "W3CCCC",
            "quantity": 4,
            "document_number": "I-1",
        },
        format="json",
    )
    assert issue.status_code == 201, issue.json()
    assert issue.json()["customer_unit"] == "W3CCCC"
    assert (stock(site, site.receiving), stock(site, site.bin_a)) == (4, 2)


def test_adjustment_over_http(site, client_for):
    site.receive(10)
    response = client_for("manager").post(
        "/supply/api/adjustments/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "location": "RECV",
            "counted": 8,
            "document_number": "INV-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["quantity"], response.json()["counted"]) == (-2, 8)
    assert stock(site, site.receiving) == 8


def test_ledger_records_the_certificate_subject_dn(site, make_user):
    from rest_framework.test import APIClient

    class CertificateAuth:  # the shape the identity app's authentication returns as request.auth
        subject_dn = "CN=Doe\\, Jane,OU=S4,O=Army"

    client = APIClient()
    client.force_authenticate(make_user("clerk"), token=CertificateAuth())  # type: ignore[arg-type]
    response = client.post("/supply/api/receipts/", receipt_body(), format="json")
    assert response.status_code == 201
    assert LedgerEntry.objects.get().subject_dn == "CN=Doe\\, Jane,OU=S4,O=Army"
    assert response.json()["subject_dn"] == "CN=Doe\\, Jane,OU=S4,O=Army"


BAD_RECEIPTS = [
    (
        "zero",
        {"quantity": 0},
        400,
        {"detail": "quantity: Must be from 1 to 1000000, not 0.", "code": "invalid_operation"},
    ),
    (
        "negative",
        {"quantity": -5},
        400,
        {"detail": "quantity: Must be from 1 to 1000000, not -5.", "code": "invalid_operation"},
    ),
    ("fractional", {"quantity": 2.5}, 400, {"quantity": ["Must be a whole number."]}),
    ("fractional-zero", {"quantity": 2.0}, 400, {"quantity": ["Must be a whole number."]}),
    ("fractional-string", {"quantity": "2.5"}, 400, {"quantity": ["Must be a whole number."]}),
    ("boolean", {"quantity": True}, 400, {"quantity": ["Must be a whole number."]}),
    (
        "huge",
        {"quantity": 10**30},
        400,
        {
            "detail": f"quantity: Must be from 1 to 1000000, not {10**30}.",
            "code": "invalid_operation",
        },
    ),
    (
        "large",
        {"quantity": 1_000_001},
        400,
        {
            "detail": "quantity: Must be from 1 to 1000000, not 1000001.",
            "code": "invalid_operation",
        },
    ),
    ("missing quantity", {"quantity": ...}, 400, {"quantity": ["This field is required."]}),
    ("null quantity", {"quantity": None}, 400, {"quantity": ["This field may not be null."]}),
    (
        "unknown location",
        {"location": "NOPE"},
        400,
        {"location": ["No location 'NOPE' in unit W1AAAA."]},
    ),
    (
        "foreign location",
        {"location": "Z-99"},
        400,
        {"location": ["No location 'Z-99' in unit W1AAAA."]},
    ),
    ("short NSN", {"nsn": "650501332456"}, 400, {"nsn": [NSN_INPUT_MESSAGE]}),
    (
        "NSN with letters",
        {"nsn": "65050133245AB"},
        400,
        {"nsn": [NSN_INPUT_MESSAGE]},
    ),
    ("NSN as number", {"nsn": 6505013324567}, 400, {"nsn": [NSN_INPUT_MESSAGE]}),
    ("NSN dashed wrongly", {"nsn": "6505-013-32-4567"}, 400, {"nsn": [NSN_INPUT_MESSAGE]}),
    ("unknown NSN", {"nsn": "1111111111111"}, 400, {"nsn": ["No item with NSN 1111111111111."]}),
    ("unknown UIC", {"unit": "W9ZZZZ"}, 400, {"unit": ["No unit with UIC W9ZZZZ."]}),
    (
        "malformed UIC",
        {"unit": "w1aaaa7"},
        400,
        {"unit": ["UIC must be 6 upper-case letters or digits."]},
    ),
    ("unknown field", {"qty": 3}, 400, {"qty": ["Unknown or read-only field."]}),
    (
        "read-only field",
        {"id": 99, "created_at": "2020-01-01T00:00:00Z"},
        400,
        {"created_at": ["Unknown or read-only field."], "id": ["Unknown or read-only field."]},
    ),
    (
        "blank document",
        {"document_number": "   "},
        400,
        {"document_number": ["This field may not be blank."]},
    ),
    (
        "long document",
        {"document_number": "X" * 41},
        400,
        {"document_number": ["Ensure this field has no more than 40 characters."]},
    ),
]


@pytest.mark.parametrize(
    ("overrides", "status", "body"), [c[1:] for c in BAD_RECEIPTS], ids=[c[0] for c in BAD_RECEIPTS]
)
def test_bad_receipts_are_refused_and_write_nothing(site, clerk, overrides, status, body):
    response = clerk.post("/supply/api/receipts/", receipt_body(**overrides), format="json")
    assert (response.status_code, response.json()) == (status, body)
    assert LedgerEntry.objects.count() == 0
    assert stock(site, site.receiving) == 0


def test_malformed_json_is_a_400(site, clerk):
    response = clerk.post("/supply/api/receipts/", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert LedgerEntry.objects.count() == 0


def test_issue_more_than_on_hand_is_409(site, issuer):
    site.receive(3)
    response = issuer.post(
        "/supply/api/issues/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "location": "RECV",
            "customer_unit": "W3CCCC",
            "quantity": 4,
            "document_number": "I-1",
        },
        format="json",
    )
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": "stock: Only 3 of 6505013324567 on hand at W1AAAA/RECV, 4 requested.",
            "code": "insufficient_stock",
        },
    )
    assert LedgerEntry.objects.count() == 1  # only the setup receipt
    assert stock(site, site.receiving) == 3


@pytest.mark.parametrize(
    ("overrides", "status", "body"),
    [
        (
            {"quantity": 6},
            409,
            {
                "detail": "stock: Only 5 of 6505013324567 on hand at W1AAAA/RECV, 6 requested.",
                "code": "insufficient_stock",
            },
        ),
        ({"to_location": "Z-99"}, 400, {"to_location": ["No location 'Z-99' in unit W1AAAA."]}),
        (
            {"to_location": "RECV"},
            400,
            {"detail": "to_location: Must differ from from_location.", "code": "invalid_operation"},
        ),
        ({"from_location": "GONE"}, 400, {"from_location": ["No location 'GONE' in unit W1AAAA."]}),
    ],
    ids=["more than on hand", "foreign destination", "same location", "unknown source"],
)
def test_bad_stows_are_refused_and_write_nothing(site, clerk, overrides, status, body):
    site.receive(5)
    request = {
        "unit": "W1AAAA",
        "nsn": "6505013324567",
        "from_location": "RECV",
        "to_location": "A-01",
        "quantity": 2,
        "document_number": "S-1",
    }
    request.update(overrides)
    response = clerk.post("/supply/api/stows/", request, format="json")
    assert (response.status_code, response.json()) == (status, body)
    assert LedgerEntry.objects.count() == 1
    assert (stock(site, site.receiving), stock(site, site.bin_a)) == (5, 0)


def test_unknown_customer_unit_is_refused(site, issuer):
    site.receive(5)
    response = issuer.post(
        "/supply/api/issues/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "location": "RECV",
            "customer_unit": "W9ZZZZ",
            "quantity": 1,
            "document_number": "I-1",
        },
        format="json",
    )
    assert (response.status_code, response.json()) == (
        400,
        {"customer_unit": ["No unit with UIC W9ZZZZ."]},
    )
    assert LedgerEntry.objects.count() == 1


def test_negative_count_is_refused(site, client_for):
    response = client_for("manager").post(
        "/supply/api/adjustments/",
        {
            "unit": "W1AAAA",
            "nsn": "6505013324567",
            "location": "RECV",
            "counted": -1,
            "document_number": "INV",
        },
        format="json",
    )
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "counted: Must be from 0 to 1000000, not -1.", "code": "invalid_operation"},
    )
    assert LedgerEntry.objects.count() == 0


def test_ledger_is_read_only_over_http(site, client_for):
    entry = site.receive(2)
    admin = client_for(superuser=True)
    assert admin.post("/supply/api/transactions/", {}, format="json").status_code == 405
    assert admin.put(f"/supply/api/transactions/{entry.pk}/", {}, format="json").status_code == 405
    assert admin.delete(f"/supply/api/transactions/{entry.pk}/").status_code == 405
    assert LedgerEntry.objects.get().quantity == 2


def test_transaction_filters(site, client_for):
    site.receive(10)  # RECEIPT SETUP into W1AAAA/RECV
    site.receive(3, location=site.foreign_bin, item=site.other_item)  # W2BBBB/Z-99
    actor = services.Actor(site.loader)
    services.stow(
        actor=actor,
        item=site.item,
        from_location=site.receiving,
        to_location=site.bin_a,
        quantity=4,
        document_number="S-1",
    )
    services.issue(
        actor=actor,
        item=site.item,
        location=site.bin_a,
        customer_unit=site.customer,
        quantity=1,
        document_number="I-1",
    )
    viewer = client_for("viewer")

    def kinds(**params: object) -> list[str]:
        response = viewer.get("/supply/api/transactions/", params)
        assert response.status_code == 200, response.json()
        return [f"{row['kind']} {row['document_number']}" for row in response.json()["results"]]

    everything = ["ISSUE I-1", "STOW S-1", "RECEIPT SETUP", "RECEIPT SETUP"]
    assert kinds() == everything  # newest first
    assert kinds(kind="STOW") == ["STOW S-1"]
    assert kinds(nsn="6135009857845") == ["RECEIPT SETUP"]
    assert kinds(unit="W2BBBB") == ["RECEIPT SETUP"]
    assert kinds(unit="W1AAAA") == everything[:3]
    assert kinds(location=site.bin_a.pk) == ["ISSUE I-1", "STOW S-1"]
    assert kinds(customer_unit="W3CCCC") == ["ISSUE I-1"]
    assert kinds(document_number="I-1") == ["ISSUE I-1"]
    assert kinds(user=site.loader.username) == everything
    assert kinds(user="nobody") == []
    assert kinds(after="2000-01-01T00:00:00Z") == everything
    assert kinds(before="2000-01-01T00:00:00Z") == []
    bad = viewer.get("/supply/api/transactions/", {"kind": "THEFT", "after": "yesterday"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"kind", "after"}


ISSUE_BODY = {
    "unit": "W1AAAA",
    "nsn": "6505013324567",
    "location": "RECV",
    "customer_unit": "W3CCCC",
    "quantity": 1,
    "document_number": "I-1",
}


@pytest.mark.parametrize(
    ("overrides", "body"),
    [
        (
            {"quantity": 0},
            {"detail": "quantity: Must be from 1 to 1000000, not 0.", "code": "invalid_operation"},
        ),
        (
            {"quantity": -1},
            {"detail": "quantity: Must be from 1 to 1000000, not -1.", "code": "invalid_operation"},
        ),
        ({"quantity": 1.5}, {"quantity": ["Must be a whole number."]}),
        ({"quantity": True}, {"quantity": ["Must be a whole number."]}),
        (
            {"quantity": 10**30},
            {
                "detail": f"quantity: Must be from 1 to 1000000, not {10**30}.",
                "code": "invalid_operation",
            },
        ),
        ({"location": "Z-99"}, {"location": ["No location 'Z-99' in unit W1AAAA."]}),
        ({"nsn": "65050133245"}, {"nsn": [NSN_INPUT_MESSAGE]}),
        (
            {"customer_unit": "w3cccc1"},
            {"customer_unit": ["UIC must be 6 upper-case letters or digits."]},
        ),
        ({"id": 5}, {"id": ["Unknown or read-only field."]}),
    ],
    ids=[
        "zero",
        "negative",
        "fractional",
        "boolean",
        "huge",
        "foreign location",
        "short NSN",
        "bad UIC",
        "read-only",
    ],
)
def test_bad_issues_are_refused_and_write_nothing(site, issuer, overrides, body):
    site.receive(5)
    response = issuer.post("/supply/api/issues/", {**ISSUE_BODY, **overrides}, format="json")
    assert (response.status_code, response.json()) == (400, body)
    assert LedgerEntry.objects.count() == 1  # only the setup receipt
    assert stock(site, site.receiving) == 5
