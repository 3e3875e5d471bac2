"""``pki sign`` (a certificate for a key made elsewhere) and ``pki renew``."""

from pathlib import Path
from typing import Annotated

import typer

from pki.commands._common import PassphraseFile, PasswordFile, ca_passphrase, home, p12_password
from pki.errors import InputError
from pki.files import read_file


def sign(
    ctx: typer.Context,
    csr: Annotated[Path, typer.Argument(metavar="CSR", help="The CSR (PEM or DER).")],
    profile: Annotated[str, typer.Option("--profile", help="user or server.")],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the certificate and its chain.")
    ],
    san: Annotated[
        list[str] | None,
        typer.Option("--san", help="Server: extra DNS name or IP address (repeatable)."),
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="User: email (SAN).")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Validity in days.")] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign a CSR whose key stays where it was made (a card, a device): same profiles as
    issue-server and issue-user; the subject is the CSR's CN, SANs only from the options."""
    from pki.renewal import sign_csr

    h = home(ctx)
    h.require_ca()
    signed = sign_csr(
        h,
        read_file(csr, "CSR"),
        profile=profile,
        sans=san or (),
        email=email,
        days=days,
        out=out,
        passphrase=ca_passphrase(passphrase_file),
    )
    info = signed.info
    names = f" ({', '.join(info.sans)})" if info.sans else ""
    typer.echo(f"Signed {profile} certificate {info.serial} for {info.subject_dn}{names}.")
    typer.echo(f"  valid until: {info.not_after:%Y-%m-%d}")
    typer.echo(f"  certificate: {signed.path} (with the CA chain)")


def renew(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="Serial (hex) or name.")],
    days: Annotated[int | None, typer.Option("--days", help="Validity in days.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="User: the new .p12 (default users/<Name>-<SERIAL>.p12).", dir_okay=False
        ),
    ] = None,
    legacy: Annotated[
        bool, typer.Option("--legacy", help="User: 3DES/SHA-1 .p12 for older importers.")
    ] = False,
    password_file: PasswordFile = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """A new certificate with the same subject and SANs (a new key; for a user a new .p12);
    the old one is revoked as superseded once the new one exists."""
    from pki.issue import UserRequest
    from pki.renewal import renew_server, renew_user, renewable

    h = home(ctx)
    h.require_ca()
    row = renewable(h, ident)  # before any prompt
    if row.kind == "server":
        if out is not None or legacy or password_file is not None:
            raise InputError("renew: --out, --legacy and --password-file are for users.")
        server = renew_server(h, row.serial, days=days, passphrase=ca_passphrase(passphrase_file))
        info = server.info
        typer.echo(
            f"Renewed server {row.name}: {info.serial}, valid until {info.not_after:%Y-%m-%d}."
        )
        typer.echo(f"  full chain:  {server.chain_path} (reload nginx to serve it)")
    else:
        passphrase = ca_passphrase(passphrase_file)
        password = p12_password(password_file)
        request = UserRequest(row.name, password=password.value, days=days, legacy=legacy, out=out)
        user = renew_user(h, row.serial, request, passphrase=passphrase)
        info = user.info
        typer.echo(
            f"Renewed {info.subject_dn}: {info.serial}, valid until {info.not_after:%Y-%m-%d}."
        )
        typer.echo(f"  .p12:        {user.p12_path}")
        if password.generated:
            typer.echo(
                f"  password:    {password.value.decode()}  (shown once; hand it over apart)"
            )
    typer.echo(f"Revoked {row.serial} as superseded; run `pki crl` to publish.")


def register(app: typer.Typer) -> None:
    app.command("sign")(sign)
    app.command("renew")(renew)
