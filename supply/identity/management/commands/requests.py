"""`supply requests [--json]`: the account requests waiting for approval."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.identity.access_requests import pending


class Command(SupplyCommand):
    help = "List the account requests of unknown certificates waiting for `supply approve`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="a JSON array for scripts")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = pending()
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("No account requests.")
            return
        for row in rows:
            who = row["value"] or row["subject_dn"]
            self.stdout.write(
                f"{row['username']}\t{row['anchor']} {who}\tasks for {row['role']}\t"
                f"since {row['requested_at'][:16]}"
            )
