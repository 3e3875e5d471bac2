"""Release signers (pki/release/signer.py, trust.py) and the index schema that admits them,
without an engine (tests/docker/test_offline_update.py loads real bundles)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from pki import issue, keys, names, profiles
from pki.ca import init_ca, load_ca
from pki.cli import app
from pki.errors import PassphraseError, ReleaseError
from pki.home import PkiHome
from pki.index import Index
from pki.release.signer import issue_release, load_signer, sign_bytes
from pki.release.trust import trusted_roots, verify

CA_PASS = b"fleet-root-passphrase-1"
KEY_PASS = b"release-key-passphrase-1"


@pytest.fixture
def root(tmp_path: Path) -> PkiHome:
    home = PkiHome(tmp_path / "root")
    init_ca(home, name="Fleet Root", org="Fleet", country="US", passphrase=CA_PASS)
    return home


def test_issue_release_writes_a_code_signing_certificate_and_an_encrypted_key(
    root: PkiHome,
) -> None:
    issued = issue_release(root, "Fleet Release", passphrase=CA_PASS, key_passphrase=KEY_PASS)
    cert = x509.load_pem_x509_certificate((issued.directory / "cert.pem").read_bytes())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key_file = issued.directory / "key.pem"
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    with pytest.raises(PassphraseError):
        load_signer(issued.directory, b"not-the-passphrase")
    with root.index() as index:
        (row,) = index.rows("WHERE kind = 'release'", ())
    assert row.name == "Fleet Release"


def test_the_cli_issues_and_lists_a_release_signer(root: PkiHome) -> None:
    env = {"PKI_CA_PASSPHRASE": CA_PASS.decode(), "PKI_RELEASE_PASSPHRASE": KEY_PASS.decode()}
    result = CliRunner().invoke(app, ["--home", str(root.root), "release", "issue", "R1"], env=env)
    assert result.exit_code == 0, result.output
    assert "Issued release signer CN=R1,O=Fleet" in result.output
    listed = CliRunner().invoke(
        app, ["--home", str(root.root), "list", "--kind", "release", "--json"]
    )
    assert [r["name"] for r in json.loads(listed.output)] == ["R1"]


def test_a_signature_verifies_against_the_root_and_not_when_altered(root: PkiHome) -> None:
    issued = issue_release(root, "R", passphrase=CA_PASS, key_passphrase=KEY_PASS)
    signer = load_signer(issued.directory, KEY_PASS)
    signature = signer.sign(b"manifest")
    checked = verify(b"manifest", signature, signer.chain_pem, trusted_roots(root))
    assert (checked.subject, checked.root) == ("CN=R,O=Fleet", "CN=Fleet Root,O=Fleet,C=US")
    with pytest.raises(ReleaseError, match=r"^signature: The bundle's manifest does not match"):
        verify(b"manifesT", signature, signer.chain_pem, trusted_roots(root))


def test_a_user_certificate_cannot_sign_releases(root: PkiHome, tmp_path: Path) -> None:
    request = issue.UserRequest("Doe, Jane", password=b"user-password-1", out=tmp_path / "u.p12")
    issue.issue_user(root, request, passphrase=CA_PASS)
    key, cert, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "u.p12").read_bytes(), b"user-password-1"
    )
    assert key is not None and cert is not None
    with pytest.raises(ReleaseError, match=r"is not a release certificate \(no codeSigning EKU\)"):
        verify(b"m", sign_bytes(key, b"m"), cert.public_bytes(Encoding.PEM), trusted_roots(root))  # type: ignore[arg-type]


def test_another_fleets_signer_and_an_expired_one_are_refused(
    root: PkiHome, tmp_path: Path
) -> None:
    other = PkiHome(tmp_path / "other")
    init_ca(other, name="Other Root", org="Other", country="US", passphrase=CA_PASS)
    foreign = load_signer(
        issue_release(other, "F", passphrase=CA_PASS, key_passphrase=KEY_PASS).directory, KEY_PASS
    )
    with pytest.raises(ReleaseError, match="does not chain to this site's trusted root"):
        verify(b"m", foreign.sign(b"m"), foreign.chain_pem, trusted_roots(root))
    ca = load_ca(root, CA_PASS)
    key = keys.key_type("ec-p256").generate()
    now = dt.datetime.now(dt.UTC)
    expired = profiles.build(
        profiles.RELEASE,
        subject=names.subject("Old"),
        public_key=key.public_key(),
        issuer=ca.issuer(),
        serial=x509.random_serial_number(),
        not_before=now - dt.timedelta(days=10),
        not_after=now - dt.timedelta(days=1),
    )
    with pytest.raises(ReleaseError, match=r"^signer: CN=Old expired on "):
        verify(b"m", sign_bytes(key, b"m"), expired.public_bytes(Encoding.PEM), trusted_roots(root))


V1_SCHEMA = """
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('ca', 'server', 'user')),
    name TEXT NOT NULL, subject_dn TEXT NOT NULL, issuer_dn TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE, not_before TEXT NOT NULL, not_after TEXT NOT NULL,
    sans TEXT NOT NULL, key_type TEXT NOT NULL, issued_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at TEXT, reason TEXT,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX certificates_name ON certificates (name);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO certificates VALUES ('0A', 'user', 'Doe', 'CN=Doe', 'CN=CA', 'ab',
    '2026-01-01T00:00:00+00:00', '2027-01-01T00:00:00+00:00', '[]', 'ec-p256',
    '2026-01-01T00:00:00+00:00', 'valid', NULL, NULL);
INSERT INTO meta VALUES ('k', 'v');
PRAGMA user_version = 1;
"""


def test_a_version_1_index_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.close()
    os.chmod(path, 0o600)
    with Index(path) as index:
        (row,) = index.rows("", ())
        assert (row.serial, row.kind, row.name) == ("0A", "user", "Doe")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    assert db.execute("SELECT value FROM meta").fetchall() == [("v",)]
    db.execute(
        "INSERT INTO certificates VALUES ('0B', 'release', 'R', 'CN=R', 'CN=CA', 'cd', 'a', 'b', "
        "'[]', 'ec-p256', 'c', 'valid', NULL, NULL)"
    )
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO certificates VALUES ('0C', 'other', 'X', 'CN=X', 'CN=CA', 'ef', 'a', 'b', "
            "'[]', 'ec-p256', 'c', 'valid', NULL, NULL)"
        )
    db.close()
