"""``pki init-ca``: the fleet root, or with ``--issuing`` a site's pending issuing CA."""

from pathlib import Path
from typing import Annotated

import typer

from pki.commands._common import KeyTypeOption, PassphraseFile, ca_passphrase, home
from pki.errors import InputError

ConstraintOption = Annotated[
    list[str] | None,
    typer.Option(
        help="With --issuing: a DNS name, IP network (10.20.0.0/16) or @email.domain (repeatable)."
    ),
]


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
    issuing: Annotated[
        bool,
        typer.Option(
            "--issuing", help="A site's issuing CA: make its key and a CSR for the fleet root."
        ),
    ] = False,
    permit: ConstraintOption = None,
    exclude: ConstraintOption = None,
    csr_out: Annotated[
        Path | None,
        typer.Option("--csr-out", help="With --issuing: where to write the CSR.", dir_okay=False),
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create the fleet root CA and an empty CRL (or, with --issuing, a site CA's key and CSR);
    refuses to overwrite an existing CA."""
    from pki.ca import refuse_existing

    h = home(ctx)
    if not issuing and (permit or exclude or csr_out):
        raise InputError("init-ca: --permit, --exclude and --csr-out go with --issuing.")
    if issuing and days is not None:
        raise InputError("init-ca: The root chooses an issuing CA's --days when it signs.")
    if issuing and csr_out is None:
        raise InputError("init-ca: --issuing needs --csr-out FILE for the CSR to carry.")
    refuse_existing(h)  # checked again under the lock; this only spares a needless prompt
    passphrase = ca_passphrase(passphrase_file, confirm=True)
    if issuing:
        from pki.fleet import init_issuing

        assert csr_out is not None
        pending = init_issuing(
            h,
            name=name,
            org=org,
            country=country,
            key_type=key_type,
            permit=permit or (),
            exclude=exclude or (),
            csr_out=csr_out,
            passphrase=passphrase,
        )
        typer.echo(f"Made the issuing CA key and CSR for {pending.subject_dn} ({key_type}).")
        typer.echo(f"  CSR:         {pending.csr_path} (carry it to the root host)")
        typer.echo(f"  key SHA-256: {pending.key_sha256} (the root must show the same)")
        for line in pending.constraints:
            typer.echo(f"  asks:        {line}")
        typer.echo("This home issues once `pki import-ca CERT --root ROOT` has run.")
        return
    from pki.ca import init_ca as create

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
