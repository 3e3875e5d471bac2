"""The base of every `supply` management command: a SupplyError becomes Django's CommandError (one
line on stderr, exit status 1), here and nowhere else.

From the command line the line is the message alone, in the `what: Sentence.` form `pki` uses
(Django would print it after a `CommandError: ` prefix); called from code (``call_command``,
tests), the CommandError is raised as usual.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supply.errors import SupplyError


class SupplyCommand(BaseCommand):
    _from_command_line = False

    def run_from_argv(self, argv: list[str]) -> None:
        self._from_command_line = True
        super().run_from_argv(argv)

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except SupplyError as exc:
            error = CommandError(exc.message)
        except CommandError as exc:
            error = exc
        if self._from_command_line and not options.get("traceback"):
            self.stderr.write(str(error))
            sys.exit(error.returncode)
        raise error
