"""``pki sign-ca`` (on the root), ``pki import-ca`` and ``pki import-crl`` (on a site)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from pki.commands._common import PassphraseFile, ca_passphrase, home, warn_about_crl
from pki.commands.ca import ConstraintOption
from pki.errors import InputError
from pki.files import read_file


def sign_ca(
    ctx: typer.Context,
    csr: Annotated[Path, typer.Argument(metavar="CSR", help="The site's CSR.", dir_okay=False)],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the issuing CA's certificate.")
    ],
    days: Annotated[
        int | None, typer.Option("--days", help="Validity in days (default 1825).")
    ] = None,
    permit: ConstraintOption = None,
    exclude: ConstraintOption = None,
    unconstrained: Annotated[
        bool, typer.Option("--unconstrained", help="Sign without name constraints.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign a site's issuing CA (pathLen 0, name constraints) with this home's fleet root.

    --permit/--exclude, when given, replace the constraints the CSR asks for."""
    from pki.fleet import read_request
    from pki.fleet import sign_ca as sign

    h = home(ctx)
    h.require_ca()
    request = read_request(
        read_file(csr, "CSR"),
        permit=permit or (),
        exclude=exclude or (),
        unconstrained=unconstrained,
    )
    typer.echo(f"Subject:      {request.subject_dn}")
    typer.echo(f"Key:          {request.key_type}, SHA-256 {request.key_sha256}")
    for line in request.lines():
        typer.echo(f"Constraints:  {line}")
    if (permit or exclude or unconstrained) and request.requested is not None:
        from pki.constraints import lines

        typer.echo(f"  (the CSR asked for: {'; '.join(lines(request.requested))})")
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("sign-ca: Confirm on a terminal, or pass --yes.")
        if not typer.confirm("Sign this issuing CA?", default=False):
            raise InputError("sign-ca: Not signed.")
    signed = sign(h, request, out=out, days=days, passphrase=ca_passphrase(passphrase_file))
    row = signed.info
    typer.echo(
        f"Signed issuing CA {row.serial} ({row.name}), valid until {row.not_after:%Y-%m-%d}."
    )
    typer.echo(f"  certificate: {signed.path} (carry it, ca/cert.pem and ca/crl.pem to the site)")


def import_ca(
    ctx: typer.Context,
    cert: Annotated[Path, typer.Argument(metavar="CERT", help="The certificate the root signed.")],
    root: Annotated[Path, typer.Option("--root", help="The fleet root's certificate.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Make this pending home an issuing CA with the certificate the fleet root signed."""
    from pki.fleet import import_ca as do_import

    h = home(ctx)
    row = do_import(
        h,
        read_file(cert, "certificate"),
        read_file(root, "root certificate"),
        passphrase=ca_passphrase(passphrase_file),
    )
    typer.echo(f"Imported issuing CA {row.serial} ({row.subject_dn}); this home now issues.")
    typer.echo(f"  chain:  {h.chain}")
    typer.echo(f"  CRL:    {h.crl}")
    typer.echo("Import the root's CRL with `pki import-crl FILE` before `pki nginx-config`.")


def import_crl(
    ctx: typer.Context,
    crl: Annotated[Path, typer.Argument(metavar="FILE", help="A CRL (PEM or DER).")],
    ca: Annotated[
        Path | None,
        typer.Option("--ca", help="The peer issuing CA that signed it (another site's)."),
    ] = None,
) -> None:
    """Keep the CRL of the root (or, with --ca, of another site), verified against its CA."""
    from pki.fleet import import_crl as do_import

    h = home(ctx)
    h.require_ca()
    ca_pem = read_file(ca, "CA certificate") if ca is not None else None
    imported = do_import(h, read_file(crl, "CRL"), ca_pem=ca_pem)
    number = f"#{imported.number}" if imported.number is not None else "without a number"
    until = (
        f"next update {imported.next_update:%Y-%m-%d %H:%M} UTC"
        if imported.next_update
        else "no next update"
    )
    typer.echo(
        f"Imported CRL {number} of {imported.issuer_dn} ({imported.revoked} revoked; {until}). "
        "Reload nginx to use it."
    )
    warn_about_crl(h)


def register(app: typer.Typer) -> None:
    app.command("sign-ca")(sign_ca)
    app.command("import-ca")(import_ca)
    app.command("import-crl")(import_crl)
