"""``pki trust``: another PKI (a national PKI's smart cards) trusted beside the site's own chain."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner, Result

from pki import anchor_store, anchors, audit, nginx
from pki.ca import CreatedCA
from pki.cli import app
from pki.home import PkiHome
from pki.issue import issue_server
from pki.nginx import edge_config, render
from supply.identity.roles import ROLES
from tests.harness.cards import (
    CARD_POLICY,
    NationalPki,
    make_national_pki,
    software_card,
    sub_ca,
)
from tests.pki.checks import fails, ok
from tests.pki.conftest import PASSPHRASE


def pki(home: PkiHome, *args: object) -> Result:
    return CliRunner().invoke(app, ["--home", str(home.root), *map(str, args)])


@pytest.fixture
def dod() -> NationalPki:
    return make_national_pki("DoD")


@pytest.fixture
def media(dod: NationalPki, tmp_path: Path) -> tuple[Path, list[Path]]:
    return dod.write(tmp_path / "media")


def add_dod(home: PkiHome, media: tuple[Path, list[Path]], *more: object) -> Result:
    bundle, crls = media
    crl_args = [arg for crl in crls for arg in ("--crl", crl)]
    return pki(home, "trust", "add", "dod", "--ca", bundle, "--identity", "upn", *crl_args, *more)


def test_an_anchor_is_added_listed_and_reaches_nginx(
    home: PkiHome, ca: CreatedCA, dod: NationalPki, media: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    out = ok(
        add_dod(
            home, media, "--require-policy", CARD_POLICY, "--crl-grace", 14, "--default-role",
            "viewer",
        )
    )  # fmt: skip
    assert out.startswith("Trusting dod (3 CAs, identity upn).\n")
    [anchor] = anchor_store.load(home)
    assert (anchor.name, anchor.identity, anchor.require_policies) == ("dod", "upn", (CARD_POLICY,))
    assert (anchor.crl_grace_days, anchor.default_role) == (14, "viewer")

    listed = json.loads(ok(pki(home, "trust", "list", "--json")))
    assert [(a["name"], a["identity"]) for a in listed] == [("local", "subject"), ("dod", "upn")]
    assert [c["crl_state"] for c in listed[1]["cas"]] == ["fresh", "fresh", "fresh"]
    text = ok(pki(home, "trust", "list"))
    assert "dod: identity upn, policies 2.16.840.1.101.2.1.11.42, CRL grace 14 days, " in text
    assert "  CN=DoD ID CA-70,O=U.S. Government,C=US: CRL fresh until " in text

    # nginx trusts the local chain and the anchor's CAs, with a CRL for each.
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    config = edge_config(home, "edge.example", "127.0.0.1:8000", web_root=tmp_path)
    trusted = x509.load_pem_x509_certificates(config.ca_cert.read_bytes())
    own = x509.load_pem_x509_certificate(ca.cert_path.read_bytes()).subject
    assert [c.subject for c in trusted] == [
        own, dod.root.cert.subject, dod.ca1.cert.subject, dod.ca2.cert.subject
    ]  # fmt: skip
    # Every CRL is in nginx's bundle, but with dod's grace nginx is given none (the service
    # applies the grace); without a grace anywhere it checks them all.
    assert anchor_store.edge_crls(home).read_bytes().count(b"-----BEGIN X509 CRL-----") == 4
    assert config.crl is None and config.crl_grace_anchors == ("dod",)
    rendered = pki(
        home, "nginx-config", "--server", "edge.example", "--upstream", "127.0.0.1:8000",
        "--web-root", tmp_path,
    )  # fmt: skip
    assert rendered.exit_code == 0, rendered.stderr
    assert rendered.stderr.startswith(
        "NOTE: trust anchor(s) dod: a CRL grace or CRLs too large for nginx; nginx checks no "
        "CRL, and the service checks every CRL on every request (docs/edge.md).\n"
    )
    assert "ssl_crl" not in "".join(line.split("#")[0] for line in render(config).splitlines())
    assert config.verify_depth == 1  # card, ID CA, root: one CA between leaf and anchor

    # The service's local anchor is the site's chain alone.
    local = x509.load_pem_x509_certificates(home.trust_bundle.read_bytes())
    assert [c.subject for c in local] == [own]
    assert "trust-add" in [e.op for e in audit.entries(home)]


def test_removing_an_anchor_takes_it_out_of_the_bundles(
    home: PkiHome, ca: CreatedCA, media: tuple[Path, list[Path]]
) -> None:
    ok(add_dod(home, media))
    assert ok(pki(home, "trust", "remove", "dod")).startswith("Removed dod.")
    assert anchor_store.load(home) == []
    assert not (anchor_store.trust_dir(home) / "dod").exists()
    assert anchor_store.edge_trust(home).read_bytes() == home.trust_bundle.read_bytes()
    assert anchor_store.edge_crls(home).read_bytes() == home.crl_bundle.read_bytes()
    fails(
        pki(home, "trust", "remove", "dod"),
        "trust: No anchor 'dod'; `pki trust list` shows the anchors.",
    )
    fails(
        pki(home, "trust", "remove", "local"),
        "name: 'local' is the site's own fleet chain and cannot be removed.",
    )


def test_a_bundle_or_crl_that_does_not_hold_together_is_refused(
    home: PkiHome, ca: CreatedCA, dod: NationalPki, tmp_path: Path
) -> None:
    other = make_national_pki("Other")
    card, _ = software_card(dod.ca1, "DOE.JANE.Q.1234567890", "1234567890@mil")
    cases = {
        "leaf.pem": (dod.root.pem + card.public_bytes(Encoding.PEM), None),
        "noroot.pem": (dod.ca1.pem + dod.ca2.pem, None),
        "orphan.pem": (dod.root.pem + other.ca1.pem, None),
        "good.pem": (dod.bundle, other.ca1.crl()),
    }
    expected = {
        "leaf.pem": "ca: CN=DOE.JANE.Q.1234567890,O=U.S. Government,C=US is not a CA "
        "(basicConstraints CA:FALSE); give the PKI's root and intermediates only.",
        "noroot.pem": "ca: The bundle holds no self-signed root; add the PKI's root.",
        "orphan.pem": "ca: CN=Other ID CA-70,O=U.S. Government,C=US is not issued by a "
        "certificate of the bundle; add its issuer.",
        "good.pem": "crl: Not signed by a CA of anchor 'dod' "
        "(issuer CN=Other ID CA-70,O=U.S. Government,C=US).",
    }
    for name, (bundle, crl) in cases.items():
        path = tmp_path / name
        path.write_bytes(bundle)
        args: list[object] = ["trust", "add", "dod", "--ca", path, "--identity", "upn"]
        if crl is not None:
            (tmp_path / "wrong.crl").write_bytes(crl)
            args += ["--crl", tmp_path / "wrong.crl"]
        fails(pki(home, *args), expected[name])
    assert anchor_store.load(home) == []

    good = tmp_path / "good.pem"
    refusals: list[tuple[list[object], str]] = [
        (["Dod"], "name: An anchor's name is 1 to 32 lower-case letters, digits or dashes, "
         "starting with a letter (e.g. dod)."),
        (["local"], "name: 'local' is the site's own fleet chain; choose another name."),
        (["dod", "--identity", "cn"], "identity: Choose one of subject, upn, email, not 'cn'."),
        (["dod", "--require-policy", "2.16.x"], "require-policy: '2.16.x' is not a dotted OID "
         "such as 2.16.840.1."),
        (["dod", "--crl-grace", "91"], "crl-grace: From 0 to 90 days, not 91."),
        (["dod", "--default-role", "admin"], "default-role: Choose one of viewer, clerk, "
         "issuer, manager, not 'admin'."),
    ]  # fmt: skip
    for args, message in refusals:
        argv = ["trust", "add", args[0], "--ca", good, "--identity", "upn", *args[1:]]
        fails(pki(home, *argv), message)

    ok(pki(home, "trust", "add", "dod", "--ca", good, "--identity", "upn"))
    fails(
        pki(home, "trust", "add", "dod", "--ca", good, "--identity", "upn"),
        "name: Anchor 'dod' exists already; `pki trust remove dod` first to change it.",
    )
    fails(
        pki(home, "trust", "add", "again", "--ca", good, "--identity", "email"),
        "ca: CN=DoD Root CA 6,O=U.S. Government,C=US is trusted already by anchor 'dod'; a CA "
        "belongs to one anchor, so its certificates have one identity rule.",
    )
    (tmp_path / "local.pem").write_bytes(home.ca_cert.read_bytes())
    fails(
        pki(home, "trust", "add", "mine", "--ca", tmp_path / "local.pem", "--identity", "email"),
        "ca: CN=Fleet Root CA,O=Fleet,C=US is trusted already by anchor 'local'; a CA belongs "
        "to one anchor, so its certificates have one identity rule.",
    )


def test_crls_are_verified_kept_when_newer_and_their_freshness_listed(
    home: PkiHome, ca: CreatedCA, dod: NationalPki, tmp_path: Path
) -> None:
    bundle, _ = dod.write(tmp_path / "media")
    ok(pki(home, "trust", "add", "dod", "--ca", bundle, "--identity", "upn", "--crl-grace", 5))
    # Without CRLs its certificates are refused, and every listing says so.
    result = pki(home, "trust", "list")
    assert result.exit_code == 0
    assert result.stderr.count("NO CRL: its certificates are refused") == 3
    assert "run `pki trust import-crl dod FILE`" in result.stderr

    paths = {}
    for label, data in {
        "root": dod.root.crl(number=3),
        "ca1-expired": dod.ca1.crl(next_update=dt.timedelta(days=-2), number=1),
        "ca2-stale": dod.ca2.crl(next_update=dt.timedelta(days=-9), number=1),
        "ca2-old": dod.ca2.crl(number=0),
        "other": make_national_pki("Other").root.crl(),
    }.items():
        paths[label] = tmp_path / f"{label}.crl"
        paths[label].write_bytes(data)
    for label in ("root", "ca1-expired", "ca2-stale"):
        out = ok(pki(home, "trust", "import-crl", "dod", paths[label]))
        assert out.startswith("Kept the CRL of CN=DoD ")
    fails(
        pki(home, "trust", "import-crl", "dod", paths["ca2-old"]),
        "crl: Older than the CRL kept for CN=DoD ID CA-71,O=U.S. Government,C=US (issued "
        f"{x509.load_pem_x509_crl(paths['ca2-stale'].read_bytes()).last_update_utc:%Y-%m-%d %H:%M}"
        " UTC); nothing changed.",
    )
    fails(
        pki(home, "trust", "import-crl", "dod", paths["other"]),
        "crl: Not signed by a CA of anchor 'dod' (issuer CN=Other Root CA 6,O=U.S. Government,"
        "C=US).",
    )
    fails(
        pki(home, "trust", "import-crl", "nato", paths["root"]),
        "trust: No anchor 'nato'; `pki trust list` shows the anchors.",
    )
    listed = json.loads(ok(pki(home, "trust", "list", "--json")))
    assert [c["crl_state"] for c in listed[1]["cas"]] == ["fresh", "grace", "stale"]
    stderr = pki(home, "trust", "list").stderr
    assert "logins allowed within the grace period" in stderr
    assert "CN=DoD ID CA-71,O=U.S. Government,C=US: CRL EXPIRED at " in stderr


def test_a_longer_chain_raises_nginx_verify_depth(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    deep = make_national_pki("Deep")
    sub = sub_ca(deep.ca1, "Deep Sub CA")  # root -> ID CA-70 -> Sub CA: three CAs
    (tmp_path / "deep.pem").write_bytes(deep.bundle + sub.pem)
    ok(pki(home, "trust", "add", "deep", "--ca", tmp_path / "deep.pem", "--identity", "email"))
    assert anchors.longest_chain(anchors.anchor_cas(home, "deep")) == 3
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    config = edge_config(home, "edge.example", "127.0.0.1:8000", web_root=tmp_path)
    assert config.verify_depth == 2
    assert config.crl == anchor_store.edge_crls(home).resolve(), "no grace: nginx checks CRLs"
    assert f"ssl_crl {config.crl};" in render(config)


def test_the_roles_an_anchor_may_default_to_are_the_services() -> None:
    assert tuple(ROLES) == anchors.ROLES


def test_crls_too_large_for_nginx_are_left_to_the_service(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = make_national_pki("Big")
    big.ca1.revoked.extend(range(1000, 1005))  # 5 entries, over a limit of 4
    (tmp_path / "big.pem").write_bytes(big.bundle)
    (tmp_path / "ca1.crl").write_bytes(big.ca1.crl())
    ok(pki(home, "trust", "add", "big", "--ca", tmp_path / "big.pem", "--identity", "upn",
           "--crl", tmp_path / "ca1.crl"))  # fmt: skip
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    monkeypatch.setattr(nginx, "EDGE_CRL_ENTRIES", 5)
    assert edge_config(home, "edge.example", "127.0.0.1:8000", web_root=tmp_path).crl is not None
    monkeypatch.setattr(nginx, "EDGE_CRL_ENTRIES", 4)
    config = edge_config(home, "edge.example", "127.0.0.1:8000", web_root=tmp_path)
    assert config.crl is None
    assert config.crl_grace_anchors == ("(CRLs of 5 entries)",)
