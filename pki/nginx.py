"""Render the edge's nginx configuration from ``templates/`` with the PKI home's files.

The library returns text; writing it is one small explicit step (:func:`write_config`). The proxy
secret nginx sends as ``X-Proxy-Secret`` is made here on first use and kept 0600 in the PKI home,
where the supply service reads it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from pki import addresses, anchor_store, anchors, bundles
from pki.errors import InputError, NoCAError, NotFoundError
from pki.files import atomic_write
from pki.home import PkiHome


def _share_dir() -> Path:
    """Where ``templates/`` and the web app ``nginx/`` are: beside the package in a checkout (and
    an editable install); in an installed wheel, where its data files went (``<prefix>/share/
    tactical-edge``), found through the wheel's own file list so ``--prefix``/``--target`` work."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "templates" / "nginx.conf.j2").is_file():
        return checkout
    from importlib import metadata

    try:
        files = metadata.distribution("tactical-edge").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "nginx.conf.j2":
            return Path(str(file.locate())).resolve().parent.parent
    return checkout  # nothing installed: the error then names the missing templates/


SHARE_DIR = _share_dir()
DEFAULT_TEMPLATES = SHARE_DIR / "templates"
DEFAULT_WEB_ROOT = SHARE_DIR / "nginx"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_SECRET = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,}")
# Paths of the service that answer without a certificate (they carry no identity).
_PUBLIC_PATHS = ("healthz", "readyz")


@dataclass(frozen=True, slots=True)
class Service:
    """One routed service: ``prefix`` (``/name/``) proxied to ``upstream``."""

    name: str
    prefix: str
    upstream: str  # "HOST:PORT" or "unix:/abs/path"
    static_root: Path | None = None
    public_paths: tuple[str, ...] = _PUBLIC_PATHS
    resolve_at_runtime: bool = False


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    """Everything the template needs; build it with :func:`edge_config`."""

    server_name: str
    listen: str
    server_cert: Path
    server_key: Path
    ca_cert: Path
    crl: Path | None  # None: revocation is left to the service (an anchor has a CRL grace)
    proxy_secret: str
    web_root: Path
    errors_root: Path
    services: tuple[Service, ...]
    runtime_dir: Path | None = None
    user: str | None = None
    crl_grace_anchors: tuple[str, ...] = ()
    resolver: str | None = None
    worker_processes: str = "auto"
    verify_depth: int = 1
    client_max_body_size: str = "10m"
    templates: Path = field(default=DEFAULT_TEMPLATES)


def parse_upstream(value: str) -> tuple[str, bool]:
    """Validate ``HOST:PORT`` or ``unix:/abs/path``; return it and whether it is a DNS name."""
    if value.startswith("unix:"):
        if not value[5:].startswith("/"):
            raise InputError(f"upstream: {value!r} needs an absolute socket path (unix:/path).")
        return value, False
    host, port = addresses.split_host_port(value)
    if not host or not addresses.is_port(port):
        raise InputError(f"upstream: {value!r} is not HOST:PORT or unix:/path.")
    if not addresses.is_host(host):
        raise InputError(f"upstream: {host!r} is not a host name or IP address.")
    ip = addresses.ip_address(host)
    if ip is None:
        return value, host != "localhost"
    return (f"[{ip}]:{port}" if ip.version == 6 else value), False


def parse_listen(value: str) -> str:
    """``PORT`` or ``HOST:PORT`` (IPv6 in brackets), as nginx's ``listen`` takes it."""
    host, port = addresses.split_host_port(value)
    if not addresses.is_port(port):
        raise InputError(f"listen: {value!r} is not [HOST:]PORT.")
    if host and not addresses.is_host(host):
        raise InputError(f"listen: {value.rpartition(':')[0]!r} is not a host name or IP address.")
    return value


