"""`supply restore DIR`: a backup onto this empty stack (database, then the PKI home)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import connections

from supply.backup.archive import restore_backup
from supply.backup.management.commands._options import (
    add_passphrase_options,
    database,
    passphrase,
)
from supply.commands import SupplyCommand


class Command(SupplyCommand):
    help = (
        "Restore a backup made by `supply backup` onto an empty stack; a damaged or foreign "
        "backup, or a database that holds data, is refused and nothing is changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR", help="a backup directory")
        add_passphrase_options(parser)
        parser.add_argument(
            "--pki-home",
            type=Path,
            help="new or empty directory for the PKI home (default $PKI_HOME)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from supply.identity.lookup import invalidate
        from supply.inventory.ledger import find_drift, find_rewritten

        connections.close_all()  # the restore writes through connections of its own
        home = None if options["no_pki"] else options["pki_home"] or Path(settings.PKI_HOME)
        done = restore_backup(
            options["directory"],
            database(),
            pki_home=home,
            passphrase=lambda: passphrase(options["passphrase_file"], confirm=False),
        )
        invalidate()  # no certificate lookup cached before the restore survives it
        m = done.manifest
        pki = f"; PKI home into {done.pki_home}" if done.pki_home else ""
        self.stdout.write(
            f"Restored {options['directory']} (made {m.created} on {m.host}): "
            f"{m.counts['ledger_entries']} ledger entries, {m.counts['certificate_identities']} "
            f"certificate identities, {m.counts['stock_rows']} stock rows{pki}."
        )
        if done.pending_migrations:
            self.stdout.write(
                f"This version has {done.pending_migrations} migration(s) the backup had not "
                "applied: run `supply migrate`."
            )
            return
        drift, rewritten = find_drift(), find_rewritten()
        if drift or rewritten:
            self.stderr.write(
                f"ledger: {len(drift)} drift(s), {len(rewritten)} rewritten row(s) in the "
                "restored database; run `supply check-ledger` for the list."
            )
        else:
            self.stdout.write("The ledger is consistent.")
