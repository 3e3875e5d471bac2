"""`supply provision-admin`: make a certificate's holder a superuser (admin with no password)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.identity.management.commands._options import (
    add_certificate_options,
    binding_from_options,
)
from supply.identity.services import provision_admin


class Command(SupplyCommand):
    help = "Bind a certificate to a superuser, who then opens /supply/admin/ with it."

    def add_arguments(self, parser: CommandParser) -> None:
        add_certificate_options(parser, force=True)
        parser.add_argument("--username", help="name of the user (default: from the CN)")

    def handle(self, *args: Any, **options: Any) -> None:
        binding = binding_from_options(options)
        user = provision_admin(binding, username=options["username"])
        self.stdout.write(f"{user.get_username()} is a superuser; certificate {binding.who}")
