"""``pki revoke`` and ``pki crl``."""

from typing import Annotated

import typer

from pki.commands._common import PassphraseFile, ca_passphrase, home, warn_about_crl


def revoke(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="Serial (hex) or name.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help=(
                "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, "
                "superseded, cessationOfOperation, privilegeWithdrawn, aACompromise."
            ),
        ),
    ],
) -> None:
    """Mark a certificate revoked; `pki crl` publishes it."""
    from pki.crl import revoke as do_revoke

    row = do_revoke(home(ctx), ident, reason)
    typer.echo(f"Revoked {row.serial} ({row.name}) as {row.reason}.")
    typer.echo("Run `pki crl` and reload nginx to publish the revocation.")


def crl(
    ctx: typer.Context,
    days: Annotated[
        int | None, typer.Option("--days", help="CRL lifetime in days (default 30).")
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign and write the CRL (ca/crl.pem) listing every revoked certificate."""
    from pki.ca import write_crl

    h = home(ctx)
    h.require_ca()
    info = write_crl(h, days=days, passphrase=ca_passphrase(passphrase_file))
    typer.echo(
        f"Wrote CRL #{info.number} ({info.revoked} revoked) to {info.path}; "
        f"next update {info.next_update:%Y-%m-%d %H:%M} UTC. Reload nginx to use it."
    )
    warn_about_crl(h)


def register(app: typer.Typer) -> None:
    app.command("revoke")(revoke)
    app.command("crl")(crl)
