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
from supply.identity.services import grant


class Command(SupplyCommand):
    help = "Grant a role to the holder of a certificate."

    def add_arguments(self, parser: CommandParser) -> None:
        add_certificate_options(parser)
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument(
            "--username", help="attach to this user (one user, several certificates)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        binding = binding_from_options(options)
        user = grant(binding, options["role"], username=options["username"])
        self.stdout.write(
            f"{user.get_username()} has role {options['role']}; certificate {binding.subject_dn}"
        )
