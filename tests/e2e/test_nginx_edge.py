"""The rendered nginx configuration on its own: syntax, header hygiene on every location (against
an upstream that echoes what it receives), a down upstream, logging, and the CLI's messages."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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


def _start(pki: PkiSite, tmp_path: Path, upstream: str) -> Nginx:
    require_tools("nginx", "curl")
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    done = _render(pki, prefix / "nginx.conf", upstream, f"127.0.0.1:{port}")
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
        assert done.stderr.strip() == f"Wrote {conf}; check it with `nginx -t -c {conf}`."
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
    blocks = re.findall(r"location ([^{]+)\{(.*?)\n        \}", text, re.S)
    proxied = [(where.strip(), body) for where, body in blocks if "proxy_pass" in body]
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


def test_forged_identity_headers_never_reach_the_upstream(
    pki_site: PkiSite, tmp_path: Path, echo_port: int
) -> None:
    nginx = _start(pki_site, tmp_path, f"127.0.0.1:{echo_port}")
    user = pki_site.issue_user("Echo User")
    secret = (pki_site.home / "proxy-secret").read_text().split("\n")[0]
    try:
        paths = [
            "/supply/healthz",
            "/supply/readyz",
            "/supply/api/x/",
            "/supply/admin/",
            "/supply/x",
        ]
        for path in paths:
            for who in (None, user):
                reply = _get(nginx, pki_site, path, who, FORGED)
                public = path in ("/supply/healthz", "/supply/readyz")
                if who is None and not public:
                    assert reply.status == 403, path  # refused at the edge, never proxied
                    continue
                assert reply.status == 200, (path, reply.status)
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
            "try again in a minute."
        }
        assert _get(nginx, pki_site, "/", None, {}).status == 200
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
