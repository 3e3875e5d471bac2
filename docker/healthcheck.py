#!/usr/bin/env python3
"""Container health checks: `healthcheck.py supply` (the default) or `healthcheck.py proxy`.

supply: GET /supply/healthz where gunicorn listens, read from the same $SUPPLY_BIND the entrypoint
        gives it (HOST:PORT or unix:PATH), so the check follows the service wherever it is bound.
proxy:  GET /healthz over TLS on $PROXY_LISTEN, verifying the served certificate against the PKI
        home's CA for $PROXY_SERVER_NAME, so an expired or wrong server certificate counts too.

Exit 0 on a 200, else 1 with one line on stderr (Docker keeps it in the health log). Standard
library only: it must run in both slim images without extra packages.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import sys
from pathlib import Path

TIMEOUT_SECONDS = 2.0
# A wildcard listen address is reachable on loopback from inside the container.
_LOOPBACK = {"": "127.0.0.1", "*": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT_SECONDS)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT_SECONDS)
        sock.connect(self._path)
        self.sock = sock


def split_host_port(value: str, *, default_host: str) -> tuple[str, int]:
    """`PORT`, `HOST:PORT` or `[V6]:PORT` -> (loopback-reachable host, port)."""
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not [HOST:]PORT")
    host = host.strip("[]") or default_host
    return _LOOPBACK.get(host, host), int(port)


def supply_connection(bind: str) -> http.client.HTTPConnection:
    """An HTTP connection to a gunicorn bind address (`HOST:PORT`, `[V6]:PORT` or `unix:PATH`)."""
    if bind.startswith("unix:"):
        return _UnixHTTPConnection(bind.removeprefix("unix:"))
    host, port = split_host_port(bind, default_host="127.0.0.1")
    return http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)


def proxy_connection(listen: str, server_name: str, ca_file: Path) -> http.client.HTTPConnection:
    """A TLS connection to nginx that verifies its certificate for `server_name` against the CA."""
    host, port = split_host_port(listen, default_host="127.0.0.1")
    context = ssl.create_default_context(cafile=str(ca_file))

    class _Connection(http.client.HTTPSConnection):
        def connect(self) -> None:
            # Connect to loopback but verify the name clients use (SNI and certificate check).
            raw = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
            self.sock = context.wrap_socket(raw, server_hostname=server_name)

    return _Connection(server_name, port, timeout=TIMEOUT_SECONDS, context=context)


def check(conn: http.client.HTTPConnection, path: str, host_header: str) -> str | None:
    """None when `path` answers 200, else why not."""
    try:
        conn.request("GET", path, headers={"Host": host_header})
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return f"{path}: {exc}"
    finally:
        conn.close()
    return None if status == 200 else f"{path} answered {status}"


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else "supply"
    try:
        if role == "supply":
            conn = supply_connection(os.environ.get("SUPPLY_BIND", "0.0.0.0:8000"))
            problem = check(conn, "/supply/healthz", "localhost")
        elif role == "proxy":
            name = os.environ.get("PROXY_SERVER_NAME", "")
            if not name:
                raise ValueError("PROXY_SERVER_NAME is not set")
            ca_file = Path(os.environ.get("PKI_HOME", "/pki")) / "ca" / "cert.pem"
            conn = proxy_connection(os.environ.get("PROXY_LISTEN", "8443"), name, ca_file)
            problem = check(conn, "/healthz", name)
        else:
            raise ValueError(f"unknown role {role!r} (supply or proxy)")
    except (OSError, ValueError, ssl.SSLError) as exc:
        problem = str(exc)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
