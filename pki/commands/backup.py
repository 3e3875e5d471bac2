"""``pki backup`` and ``pki restore``: one encrypted archive of a PKI home."""

from pathlib import Path
from typing import Annotated

import typer

from pki.commands._common import backup_passphrase, home
from pki.secrets import BACKUP_PASSPHRASE_ENV

BackupPassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help=(
            "File whose first line is the backup's own passphrase, not the CA's (else "
            f"${BACKUP_PASSPHRASE_ENV}, else a prompt)."
        ),
        dir_okay=False,
    ),
]


def backup(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option("--out", help="The archive to write (never overwritten).", dir_okay=False),
    ],
    passphrase_file: BackupPassphraseFile = None,
) -> None:
    """Write an encrypted archive (AES-256-GCM, scrypt) of the whole PKI home."""
    from pki.backup import backup as make

    h = home(ctx)
    h.require_ca()
    info = make(h, out, passphrase=backup_passphrase(passphrase_file, confirm=True))
    typer.echo(f"Wrote {info.path} ({info.files} files, {info.size} bytes, AES-256-GCM/scrypt).")
    typer.echo("Keep its passphrase apart from the archive; `pki restore` needs both.")


def restore(
    ctx: typer.Context,
    archive: Annotated[
        Path, typer.Argument(metavar="FILE", help="An archive written by `pki backup`.")
    ],
    target: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="New or empty directory to restore into (default: the PKI home).",
            file_okay=False,
        ),
    ] = None,
    passphrase_file: BackupPassphraseFile = None,
) -> None:
    """Restore a PKI home from an archive into a new or empty directory."""
    from pki.backup import refuse_target
    from pki.backup import restore as unpack

    dest = target or home(ctx).root
    refuse_target(dest)  # before the prompt; checked again before anything is written
    info = unpack(archive, dest, passphrase=backup_passphrase(passphrase_file))
    typer.echo(
        f"Restored {info.files} files into {info.home.root} (backup of {info.created} from "
        f"{info.host}); the log verifies ({info.log_entries} entries)."
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
