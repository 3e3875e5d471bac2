"""The `supply` console script: Django's manage.py with our settings."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supply.settings")
    try:
        from django.core.management import execute_from_command_line
    except ModuleNotFoundError as exc:
        # `pip install .` is the pki toolkit alone; the service is the `service` extra.
        if (exc.name or "").partition(".")[0] != "django":
            raise
        sys.exit(
            "supply: the service is not installed here (Django is missing); "
            "install it with: pip install 'tactical-edge[service]'"
        )

    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as exc:
        # A database that is down or not migrated is a setup problem, not a bug: one line.
        sys.exit(f"supply: {database_problem(exc)}")


def database_problem(exc: Exception) -> str:
    """One line for a database error: its first line, and what to do when tables are missing."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"database not migrated ({first}); run: supply migrate"
    return f"database error: {first}"


if __name__ == "__main__":
    main()
