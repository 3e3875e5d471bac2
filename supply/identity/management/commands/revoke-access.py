"""`supply revoke-access`: the certificate no longer logs anyone in (the user stays)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supply.identity.errors import IdentityError
from supply.identity.management.commands._options import (
    add_certificate_options,
    binding_from_options,
)
from supply.identity.services import revoke_access


class Command(BaseCommand):
    help = "Remove the mapping of a certificate (or of every certificate with its DN)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_certificate_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            binding = binding_from_options(options)
            removed = revoke_access(binding)
        except IdentityError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Removed {removed} mapping(s) of {binding.subject_dn}")
