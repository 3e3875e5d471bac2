"""Catalog import from CSV (`supply import-catalog`).

Format: UTF-8 (with or without BOM), RFC 4180 quoting, header
`NSN,rep_office,common_name,Description,Price,UI,AAC`. Every row is validated before anything is
written; with any bad row nothing is imported unless `skip_invalid`. Rows are upserted by NSN with
one prepared `INSERT ... ON CONFLICT (nsn) DO UPDATE` run over all rows (executemany), so
re-running updates instead of duplicating. That statement is written by hand: building 10,000
model instances for `bulk_create` costs more than the database work, and the import must stay
fast on a small edge host. SQLite and PostgreSQL share this syntax.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from django.db import connection, transaction

from supply.catalog import history
from supply.catalog.models import NSN, Item, UnitOfIssue
from supply.errors import SupplyError

HEADER = ("NSN", "rep_office", "common_name", "Description", "Price", "UI", "AAC")
_AAC = re.compile(r"^[A-Z]?\Z")
_MAX_PRICE = Decimal("9999999999.99")


class CatalogRow(NamedTuple):
    """One valid row, in the column order of the upsert."""

    nsn: str
    fsc: str
    rep_office: str
    common_name: str
    description: str
    price: Decimal
    unit_of_issue: str
    aac: str


@dataclass(frozen=True)
class RowError:
    """A bad row: its line number in the file (1 is the header) and what is wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


