"""``pki log``: list the audit log, or verify its hash chain against the index."""

import datetime as dt
import json
from typing import Annotated

import typer

from pki.commands._common import home
from pki.errors import InputError


def _since(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"since: Give a date or time such as 2026-12-01 or 2026-12-01T08:00, not {text!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def log(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="Only entries at or after DATE (UTC)."),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the hash chain and the index's head.")
    ] = False,
) -> None:
    """Show the audit log of CA operations (who, where, when, which certificates)."""
    from pki import audit

    h = home(ctx)
    if verify:
        if as_json or since is not None:
            raise InputError("--verify: Checks the whole log; leave out --json and --since.")
        result = audit.verify(h)
        typer.echo(
            f"Log OK: {result.count} entries, chained, and the index records the same head "
            f"({result.last_hash[:16]})."
        )
        return
    entries = audit.entries(h, since=_since(since) if since is not None else None)
    if as_json:
        typer.echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return
    for e in entries:
        what = ", ".join([*e.serials, *e.subjects]) or ", ".join(
            f"{k}={v}" for k, v in e.details.items()
        )
        typer.echo(f"#{e.seq}  {e.time:%Y-%m-%d %H:%M:%S}Z  {e.op:<12}  {e.user}@{e.host}  {what}")


def register(app: typer.Typer) -> None:
    app.command("log")(log)
