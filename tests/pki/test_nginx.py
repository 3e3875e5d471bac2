"""pki.nginx: argument checks, the proxy secret, and what the template renders."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pki import nginx
from pki.errors import InputError
from pki.home import PkiHome
from tests.harness.pki_site import PkiSite


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> PkiSite:
    return PkiSite(tmp_path_factory.mktemp("site"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8000", ("127.0.0.1:8000", False)),
        ("[::1]:8000", ("[::1]:8000", False)),
        ("localhost:8000", ("localhost:8000", False)),
        ("supply:8000", ("supply:8000", True)),
        ("unix:/run/supply.sock", ("unix:/run/supply.sock", False)),
    ],
)
def test_parse_upstream(value: str, expected: tuple[str, bool]) -> None:
    assert nginx.parse_upstream(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8000", "upstream: '8000' is not HOST:PORT or unix:/path."),
        ("host:0", "upstream: 'host:0' is not HOST:PORT or unix:/path."),
        ("unix:run.sock", "upstream: 'unix:run.sock' needs an absolute socket path (unix:/path)."),
        ("bad_host:80", "upstream: 'bad_host' is not a host name or IP address."),
    ],
)
def test_parse_upstream_mistakes(value: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        nginx.parse_upstream(value)
    assert str(err.value) == message


def test_proxy_secret_is_made_once_0600(tmp_path: Path) -> None:
    home = PkiHome(tmp_path / "home")
    first = nginx.ensure_proxy_secret(home)
    assert len(first) >= 32
    assert stat.S_IMODE(home.proxy_secret.stat().st_mode) == 0o600
    assert nginx.ensure_proxy_secret(home) == first
    home.proxy_secret.write_text("short\n")
    with pytest.raises(InputError) as err:
        nginx.ensure_proxy_secret(home)
    assert str(err.value) == (
        f"proxy secret: {home.proxy_secret} must hold one line of 16+ URL-safe characters."
    )


def test_render_routes_services_and_resolves_dns_upstreams_at_runtime(
    site: PkiSite, tmp_path: Path
) -> None:
    extra = nginx.service("ledger", "ledger-svc:9000", resolver="127.0.0.11")
    config = nginx.edge_config(
        PkiHome(site.home),
        "localhost",
        "unix:/run/supply.sock",
        listen="8443",
        web_root=tmp_path,
        resolver="127.0.0.11",
        extra_services=[extra],
    )
    text = nginx.render(config)
    assert "server unix:/run/supply.sock;" in text
    assert "resolver 127.0.0.11 valid=10s ipv6=off;" in text
    assert 'set $upstream_ledger "http://ledger-svc:9000";' in text
    assert "location /ledger/api/ {" in text
    assert f'proxy_set_header X-Proxy-Secret "{config.proxy_secret}";' in text
    assert "pid nginx.pid;" in text  # relative to nginx -p


def test_two_services_cannot_share_a_prefix(site: PkiSite, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        nginx.edge_config(
            PkiHome(site.home),
            "localhost",
            "127.0.0.1:1",
            web_root=tmp_path,
            extra_services=[nginx.service("other", "127.0.0.1:2", prefix="/supply/")],
        )
    assert str(err.value) == "service: Two services share one prefix."


def test_one_resolver_for_any_mix_of_dns_and_fixed_upstreams(site: PkiSite, tmp_path: Path) -> None:
    extras = [
        nginx.service("fixed", "127.0.0.1:9000"),
        nginx.service("ledger", "ledger-svc:9000", resolver="127.0.0.11"),
    ]
    config = nginx.edge_config(
        PkiHome(site.home),
        "localhost",
        "supply:8000",
        web_root=tmp_path,
        resolver="127.0.0.11",
        extra_services=extras,
    )
    text = nginx.render(config)
    assert text.count("resolver 127.0.0.11 valid=10s ipv6=off;") == 1
    assert text.count("\n    upstream ") == 1
    assert "upstream upstream_fixed {\n        server 127.0.0.1:9000;" in text
    assert 'set $upstream_supply "http://supply:8000";' in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.11", "127.0.0.11"),
        ("127.0.0.1:5353", "127.0.0.1:5353"),
        ("::1", "[::1]"),
        ("[::1]:53", "[::1]:53"),
    ],
)
def test_parse_resolver(value: str, expected: str) -> None:
    assert nginx.parse_resolver(value) == expected


@pytest.mark.parametrize("value", ["dns.local", "1.2.3.4:0", "1.2.3.4:", "[::1]53", ""])
def test_parse_resolver_mistakes(value: str) -> None:
    with pytest.raises(InputError) as err:
        nginx.parse_resolver(value)
    assert str(err.value) == f"resolver: {value!r} is not an IP address[:PORT]."


def test_a_whole_config_into_conf_d_is_refused_and_include_is_the_server_block(
    tmp_path: Path, clean_env: None
) -> None:
    from typer.testing import CliRunner

    from pki.ca import init_ca
    from pki.cli import app
    from pki.issue import issue_server
    from tests.pki.conftest import PASSPHRASE

    home = tmp_path / "pki"
    init_ca(home, name="Root", passphrase=PASSPHRASE)
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    argv = ["--home", str(home), "nginx-config", "--server", "edge.example"]
    argv += ["--upstream", "127.0.0.1:8000", "--out", str(conf_d / "edge.conf")]
    refused = CliRunner().invoke(app, argv)
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"out: nginx reads {conf_d} inside its http block, where a whole nginx.conf is refused; "
        "add --include to write the server block it expects.\n"
    )
    written = CliRunner().invoke(app, [*argv, "--include"])
    assert written.exit_code == 0, written.stderr
    text = (conf_d / "edge.conf").read_text()
    starts = {line.split(" ", 1)[0] for line in text.splitlines() if line and line[0] != " "}
    assert starts == {"#", "log_format", "map", "upstream", "server", "}"}
    assert text.count("server {") == 1 and "log_format edge " in text
    assert "access_log /var/log/nginx/edge-access.log edge;" in text
