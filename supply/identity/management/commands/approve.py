"""`supply approve USERNAME [--role ROLE]`: activate a requested account, in one step."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.identity.access_requests import approve
from supply.identity.roles import ROLES


class Command(SupplyCommand):
    help = "Approve an account request (`supply requests`): activate it with its requested role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="as `supply requests` shows it")
        parser.add_argument(
            "--role", choices=ROLES, help="grant this role instead of the asked one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = approve(options["username"], options["role"])
        roles = ", ".join(sorted(user.groups.values_list("name", flat=True)))
        self.stdout.write(f"{user.get_username()} is active with {roles}.")
