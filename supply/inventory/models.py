"""Stock on hand and the append-only ledger that explains it.

Stock rows are changed only by `supply.inventory.services`; each change writes one ledger row in the
same transaction, so on-hand always equals the ledger sum (`supply check-ledger` verifies it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from supply.catalog.models import Item, Location, Unit
from supply.errors import AppendOnlyError

_CANNOT_CHANGE = "ledger: Entries cannot be changed; record a correction (an ADJUSTMENT) instead."
_CANNOT_DELETE = "ledger: Entries cannot be deleted; record a correction (an ADJUSTMENT) instead."


class Stock(models.Model):
    """On-hand quantity of one item at one location. Never negative: the database refuses it."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["location__unit__uic", "location__code", "item__nsn"]
        verbose_name_plural = "stock"
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="stock_unique_item_location"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_on_hand_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.item.nsn} @ {self.location}: {self.on_hand}"


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(_CANNOT_CHANGE)

    def delete(self) -> NoReturn:
        raise AppendOnlyError(_CANNOT_DELETE)


@dataclass(frozen=True)
class Place:
    """A location as a ledger row recorded it when it was written."""

    unit: str
    code: str
    kind: str

    def __str__(self) -> str:
        return f"{self.unit}/{self.code} ({self.kind})"


class LedgerEntry(models.Model):
    """One stock movement. `quantity` is the amount moved, always positive, except for an
    ADJUSTMENT where it is the signed change that brings on-hand to `counted`.

    Besides the foreign keys, a row keeps what it means as written: the NSN and unit of issue, each
    location's unit, code and kind, the customer's UIC. The catalog refuses to change those fields
    once rows depend on them (supply.catalog.history); the copy makes a past row read the same
    whatever happens later, and lets `supply check-ledger` find a change made behind the service's
    back."""

    class Kind(models.TextChoices):
        RECEIPT = "RECEIPT", "Receipt"
        STOW = "STOW", "Stow"
        ISSUE = "ISSUE", "Issue"
        ADJUSTMENT = "ADJUSTMENT", "Adjustment"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    nsn = models.CharField("NSN as recorded", max_length=13, default="")
    unit_of_issue = models.CharField("unit of issue as recorded", max_length=2, default="")
    from_uic = models.CharField(max_length=6, blank=True, default="")
    from_code = models.CharField(max_length=30, blank=True, default="")
    from_kind = models.CharField(max_length=10, blank=True, default="")
    to_uic = models.CharField(max_length=6, blank=True, default="")
    to_code = models.CharField(max_length=30, blank=True, default="")
    to_kind = models.CharField(max_length=10, blank=True, default="")
    customer_uic = models.CharField(max_length=6, blank=True, default="")
    quantity = models.BigIntegerField()
    counted = models.BigIntegerField(null=True, blank=True)
    document_number = models.CharField(max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Text like the identity mapping's: a DN from another CA has no length a column may assume.
    subject_dn = models.TextField("certificate subject DN", blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="ADJUSTMENT", counted__gte=0)
                    | (~models.Q(kind="ADJUSTMENT") & models.Q(quantity__gt=0))
                ),
                name="ledger_quantity_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.item_id} x{self.quantity} ({self.document_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(_CANNOT_CHANGE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(_CANNOT_DELETE)

    @property
    def from_place(self) -> Place | None:
        return (
            Place(self.from_uic, self.from_code, self.from_kind) if self.from_location_id else None
        )

    @property
    def to_place(self) -> Place | None:
        if self.to_location_id is None:
            return None
        return Place(self.to_uic, self.to_code, self.to_kind)
