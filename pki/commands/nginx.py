"""`pki nginx-config`: render the edge's nginx configuration (a thin layer over pki.nginx)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pki import nginx
from pki.commands._common import home
from pki.errors import InputError

# Directories a system nginx includes inside http {} (Debian's and RHEL's packages).
_INCLUDE_DIRS = ("conf.d", "sites-enabled", "sites-available")


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
    include: Annotated[
        bool,
        typer.Option(
            "--include",
            help="Only the server block and what it needs, for a system nginx's conf.d.",
        ),
    ] = False,
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
    """Render the nginx configuration (TLS, client certificates, identity headers, routes): a
    whole nginx.conf for a private nginx, or with --include a file for a system nginx's conf.d."""
    if out is not None and not include and out.parent.name in _INCLUDE_DIRS:
        raise InputError(
            f"out: nginx reads {out.parent} inside its http block, where a whole nginx.conf is "
            "refused; add --include to write the server block it expects."
        )
    if include and user is not None:
        raise InputError("--user: A system nginx sets its own user; drop --user with --include.")
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
    text = nginx.render(config, include=include)
    if config.crl is None:
        anchors = "trust anchor(s) " + ", ".join(config.crl_grace_anchors)
        typer.echo(
            f"NOTE: {anchors}: a CRL grace or CRLs too large for nginx; nginx checks no CRL, "
            "and the service checks every CRL on every request (docs/edge.md).",
            err=True,
        )
    if out is None:
        typer.echo(text, nl=False)
    else:
        nginx.write_config(text, out)
        check = "nginx -t" if include else f"nginx -t -c {out}"
        typer.echo(f"Wrote {out}; check it with `{check}`, then reload nginx.", err=True)
