"""`supply import-catalog FILE.csv [--skip-invalid]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from supply.catalog.importer import CatalogImportError, import_catalog
from supply.commands import SupplyCommand


class Command(SupplyCommand):
    help = (
        "Import or update catalog items from a CSV file with the header "
        "NSN,rep_office,common_name,Description,Price,UI,AAC."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the catalog CSV (UTF-8)")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good rows even when some rows are bad (bad rows are reported)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = import_catalog(options["file"], skip_invalid=options["skip_invalid"])
        except CatalogImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise
        for error in result.errors:
            self.stderr.write(f"skipped {error}")
        self.stdout.write(
            f"imported {result.created + result.updated} item(s): {result.created} new, "
            f"{result.updated} updated, {result.skipped} skipped."
        )
