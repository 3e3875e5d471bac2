"""`supply backup --out DIR`: the database and the PKI home into a new backup directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from supply.backup.archive import make_backup
from supply.backup.management.commands._options import (
    add_passphrase_options,
    database,
    describe,
    pki_source,
)
from supply.commands import SupplyCommand


class Command(SupplyCommand):
    help = (
        "Back up the database (pg_dump, or SQLite's online backup) and the PKI home (encrypted) "
        "into a new directory with a manifest of checksums."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="the new directory")
        add_passphrase_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        made = make_backup(options["out"], database(), pki_source(options))
        self.stdout.write(f"Wrote {describe(made)}.")
