"""Real TLS clients against the edge: curl (.p12), httpx (an ``ssl.SSLContext``), openssl s_client.

Secrets never go on a command line: curl reads ``cert = "file.p12:password"`` from a 0600 config
file (``-K``), and s_client gets an unencrypted key file that is 0600.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.harness.pki_site import UserCert

TIMEOUT = 30


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def _curl_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def curl(
    url: str,
    *,
    ca: Path,
    user: UserCert | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: str | None = None,
    resolve: str | None = None,
) -> Reply:
    """One request with curl; ``user`` presents its .p12 (or PEM pair when it has no .p12)."""
    with tempfile.TemporaryDirectory() as tmp:
        config, body, head = Path(tmp) / "curl.cfg", Path(tmp) / "body", Path(tmp) / "head"
        lines = [f"cacert = {_curl_quote(str(ca))}"]
        if user is not None and user.p12 is not None:
            lines += [f"cert = {_curl_quote(f'{user.p12}:{user.password}')}", "cert-type = P12"]
        elif user is not None:
            lines += [
                f"cert = {_curl_quote(str(user.cert_pem))}",
                f"key = {_curl_quote(str(user.key_pem))}",
            ]
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        argv = ["curl", "-sS", "-K", str(config), "-X", method, "-o", str(body), "-D", str(head)]
        argv += ["-w", "%{http_code}", "--max-time", str(TIMEOUT)]
        if resolve:
            argv += ["--resolve", resolve]
        for name, value in (headers or {}).items():
            argv += ["-H", f"{name}: {value}"]
        if data is not None:
            argv += ["--data-binary", data]
        done = subprocess.run(
            [*argv, url], capture_output=True, text=True, timeout=TIMEOUT + 5, check=False
        )
        if done.returncode:
            raise RuntimeError(f"curl failed ({done.returncode}): {done.stderr.strip()}")
        parsed: dict[str, str] = {}
        for line in head.read_text(errors="replace").splitlines()[1:]:
            name, sep, value = line.partition(":")
            if sep:
                parsed[name.strip().lower()] = value.strip()
        return Reply(int(done.stdout), body.read_text(errors="replace"), parsed)


def ssl_context(ca: Path, user: UserCert | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if user is not None:
        context.load_cert_chain(str(user.cert_pem), str(user.key_pem))
    return context


def https_client(base_url: str, ca: Path, user: UserCert | None = None) -> httpx.Client:
    """An httpx client presenting ``user``'s certificate (httpx 0.28 takes an SSLContext)."""
    return httpx.Client(base_url=base_url, verify=ssl_context(ca, user), timeout=TIMEOUT)


@dataclass(frozen=True)
class SClientResult:
    output: str

    @property
    def reused(self) -> bool:
        """True when s_client reports a resumed session ("Reused, TLSv1.x")."""
        return bool(re.search(r"^Reused, ", self.output, re.M))

    @property
    def new_session(self) -> bool:
        return bool(re.search(r"^New, ", self.output, re.M))

    @property
    def status(self) -> int | None:
        found = re.search(r"^HTTP/1\.1 (\d{3}) ", self.output, re.M)
        return int(found.group(1)) if found else None


def s_client(
    port: int,
    path: str,
    *,
    ca: Path,
    user: UserCert,
    tls: str = "1.3",
    sess_out: Path | None = None,
    sess_in: Path | None = None,
    server_name: str = "localhost",
) -> SClientResult:
    """GET ``path`` over ``openssl s_client`` (TLS 1.2 or 1.3), saving/resuming a session."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", server_name]
    argv += ["-CAfile", str(ca), "-cert", str(user.cert_pem), "-key", str(user.key_pem)]
    argv += ["-tls1_3" if tls == "1.3" else "-tls1_2", "-ign_eof"]
    if sess_out:
        argv += ["-sess_out", str(sess_out)]
    if sess_in:
        argv += ["-sess_in", str(sess_in)]
    request = f"GET {path} HTTP/1.1\r\nHost: {server_name}:{port}\r\nConnection: close\r\n\r\n"
    done = subprocess.run(
        argv, input=request, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    return SClientResult(done.stdout + done.stderr)
