"""Bad filter values are a 400 with a sentence on every list, on SQLite and PostgreSQL: values past
64 bits (SQLite raised OverflowError), time-zone offsets PostgreSQL refuses (DataError), fractions
and words where an id belongs, and booleans that are neither."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from supply.inventory.services import Actor, issue

ID_MESSAGE = ["Must be a whole number from 1 to 9223372036854775807."]
OFFSET_MESSAGE = ["The UTC offset must be from -15:59 to +15:59."]
RANGE_MESSAGE = ["Must be from 0001-01-02 to 9999-12-30 (UTC)."]


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


@pytest.mark.parametrize(
    ("path", "name"),
    [("/supply/api/stock/", "location_id"), ("/supply/api/transactions/", "location")],
)
@pytest.mark.parametrize(
    "value",
    ["9223372036854775808", "99999999999999999999999", "0.5", "abc", "-1", "0", "1e3", "2.0"],
)
def test_an_id_filter_takes_only_an_id(site, viewer, path, name, value):
    site.receive(1)
    response = viewer.get(path, {name: value})
    assert (response.status_code, response.json()) == (400, {name: ID_MESSAGE})


@pytest.mark.parametrize(
    ("path", "name"),
    [("/supply/api/stock/", "location_id"), ("/supply/api/transactions/", "location")],
)
def test_the_largest_id_is_a_valid_filter(site, viewer, path, name):
    site.receive(1)
    response = viewer.get(path, {name: "9223372036854775807"})
    assert (response.status_code, response.json()["count"]) == (200, 0)
    assert viewer.get(path, {name: site.receiving.pk}).json()["count"] == 1


@pytest.mark.parametrize("name", ["after", "before"])
@pytest.mark.parametrize("offset", ["+20:00", "-16:00", "+16:00"])
def test_an_offset_the_databases_cannot_store_is_a_400(site, viewer, name, offset):
    site.receive(1)
    response = viewer.get("/supply/api/transactions/", {name: f"2024-01-01T00:00:00{offset}"})
    assert (response.status_code, response.json()) == (400, {name: OFFSET_MESSAGE})


@pytest.mark.parametrize("name", ["after", "before"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_at_the_ends_of_the_calendar_is_a_400(site, viewer, name, value):
    response = viewer.get("/supply/api/transactions/", {name: value})
    assert (response.status_code, response.json()) == (400, {name: RANGE_MESSAGE})


def test_offsets_are_honoured(site, viewer):
    entry = site.receive(1)
    moment = entry.created_at
    # The same instant written with +15:59 and in UTC selects the same rows.
    far_east = moment.astimezone(timezone(timedelta(hours=15, minutes=59)))
    for after in (far_east.isoformat(), moment.isoformat()):
        response = viewer.get("/supply/api/transactions/", {"after": after})
        assert (response.status_code, response.json()["count"]) == (200, 1), after
    later = (moment + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-15, minutes=-59)))
    response = viewer.get("/supply/api/transactions/", {"after": later.isoformat()})
    assert response.json()["count"] == 0


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_in_stock_takes_only_true_or_false(site, viewer, value):
    response = viewer.get("/supply/api/stock/", {"in_stock": value})
    expected = {"in_stock": ["Must be true or false."]}
    assert (response.status_code, response.json()) == (400, expected)


def test_in_stock_true_and_false(site, viewer):
    site.receive(1)
    site.receive(1, location=site.bin_a)
    issue(
        actor=Actor(site.loader),
        item=site.item,
        location=site.bin_a,
        customer_unit=site.customer,
        quantity=1,
        document_number="I-1",
    )

    def codes(value: str) -> list[str]:
        response = viewer.get("/supply/api/stock/", {"in_stock": value})
        assert response.status_code == 200
        return [row["location"] for row in response.json()["results"]]

    assert codes("true") == codes("1") == ["RECV"]
    assert codes("false") == codes("0") == ["A-01"]
