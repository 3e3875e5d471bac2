"""The base of every `supply` management command: a SupplyError becomes Django's CommandError (one
line on stderr, exit status 1), here and nowhere else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supply.errors import SupplyError


class SupplyCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except SupplyError as exc:
            raise CommandError(exc.message) from None
