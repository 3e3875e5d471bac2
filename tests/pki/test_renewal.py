"""``pki sign`` (a key made elsewhere, here by openssl) and ``pki renew``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki import audit
from pki.ca import CreatedCA, write_crl
from pki.certinfo import load_pem
from pki.crl import revoke
from pki.errors import CertificateError, InputError
from pki.home import PkiHome
from pki.issue import UserRequest, issue_server, issue_user
from pki.renewal import renew_server, renew_user, sign_csr
from tests.pki.checks import assert_is_leaf
from tests.pki.conftest import PASSPHRASE, PASSWORD


def _openssl_csr(tmp_path: Path, subject: str, key: str = "ec") -> tuple[Path, Path]:
    """A key and CSR made by openssl: the key never passes through pki."""
    key_path, csr_path = tmp_path / "device.key", tmp_path / "device.csr"
    new_key = (
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        if key == "ec"
        else ["-newkey", key]
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            *new_key,
            "-nodes",
            "-keyout",
            str(key_path),
            "-subj",
            subject,
            "-out",
            str(csr_path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key_path, csr_path


def test_sign_a_user_csr_made_by_openssl(home: PkiHome, ca: CreatedCA, tmp_path: Path) -> None:
    key_path, csr = _openssl_csr(tmp_path, "/CN=Card Holder/OU=Deck/O=Ignored")
    out = tmp_path / "card.pem"
    signed = sign_csr(
        home,
        csr.read_bytes(),
        profile="user",
        email="card@example.org",
        out=out,
        passphrase=PASSPHRASE,
    )
    chain = x509.load_pem_x509_certificates(out.read_bytes())
    ca_cert = load_pem(ca.cert_path.read_bytes())
    assert chain[1:] == [ca_cert]
    cert = chain[0]
    assert_is_leaf(cert, ca_cert, ExtendedKeyUsageOID.CLIENT_AUTH)
    assert signed.info.subject_dn == "CN=Card Holder,OU=Deck,O=Fleet"
    assert signed.info.sans == ("email:card@example.org",)
    device_key = load_pem_private_key(key_path.read_bytes(), None)
    assert cert.public_key() == device_key.public_key()
    verify = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            str(ca.cert_path),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    with home.index() as index:
        row = index.get(signed.info.serial)
    assert row is not None and row.kind == "user" and row.name == "Card Holder"
    assert audit.entries(home)[-1].op == "sign"


def test_sign_a_server_csr_takes_sans_from_the_options_only(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    _, csr = _openssl_csr(tmp_path, "/CN=Device.Example")
    signed = sign_csr(
        home,
        csr.read_bytes(),
        profile="server",
        sans=["10.0.0.9"],
        out=tmp_path / "d.pem",
        passphrase=PASSPHRASE,
    )
    assert signed.info.sans == ("DNS:device.example", "IP:10.0.0.9")
    assert signed.info.server_auth and not signed.info.client_auth


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "admin"}, "profile: Choose user or server, not 'admin'."),
        (
            {"profile": "user", "sans": ["x.example"]},
            "san: A user certificate carries an email (--email), not --san.",
        ),
        (
            {"profile": "server", "email": "a@b.example"},
            "email: Only a user certificate carries an email.",
        ),
    ],
)
def test_sign_refuses_bad_options(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    _, csr = _openssl_csr(tmp_path, "/CN=x.example")
    with pytest.raises(InputError) as caught:
        sign_csr(home, csr.read_bytes(), out=tmp_path / "o.pem", passphrase=PASSPHRASE, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert not (tmp_path / "o.pem").exists()


def test_sign_refuses_an_unsupported_key_and_a_broken_csr(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    _, csr = _openssl_csr(tmp_path, "/CN=Edwards", key="ed25519")
    with pytest.raises(CertificateError) as caught:
        sign_csr(
            home, csr.read_bytes(), profile="user", out=tmp_path / "o.pem", passphrase=PASSPHRASE
        )
    assert str(caught.value).startswith("key: A Ed25519PublicKey key is not accepted; use ec-p256")
    with pytest.raises(CertificateError) as broken:
        sign_csr(
            home,
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            profile="user",
            out=tmp_path / "o.pem",
            passphrase=PASSPHRASE,
        )
    assert str(broken.value).startswith("CSR: Not a certificate signing request (")


def test_renew_a_user_supersedes_the_old_certificate(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    old = issue_user(
        home,
        UserRequest("Doe, Jane", password=PASSWORD, email="jane@example.org", org_unit="Deck"),
        passphrase=PASSPHRASE,
    )
    new = renew_user(
        home,
        old.info.serial,
        UserRequest("ignored", password=PASSWORD, out=tmp_path / "new.p12"),
        passphrase=PASSPHRASE,
    )
    assert new.info.serial != old.info.serial
    assert new.info.subject_dn == old.info.subject_dn == "CN=Doe\\, Jane,OU=Deck,O=Fleet"
    assert new.info.sans == old.info.sans == ("email:jane@example.org",)
    assert new.p12_path == tmp_path / "new.p12"
    assert old.p12_path is not None
    old_key, _, _ = pkcs12.load_key_and_certificates(old.p12_path.read_bytes(), PASSWORD)
    new_key, _, _ = pkcs12.load_key_and_certificates(new.p12_path.read_bytes(), PASSWORD)
    assert old_key is not None and new_key is not None
    assert old_key.public_key() != new_key.public_key()
    with home.index() as index:
        before, after = index.get(old.info.serial), index.get(new.info.serial)
    assert before is not None and (before.status, before.reason) == ("revoked", "superseded")
    assert after is not None and after.status == "valid"
    last = audit.entries(home)[-1]
    assert (last.op, last.details) == ("renew", {"superseded": [old.info.serial]})
    published = write_crl(home, passphrase=PASSPHRASE)
    assert published.revoked == 1


def test_renew_a_server_keeps_its_sans(home: PkiHome, ca: CreatedCA) -> None:
    old = issue_server(home, "web.example", sans=["10.0.0.5", "alt.example"], passphrase=PASSPHRASE)
    old_key = old.key_path.read_bytes()
    new = renew_server(home, "web.example", passphrase=PASSPHRASE)
    assert new.info.sans == old.info.sans == ("DNS:web.example", "IP:10.0.0.5", "DNS:alt.example")
    assert new.superseded == (old.info.serial,)
    assert new.key_path.read_bytes() != old_key
    assert load_pem(new.cert_path.read_bytes()).serial_number != int(old.info.serial, 16)


def test_renew_refusals(home: PkiHome, ca: CreatedCA, tmp_path: Path) -> None:
    user = issue_user(home, UserRequest("Gone", password=PASSWORD), passphrase=PASSPHRASE)
    revoke(home, user.info.serial, "keyCompromise")
    request = UserRequest("x", password=PASSWORD)
    cases = [
        (
            user.info.serial,
            f"ID: {user.info.serial} is revoked (keyCompromise); issue a new one instead.",
        ),
        (ca.info.serial, "ID: A CA certificate is renewed at the root with a new `pki sign-ca`."),
    ]
    _, csr = _openssl_csr(tmp_path, "/CN=Card")
    signed = sign_csr(
        home, csr.read_bytes(), profile="user", out=tmp_path / "c.pem", passphrase=PASSPHRASE
    )
    cases.append(
        (
            signed.info.serial,
            f"ID: {signed.info.serial} was signed from a CSR and its key is not "
            "here; sign a new CSR with `pki sign`.",
        )
    )
    for ident, message in cases:
        with pytest.raises(InputError) as caught:
            renew_user(home, ident, request, passphrase=PASSPHRASE)
        assert str(caught.value) == message
