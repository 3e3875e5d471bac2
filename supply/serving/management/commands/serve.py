"""`supply serve`: run the service under gunicorn (replaces this process)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import CommandParser

from supply.commands import SupplyCommand
from supply.errors import ConfigurationError
from supply.serving.launch import gunicorn_argv, parse_bind


class Command(SupplyCommand):
    help = "Serve the supply service with gunicorn (supply.wsgi:application)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("SUPPLY_BIND", "127.0.0.1:8000"),
            help="HOST:PORT or unix:PATH (default $SUPPLY_BIND or 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="worker processes (default $SUPPLY_WORKERS or 2 x CPUs + 1, at most 8)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"]
        if workers is not None and workers < 1:
            raise ConfigurationError(f"--workers: {workers} is not a positive number.")
        argv = gunicorn_argv(parse_bind(options["bind"]), workers)
        sys.stdout.flush()
        sys.stderr.flush()
        # exec, so gunicorn's master gets the signals (SIGTERM from compose stops it gracefully).
        os.execv(sys.executable, [sys.executable, *argv])  # noqa: S606 (fixed argv, no shell)
