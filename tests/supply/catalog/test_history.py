"""Nothing done later changes how a past ledger row reads: identity fields of catalog rows that
stock or ledger rows depend on are frozen (409 through the API, a form error in the admin), ledger
rows keep what they meant as written, and `supply check-ledger` finds a change made with raw SQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from supply.catalog.history import in_history
from supply.catalog.models import Item, Location, Unit, UnitOfIssue
from supply.inventory import services
from supply.inventory.models import LedgerEntry


@pytest.fixture
def manager(client_for):
    return client_for("manager")


def _stowed(site):
    site.receive(5)
    return services.stow(
        actor=services.Actor(site.loader),
        item=site.item,
        from_location=site.receiving,
        to_location=site.bin_a,
        quantity=2,
        document_number="S-1",
    )


def _ledger_as_read(client) -> list[dict[str, object]]:
    rows = client.get("/supply/api/transactions/").json()["results"]
    keys = ("kind", "nsn", "unit_of_issue", "from_location", "to_location", "customer_unit")
    return [{key: row[key] for key in keys} for row in rows]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"unit": "W2BBBB", "code": "MOVED"},
            "location W1AAAA/A-01: Its unit and code cannot change once stock has been recorded "
            "against it; create a new location and stow the stock there.",
        ),
        (
            {"kind": "RECEIVING"},
            "location W1AAAA/A-01: Its kind cannot change once stock has been recorded against it; "
            "create a new location and stow the stock there.",
        ),
    ],
    ids=["moved", "kind"],
)
def test_a_location_in_the_ledger_keeps_its_identity(site, manager, change, message):
    _stowed(site)
    before = _ledger_as_read(manager)
    response = manager.patch(f"/supply/api/locations/{site.bin_a.pk}/", change, format="json")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": message, "code": "history_frozen"},
    )
    site.bin_a.refresh_from_db()
    assert (site.bin_a.unit_id, site.bin_a.code, site.bin_a.kind) == (site.unit.pk, "A-01", "BIN")
    assert _ledger_as_read(manager) == before


def test_a_location_keeps_its_description_editable(site, manager):
    _stowed(site)
    response = manager.patch(
        f"/supply/api/locations/{site.bin_a.pk}/", {"description": "top shelf"}, format="json"
    )
    assert response.status_code == 200, response.json()
    # And a same-value identity field in a PUT is no change at all.
    body = {"unit": "W1AAAA", "code": "A-01", "kind": "BIN", "description": "top shelf"}
    assert (
        manager.put(f"/supply/api/locations/{site.bin_a.pk}/", body, format="json").status_code
        == 200
    )


def test_an_unused_location_may_still_be_corrected(site, manager):
    response = manager.patch(
        f"/supply/api/locations/{site.bin_b.pk}/", {"code": "A-03", "unit": "W2BBBB"}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_an_item_in_the_ledger_keeps_nsn_and_unit_of_issue(site, manager):
    _stowed(site)
    before = _ledger_as_read(manager)
    for change, fields in (
        ({"unit_of_issue": "BX"}, "unit_of_issue"),
        ({"nsn": "6505019999999"}, "nsn"),
    ):
        response = manager.patch(f"/supply/api/items/{site.item.nsn}/", change, format="json")
        assert (response.status_code, response.json()["detail"]) == (
            409,
            f"item 6505013324567: Its {fields} cannot change once stock has been recorded against "
            "it; create a new item and record the change with receipts and adjustments.",
        )
    assert (
        manager.patch(
            f"/supply/api/items/{site.item.nsn}/", {"common_name": "Bandage, gauze"}, format="json"
        ).status_code
        == 200
    )
    assert _ledger_as_read(manager) == before
    # An item nothing was recorded against may still change its unit of issue.
    response = manager.patch(
        f"/supply/api/items/{site.other_item.nsn}/", {"unit_of_issue": "BX"}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_a_unit_whose_locations_or_issues_are_in_the_ledger_keeps_its_uic(site, manager):
    _stowed(site)
    services.issue(
        actor=services.Actor(site.loader),
        item=site.item,
        location=site.bin_a,
        customer_unit=site.customer,
        quantity=1,
        document_number="I-1",
    )
    for unit in (site.unit, site.customer):
        response = manager.patch(f"/supply/api/units/{unit.uic}/", {"uic": "W9ZZZZ"}, format="json")
        assert (response.status_code, response.json()["detail"]) == (
            409,
            f"unit {unit.uic}: Its uic cannot change once stock has been recorded against it; "
            "create a new unit.",
        )
    assert (
        manager.patch(
            f"/supply/api/units/{site.other_unit.uic}/", {"uic": "W9ZZZZ"}, format="json"
        ).status_code
        == 200
    )


def test_a_unit_of_issue_keeps_its_code_and_in_use_its_name(site, manager):
    _stowed(site)
    response = manager.patch("/supply/api/units-of-issue/EA/", {"code": "XX"}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "unit of issue EA: Its code cannot change; create a new unit of issue.",
    )
    response = manager.patch("/supply/api/units-of-issue/EA/", {"name": "Box"}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "unit of issue EA: Its name cannot change once stock has been recorded against it; "
        "create a new unit of issue.",
    )
    assert not UnitOfIssue.objects.filter(code="XX").exists()
    assert UnitOfIssue.objects.get(code="EA").name != "Box"
    assert (
        manager.patch(
            "/supply/api/units-of-issue/BX/", {"name": "Box of 10"}, format="json"
        ).status_code
        == 200
    )


def test_the_admin_refuses_the_same_change_on_its_form(site, rf):
    _stowed(site)
    admin = User.objects.create_superuser("boss")
    request = rf.get("/supply/admin/")
    request.user = admin
    form_class = django_admin.site._registry[Location].get_form(request, obj=site.bin_a)
    data = {"unit": site.other_unit.pk, "code": "MOVED", "kind": "BIN", "description": ""}
    form = form_class(data=data, instance=site.bin_a)
    assert not form.is_valid()
    assert form.non_field_errors() == [
        "location W1AAAA/A-01: Its unit and code cannot change once stock has been recorded "
        "against it; create a new location and stow the stock there."
    ]
    site.bin_a.refresh_from_db()
    assert site.bin_a.code == "A-01"
    fine = form_class(
        data=data | {"unit": site.unit.pk, "code": "A-01", "description": "x"}, instance=site.bin_a
    )
    assert fine.is_valid(), fine.errors


def test_ledger_rows_read_as_written_even_after_a_raw_sql_change(site, manager):
    _stowed(site)
    before = _ledger_as_read(manager)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_location SET unit_id = %s, code = 'MOVED', kind = 'RECEIVING' "
            "WHERE id = %s",
            [site.other_unit.pk, site.bin_a.pk],
        )
    assert _ledger_as_read(manager) == before
    assert before[0]["to_location"] == {"unit": "W1AAAA", "code": "A-01", "kind": "BIN"}
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check-ledger", stderr=err)
    assert str(caught.value) == (
        "ledger: 1 ledger reference(s) no longer read as recorded (a catalog row was changed "
        "outside the service)."
    )
    stow = LedgerEntry.objects.get(kind="STOW")
    assert err.getvalue().splitlines() == [
        f"rewritten: ledger #{stow.pk} (STOW): to_location recorded W1AAAA/A-01 (BIN), "
        "now W2BBBB/MOVED (RECEIVING)",
    ]


def test_check_ledger_names_each_rewritten_reference(site):
    _stowed(site)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_unit SET uic = 'W9ZZZZ' WHERE id = %s", [site.unit.pk])
        cursor.execute(
            "UPDATE catalog_item SET unit_of_issue_id = 'BX' WHERE id = %s", [site.item.pk]
        )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check-ledger", stderr=err)
    receipt, stow = LedgerEntry.objects.order_by("id")
    assert err.getvalue().splitlines() == [
        f"rewritten: ledger #{receipt.pk} (RECEIPT): unit_of_issue recorded EA, now BX",
        f"rewritten: ledger #{receipt.pk} (RECEIPT): to_location recorded W1AAAA/RECV "
        "(RECEIVING), now W9ZZZZ/RECV (RECEIVING)",
        f"rewritten: ledger #{stow.pk} (STOW): unit_of_issue recorded EA, now BX",
        f"rewritten: ledger #{stow.pk} (STOW): from_location recorded W1AAAA/RECV (RECEIVING), "
        "now W9ZZZZ/RECV (RECEIVING)",
        f"rewritten: ledger #{stow.pk} (STOW): to_location recorded W1AAAA/A-01 (BIN), "
        "now W9ZZZZ/A-01 (BIN)",
    ]


def test_unused_catalog_rows_are_not_in_history(site):
    assert not any(
        in_history(row)
        for row in (site.bin_a, site.item, site.unit, UnitOfIssue.objects.get(code="EA"))
    )
    _stowed(site)
    assert all(
        in_history(row)
        for row in (site.bin_a, site.item, site.unit, UnitOfIssue.objects.get(code="EA"))
    )
    assert not in_history(site.bin_b)
    assert not in_history(Item.objects.get(pk=site.other_item.pk))
    assert not in_history(Unit.objects.get(pk=site.other_unit.pk))
    assert not in_history(Location.objects.get(pk=site.foreign_bin.pk))
