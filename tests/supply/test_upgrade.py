"""A database migrated before the layout change (idempotency records in the inventory app, roles
made by catalog 0003) upgrades in place: the records, the permissions on their content type and the
role groups with their members are all still there; migrating back down keeps them too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("catalog", "0004_aac_is_a_letter_or_blank"),
    ("identity", "0001_initial"),
    ("inventory", "0003_ledger_keeps_what_it_meant"),
    ("idempotency", None),
]
ROLES = ["clerk", "issuer", "manager", "viewer"]


def _migrate(targets: list[tuple[str, str | None]] | None = None) -> Any:
    """Migrate to ``targets`` (default: the latest) and return the historical apps there."""
    executor = MigrationExecutor(connection)
    targets = targets or list(executor.loader.graph.leaf_nodes())
    return executor.migrate(targets).apps


@pytest.fixture
def old_apps() -> Iterator[Any]:
    apps = _migrate(BEFORE)
    # Content types are made after migrating: an old database has only the inventory one.
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="idempotency").delete()
    yield apps
    _migrate()


def test_an_old_database_keeps_records_permissions_and_roles(old_apps: Any) -> None:
    user = old_apps.get_model("auth", "User").objects.create(username="old-clerk")
    old_apps.get_model("inventory", "IdempotencyRecord").objects.create(
        user=user,
        key="k-1",
        method="POST",
        path="/supply/api/receipts/",
        request_hash="0" * 64,
        status_code=201,
        response_body={"id": 1},
        created_at=timezone.now(),
    )
    content_type, _ = old_apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="inventory", model="idempotencyrecord"
    )
    permission, _ = old_apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="view_idempotencyrecord", defaults={"name": "Can view"}
    )
    viewer, _ = old_apps.get_model("auth", "Group").objects.get_or_create(name="viewer")
    viewer.permissions.add(permission)
    user.groups.add(viewer)

    new = _migrate()

    record = new.get_model("idempotency", "IdempotencyRecord").objects.get()
    assert (record.user.username, record.key, record.response_body) == (
        "old-clerk",
        "k-1",
        {"id": 1},
    )
    group = new.get_model("auth", "Group")
    assert sorted(group.objects.values_list("name", flat=True)) == ROLES
    viewer = group.objects.get(name="viewer")
    assert list(viewer.permissions.values_list("content_type__app_label", "codename")) == [
        ("idempotency", "view_idempotencyrecord")
    ]
    assert list(viewer.user_set.values_list("username", flat=True)) == ["old-clerk"]

    back = _migrate(BEFORE)
    assert back.get_model("inventory", "IdempotencyRecord").objects.get().key == "k-1"
    content_types = back.get_model("contenttypes", "ContentType").objects
    assert content_types.get(pk=content_type.pk).app_label == "inventory"
    assert sorted(back.get_model("auth", "Group").objects.values_list("name", flat=True)) == ROLES
