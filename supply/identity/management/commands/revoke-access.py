"""`supply revoke-access`: the certificate no longer logs anyone in (the user stays)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.identity.management.commands._options import (
    add_certificate_options,
    binding_from_options,
)
from supply.identity.services import revoke_access


class Command(SupplyCommand):
    help = "Remove the mapping of a certificate (or of every certificate with its DN)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_certificate_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        binding = binding_from_options(options)
        removed = revoke_access(binding)
        self.stdout.write(f"Removed {removed} mapping(s) of {binding.who}")
