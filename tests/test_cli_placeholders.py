"""One placeholder style in both tools' help: an option's value is named in capitals
(`--password-file PASSWORD_FILE`, `--days DAYS`) or its choices are listed (`{clerk,...}`), in
`pki` (Typer) as in `supply` (argparse); never click's `<file>`, `<str>`, `<int>`."""

from __future__ import annotations

import re

import pytest
from django.core.management import get_commands, load_command_class
from typer.testing import CliRunner

from pki.cli import app

# `  --option VALUE` or `  -x, --option VALUE` at the start of a help line (and in usage lines).
OPTION_VALUE = re.compile(r"(?:^|[\s\[,])(--?[a-z][a-z0-9-]*)[ =](\S+)")
PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z0-9_]*|\{[a-z0-9,-]+\})(?:\.\.\.)?\]?,?$")


def placeholders(help_text: str) -> dict[str, str]:
    """Each option shown with a value in a help text -> the placeholder shown for the value."""
    found: dict[str, str] = {}
    for line in help_text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("-") and not stripped.startswith("usage:"):
            continue
        # An option line's own part ends where its help column starts (two spaces); the help
        # may name other options in prose ("with --upn or --email").
        spec = line if stripped.startswith("usage:") else "  " + stripped.split("  ", 1)[0]
        for option, value in OPTION_VALUE.findall(spec):
            if value.startswith("-") or value.startswith("/"):
                continue  # `--p12 / --pem`: a flag pair, not a value
            found.setdefault(option, value)
    return found


def pki_commands(*group: str) -> list[str]:
    """Every command, a group's commands as `group command` (``trust add``)."""
    out = CliRunner().invoke(app, [*group, "--help"]).output
    listing = out[out.index("Commands:") :].splitlines()[1:]
    found = []
    for name in (line.split()[0] for line in listing if line.strip()):
        sub = CliRunner().invoke(app, [*group, name, "--help"]).output
        found += pki_commands(*group, name) if "\nCommands:" in sub else [" ".join((*group, name))]
    return found


@pytest.mark.parametrize("command", ["", *pki_commands()])
def test_pki_names_every_value_in_capitals(command: str) -> None:
    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    shown = placeholders(result.output)
    wrong = {option: value for option, value in shown.items() if not PLACEHOLDER.match(value)}
    assert wrong == {}


SUPPLY_COMMANDS = sorted(n for n, app in get_commands().items() if app.startswith("supply"))


@pytest.mark.parametrize("command", SUPPLY_COMMANDS)
def test_supply_names_every_value_in_capitals(command: str) -> None:
    parser = load_command_class(get_commands()[command], command).create_parser("supply", command)
    shown = placeholders(parser.format_help())
    wrong = {option: value for option, value in shown.items() if not PLACEHOLDER.match(value)}
    assert wrong == {}


def test_the_check_reads_the_help_it_checks() -> None:
    shown = [
        value
        for command in pki_commands()
        for value in placeholders(
            CliRunner().invoke(app, [*command.split(), "--help"]).output
        ).values()
    ]
    assert len(shown) >= 40
    assert "PASSPHRASE_FILE" in shown and "DAYS" in shown and "BUNDLE" in shown


def test_the_check_sees_the_style_it_refuses() -> None:
    assert placeholders("  --out <file>   Output file.") == {"--out": "<file>"}
    assert not PLACEHOLDER.match("<file>")
    assert PLACEHOLDER.match("PASSWORD_FILE") and PLACEHOLDER.match("{viewer,clerk}")
