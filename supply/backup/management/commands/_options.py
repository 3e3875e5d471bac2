"""What the backup commands share: this stack's database, the PKI home, its passphrase."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from pki.errors import PkiError
from pki.home import PkiHome
from pki.secrets import BACKUP_PASSPHRASE_ENV, resolve
from supply.backup.archive import Made, PkiSource
from supply.backup.database import Database
from supply.backup.errors import BackupError


def add_passphrase_options(parser: CommandParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help=(
            "the PKI home archive's passphrase (first line), not the CA's; else "
            f"${BACKUP_PASSPHRASE_ENV}, else a prompt"
        ),
    )
    parser.add_argument("--no-pki", action="store_true", help="leave the PKI home out ($PKI_HOME)")


def database() -> Database:
    return Database.of(settings.DATABASES["default"])


def passphrase(file: Path | None, *, confirm: bool) -> bytes:
    """The backup passphrase as `pki backup` takes it: a file, the variable, or a prompt."""

    def ask() -> str:
        first = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("Repeat for confirmation: ") != first:
            raise BackupError("passphrase: The two entries differ; try again.")
        return first

    try:
        return resolve(
            what="backup passphrase",
            file=file,
            env=BACKUP_PASSPHRASE_ENV,
            prompt=ask if sys.stdin.isatty() else None,
        ).value
    except PkiError as exc:
        raise BackupError(str(exc)) from None


def pki_source(options: dict[str, Any]) -> PkiSource | None:
    """The PKI home to back up: $PKI_HOME when it holds a CA, unless --no-pki. Read-only (no
    entry in its audit log, recorded in the manifest instead) when this process cannot write
    it, as in the containers, which mount it read-only."""
    home = PkiHome(Path(settings.PKI_HOME))
    if options["no_pki"] or not home.has_ca():
        return None
    secret = passphrase(options["passphrase_file"], confirm=sys.stdin.isatty())
    return PkiSource(home.root, secret, read_only=not os.access(home.root, os.W_OK))


def describe(made: Made) -> str:
    m = made.manifest
    pki = "no PKI home"
    if m.pki is not None:
        logged = "logged in its audit log" if m.pki.logged else "read-only: not in its audit log"
        pki = f"PKI home {m.pki.home} ({m.pki.files} files, {logged})"
    return (
        f"{made.path} ({m.engine}: {m.counts['ledger_entries']} ledger entries, "
        f"{m.counts['certificate_identities']} certificate identities, "
        f"{m.counts['stock_rows']} stock rows; {pki}; {made.size} bytes)"
    )
