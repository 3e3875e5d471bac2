"""The rendered nginx configuration on its own: syntax, header hygiene on every location (against
an upstream that echoes what it receives), a down upstream, logging, and the CLI's messages."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.harness.clients import curl
from tests.harness.fixtures import require_tools
from tests.harness.pki_site import BIN, PkiSite, UserCert
from tests.harness.processes import Nginx, free_port

IDENTITY = ("x-client-verify", "x-client-cert", "x-client-s-dn", "x-proxy-secret")
SET = ("x-client-verify", "x-proxy-secret")  # never empty, even without a certificate
FORGED = {
    "X-Client-Verify": "SUCCESS",
    "X-Client-Cert": "-----BEGIN%20CERTIFICATE-----forged",
    "X-Client-S-DN": "CN=admin",
    "X-Proxy-Secret": "forged-secret",
    "x-client-s-dn": "CN=lowercase",
    "X_Client_Cert": "underscore",
    "X_Proxy_Secret": "underscore",
}


class _Echo(BaseHTTPRequestHandler):
    def _reply(self) -> None:
        body = json.dumps(
            {"path": self.path, "headers": [[k.lower(), v] for k, v in self.headers.items()]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _render(
    pki: PkiSite, out: Path, upstream: str, listen: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    web = out.parent / "web"
    web.mkdir(exist_ok=True)
    (web / "index.html").write_text("<!doctype html><title>shell</title>\n")
    argv = [str(BIN / "pki"), "nginx-config", "--server", "localhost", "--upstream", upstream]
    argv += ["--listen", listen, "--web-root", str(web), "--out", str(out), *extra]
    if os.geteuid() == 0:
        argv += ["--user", "root"]
    return subprocess.run(
        argv, env=pki.env(), capture_output=True, text=True, timeout=60, check=False
    )


def _start(pki: PkiSite, tmp_path: Path, upstream: str, *extra: str) -> Nginx:
    require_tools("nginx", "curl")
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    done = _render(pki, prefix / "nginx.conf", upstream, f"127.0.0.1:{port}", *extra)
    assert done.returncode == 0, done.stderr
    return Nginx(prefix, prefix / "nginx.conf", port)


def _get(nginx: Nginx, pki: PkiSite, path: str, user: UserCert | None, headers: dict[str, str]):
    return curl(
        f"https://localhost:{nginx.port}{path}",
        ca=pki.ca_cert,
        user=user,
        headers=headers,
        resolve=f"localhost:{nginx.port}:127.0.0.1",
    )


def test_rendered_config_passes_nginx_t_for_every_upstream_kind(
    pki_site: PkiSite, tmp_path: Path
) -> None:
    require_tools("nginx")
    cases = {
        "tcp": ("127.0.0.1:8000",),
        "unix": ("unix:/run/supply/gunicorn.sock",),
        "dns-at-runtime": ("supply.invalid:8000", "--resolver", "127.0.0.11"),
        "extra-service": ("127.0.0.1:8000", "--service", "ledger:/ledger/:unix:/run/l.sock"),
    }
    for name, (upstream, *extra) in cases.items():
        prefix = tmp_path / name
        prefix.mkdir()
        done = _render(pki_site, prefix / "nginx.conf", upstream, "127.0.0.1:8443", *extra)
        assert done.returncode == 0, (name, done.stderr)
        conf = prefix / "nginx.conf"
        assert done.stderr.strip() == (
            f"Wrote {conf}; check it with `nginx -t -c {conf}`, then reload nginx."
        )
        assert stat.S_IMODE((prefix / "nginx.conf").stat().st_mode) == 0o600
        check = Nginx.test_config(prefix, prefix / "nginx.conf")
        assert check.returncode == 0, (name, check.stderr)
        assert "test is successful" in check.stderr


def test_every_proxied_location_sets_all_identity_headers(
    pki_site: PkiSite, tmp_path: Path
) -> None:
    prefix = tmp_path / "r"
    prefix.mkdir()
    assert (
        _render(
            pki_site,
            prefix / "c.conf",
            "127.0.0.1:8000",
            "8443",
            "--service",
            "ledger:/ledger/:127.0.0.1:9000",
        ).returncode
        == 0
    )
    text = (prefix / "c.conf").read_text()
    proxied = [(where, body) for where, body in _locations(text) if "proxy_pass" in body]
    assert len(proxied) == 8  # 2 services x (healthz, readyz, api/, prefix)
    for where, body in proxied:
        for header in (
            "X-Client-Verify $ssl_client_verify",
            "X-Client-Cert $ssl_client_escaped_cert",
            "X-Client-S-DN $ssl_client_s_dn",
            "X-Proxy-Secret ",
        ):
            assert f"proxy_set_header {header}" in body, (where, header)
    assert "underscores_in_headers off;" in text
    assert "ssl_session_cache off;" in text and "ssl_session_tickets off;" in text


def _locations(text: str) -> list[tuple[str, str]]:
    """Every ``location`` block of a rendered config: (match, body)."""
    blocks = re.findall(r"\n        location ([^{]+)\{(.*?)\n        \}", text, re.S)
    assert len(blocks) == text.count("\n        location "), "a location the parser missed"
    return [(where.strip(), body) for where, body in blocks]


def _request_path(where: str) -> str:
    """A request path that lands in the location ``where`` (exact or prefix match)."""
    if where.startswith("= "):
        return where[2:]
    assert where.startswith("/"), f"add a request path for location {where!r}"
    return where + "forged-probe"


def test_forged_identity_headers_never_reach_the_upstream(
    pki_site: PkiSite, tmp_path: Path, echo_port: int
) -> None:
    # Both services proxy to the echo server, which answers with the headers it received.
    nginx = _start(
        pki_site,
        tmp_path,
        f"127.0.0.1:{echo_port}",
        "--service",
        f"ledger:/ledger/:127.0.0.1:{echo_port}",
    )
    user = pki_site.issue_user("Echo User")
    secret = (pki_site.home / "proxy-secret").read_text().split("\n")[0]
    locations = _locations(nginx.config.read_text())
    proxied = [where for where, body in locations if "proxy_pass" in body]
    # The locations are read from the config, so a new one is tested without editing this list.
    assert len(proxied) == 8, proxied  # 2 services x (healthz, readyz, api/, prefix)
    try:
        for where, body in locations:
            if "internal;" in body:
                continue
            path = _request_path(where)
            for who in (None, user):
                reply = _get(nginx, pki_site, path, who, FORGED)
                if where not in proxied:
                    assert '"headers"' not in reply.body, (where, path)  # served by nginx
                    continue
                public = "if ($ssl_client_verify != SUCCESS)" not in body
                if who is None and not public:
                    assert reply.status == 403, path  # refused at the edge, never proxied
                    continue
                assert reply.status == 200, (path, reply.status)
                assert reply.json()["path"] == path
                seen = reply.json()["headers"]
                names = [name for name, _ in seen]
                for header in IDENTITY:
                    # nginx drops a header whose value is empty: at most one, never forged.
                    expected = 1 if who is not None or header in SET else 0
                    assert names.count(header) == expected, (path, header)
                got = dict(seen)
                assert got["x-proxy-secret"] == secret
                assert "x_client_cert" not in got and "x_proxy_secret" not in got
                if who is None:
                    assert got["x-client-verify"] == "NONE"
                    assert "x-client-cert" not in got and "x-client-s-dn" not in got
                else:
                    assert got["x-client-verify"] == "SUCCESS"
                    assert got["x-client-s-dn"] == "CN=Echo User,O=Harness Fleet"
                    assert got["x-client-cert"].startswith("-----BEGIN%20CERTIFICATE-----%0A")
        log = nginx.access_log.read_text()
        assert 'verify=SUCCESS dn="CN=Echo User,O=Harness Fleet"' in log
    finally:
        nginx.stop()


def test_down_upstream_answers_503_with_a_clear_page(pki_site: PkiSite, tmp_path: Path) -> None:
    nginx = _start(pki_site, tmp_path, f"127.0.0.1:{free_port()}")  # nothing listens there
    user = pki_site.issue_user("Patient User")
    try:
        page = _get(nginx, pki_site, "/supply/admin/", user, {})
        assert page.status == 503
        assert "<title>The service is not available yet</title>" in page.body
        api = _get(nginx, pki_site, "/supply/api/items/", user, {})
        assert api.status == 503
        assert api.json() == {
            "detail": "The service is not available yet: it is starting or stopped; "
            "try again in a minute.",
            "code": "service_unavailable",
        }
        assert _get(nginx, pki_site, "/", None, {}).status == 200
    finally:
        nginx.stop()


class _Dns:
    """A loopback DNS server with one A record (``name`` -> 127.0.0.1); NXDOMAIN for the rest.

    Written here because the test needs only this much of RFC 1035 (section 4.1) and no DNS
    library is a dependency; nginx asks A only (``ipv6=off``).
    """

    def __init__(self, name: str) -> None:
        self.name = name.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                query, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            end = query.index(b"\0", 12) + 5  # the question: labels, root, QTYPE, QCLASS
            labels, i = [], 12
            while query[i]:
                labels.append(query[i + 1 : i + 1 + query[i]])
                i += 1 + query[i]
            found = b".".join(labels).lower() == self.name
            flags = b"\x81\x80" if found else b"\x81\x83"  # response, RD+RA; NXDOMAIN
            counts = b"\x00\x01" + (b"\x00\x01" if found else b"\x00\x00") + b"\x00" * 4
            answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x05\x00\x04\x7f\x00\x00\x01"
            reply = query[:2] + flags + counts + query[12:end] + (answer if found else b"")
            self.sock.sendto(reply, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def test_dns_upstreams_start_before_their_names_resolve_and_work_once_up(
    pki_site: PkiSite, tmp_path: Path
) -> None:
    dns = _Dns("supply.test")
    supply_port = free_port()
    user = pki_site.issue_user("Dns User")
    resolver = f"127.0.0.1:{dns.port}"
    ledger = f"ledger:/ledger/:missing.test:{free_port()}"
    nginx = _start(
        pki_site,
        tmp_path,
        f"supply.test:{supply_port}",
        "--resolver",
        resolver,
        "--service",
        ledger,
    )
    echo: ThreadingHTTPServer | None = None
    try:
        text = nginx.config.read_text()
        assert f"resolver {resolver} valid=10s ipv6=off;" in text
        assert "upstream upstream_" not in text  # both names are resolved per request
        # A name that does not resolve, and a name that resolves to nothing listening: 503.
        for path in ("/ledger/x", "/supply/x"):
            page = _get(nginx, pki_site, path, user, {})
            assert page.status == 503, path
            assert "<title>The service is not available yet</title>" in page.body
        api = _get(nginx, pki_site, "/ledger/api/x", user, {})
        assert api.status == 503
        assert api.json()["detail"].startswith("The service is not available yet")
        # The service comes up: the next request reaches it, with the identity headers.
        echo = ThreadingHTTPServer(("127.0.0.1", supply_port), _Echo)
        threading.Thread(target=echo.serve_forever, daemon=True).start()
        reply = _get(nginx, pki_site, "/supply/api/x", user, FORGED)
        assert reply.status == 200
        got = dict(reply.json()["headers"])
        assert got["x-client-verify"] == "SUCCESS"
        assert got["x-client-s-dn"] == "CN=Dns User,O=Harness Fleet"
    finally:
        nginx.stop()
        dns.close()
        if echo is not None:
            echo.shutdown()
            echo.server_close()


def test_system_wide_layout_passes_nginx_t(pki_site: PkiSite, tmp_path: Path) -> None:
    """The documented system-wide form: absolute runtime paths, a worker user, no ``-p``."""
    require_tools("nginx")
    runtime = tmp_path / "var-lib-tactical-edge-nginx"
    runtime.mkdir()
    conf = tmp_path / "etc-nginx" / "nginx.conf"
    conf.parent.mkdir()
    argv = [str(BIN / "pki"), "nginx-config", "--server", "localhost"]
    argv += ["--upstream", "unix:/run/supply/gunicorn.sock", "--runtime-dir", str(runtime)]
    # www-data as documented: `user nobody;` also wants a group "nobody", which Debian lacks.
    argv += ["--user", "www-data", "--out", str(conf)]
    done = subprocess.run(
        argv, env=pki_site.env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    text = conf.read_text()
    assert "\nuser www-data;\n" in text
    assert f"\npid {runtime}/nginx.pid;\n" in text
    # Every file nginx writes is under the runtime directory (none relative to a prefix).
    written = re.findall(r"^\s*(?:pid|error_log|access_log|\w+_temp_path) (\S+)", text, re.M)
    assert len(written) == 8, written
    assert all(path.startswith(f"{runtime}/") for path in written), written
    check = subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-e", str(runtime / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr


def _handshake(port: int, ca: Path, *flags: str) -> str:
    """``openssl s_client`` handshake output (no request), as the server answered it."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"]
    done = subprocess.run(
        [*argv, "-CAfile", str(ca), *flags],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout + done.stderr


def test_tls_versions_ciphers_and_hsts(pki_site: PkiSite, tmp_path: Path, echo_port: int) -> None:
    require_tools("openssl")
    nginx = _start(pki_site, tmp_path, f"127.0.0.1:{echo_port}")
    server_cert = x509.load_pem_x509_certificate(
        (pki_site.home / "servers" / "localhost" / "cert.pem").read_bytes()
    )
    kind = "ECDSA" if isinstance(server_cert.public_key(), ec.EllipticCurvePublicKey) else "RSA"
    try:
        for version, flag in (("TLSv1.3", "-tls1_3"), ("TLSv1.2", "-tls1_2")):
            out = _handshake(nginx.port, pki_site.ca_cert, flag)
            assert f"Protocol  : {version}" in out or f"New, {version}," in out, out[-1500:]
            assert "Verify return code: 0 (ok)" in out
        # Older protocols: the client offers them (security level 0), the server refuses.
        for flag in ("-tls1_1", "-tls1"):
            out = _handshake(nginx.port, pki_site.ca_cert, flag, "-cipher", "DEFAULT@SECLEVEL=0")
            assert "alert protocol version" in out, (flag, out[-1500:])
        # TLS 1.2 outside the Mozilla "intermediate" list (CBC, no forward secrecy) is refused.
        for cipher in (f"ECDHE-{kind}-AES128-SHA", "AES128-GCM-SHA256"):
            out = _handshake(nginx.port, pki_site.ca_cert, "-tls1_2", "-cipher", cipher)
            assert "alert handshake failure" in out, (cipher, out[-1500:])
        good = _handshake(
            nginx.port, pki_site.ca_cert, "-tls1_2", "-cipher", f"ECDHE-{kind}-AES128-GCM-SHA256"
        )
        assert f"Cipher is ECDHE-{kind}-AES128-GCM-SHA256" in good, good[-1500:]
        # HSTS on every answer, errors included (`always`).
        for path in ("/", "/supply/api/x/", "/nope"):
            reply = _get(nginx, pki_site, path, None, {})
            assert reply.headers["strict-transport-security"] == "max-age=63072000", path
    finally:
        nginx.stop()


def test_cli_mistakes_are_one_line(pki_site: PkiSite, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pki"), "nginx-config", *args],
            env=pki_site.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    missing = run("--server", "nope.example", "--upstream", "127.0.0.1:8000")
    assert (missing.returncode, missing.stderr) == (
        1,
        "server: No certificate for 'nope.example'; run `pki issue-server nope.example` first.\n",
    )
    bad = run("--server", "localhost", "--upstream", "8000")
    assert (bad.returncode, bad.stderr) == (1, "upstream: '8000' is not HOST:PORT or unix:/path.\n")
    listen = run("--server", "localhost", "--upstream", "127.0.0.1:1", "--listen", "99999")
    assert (listen.returncode, listen.stderr) == (1, "listen: '99999' is not [HOST:]PORT.\n")
    dns = run("--server", "localhost", "--upstream", "127.0.0.1:1", "--service", "x:/x/:")
    assert dns.returncode == 1
    assert dns.stderr == "upstream: '' is not HOST:PORT or unix:/path.\n"
    empty = subprocess.run(
        [str(BIN / "pki"), "nginx-config", "--server", "a", "--upstream", "127.0.0.1:1"],
        env={**pki_site.env(), "PKI_HOME": str(tmp_path / "empty")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (empty.returncode, empty.stderr) == (
        1,
        f"CA: No CA in {tmp_path / 'empty'}; run `pki init-ca` first.\n",
    )
