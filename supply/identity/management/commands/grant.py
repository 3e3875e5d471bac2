"""`supply grant`: give a certificate's holder a role (creating the user when new)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.identity.management.commands._options import (
    add_certificate_options,
    binding_from_options,
)
from supply.identity.roles import ROLES
from supply.identity.services import grant_roles


class Command(SupplyCommand):
    help = "Grant one or more roles to the holder of a certificate."

    def add_arguments(self, parser: CommandParser) -> None:
        add_certificate_options(parser, force=True)
        parser.add_argument(
            "--role",
            required=True,
            choices=ROLES,
            action="append",
            help="repeat for several roles: --role clerk --role issuer",
        )
        parser.add_argument(
            "--username", help="attach to this user (one user, several certificates)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        binding = binding_from_options(options)
        roles = list(dict.fromkeys(options["role"]))  # in the order given, once each
        user = grant_roles(binding, roles, username=options["username"])
        held = sorted(user.groups.values_list("name", flat=True))
        noun = "role" if len(held) == 1 else "roles"
        self.stdout.write(
            f"{user.get_username()} has {noun} {', '.join(held)}; certificate {binding.who}"
        )
