"""Each role can do exactly its operations; reads need a role; superusers do everything."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from supply.catalog.models import Item
from supply.inventory.models import LedgerEntry

pytestmark = pytest.mark.django_db

# operation -> the roles allowed to perform it (superusers aside)
ALLOWED = {
    "receipt": {"clerk"},
    "stow": {"clerk"},
    "issue": {"issuer"},
    "adjustment": {"manager"},
    "create item": {"manager"},
    "create unit": {"manager"},
    "create location": {"manager"},
    "create allowance": {"manager"},
}
ROLES = ["viewer", "clerk", "issuer", "manager"]


def request_for(operation: str) -> tuple[str, dict[str, object]]:
    requests: dict[str, tuple[str, dict[str, object]]] = {
        "receipt": (
            "/supply/api/receipts/",
            {
                "unit": "W1AAAA",
                "nsn": "6505013324567",
                "location": "RECV",
                "quantity": 1,
                "document_number": "D",
            },
        ),
        "stow": (
            "/supply/api/stows/",
            {
                "unit": "W1AAAA",
                "nsn": "6505013324567",
                "from_location": "RECV",
                "to_location": "A-01",
                "quantity": 1,
                "document_number": "D",
            },
        ),
        "issue": (
            "/supply/api/issues/",
            {
                "unit": "W1AAAA",
                "nsn": "6505013324567",
                "location": "RECV",
                "customer_unit": "W3CCCC",
                "quantity": 1,
                "document_number": "D",
            },
        ),
        "adjustment": (
            "/supply/api/adjustments/",
            {
                "unit": "W1AAAA",
                "nsn": "6505013324567",
                "location": "RECV",
                "counted": 4,
                "document_number": "D",
            },
        ),
        "create item": (
            "/supply/api/items/",
            {
                "nsn": "8465014658410",
                "common_name": "Canteen",
                "price": "6.75",
                "unit_of_issue": "EA",
            },
        ),
        "create unit": ("/supply/api/units/", {"uic": "W7GGGG", "name": "New unit"}),
        "create location": (
            "/supply/api/locations/",
            {"unit": "W1AAAA", "code": "C-01", "kind": "BIN"},
        ),
        "create allowance": (
            "/supply/api/allowances/",
            {"unit": "W1AAAA", "nsn": "6505013324567", "allowance": 10, "reorder_point": 2},
        ),
    }
    return requests[operation]


@pytest.mark.parametrize("role", [*ROLES, "superuser"])
@pytest.mark.parametrize("operation", sorted(ALLOWED))
def test_each_role_can_do_exactly_its_operations(site, client_for, role, operation):
    site.receive(5)
    client = client_for(superuser=True) if role == "superuser" else client_for(role)
    url, body = request_for(operation)
    response = client.post(url, body, format="json")
    if role == "superuser" or role in ALLOWED[operation]:
        assert response.status_code == 201, response.json()
    else:
        assert (response.status_code, response.json()) == (
            403,
            {"detail": "Your roles do not allow this operation."},
        )
        assert LedgerEntry.objects.count() == 1


READ_URLS = [
    "/supply/api/items/",
    "/supply/api/units/",
    "/supply/api/units-of-issue/",
    "/supply/api/locations/",
    "/supply/api/allowances/",
    "/supply/api/stock/",
    "/supply/api/stock/below-reorder-point/",
    "/supply/api/transactions/",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_every_role_reads_and_a_user_without_role_does_not(site, client_for, url):
    for role in ROLES:
        assert client_for(role).get(url).status_code == 200, role
    no_role = client_for()
    assert (no_role.get(url).status_code, no_role.get(url).json()) == (
        403,
        {"detail": "Your roles do not allow this operation."},
    )


@pytest.mark.parametrize("url", [*READ_URLS, "/supply/api/receipts/"])
def test_anonymous_requests_are_refused(site, url):
    response = APIClient().get(url) if "receipts" not in url else APIClient().post(url, {})
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("role", ["viewer", "clerk", "issuer"])
def test_only_managers_change_or_delete_catalog_entries(site, client_for, role):
    client = client_for(role)
    assert (
        client.patch(
            "/supply/api/items/6505013324567/", {"common_name": "X"}, format="json"
        ).status_code
        == 403
    )
    assert client.delete("/supply/api/items/6135009857845/").status_code == 403
    manager = client_for("manager")
    assert (
        manager.patch(
            "/supply/api/items/6505013324567/", {"common_name": "X"}, format="json"
        ).status_code
        == 200
    )
    assert manager.delete("/supply/api/items/6135009857845/").status_code == 204
    assert list(Item.objects.values_list("common_name", flat=True)) == ["X"]


def test_roles_are_groups_made_by_the_migration():
    """The data migration itself makes exactly the roles the code knows, and running it again
    changes nothing. It is called directly on an emptied table (rolled back after the test): what
    a database holds at this point depends on which tests ran before and flushed it."""
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Group

    from supply.identity import roles

    assert sorted(roles.ROLES) == sorted(ROLES), "the code's roles are the ones tested here"
    migration = import_module("supply.identity.migrations.0002_roles")
    Group.objects.all().delete()
    migration.create(apps, None)
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(ROLES)
    migration.create(apps, None)
    assert Group.objects.count() == len(ROLES)
