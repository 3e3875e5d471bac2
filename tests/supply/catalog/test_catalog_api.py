"""Catalog endpoints: search, filters, capped pagination, validation messages, reorder report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from supply.catalog.models import Allowance, Item, UnitOfIssue

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


@pytest.fixture
def manager(client_for):
    return client_for("manager")


def nsns(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["nsn"] for row in response.json()["results"]]


def test_item_search_and_filters(site, viewer):
    assert nsns(viewer.get("/supply/api/items/", {"search": "bandage"})) == ["6505013324567"]
    assert nsns(viewer.get("/supply/api/items/", {"fsc": "6135"})) == ["6135009857845"]
    assert nsns(viewer.get("/supply/api/items/", {"category": "65"})) == ["6505013324567"]
    assert nsns(viewer.get("/supply/api/items/", {"category": "61"})) == ["6135009857845"]
    assert nsns(viewer.get("/supply/api/items/", {"ordering": "-nsn"})) == [
        "6505013324567",
        "6135009857845",
    ]


def test_item_representation(site, viewer):
    response = viewer.get("/supply/api/items/6505013324567/")
    assert response.json() == {
        "nsn": "6505013324567",
        "fsc": "6505",
        "common_name": "Bandage",
        "description": "",
        "price": "3.45",
        "unit_of_issue": "EA",
        "aac": "",
        "rep_office": "",
    }


def test_pagination_pages_and_caps(site, viewer):
    ea = UnitOfIssue.objects.get(code="EA")
    Item.objects.bulk_create(
        [
            Item(nsn=f"5340{n:09d}", fsc="5340", common_name=f"Part {n}", price=1, unit_of_issue=ea)
            for n in range(120)
        ]
    )
    first = viewer.get("/supply/api/items/", {"page_size": 100}).json()
    assert (first["count"], len(first["results"])) == (122, 100)
    assert (
        viewer.get("/supply/api/items/", {"page_size": 100, "page": 2}).json()["results"][-1]["nsn"]
        == "6505013324567"
    )
    assert len(viewer.get("/supply/api/items/").json()["results"]) == 50


@pytest.mark.parametrize(
    ("page_size", "message"),
    [
        ("101", "must be at most 100, not 101."),
        ("100000", "must be at most 100, not 100000."),
        ("0", "must be a whole number, not '0'."),
        ("ten", "must be a whole number, not 'ten'."),
        ("１０", "must be a whole number, not '１０'."),  # full-width digits: isdigit() says yes
    ],
)
def test_oversized_or_invalid_page_size_is_400(site, viewer, page_size, message):
    response = viewer.get("/supply/api/items/", {"page_size": page_size})
    assert (response.status_code, response.json()) == (400, {"page_size": [message]})


NUL = "Must not contain NUL characters."
MONEY = 'Must be a sum as text, like "12.50" (up to 10 digits, 2 decimals).'


ITEM_ERRORS: list[tuple[dict[str, object], dict[str, list[str]]]] = [
    ({"nsn": "123"}, {"nsn": ["NSN must be exactly 13 digits."]}),
    ({"nsn": "84650146584AB"}, {"nsn": ["NSN must be exactly 13 digits."]}),
    ({"unit_of_issue": "QQ"}, {"unit_of_issue": ["No unit of issue QQ."]}),
    ({"price": "-1.00"}, {"price": [MONEY]}),
    ({"price": 12.5}, {"price": [MONEY]}),  # a float cannot hold every sum exactly
    ({"price": "1.234"}, {"price": [MONEY]}),
    ({"price": "12345678901.00"}, {"price": [MONEY]}),
    ({"common_name": 5}, {"common_name": ["Must be text."]}),
    ({"fsc": "8465"}, {"fsc": ["Unknown or read-only field."]}),
    ({"nsn": "6505013324567"}, {"nsn": ["item with this NSN already exists."]}),
    # A lookup by code with NUL: a DataError (500) on PostgreSQL before it was refused.
    ({"unit_of_issue": "E\x00A"}, {"unit_of_issue": [NUL]}),
    ({"nsn": "846501465841\x00"}, {"nsn": [NUL]}),
]


@pytest.mark.parametrize(
    ("body", "errors", "encoding"),
    [(body, errors, "json") for body, errors in ITEM_ERRORS]
    # a form sends text only; numbers are JSON alone
    + [
        (body, errors, "multipart")
        for body, errors in ITEM_ERRORS
        if all(isinstance(value, str) for value in body.values())
    ],
)
def test_item_validation(site, manager, body, errors, encoding):
    request = {
        "nsn": "8465014658410",
        "common_name": "Canteen",
        "price": "6.75",
        "unit_of_issue": "EA",
        **body,
    }
    response = manager.post("/supply/api/items/", request, format=encoding)
    assert (response.status_code, response.json()) == (400, errors)
    assert Item.objects.count() == 2


def test_manager_creates_an_item_with_its_fsc(site, manager):
    response = manager.post(
        "/supply/api/items/",
        {
            "nsn": "8465014658410",
            "common_name": "Canteen",
            "price": "6.75",
            "unit_of_issue": "EA",
            "aac": "Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Item.objects.get(nsn="8465014658410").fsc == "8465"


@pytest.mark.parametrize("encoding", ["json", "multipart"])
def test_an_item_is_created_and_found_by_its_nsn_as_printed(site, manager, encoding):
    body = {"nsn": "8465-01-465-8410", "common_name": "Canteen", "price": "6.75"}
    response = manager.post("/supply/api/items/", {**body, "unit_of_issue": "EA"}, format=encoding)
    assert response.status_code == 201, response.json()
    assert response.json()["nsn"] == "8465014658410"
    assert Item.objects.get(nsn="8465014658410").fsc == "8465"
    again = manager.post("/supply/api/items/", {**body, "unit_of_issue": "EA"}, format=encoding)
    assert again.json() == {"nsn": ["item with this NSN already exists."]}
    dashed_url = "/supply/api/items/8465-01-465-8410/"
    assert manager.get(dashed_url).json()["common_name"] == "Canteen"
    renamed = manager.patch(dashed_url, {"common_name": "Canteen, 1 qt"}, format="json")
    assert renamed.status_code == 200, renamed.json()
    assert Item.objects.get(nsn="8465014658410").common_name == "Canteen, 1 qt"
    assert manager.get("/supply/api/items/8465-014-65-8410/").status_code == 404


def test_unit_validation(site, manager):
    response = manager.post("/supply/api/units/", {"uic": "w12", "name": "Bad"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"uic": ["UIC must be 6 upper-case letters or digits."]},
    )


def test_deleting_an_item_with_stock_is_409(site, manager):
    site.receive(1)
    response = manager.delete("/supply/api/items/6505013324567/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "cannot delete: other records still refer to it.", "code": "still_referenced"},
    )
    assert Item.objects.filter(nsn="6505013324567").exists()


def test_allowance_validation(site, manager):
    body = {"unit": "W1AAAA", "nsn": "6505013324567", "allowance": 5, "reorder_point": 6}
    response = manager.post("/supply/api/allowances/", body, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"reorder_point": ["Must not exceed the allowance."]},
    )
    assert (
        manager.post(
            "/supply/api/allowances/", {**body, "reorder_point": 2}, format="json"
        ).status_code
        == 201
    )
    again = manager.post("/supply/api/allowances/", {**body, "reorder_point": 2}, format="json")
    assert again.status_code == 400
    assert Allowance.objects.count() == 1


def test_below_reorder_point_report_sums_the_units_locations(site, viewer):
    Allowance.objects.create(unit=site.unit, item=site.item, allowance=20, reorder_point=10)
    Allowance.objects.create(unit=site.unit, item=site.other_item, allowance=20, reorder_point=5)
    Allowance.objects.create(unit=site.other_unit, item=site.item, allowance=20, reorder_point=1)
    site.receive(6)
    site.receive(4, location=site.bin_a)  # 10 in the unit: not below 10
    site.receive(3, item=site.other_item)  # 3 < 5: below
    site.receive(9, location=site.foreign_bin)  # the other unit's stock does not count for W1AAAA
    rows = viewer.get("/supply/api/stock/below-reorder-point/").json()["results"]
    assert rows == [
        {
            "unit": "W1AAAA",
            "nsn": "6135009857845",
            "common_name": "Battery",
            "allowance": 20,
            "reorder_point": 5,
            "on_hand": 3,
            "shortfall": 17,
        },
    ]
    Item.objects.filter(pk=site.item.pk).update(price=Decimal("1"))
    site.receive(1, item=site.other_item, location=site.bin_b)
    site.receive(1, item=site.other_item, location=site.bin_a)
    assert viewer.get("/supply/api/stock/below-reorder-point/").json()["results"] == []


def test_stock_filters(site, viewer):
    site.receive(3)
    site.receive(2, location=site.bin_a)
    site.receive(7, location=site.foreign_bin, item=site.other_item)

    def rows(**params):
        return sorted(
            (r["unit"], r["location"], r["nsn"], r["on_hand"])
            for r in viewer.get("/supply/api/stock/", params).json()["results"]
        )

    assert rows(unit="W1AAAA") == [
        ("W1AAAA", "A-01", "6505013324567", 2),
        ("W1AAAA", "RECV", "6505013324567", 3),
    ]
    assert rows(nsn="6135009857845") == [("W2BBBB", "Z-99", "6135009857845", 7)]
    assert rows(unit="W1AAAA", location="A-01") == [("W1AAAA", "A-01", "6505013324567", 2)]
