"""``pki issue-server`` and ``pki issue-user`` (one user, or many with ``--from``)."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pki.commands._common import (
    KeyTypeOption,
    PassphraseFile,
    PasswordFile,
    ca_passphrase,
    home,
    p12_password,
    warn,
)
from pki.errors import InputError

if TYPE_CHECKING:
    from pki.home import PkiHome


def issue_server(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="DNS name or IP address.")],
    san: Annotated[
        list[str] | None,
        typer.Option("--san", help="Extra DNS name or IP address (repeatable)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Validity in days (default 397, at most 825).")
    ] = None,
    key_type: KeyTypeOption = "ec-p256",
    replace: Annotated[
        bool, typer.Option("--replace", help="Supersede a valid certificate of the same name.")
    ] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Issue a TLS server certificate (EKU serverAuth); NAME is always in the SANs."""
    from pki.issue import issue_server as issue

    h = home(ctx)
    h.require_ca()
    issued = issue(
        h,
        name,
        sans=san or (),
        days=days,
        key_type=key_type,
        replace=replace,
        passphrase=ca_passphrase(passphrase_file),
    )
    info = issued.info
    typer.echo(f"Issued server certificate {info.serial} for {', '.join(info.sans)}.")
    typer.echo(f"  valid until: {info.not_after:%Y-%m-%d}")
    typer.echo(f"  certificate: {issued.cert_path}")
    typer.echo(f"  key:         {issued.key_path} (unencrypted, 0600)")
    typer.echo(f"  full chain:  {issued.chain_path}")
    for serial in issued.superseded:
        typer.echo(f"Revoked {serial} as superseded; run `pki crl` to publish.")


def issue_user(
    ctx: typer.Context,
    full_name: Annotated[
        str | None, typer.Argument(metavar="FULL_NAME", help='e.g. "Doe, Jane".')
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email (goes in the SAN).")] = None,
    org_unit: Annotated[str | None, typer.Option("--org-unit", help="Organizational unit.")] = None,
    p12: Annotated[
        bool,
        typer.Option("--p12/--pem", help="PKCS#12 file (default), or PEM cert + encrypted key."),
    ] = True,
    legacy: Annotated[
        bool, typer.Option("--legacy", help="3DES/SHA-1 .p12 for older macOS, Windows and Java.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Output file (default users/<Name>-<SERIAL>.p12).", dir_okay=False
        ),
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option("--from", help="CSV of users: full_name[,email][,org_unit].", dir_okay=False),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir", help="With --from: directory for the .p12 files.", file_okay=False
        ),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Validity in days (default 365).")
    ] = None,
    key_type: KeyTypeOption = "ec-p256",
    password_file: PasswordFile = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Issue a client-authentication certificate for a person, as a password-protected .p12."""
    h = home(ctx)
    if (full_name is None) == (from_csv is None):
        raise InputError("FULL_NAME: Give a full name or --from CSV, not both or neither.")
    if from_csv is not None:
        if out is not None or not p12:
            raise InputError("--from: Writes one .p12 per row; use --out-dir, not --out/--pem.")
        _issue_batch(h, from_csv, out_dir, legacy, days, key_type, password_file, passphrase_file)
        return
    assert full_name is not None
    if out_dir is not None:
        raise InputError("--out-dir: Only with --from; for one user give --out FILE.")
    if legacy and not p12:
        raise InputError("--legacy: Applies to .p12 files only, not to --pem.")
    from pki.issue import UserRequest
    from pki.issue import issue_user as issue

    h.require_ca()
    passphrase = ca_passphrase(passphrase_file)
    password = p12_password(password_file)
    request = UserRequest(
        full_name,
        password=password.value,
        email=email,
        org_unit=org_unit,
        days=days,
        key_type=key_type,
        legacy=legacy,
        pem=not p12,
        out=out,
    )
    issued = issue(h, request, passphrase=passphrase)
    info = issued.info
    typer.echo(f"Issued user certificate {info.serial} for {info.subject_dn}.")
    typer.echo(f"  valid until: {info.not_after:%Y-%m-%d}")
    if issued.p12_path:
        encoding = "legacy 3DES/SHA-1" if legacy else "AES-256/PBKDF2"
        typer.echo(f"  .p12:        {issued.p12_path} ({encoding})")
    else:
        typer.echo(f"  certificate: {issued.pem_path} (with the CA certificate)")
        typer.echo(f"  key:         {issued.key_path} (encrypted with the password)")
    if password.generated:
        typer.echo(f"  password:    {password.value.decode()}  (shown once; hand it over apart)")
    if issued.same_name:
        warn(
            f"WARNING: name: {len(issued.same_name)} other valid certificate(s) are named "
            f"{full_name!r} ({', '.join(issued.same_name)}); give a serial to `pki show` and "
            "`pki revoke`, and see `pki list` for what tells them apart."
        )


def _issue_batch(
    h: "PkiHome",
    csv_path: Path,
    out_dir: Path | None,
    legacy: bool,
    days: int | None,
    key_type: str,
    password_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    from pki.batch import open_batch, read_users_csv

    rows = read_users_csv(csv_path)  # a bad file fails before any prompt
    h.require_ca()
    if password_file is not None:
        from pki.secrets import exposure

        message = exposure(password_file, "password")
        if message:
            warn(message)
    batch = open_batch(
        h,
        rows,
        passphrase=ca_passphrase(passphrase_file),
        password_file=password_file,
        out_dir=out_dir,
        legacy=legacy,
        days=days,
        key_type=key_type,
    )
    failed: list[str] = []
    try:
        with (
            batch,
            typer.progressbar(batch, length=len(rows), label="Issuing", file=sys.stderr) as bar,
        ):
            for result in bar:
                if result.error:
                    failed.append(result.error)
    finally:  # the rows that failed, also when a write error stops the batch
        for line in failed:
            warn(line)
    typer.echo(
        f"Issued {batch.issued} of {len(rows)} users into {batch.target}; "
        f"{len(failed)} row(s) failed."
    )
    if batch.sheet_path is not None and batch.issued:
        typer.echo(f"Passwords (0600, hand each over apart): {batch.sheet_path}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("issue-server")(issue_server)
    app.command("issue-user")(issue_user)
