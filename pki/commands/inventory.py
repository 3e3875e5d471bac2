"""``pki list`` and ``pki show``."""

import collections
import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer

from pki.commands._common import home, warn_about_crl

if TYPE_CHECKING:
    from pki.certinfo import CertInfo
    from pki.index import IndexRow

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")]


def _status(row: "IndexRow", now: dt.datetime) -> str:
    if row.status == "revoked":
        return "revoked"
    return "expired" if row.not_after <= now else "valid"


def list_certs(
    ctx: typer.Context,
    as_json: JsonOption = False,
    expiring_within: Annotated[
        int | None,
        typer.Option("--expiring-within", metavar="DAYS", help="Unrevoked, expiring within DAYS."),
    ] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Only revoked certificates.")] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only ca, server, user or release certificates.")
    ] = None,
) -> None:
    """List issued certificates (a table, or a JSON array with --json)."""
    from pki.errors import InputError
    from pki.inventory import list_certs as query

    if kind is not None and kind not in ("ca", "server", "user", "release"):
        raise InputError(f"kind: Choose ca, server, user or release, not {kind!r}.")
    h = home(ctx)
    rows = query(h, expiring_within=expiring_within, revoked=True if revoked else None, kind=kind)
    warn_about_crl(h)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
        return
    now = dt.datetime.now(dt.UTC)
    names = collections.Counter(r.name for r in rows)
    table = [("SERIAL", "KIND", "STATUS", "ISSUED", "NOT AFTER", "NAME")]
    table += [
        (
            r.serial,
            r.kind,
            _status(r, now),
            f"{r.issued_at:%Y-%m-%d}",
            f"{r.not_after:%Y-%m-%d}",
            r.name + (_telling_apart(r) if names[r.name] > 1 else ""),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(5)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        typer.echo("  ".join([*cells, line[5]]))


def _telling_apart(row: "IndexRow") -> str:
    """What tells a certificate from others of the same name: its OU and email."""
    from pki.names import org_unit_of

    parts = [f"OU={ou}" for ou in [org_unit_of(row.subject_dn)] if ou]
    parts += [san.removeprefix("email:") for san in row.sans if san.startswith("email:")]
    return f" ({', '.join(parts)})" if parts else ""


def _show_json(row: "IndexRow", info: "CertInfo") -> dict[str, object]:
    data = row.to_json()
    # The certificate file is the authority; the index row adds status and bookkeeping.
    data.update(
        subject=info.subject_dn,
        issuer=info.issuer_dn,
        sha256=info.sha256,
        sans=list(info.sans),
        not_before=info.not_before.isoformat(),
        not_after=info.not_after.isoformat(),
        is_ca=info.is_ca,
        client_auth=info.client_auth,
        server_auth=info.server_auth,
    )
    return data


def show(
    ctx: typer.Context,
    ident: Annotated[
        str, typer.Argument(metavar="ID", help="Serial (hex, any case, colons optional) or name.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Show one certificate: subject, issuer, serial, SHA-256, SANs, validity, status."""
    from pki.inventory import show as lookup

    row, info = lookup(home(ctx), ident)
    if as_json:
        typer.echo(json.dumps(_show_json(row, info), ensure_ascii=False, indent=2))
        return
    now = dt.datetime.now(dt.UTC)
    status = _status(row, now)
    if row.revoked_at is not None:
        status += f" ({row.reason}, {row.revoked_at:%Y-%m-%d %H:%M} UTC)"
    fields = [
        ("serial", info.serial),
        ("kind", row.kind),
        ("status", status),
        ("subject", info.subject_dn),
        ("issuer", info.issuer_dn),
        ("sha256", info.sha256),
        ("SANs", ", ".join(info.sans) or "-"),
        ("not before", f"{info.not_before:%Y-%m-%d %H:%M} UTC"),
        ("not after", f"{info.not_after:%Y-%m-%d %H:%M} UTC ({info.days_left(now)} days left)"),
        ("key type", row.key_type),
    ]
    for label, value in fields:
        typer.echo(f"{label + ':':<12}{value}")


def register(app: typer.Typer) -> None:
    app.command("list")(list_certs)
    app.command("show")(show)
