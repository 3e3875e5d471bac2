"""Allowed hosts from the PKI home's server certificates (supply/identity/hosts.py)."""

from __future__ import annotations

from pathlib import Path

from pki import issue
from supply.identity.hosts import server_host_names
from tests.harness.pki_site import PkiSite


def test_every_server_certificate_name_is_a_host(tmp_path: Path) -> None:
    site = PkiSite(tmp_path, server_name="Depot.Example")
    issue.issue_server(
        site.home,
        "edge.example",
        sans=["alt.example", "*.wild.example", "10.1.2.3", "fd00::1"],
        passphrase=site.passphrase,
        ca=site.ca,
    )
    assert server_host_names(site.home) == [
        "10.1.2.3",
        "127.0.0.1",
        "[fd00::1]",
        "alt.example",
        "depot.example",
        "edge.example",
    ]


def test_a_damaged_certificate_or_no_home_gives_no_names(tmp_path: Path) -> None:
    assert server_host_names(tmp_path / "absent") == []
    damaged = tmp_path / "servers" / "broken.example"
    damaged.mkdir(parents=True)
    (damaged / "cert.pem").write_text("not a certificate\n")
    assert server_host_names(tmp_path) == []
