"""Serializer building blocks: the strict base that refuses unknown and read-only fields and
text given as another JSON type, a whole number field that refuses booleans and fractions, a sum of
money given as text (the catalog's NSN / UIC lookups are in supply.catalog.fields).

Where the schema states a pattern, the field checks the same pattern with `re.search`, the way
JSON Schema tools apply it, and the schema pins the length, so both read one value alike."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from supply.text import unstorable

_WHOLE = re.compile(r"^-?[0-9]{1,18}\Z")
MONEY_PATTERN = r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$"

# Sent by the browsable API's HTML forms; not part of any resource.
_FORM_NOISE = frozenset({"csrfmiddlewaretoken"})


class StrictFieldsMixin(serializers.Serializer[Any]):
    """Refuse any submitted key that is not a writable field (typos must not pass silently).
    Mix in before ModelSerializer: `class S(StrictFieldsMixin, ModelSerializer[M])`."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = sorted(set(data) - writable - _FORM_NOISE)
            if refused:
                raise serializers.ValidationError(
                    {name: ["Unknown or read-only field."] for name in refused}
                )
            errors: dict[str, list[str]] = {}
            for name, field in self.fields.items():
                value = data.get(name)
                # DRF's CharField turns 5 into "5": a number sent for a name is a client's mistake.
                if isinstance(field, serializers.CharField) and not isinstance(value, str | None):
                    errors[name] = ["Must be text."]
                # Lookups by code (NSN, UIC, unit of issue) too: a query with text the database
                # cannot hold fails instead of finding nothing.
                elif isinstance(value, str) and (why := unstorable(value)):
                    errors[name] = [f"{why[0].upper()}{why[1:]}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


@extend_schema_field(
    {"type": "string", "pattern": MONEY_PATTERN, "maxLength": 13, "examples": ["12.50"]}
)
class MoneyField(serializers.DecimalField):
    """A sum from 0 to 9999999999.99 as text ("12.50"): a JSON number is a float, which cannot
    hold every sum exactly."""

    default_error_messages = {
        "money": 'Must be a sum as text, like "12.50" (up to 10 digits, 2 decimals).',
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not re.search(MONEY_PATTERN, data):
            self.fail("money")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """An integer given as a JSON integer (or digits in a form): not true/false, not 2.5, not 2.0.
    Range rules belong to the service, which every caller goes through."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            return data
        if isinstance(data, str) and _WHOLE.match(data.strip()):
            return int(data.strip())
        self.fail("invalid")
