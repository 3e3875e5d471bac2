"""`supply backup-schedule --dir DIR --every SECONDS --keep N`: the compose `backup` service."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.db import connections

from supply.backup import schedule
from supply.backup.archive import make_backup
from supply.backup.management.commands._options import (
    add_passphrase_options,
    database,
    describe,
    pki_source,
)
from supply.commands import SupplyCommand


def _at_least_one(cast: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = cast(text)
        except ValueError:
            value = 0
        if value < 1:
            kind = "a whole number" if cast is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind} of at least 1")
        return value

    return parse


class Command(SupplyCommand):
    help = (
        "Back up now and every --every seconds into DIR/<UTC time>, keeping the newest --keep; "
        "runs until SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, required=True, help="where the backups go")
        parser.add_argument(
            "--every", type=_at_least_one(float), required=True, metavar="SECONDS", help="interval"
        )
        parser.add_argument(
            "--keep", type=_at_least_one(int), required=True, metavar="N", help="backups kept"
        )
        add_passphrase_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        db = database()
        pki = pki_source(options)  # the passphrase once, before the loop: no prompt later

        def make(out: Path) -> str:
            try:
                return describe(make_backup(out, db, pki))
            finally:
                connections.close_all()

        schedule.run(options["dir"], options["every"], options["keep"], make)
