"""The `supply` console script: Django's manage.py with our settings."""

from __future__ import annotations

import os
import sys
import textwrap
from importlib import metadata

# `supply --show-completion >> ~/.bashrc`: bash asks Django's own completer (ManagementUtility
# reads COMP_WORDS and COMP_CWORD when DJANGO_AUTO_COMPLETE is set).
BASH_COMPLETION = """_supply_completion() {
    COMPREPLY=( $( COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD \\
                   DJANGO_AUTO_COMPLETE=1 "$1" 2>/dev/null ) )
}
complete -F _supply_completion -o default supply"""

_HELP: tuple[list[str], ...] = ([], ["help"], ["--help"], ["-h"])


def version() -> str:
    """The project's version (not Django's), as ``--version`` prints it."""
    try:
        return metadata.version("tactical-edge")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _help() -> str:
    """The project's commands first, with their one-line help; Django's own below."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    ours: list[tuple[str, str]] = []
    theirs: list[tuple[str, str]] = []
    for name, app in sorted(get_commands().items()):
        (ours if app.partition(".")[0] == "supply" else theirs).append((name, app))
    lines = [
        "Usage: supply COMMAND [OPTIONS]   (supply COMMAND --help shows a command's options)",
        "",
        "Commands of the supply service:",
    ]
    for name, app in ours:
        summary = (load_command_class(app, name).help or "").strip().splitlines()
        # Wrapped like Django's list below, so an 80-column terminal shows every word.
        lines += textwrap.wrap(
            summary[0] if summary else "",
            96,
            initial_indent=f"  {name:<24}",
            subsequent_indent=" " * 26,
        ) or [f"  {name}"]
    lines += ["", "Django's own commands:"]
    lines += textwrap.wrap(
        ", ".join(n for n, _ in theirs), 96, initial_indent="  ", subsequent_indent="  "
    )
    return "\n".join(lines)


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

    arguments = sys.argv[1:]
    completing = "DJANGO_AUTO_COMPLETE" in os.environ  # Django answers the shell's question
    if arguments == ["--version"]:
        print(f"supply (tactical-edge) {version()}")
        return
    if arguments in (["--show-completion"], ["--show-completion", "bash"]):
        print(BASH_COMPLETION)
        return
    if arguments in _HELP and not completing:
        print(_help())
        return
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
