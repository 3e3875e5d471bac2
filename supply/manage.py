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

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