class CatalogImportError(SupplyError):
    """The file cannot be imported; `errors` lists each bad row (empty for a file-level fault)."""

    code = "invalid_catalog"

    def __init__(self, message: str, errors: Iterable[RowError] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


def _records(lines: Iterable[str]) -> Iterable[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted field may span lines)."""
    reader = csv.reader(lines, strict=True)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise csv.Error(f"line {start}: Malformed CSV ({exc}).") from None


def _check_row(values: list[str], units: set[str]) -> tuple[CatalogRow | None, list[str]]:
    problems: list[str] = []
    if len(values) != len(HEADER):
        return None, [f"expected {len(HEADER)} fields, found {len(values)}"]
    # PostgreSQL text cannot hold NUL (the database error would name no line), and the API
    # refuses it: a row error like any other bad value.
    nul = [name for name, value in zip(HEADER, values, strict=True) if "\x00" in value]
    if nul:
        return None, [f"{name} contains a NUL byte" for name in nul]
    nsn, rep_office, common_name, description, price_text, ui, aac = (v.strip() for v in values)
    nsn = nsn.replace("-", "")
    if not NSN.match(nsn):
        problems.append(f"NSN {values[0]!r} is not 13 digits")
    if not common_name:
        problems.append("common_name is empty")
    elif len(common_name) > 200:
        problems.append("common_name is longer than 200 characters")
    if len(rep_office) > 20:
        problems.append("rep_office is longer than 20 characters")
    price: Decimal | None = None
    try:
        price = Decimal(price_text)
    except InvalidOperation:
        problems.append(f"Price {price_text!r} is not a number")
    else:
        if not price.is_finite() or price < 0 or price > _MAX_PRICE:
            problems.append(f"Price {price_text!r} is not from 0 to {_MAX_PRICE}")
        elif price.as_tuple().exponent < -2:  # type: ignore[operator]
            problems.append(f"Price {price_text!r} has more than 2 decimal places")
    ui = ui.upper()
    if ui not in units:
        problems.append(f"UI {values[5].strip()!r} is not a known unit of issue")
    aac = aac.upper()
    if not _AAC.match(aac):
        problems.append(f"AAC {values[6].strip()!r} is not one letter")
    if problems or price is None:
        return None, problems
    return CatalogRow(nsn, nsn[:4], rep_office, common_name, description, price, ui, aac), []


def validate_catalog(lines: Iterable[str]) -> tuple[list[CatalogRow], list[RowError]]:
    """Parse and check every row; returns the good rows and the bad ones (in line order)."""
    units = set(UnitOfIssue.objects.values_list("code", flat=True))
    items: list[CatalogRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    records = _records(lines)
    try:
        header = next(iter(records), None)
        if header is None:
            raise CatalogImportError(
                f"catalog: The file is empty; it needs the header {','.join(HEADER)}."
            )
        if tuple(v.strip() for v in header[1]) != HEADER:
            raise CatalogImportError(f"line 1: The header must be {','.join(HEADER)}.")
        for line, values in records:
            if not any(v.strip() for v in values):
                continue  # blank line
            item, problems = _check_row(values, units)
            if item is not None and item.nsn in first_line_of:
                problems = [f"NSN {item.nsn} repeats line {first_line_of[item.nsn]}"]
            if problems:
                errors.append(RowError(line, "; ".join(problems)))
            elif item is not None:
                first_line_of[item.nsn] = line
                items.append(item)
    except csv.Error as exc:
        raise CatalogImportError(str(exc), errors) from None
    frozen = _history_conflicts(items, first_line_of)
    if frozen:
        bad = {error.line for error in frozen}
        items = [item for item in items if first_line_of[item.nsn] not in bad]
        errors = sorted([*errors, *frozen], key=lambda error: error.line)
    return items, errors


def _history_conflicts(items: list[CatalogRow], line_of: dict[str, int]) -> list[RowError]:
    """Rows that would change the unit of issue of an item the ledger has counted in the old one
    (supply.catalog.history): the import refuses them as it refuses any bad value."""
    new_ui = {item.nsn: item.unit_of_issue for item in items}
    errors = []
    for start in range(0, len(items), 5000):  # below every backend's bound-parameter limit
        chunk = [item.nsn for item in items[start : start + 5000]]
        for existing in Item.objects.filter(nsn__in=chunk):
            changes = {"unit_of_issue": new_ui[existing.nsn]}
            if history.changed_frozen_fields(existing, changes) and history.in_history(existing):
                errors.append(
                    RowError(
                        line_of[existing.nsn],
                        f"UI cannot change from {existing.unit_of_issue_id} to "
                        f"{new_ui[existing.nsn]}: stock of {existing.nsn} has been recorded in "
                        f"{existing.unit_of_issue_id}; create a new item",
                    )
                )
    return errors


def decode_catalog(data: bytes) -> str:
    """The file's text: UTF-8, a leading BOM dropped; the first bad byte's line is reported."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # utf-8-sig counts its positions after the BOM it dropped.
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        line = data[: bom + exc.start].count(b"\n") + 1
        raise CatalogImportError(f"line {line}: Not UTF-8 text; save the file as UTF-8.") from None


def _upsert_sql() -> str:
    meta = Item._meta
    quote = connection.ops.quote_name
    columns = [str(meta.get_field(name).column) for name in CatalogRow._fields]  # type: ignore[union-attr]
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns[1:])
    # Only quoted identifiers from the model's metadata go into the text; values are parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote(columns[0])}) DO UPDATE SET {updates}"
    )


def upsert_items(rows: list[CatalogRow]) -> tuple[int, int]:
    """Insert new NSNs and update existing ones, in one transaction; returns (created, updated)."""
    nsns = [row.nsn for row in rows]
    existing: set[str] = set()
    for start in range(0, len(nsns), 5000):  # below every backend's bound-parameter limit
        chunk = nsns[start : start + 5000]
        existing.update(Item.objects.filter(nsn__in=chunk).values_list("nsn", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), rows)
    updated = sum(1 for nsn in nsns if nsn in existing)
    return len(rows) - updated, updated


def import_catalog(path: Path, *, skip_invalid: bool = False) -> ImportResult:
    """Import a catalog CSV. Raises CatalogImportError (with every bad row) when the file cannot be
    read, or when any row is bad and `skip_invalid` is false: then nothing is written."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogImportError(f"{path}: Cannot read it ({exc.strerror or exc}).") from None
    items, errors = validate_catalog(io.StringIO(decode_catalog(data), newline=""))
    if errors and not skip_invalid:
        raise CatalogImportError(
            f"catalog: {len(errors)} bad row(s); nothing imported (--skip-invalid imports the good "
            "rows).",
            errors,
        )
    created, updated = upsert_items(items) if items else (0, 0)
    return ImportResult(created=created, updated=updated, errors=errors)
