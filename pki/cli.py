"""The ``pki`` command: composes the command modules and maps errors to one line on stderr.

Adding a command: write ``pki/commands/<name>.py`` with a ``register(app)`` function and add it
to ``_COMMAND_MODULES``, or, for a module that is slow to import, add one line to
``_LAZY_COMMANDS``.
"""

import importlib
import io
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pki.commands import (
    backup,
    ca,
    fleet,
    inventory,
    issue,
    log,
    release,
    renewal,
    revocation,
    trust,
)
from pki.commands._common import PlaceholderGroup, name_placeholders
from pki.errors import PkiError
from pki.home import PkiHome, default_home

_COMMAND_MODULES = (ca, fleet, issue, renewal, inventory, revocation, log, backup, trust, release)
# Commands whose modules are heavy to import (jinja2) load only when invoked or listed in --help,
# so `pki issue-user` starts fast: name -> "module:function".
_LAZY_COMMANDS = {
    "nginx-config": "pki.commands.nginx:nginx_config",
}


class _PkiGroup(PlaceholderGroup):
    """The one place where a PkiError (or an OS error such as an unwritable --home) becomes one
    line on stderr and exit status 1, for the console script and CliRunner alike."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *_LAZY_COMMANDS]

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and name in _LAZY_COMMANDS:
            module, _, function = _LAZY_COMMANDS[name].partition(":")
            single = typer.Typer(
                add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
            )
            single.command(name)(getattr(importlib.import_module(module), function))
            command = typer.main.get_command(single)
            name_placeholders(command.params)
        return command

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context is private
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            # A missing or malformed option of a command (MissingParameter is a BadParameter):
            # one line, with the usage exit status 2, instead of click's four-line usage block.
            path = exc.ctx.command_path if exc.ctx is not None else "pki"
            typer.echo(f"{path}: {exc.format_message()} See `{path} --help`.", err=True)
            raise typer.Exit(2) from None
        except PkiError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # The reader left (`pki list | head`): nothing went wrong, so nothing to report.
            # Point stdout at /dev/null so the interpreter's final flush fails no louder.
            _silence_stdout()
            raise typer.Exit(1) from None
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            typer.echo(f"error: {exc.strerror or exc}{where}.", err=True)
            raise typer.Exit(1) from None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (CliRunner): nothing left to flush to a closed pipe


app = typer.Typer(
    cls=_PkiGroup,
    name="pki",
    help="Certificate toolkit: a root CA, server and user certificates, revocation, inventory.",
    no_args_is_help=True,
    # `pki --install-completion` / `--show-completion SHELL`: bash, zsh, fish, PowerShell.
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib import metadata

        try:
            number = metadata.version("tactical-edge")
        except metadata.PackageNotFoundError:
            number = "unknown (not installed)"
        typer.echo(f"pki (tactical-edge) {number}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="PKI home directory (default: $PKI_HOME, else ~/.local/share/tactical-edge/pki).",
            file_okay=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    ctx.obj = PkiHome((home or default_home()).expanduser())


for _module in _COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
