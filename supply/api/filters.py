"""Strict query filters: a value the database cannot take is a 400 with a sentence, never a 500.

django-filter's NumberFilter parses "0.5" and "9223372036854775808" as decimals and hands them to
the database (SQLite raises OverflowError for integers past 64 bits); IsoDateTimeFilter passes an
offset such as +20:00, which Python accepts and PostgreSQL refuses (its offsets end at +-15:59);
BooleanFilter quietly ignores "maybe". These fields check the value before any query runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters, serializers
from rest_framework.request import Request

ID_MAX = 2**63 - 1
"""The largest primary key a 64-bit integer column (SQLite INTEGER, PostgreSQL bigint) holds."""

_DIGITS = re.compile(r"^[0-9]{1,19}\Z")
# PostgreSQL's timestamptz input refuses offsets beyond this (Python allows up to 23:59).
_MAX_OFFSET = timedelta(hours=15, minutes=59)
# Converting to UTC must stay inside the years both databases and Python store.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


class IdField(forms.Field):
    """A row id: digits only, from 1 to 2**63-1."""

    default_error_messages = {"invalid": f"Must be a whole number from 1 to {ID_MAX}."}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not _DIGITS.match(text) or not 1 <= int(text) <= ID_MAX:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class UtcDateTimeField(forms.DateTimeField):
    """An ISO 8601 date and time; an offset must be one the databases store (at most +-15:59),
    and the value is handed on in UTC. A time without an offset is read in the site's zone."""

    default_error_messages = {
        "invalid": "Must be an ISO 8601 date and time, for example 2024-01-31T12:00:00Z.",
        "offset": "The UTC offset must be from -15:59 to +15:59.",
        "range": "Must be from 0001-01-02 to 9999-12-30 (UTC).",
    }

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > _MAX_OFFSET:
            raise ValidationError(self.error_messages["offset"], code="offset")
        if offset is None:
            aware = super().to_python(parsed)  # in the site's time zone
            assert aware is not None
            parsed = aware
        try:
            utc = parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["range"], code="range") from None
        if not _EARLIEST <= utc <= _LATEST:
            raise ValidationError(self.error_messages["range"], code="range")
        return utc


class StrictBooleanField(forms.Field):
    """true or false (also 1/0 and True/False, as DRF's own boolean parsing takes them)."""

    default_error_messages = {"invalid": "Must be true or false."}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        try:
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.Filter):  # type: ignore[misc]
    field_class = IdField


@extend_schema_field({"type": "string", "format": "date-time"})
class UtcDateTimeFilter(django_filters.Filter):  # type: ignore[misc]
    field_class = UtcDateTimeField


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.Filter):  # type: ignore[misc]
    field_class = StrictBooleanField


class SearchFilter(filters.SearchFilter):
    """DRF's search, whose refusal of a bad term (NUL) names the parameter like every other
    filter error (DRF's own answer was a bare list). A view may define
    ``search_term(term) -> term`` to read a term in its domain's terms (an NSN typed dashed)."""

    def filter_queryset(self, request: Request, queryset: Any, view: Any) -> Any:
        self._view = view  # DRF makes one backend per request
        return super().filter_queryset(request, queryset, view)

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            terms: list[str] = super().get_search_terms(request)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({self.search_param: exc.detail}) from None
        normalize = getattr(getattr(self, "_view", None), "search_term", None)
        return [normalize(term) for term in terms] if normalize else terms