def parse_resolver(value: str) -> str:
    """A DNS server for nginx's ``resolver``: an IP address, optionally ``:PORT`` (IPv6 in [])."""
    wrong = InputError(f"resolver: {value!r} is not an IP address[:PORT].")
    # An IPv6 address without brackets has no port: its colons are its own.
    bare_v6 = not value.startswith("[") and value.count(":") > 1
    host, port = (value, None) if bare_v6 else addresses.split_host_port(value)
    ip = addresses.ip_address(host)
    if ip is None or (port is not None and not addresses.is_port(port)):
        raise wrong
    return f"[{ip}]" if ip.version == 6 and not value.startswith("[") else value


def service(
    name: str,
    upstream: str,
    *,
    prefix: str | None = None,
    static_root: Path | None = None,
    resolver: str | None = None,
) -> Service:
    """A checked :class:`Service`; with a resolver, a DNS upstream is resolved per request."""
    if not _NAME.match(name):
        raise InputError(f"service: {name!r} must be lower-case letters, digits or _.")
    prefix = prefix or f"/{name}/"
    if not (prefix.startswith("/") and prefix.endswith("/")) or prefix == "/" or " " in prefix:
        raise InputError(f"service: prefix {prefix!r} must look like /name/.")
    address, is_dns = parse_upstream(upstream)
    return Service(
        name=name,
        prefix=prefix,
        upstream=address,
        static_root=static_root,
        resolve_at_runtime=is_dns and resolver is not None,
    )


def ensure_proxy_secret(home: PkiHome) -> str:
    """The proxy secret of this PKI home, made (random, 0600) on first use.

    Written with an exclusive link: if another process won the race, both use the winner's secret.
    A secret file's first line is the secret.
    """
    path = home.proxy_secret
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            atomic_write(path, (secrets.token_urlsafe(32) + "\n").encode(), exclusive=True)
    secret = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if not _SECRET.fullmatch(secret):
        raise InputError(f"proxy secret: {path} must hold one line of 16+ URL-safe characters.")
    return secret


EDGE_CRL_ENTRIES = 100_000
"""Above this many revoked entries in all, nginx is given no CRL (the service checks them)."""


def edge_config(
    home: PkiHome,
    server_name: str,
    upstream: str,
    *,
    listen: str = "443",
    web_root: Path,
    static_root: Path | None = None,
    errors_root: Path | None = None,
    runtime_dir: Path | None = None,
    user: str | None = None,
    resolver: str | None = None,
    extra_services: Sequence[Service] = (),
    templates: Path = DEFAULT_TEMPLATES,
) -> EdgeConfig:
    """Collect and check the PKI home's files for a server named ``server_name``."""
    if home.is_pending():
        home.require_ca()  # says how to finish it
    if not home.ca_cert.is_file():
        raise NoCAError(f"CA: No CA in {home.root}; run `pki init-ca` first.")
    if not home.crl.is_file():
        raise NotFoundError(f"CRL: No CRL in {home.root}; run `pki crl` first.")
    missing = bundles.missing_crls(home)
    if missing:
        raise NotFoundError(
            f"CRL: No CRL of {missing[0].subject.rfc4514_string()} in this home, and nginx "
            "refuses every client without one; carry it from its CA's host and run "
            "`pki import-crl FILE`."
        )
    bundles.write(home)  # a home made before the bundles gets them here
    # Every anchor's CAs and CRLs; an anchor without a CRL for one of its CAs only keeps that
    # CA's certificates out (nginx refuses them), so it never stops the render.
    ca_cert, crl = anchor_store.edge_trust(home), anchor_store.edge_crls(home)
    # nginx cannot grant a grace past a CRL's nextUpdate: with a CRL it refuses that CA's every
    # certificate the moment its CRL runs out. When an anchor has a grace, the CRLs are the
    # service's alone (it checks every CRL of every chain on every request, with the grace).
    added = anchor_store.load(home)
    grace = [a.name for a in added if a.crl_grace_days]
    # Large CRLs cost nginx about 250 bytes per entry in every process (50 MB per 200,000
    # measured); past EDGE_CRL_ENTRIES they too are left to the service's compact index.
    names = [anchors.LOCAL, *(a.name for a in added)]
    entries = sum(len(c) for name in names for c in anchors.anchor_crls(home, name))
    if entries > EDGE_CRL_ENTRIES:
        grace.append(f"(CRLs of {entries:,} entries)")
    chains = [anchors.longest_chain(anchors.anchor_cas(home, a.name)) - 1 for a in added]
    depth = max([len(bundles.upper_chain(home)), *chains])
    server_dir = home.server_dir(server_name)
    fullchain, key = server_dir / "fullchain.pem", server_dir / "key.pem"
    if not (fullchain.is_file() and key.is_file()):
        raise NotFoundError(
            f"server: No certificate for {server_name!r}; "
            f"run `pki issue-server {server_name}` first."
        )
    supply = service("supply", upstream, static_root=static_root, resolver=resolver)
    services = (supply, *extra_services)
    if len({s.prefix for s in services}) != len(services):
        raise InputError("service: Two services share one prefix.")
    if resolver is None and any(s.resolve_at_runtime for s in services):
        raise InputError("resolver: A DNS upstream resolved per request needs --resolver.")
    return EdgeConfig(
        server_name=server_name,
        listen=parse_listen(listen),
        server_cert=fullchain.resolve(),
        server_key=key.resolve(),
        ca_cert=ca_cert.resolve(),
        crl=None if grace else crl.resolve(),
        crl_grace_anchors=tuple(grace),
        proxy_secret=ensure_proxy_secret(home),
        web_root=web_root.resolve(),
        errors_root=(errors_root or templates / "errors").resolve(),
        services=services,
        runtime_dir=runtime_dir.resolve() if runtime_dir else None,
        user=user,
        resolver=parse_resolver(resolver) if resolver is not None else None,
        templates=templates,
        verify_depth=max(1, depth),
    )


