"""What the ledger's past rows depend on cannot change once they exist.

A ledger row is the record of what happened: the item (NSN, counted in its unit of issue) moved
between locations (unit, code, kind) or to a customer unit (UIC). If a manager could move a bin to
another unit or rename it, every past row would read as if the stock had been somewhere else (a STOW
would read as cross-unit, which the service forbids). So those identity fields are frozen as soon as
stock or ledger rows refer to the row, through any path: the API, the admin and the shell all call
`check_change` before saving. The ledger also keeps a copy of them at write time, which
`supply check-ledger` compares with the catalog, so a change made behind the service's back (raw
SQL) is found too.

The references are found through Django's relations (any model of another app with a foreign key
to the row), so the catalog does not import the inventory app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from supply.catalog.models import Item, Location, Unit, UnitOfIssue
from supply.errors import HistoryFrozen

FROZEN_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Location: ("unit", "code", "kind"),
    Item: ("nsn", "unit_of_issue"),
    Unit: ("uic",),
    UnitOfIssue: ("code", "name"),
}


def _referenced_from_other_apps(queryset: models.QuerySet[Any]) -> bool:
    """Whether a row of another app (stock, the ledger) refers to any row of `queryset`."""
    model = queryset.model
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and relation.is_relation):
            continue
        referrer = relation.related_model
        if referrer is None or referrer._meta.app_label == model._meta.app_label:
            continue
        field = relation.field.name
        if referrer._base_manager.filter(**{f"{field}__in": queryset}).exists():
            return True
    return False


def in_history(instance: models.Model) -> bool:
    """Whether past stock movements depend on this row's identity fields."""
    if isinstance(instance, Location | Item):
        return _referenced_from_other_apps(type(instance)._base_manager.filter(pk=instance.pk))
    if isinstance(instance, Unit):
        return _referenced_from_other_apps(
            Unit.objects.filter(pk=instance.pk)
        ) or _referenced_from_other_apps(Location.objects.filter(unit_id=instance.pk))
    if isinstance(instance, UnitOfIssue):
        return _referenced_from_other_apps(Item.objects.filter(unit_of_issue_id=instance.pk))
    return False


def _label(instance: models.Model) -> str:
    if isinstance(instance, Location):
        return f"location {instance.unit.uic}/{instance.code}"
    if isinstance(instance, Item):
        return f"item {instance.nsn}"
    if isinstance(instance, Unit):
        return f"unit {instance.uic}"
    return f"unit of issue {instance.pk}"


_WHAT_TO_DO = {
    Location: "create a new location and stow the stock there",
    Item: "create a new item and record the change with receipts and adjustments",
    Unit: "create a new unit",
    UnitOfIssue: "create a new unit of issue",
}


def _key(value: object) -> object:
    return value.pk if isinstance(value, models.Model) else value


def changed_frozen_fields(instance: models.Model, changes: Mapping[str, object]) -> list[str]:
    """The frozen fields of `instance` that `changes` (field -> new value or row) would alter."""
    frozen = FROZEN_FIELDS.get(type(instance), ())
    return [
        name
        for name in frozen
        if name in changes and _key(getattr(instance, name)) != _key(changes[name])
    ]


def check_change(instance: models.Model, changes: Mapping[str, object]) -> None:
    """Refuse (HistoryFrozen, a 409) a change of identity fields the ledger depends on."""
    if instance.pk is None:
        return
    changed = changed_frozen_fields(instance, changes)
    if isinstance(instance, UnitOfIssue) and "code" in changed:
        # The code is the primary key: saving a new one would quietly create a second row.
        raise HistoryFrozen(
            f"{_label(instance)}: Its code cannot change; create a new unit of issue."
        )
    if changed and in_history(instance):
        raise HistoryFrozen(
            f"{_label(instance)}: Its {' and '.join(changed)} cannot change once stock has been "
            f"recorded against it; {_WHAT_TO_DO[type(instance)]}."
        )
