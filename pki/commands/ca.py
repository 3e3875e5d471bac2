"""``pki init-ca``."""

from typing import Annotated

import typer

from pki.commands._common import KeyTypeOption, PassphraseFile, ca_passphrase, home


def init_ca(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help='The CA\'s common name, e.g. "Fleet Root CA".')
    ],
    org: Annotated[str | None, typer.Option("--org", help="Organization (O).")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Two-letter country (C).")
    ] = None,
    key_type: KeyTypeOption = "ec-p256",
    days: Annotated[
        int | None, typer.Option("--days", help="Validity in days (default 3650).")
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create the root CA and an empty CRL; refuses to overwrite an existing CA."""
    from pki.ca import init_ca as create
    from pki.ca import refuse_existing

    h = home(ctx)
    refuse_existing(h)  # checked again under the lock; this only spares a needless prompt
    passphrase = ca_passphrase(passphrase_file, confirm=True)
    created = create(
        h,
        name=name,
        org=org,
        country=country,
        key_type=key_type,
        days=days,
        passphrase=passphrase,
    )
    info = created.info
    typer.echo(f"Created CA {info.subject_dn} ({key_type}), valid until {info.not_after:%Y-%m-%d}.")
    typer.echo(f"  certificate: {created.cert_path}")
    typer.echo(f"  key:         {created.key_path} (encrypted)")
    typer.echo(f"  CRL:         {created.crl_path}")
    typer.echo(f"  SHA-256:     {info.sha256}")


def register(app: typer.Typer) -> None:
    app.command("init-ca")(init_ca)
