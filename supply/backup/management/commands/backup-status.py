"""`supply backup-status --dir DIR --max-age SECONDS`: the backup service's health check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from supply.backup.schedule import check_status
from supply.commands import SupplyCommand


class Command(SupplyCommand):
    help = (
        "Exit 0 when the last scheduled backup in DIR succeeded within --max-age seconds, else "
        "1 with one line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, required=True, help="the schedule's directory")
        parser.add_argument("--max-age", type=float, required=True, metavar="SECONDS")

    def handle(self, *args: Any, **options: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        self.stdout.write(check_status(options["dir"], options["max_age"], now))
