"""Reference data: units of issue, units (UIC), items (NSN), storage locations and allowances.

The formats are checked by the database too (CHECK constraints), so no import path, admin form
or raw SQL can store an NSN with letters or a UIC of the wrong length.
"""

from __future__ import annotations

import re
from typing import Final

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

# The one spelling of each code's format. With `$` for the database's CHECK and the OpenAPI schema
# (their regex dialects end a string there); Python's `$` also matches before a final newline, so
# Python checks the same pattern ending in `\Z` (`NSN`, `UIC`, and the validators).
NSN_PATTERN: Final = "^[0-9]{13}$"
UIC_PATTERN: Final = "^[A-Z0-9]{6}$"
NSN_MESSAGE: Final = "NSN must be exactly 13 digits."
# What the API says where it also takes the dashed form (a lookup or a new item).
NSN_INPUT_MESSAGE: Final = "NSN must be 13 digits, plain or dashed as printed (6505-01-332-4567)."
UIC_MESSAGE: Final = "UIC must be 6 upper-case letters or digits."


def _whole_string(pattern: str) -> str:
    return pattern.removesuffix("$") + r"\Z"


NSN: Final = re.compile(_whole_string(NSN_PATTERN))
UIC: Final = re.compile(_whole_string(UIC_PATTERN))
NSN_VALIDATOR = RegexValidator(NSN.pattern, NSN_MESSAGE)
# As printed on labels and shipping papers: FSC-NCB-serial, 4-2-3-4 digits (6505-01-332-4567).
NSN_DASHED: Final = re.compile(r"\A([0-9]{4})-([0-9]{2})-([0-9]{3})-([0-9]{4})\Z")
# What the API accepts: either form (the schema's pattern; Python checks NSN or NSN_DASHED).
NSN_INPUT_PATTERN: Final = "^([0-9]{13}|[0-9]{4}-[0-9]{2}-[0-9]{3}-[0-9]{4})$"


def canonical_nsn(value: object) -> str | None:
    """The 13 digits of an NSN given plain or dashed; None when it is neither."""
    if not isinstance(value, str):
        return None
    if NSN.match(value):
        return value
    dashed = NSN_DASHED.match(value)
    return "".join(dashed.groups()) if dashed else None


UIC_VALIDATOR = RegexValidator(UIC.pattern, UIC_MESSAGE)
UI_VALIDATOR = RegexValidator(r"^[A-Z]{2}\Z", "Unit of issue must be 2 upper-case letters.")
# Blank is allowed by the field (blank=True), which skips validators: a pattern that also matched
# "" made the schema's "a letter" and "blank" branches overlap, so an empty AAC broke its oneOf.
AAC_VALIDATOR = RegexValidator(r"^[A-Z]\Z", "AAC must be one upper-case letter.")


class UnitOfIssue(models.Model):
    """How an item is counted when issued (EA each, BX box, ...)."""

    code = models.CharField(max_length=2, primary_key=True, validators=[UI_VALIDATOR])
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["code"]
        verbose_name = "unit of issue"
        verbose_name_plural = "units of issue"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z]{2}$"), name="unit_of_issue_code_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Unit(models.Model):
    """A military unit, identified by its 6-character Unit Identification Code."""

    uic = models.CharField("UIC", max_length=6, unique=True, validators=[UIC_VALIDATOR])
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["uic"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(uic__regex=UIC_PATTERN), name="unit_uic_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.uic} {self.name}"


class Item(models.Model):
    """A catalog item. The FSC (federal supply class) is the NSN's first four digits; its first
    two digits are the FSG, which the API calls the category."""

    nsn = models.CharField("NSN", max_length=13, unique=True, validators=[NSN_VALIDATOR])
    fsc = models.CharField("FSC", max_length=4, db_index=True, editable=False)
    rep_office = models.CharField(max_length=20, blank=True)
    common_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    unit_of_issue = models.ForeignKey(UnitOfIssue, on_delete=models.PROTECT)
    aac = models.CharField("AAC", max_length=1, blank=True, validators=[AAC_VALIDATOR])

    class Meta:
        ordering = ["nsn"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nsn__regex=NSN_PATTERN), name="item_nsn_format"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="item_price_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.nsn} {self.common_name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.fsc = self.nsn[:4]
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Location(models.Model):
    """A storage location of a unit: its receiving area or a bin. Codes are unique per unit."""

    class Kind(models.TextChoices):
        RECEIVING = "RECEIVING", "Receiving area"
        BIN = "BIN", "Bin"

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=30)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BIN)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["unit__uic", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="location_unique_code_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.uic}/{self.code}"


class Allowance(models.Model):
    """How much of an item a unit is authorized to hold, and when to reorder."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="allowances")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="allowances")
    allowance = models.PositiveIntegerField()
    reorder_point = models.PositiveIntegerField()

    class Meta:
        ordering = ["unit__uic", "item__nsn"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "item"], name="allowance_unique_unit_item"),
            models.CheckConstraint(
                condition=models.Q(reorder_point__lte=models.F("allowance")),
                name="allowance_reorder_le_allowance",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.unit.uic} {self.item.nsn}: {self.allowance} (reorder at {self.reorder_point})"
        )