# Where a system nginx (the include form) writes the edge's access log when no --runtime-dir is
# given: the log directory of Debian's, RHEL's and Alpine's packages alike.
SYSTEM_ACCESS_LOG = "/var/log/nginx/edge-access.log"


def render(config: EdgeConfig, *, include: bool = False) -> str:
    """The nginx configuration text for ``config``: a whole nginx.conf for a private nginx, or
    with ``include`` the http-context part a system nginx includes from its conf.d."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(config.templates),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # nginx syntax, not HTML  # noqa: S701
        keep_trailing_newline=True,
    )
    # Relative paths resolve against nginx's prefix (-p DIR), which is how tests run it.
    runtime = f"{config.runtime_dir}/" if config.runtime_dir else ""
    if include:
        access_log = f"{runtime}access.log" if runtime else SYSTEM_ACCESS_LOG
    else:
        access_log = f"{runtime}access.log"
    template = "edge.conf.j2" if include else "nginx.conf.j2"
    return env.get_template(template).render(
        standalone_include=include,
        access_log=access_log,
        server_name=config.server_name,
        listen=config.listen,
        server_cert=config.server_cert,
        server_key=config.server_key,
        ca_cert=config.ca_cert,
        crl=config.crl,
        crl_grace_anchors=config.crl_grace_anchors,
        proxy_secret=config.proxy_secret,
        web_root=config.web_root,
        errors_root=config.errors_root,
        services=config.services,
        runtime=runtime,
        user=config.user,
        resolver=config.resolver,
        worker_processes=config.worker_processes,
        verify_depth=config.verify_depth,
        client_max_body_size=config.client_max_body_size,
    )


def write_config(text: str, out: Path) -> None:
    """Write atomically and 0600 (the text holds the proxy secret).

    The directory must exist: a mistyped ``--out`` should fail, not grow a new tree (and an
    existing directory such as ``/etc/nginx`` keeps its mode).
    """
    if not out.parent.is_dir():
        raise InputError(f"out: Directory {out.parent} does not exist.")
    atomic_write(out, text.encode("utf-8"))
