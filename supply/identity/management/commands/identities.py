"""`supply identities [--json]`: every certificate mapping with its user and roles."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.identity.services import identities


class Command(SupplyCommand):
    help = "List the certificate -> user mappings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="a JSON array for scripts")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = identities()
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write(
                "No identities; add one with `supply grant` or `supply provision-admin`."
            )
            return
        for row in rows:
            roles = ",".join(["superuser"] * row["superuser"] + row["roles"]) or "-"
            state = "" if row["active"] else " (disabled)"
            pin = f" pinned:{row['fingerprint'][:16]}" if row["fingerprint"] else ""
            if row["value"]:
                rule = row["rule"] or "anchor removed"
                who = f"{row['anchor']} {rule} {row['value']}"
            else:
                who = f"{row['subject_dn']}\tissuer: {row['issuer_dn']}"
                if row["anchor"] != "local":
                    who = f"{row['anchor']} subject {who}"
            self.stdout.write(f"{row['username']}{state}\t{roles}\t{who}{pin}")
