"""How `supply serve` starts gunicorn: the argument list, kept apart from the command so it can
be tested without exec'ing anything."""

from __future__ import annotations

import os

from pki import addresses
from supply.errors import ConfigurationError


def parse_bind(value: str) -> str:
    """Check a --bind value (HOST:PORT, [IPv6]:PORT or unix:PATH) and return it for gunicorn."""
    if value.startswith("unix:"):
        if not value[len("unix:") :]:
            raise ConfigurationError(f"--bind: {value!r} has no socket path after 'unix:'.")
        return value
    host, port = addresses.split_host_port(value)
    # An IPv6 host needs its brackets: in "::1:8000" the port cannot be told from the address.
    bare_v6 = ":" in host and not value.startswith("[")
    if bare_v6 or not addresses.is_port(port) or not addresses.is_host(host):
        raise ConfigurationError(f"--bind: {value!r} is not HOST:PORT or unix:PATH.")
    return value


def default_workers() -> int:
    """$SUPPLY_WORKERS, else gunicorn's usual 2 x CPUs + 1, capped at 8 for small edge hosts."""
    configured = os.environ.get("SUPPLY_WORKERS", "").strip()
    if not configured:
        return min(2 * (os.cpu_count() or 1) + 1, 8)
    if not (configured.isascii() and configured.isdigit()) or int(configured) < 1:
        raise ConfigurationError(f"SUPPLY_WORKERS: {configured!r} is not a positive number.")
    return int(configured)


def gunicorn_argv(bind: str, workers: int | None = None) -> list[str]:
    """Arguments after the interpreter: `python -m gunicorn ... supply.wsgi:application`."""
    return [
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers or default_workers()),
        "--graceful-timeout",
        "20",
        "--timeout",
        "60",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        # nginx on the same host is the only client; trust its X-Forwarded-* only from loopback.
        "--forwarded-allow-ips",
        "127.0.0.1,::1",
        # The control socket would live in $HOME/.gunicorn: shared by every instance on a host,
        # and unwritable in a read-only container. Nothing here uses it.
        "--no-control-socket",
        "--config",
        "python:supply.serving.gunicorn_conf",
        "supply.wsgi:application",
    ]
