"""What every command needs: the PKI home from the root callback, secrets, warnings."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from pki.home import PkiHome
from pki.secrets import (
    BACKUP_PASSPHRASE_ENV,
    CA_PASSPHRASE_ENV,
    P12_PASSWORD_ENV,
    RELEASE_PASSPHRASE_ENV,
    Secret,
    resolve,
)

PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help=(
            f"File whose first line is the CA passphrase (else ${CA_PASSPHRASE_ENV}, "
            "else a prompt)."
        ),
        dir_okay=False,
    ),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help=(
            f"File whose first line is the .p12 password (else ${P12_PASSWORD_ENV}, else a "
            "prompt; an empty answer or no terminal generates one)."
        ),
        dir_okay=False,
    ),
]
KeyTypeOption = Annotated[
    str,
    typer.Option("--key-type", help="ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096."),
]


def name_placeholders(params: list[Any]) -> None:
    """An option's value is shown as its name in capitals (``--password-file PASSWORD_FILE``),
    as `supply` (argparse) shows it, instead of click's ``<file>``, ``<str>``, ``<int>``: one
    placeholder style for both tools. A metavar set by a command (``DAYS``) stays."""
    for param in params:
        if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
            longest = max(param.opts, key=len)
            param.metavar = longest.lstrip("-").replace("-", "_").upper()


class PlaceholderGroup(TyperGroup):
    """A command group whose commands name their values in capitals (:func:`name_placeholders`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_placeholders(self.params)

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:
            name_placeholders(command.params)
        return command


def home(ctx: typer.Context) -> PkiHome:
    obj = ctx.find_root().obj
    assert isinstance(obj, PkiHome)
    return obj


def _prompt(text: str, *, confirm: bool) -> Callable[[], str] | None:
    if not sys.stdin.isatty():
        return None

    def ask() -> str:
        value: str = typer.prompt(
            text, hide_input=True, confirmation_prompt=confirm, default="", show_default=False
        )
        return value

    return ask


def _warned(secret: Secret) -> Secret:
    if secret.warning:
        warn(secret.warning)
    return secret


def ca_passphrase(file: Path | None, *, confirm: bool = False) -> bytes:
    prompt = _prompt("CA passphrase", confirm=confirm)
    secret = resolve(what="CA passphrase", file=file, env=CA_PASSPHRASE_ENV, prompt=prompt)
    return _warned(secret).value


def backup_passphrase(file: Path | None, *, confirm: bool = False) -> bytes:
    prompt = _prompt("Backup passphrase", confirm=confirm)
    secret = resolve(what="backup passphrase", file=file, env=BACKUP_PASSPHRASE_ENV, prompt=prompt)
    return _warned(secret).value


def release_passphrase(file: Path | None, *, confirm: bool = False) -> bytes:
    prompt = _prompt("Release key passphrase", confirm=confirm)
    secret = resolve(
        what="release key passphrase", file=file, env=RELEASE_PASSPHRASE_ENV, prompt=prompt
    )
    return _warned(secret).value


def p12_password(file: Path | None) -> Secret:
    prompt = _prompt(".p12 password (empty: generate one)", confirm=True)
    return _warned(
        resolve(what="password", file=file, env=P12_PASSWORD_ENV, prompt=prompt, generate=True)
    )


def warn(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED, bold=True)


def warn_about_crl(h: PkiHome) -> None:
    """Warn about this home's CRL and every imported one that is expired or expiring."""
    from pki.crl import crl_status, imported_statuses

    own = crl_status(h)
    for status in [*([own] if own else []), *imported_statuses(h)]:
        message = status.warning()
        if message:
            warn(message)
