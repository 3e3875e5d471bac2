"""`pki nginx-config`: render the edge's nginx configuration (a thin layer over pki.nginx)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pki import nginx
from pki.commands._common import home
from pki.errors import InputError


def _default_static_root() -> Path:
    # Mirrors STATIC_ROOT in supply/settings.py (pki must not import supply).
    configured = os.environ.get("SUPPLY_STATIC_ROOT")
    if configured:
        return Path(configured).expanduser()
    data = os.environ.get("SUPPLY_DATA_DIR", "~/.local/share/tactical-edge/supply")
    return Path(data).expanduser() / "static"


def _extra_service(value: str, resolver: str | None) -> nginx.Service:
    name, sep, rest = value.partition(":")
    prefix, sep2, upstream = rest.partition(":")
    if not (sep and sep2):
        raise InputError(f"service: {value!r} is not NAME:/PREFIX/:UPSTREAM.")
    return nginx.service(name, upstream, prefix=prefix, resolver=resolver)


def nginx_config(
    ctx: typer.Context,
    server: Annotated[str, typer.Option(help="Server certificate name (pki issue-server NAME).")],
    upstream: Annotated[
        str, typer.Option(help="The supply service: HOST:PORT or unix:/path/to.sock.")
    ],
    listen: Annotated[str, typer.Option(help="[HOST:]PORT nginx listens on (TLS).")] = "443",
    out: Annotated[
        Path | None, typer.Option(help="Write here (0600) instead of standard output.")
    ] = None,
    web_root: Annotated[
        Path, typer.Option(help="The static web app served at /.")
    ] = nginx.DEFAULT_WEB_ROOT,
    static_root: Annotated[
        Path | None,
        typer.Option(help="Django's collected static files (default: supply's STATIC_ROOT)."),
    ] = None,
    errors_root: Annotated[
        Path | None, typer.Option(help="Error pages (default: templates/errors).")
    ] = None,
    runtime_dir: Annotated[
        Path | None,
        typer.Option(help="pid, logs and temp files (default: relative to nginx -p DIR)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Unix user of the worker processes (root-run nginx).")
    ] = None,
    resolver: Annotated[
        str | None,
        typer.Option(help="DNS resolver: resolve a named upstream per request (containers)."),
    ] = None,
    extra: Annotated[
        list[str] | None,
        typer.Option("--service", help="More routes: NAME:/PREFIX/:UPSTREAM (repeatable)."),
    ] = None,
    templates: Annotated[Path, typer.Option(help="Template directory.")] = nginx.DEFAULT_TEMPLATES,
) -> None:
    """Render the nginx configuration (TLS, client certificates, identity headers, routes)."""
    config = nginx.edge_config(
        home(ctx),
        server,
        upstream,
        listen=listen,
        web_root=web_root,
        static_root=static_root or _default_static_root(),
        errors_root=errors_root,
        runtime_dir=runtime_dir,
        user=user,
        resolver=resolver,
        extra_services=[_extra_service(v, resolver) for v in extra or ()],
        templates=templates,
    )
    text = nginx.render(config)
    if out is None:
        typer.echo(text, nl=False)
    else:
        nginx.write_config(text, out)
        typer.echo(f"Wrote {out}; check it with `nginx -t -c {out}`.", err=True)
