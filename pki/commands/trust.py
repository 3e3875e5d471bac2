"""``pki trust add|list|remove|import-crl``: the PKIs whose certificates log in here besides the
site's own (smart cards of a national PKI)."""

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pki.commands._common import PlaceholderGroup, home

if TYPE_CHECKING:
    from pki.anchors import CAState

trust_app = typer.Typer(
    cls=PlaceholderGroup,
    help="Other PKIs whose certificates log in here (smart cards): add, list, remove, CRLs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The anchor's name, e.g. dod.")]


def _read(path: Path, what: str) -> bytes:
    from pki.files import read_file

    return read_file(path, what)


@trust_app.command("add")
def add(
    ctx: typer.Context,
    name: NameArgument,
    ca: Annotated[
        Path,
        typer.Option(
            "--ca", metavar="BUNDLE", help="PEM bundle: the PKI's root and intermediates."
        ),
    ],
    identity: Annotated[
        str,
        typer.Option(
            "--identity",
            metavar="RULE",
            help="subject (issuer + subject DN), upn (UPN in the SAN) or email (email SAN).",
        ),
    ],
    crl: Annotated[
        list[Path] | None,
        typer.Option("--crl", metavar="FILE", help="A CRL of one of its CAs (repeatable)."),
    ] = None,
    require_policy: Annotated[
        list[str] | None,
        typer.Option(
            "--require-policy", metavar="OID", help="A policy every certificate must assert."
        ),
    ] = None,
    crl_grace: Annotated[
        int,
        typer.Option(
            "--crl-grace",
            metavar="DAYS",
            help="Days past a CRL's nextUpdate that its certificates still log in (warned).",
        ),
    ] = 0,
    default_role: Annotated[
        str | None,
        typer.Option(
            "--default-role",
            metavar="ROLE",
            help="An unknown valid certificate asks for an account with this role.",
        ),
    ] = None,
) -> None:
    """Trust another PKI's root and intermediates, with the rule that names its people."""
    from pki import anchors

    anchor = anchors.add(
        home(ctx),
        name,
        _read(ca, "ca"),
        crls=[_read(p, "crl") for p in crl or ()],
        identity=identity,
        require_policies=require_policy or (),
        crl_grace_days=crl_grace,
        default_role=default_role,
    )
    h = home(ctx)
    count = len(anchors.anchor_cas(h, anchor.name))
    typer.echo(f"Trusting {anchor.name} ({count} CAs, identity {anchor.identity}).")
    for state in anchors.ca_states(h, anchor.name, anchor.crl_grace_days):
        if state.state == "missing":
            typer.echo(
                f"WARNING: no CRL of {state.subject}: its certificates are refused until "
                f"`pki trust import-crl {anchor.name} FILE`.",
                err=True,
            )
    typer.echo("Render the nginx configuration again (`pki nginx-config`) and reload nginx.")


def _describe(state: "CAState") -> str:
    when = f"{state.crl_next_update:%Y-%m-%d %H:%M} UTC" if state.crl_next_update else ""
    return {
        "fresh": f"CRL fresh until {when}" if when else "CRL without nextUpdate",
        "grace": f"CRL EXPIRED at {when}: logins allowed within the grace period",
        "stale": f"CRL EXPIRED at {when}: its certificates are refused",
        "missing": "NO CRL: its certificates are refused",
    }[state.state]


@trust_app.command("list")
def list_anchors(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """The anchors (local is the site's own chain) and the freshness of each CA's CRL."""
    from pki import anchor_store, anchors

    h = home(ctx)
    now = dt.datetime.now(dt.UTC)
    rows = [anchor_store.Anchor(name=anchors.LOCAL, identity="subject"), *anchor_store.load(h)]
    out = []
    for anchor in rows:
        states = anchors.ca_states(h, anchor.name, anchor.crl_grace_days, now)
        out.append((anchor, states))
    if as_json:
        data = [
            {
                "name": a.name,
                "identity": a.identity,
                "require_policies": list(a.require_policies),
                "crl_grace_days": a.crl_grace_days,
                "default_role": a.default_role,
                "cas": [s.to_json() for s in states],
            }
            for a, states in out
        ]
        typer.echo(json.dumps(data, indent=2))
    else:
        for anchor, states in out:
            facts = [f"identity {anchor.identity}"]
            if anchor.require_policies:
                facts.append("policies " + ", ".join(anchor.require_policies))
            if anchor.crl_grace_days:
                facts.append(f"CRL grace {anchor.crl_grace_days} days")
            if anchor.default_role:
                facts.append(f"default role {anchor.default_role}")
            typer.echo(f"{anchor.name}: {', '.join(facts)}")
            for state in states:
                typer.echo(f"  {state.subject}: {_describe(state)}")
    for anchor, states in out:
        for state in states:
            if state.state == "fresh":
                continue
            command = (
                "`pki crl` (or `pki import-crl FILE`)"
                if anchor.name == anchors.LOCAL
                else f"`pki trust import-crl {anchor.name} FILE`"
            )
            typer.echo(
                f"WARNING: {anchor.name}: {state.subject}: {_describe(state)}; "
                f"bring a fresh CRL and run {command}.",
                err=True,
            )


@trust_app.command("remove")
def remove(ctx: typer.Context, name: NameArgument) -> None:
    """Stop trusting an anchor: its certificates are refused from the next request on."""
    from pki import anchors

    anchors.remove(home(ctx), name)
    typer.echo(f"Removed {name}. Render the nginx configuration again and reload nginx.")


@trust_app.command("import-crl")
def import_crl(
    ctx: typer.Context,
    name: NameArgument,
    crl: Annotated[Path, typer.Argument(metavar="FILE", help="A CRL (PEM or DER).")],
) -> None:
    """Keep a fresh CRL of one of an anchor's CAs, verified against that CA."""
    from pki import anchors

    kept = anchors.import_crl(home(ctx), name, _read(crl, "crl"))
    until = f"{kept.next_update:%Y-%m-%d %H:%M} UTC" if kept.next_update else "no nextUpdate"
    typer.echo(
        f"Kept the CRL of {kept.issuer} ({kept.revoked} revoked, next update {until}). "
        "Reload nginx."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(trust_app, name="trust")
