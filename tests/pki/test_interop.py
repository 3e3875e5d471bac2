"""The issued files read by real tools: openssl, Java keytool, Python's ssl, and `pki` processes."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from pki.ca import CreatedCA, write_crl
from pki.certinfo import load_pem
from pki.crl import revoke
from pki.home import PkiHome
from pki.issue import IssuedUser, UserRequest, issue_server, issue_user
from tests.harness.processes import running_with
from tests.pki.checks import issue_users_concurrently, tls_handshake
from tests.pki.conftest import PASSPHRASE, PASSWORD, PEM_PASSWORD

OPENSSL = shutil.which("openssl") or "openssl"
KEYTOOL = shutil.which("keytool") or "keytool"
needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is not installed"
)
needs_keytool = pytest.mark.skipif(
    shutil.which("keytool") is None, reason="Java keytool is not installed"
)


def run(*args: str | Path | None, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        input=input.decode() if input else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _user(home: PkiHome, legacy: bool) -> IssuedUser:
    return issue_user(
        home,
        UserRequest("Doe, Jane", password=PASSWORD, email="jane@example.org", legacy=legacy),
        passphrase=PASSPHRASE,
    )


@needs_openssl
def test_openssl_verify_x509_strict(home: PkiHome, ca: CreatedCA) -> None:
    server = issue_server(home, "web.example", sans=["127.0.0.1"], passphrase=PASSPHRASE)
    user = _user(home, legacy=False)
    for purpose, cert in (("sslserver", server.cert_path), ("sslclient", user.cert_path)):
        result = run(
            OPENSSL, "verify", "-x509_strict", "-purpose", purpose, "-CAfile", ca.cert_path, cert
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"{cert}: OK\n"
    # The CA alone, as a trust anchor checked strictly.
    result = run(OPENSSL, "verify", "-x509_strict", "-CAfile", ca.cert_path, ca.cert_path)
    assert result.returncode == 0, result.stderr


@needs_openssl
@pytest.mark.parametrize(
    ("legacy", "expect"),
    [
        (
            False,
            ["PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256", "MAC: sha256"],
        ),
        (True, ["pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", "MAC: sha1"]),
    ],
)
def test_openssl_pkcs12_reads_both_encodings(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, legacy: bool, expect: list[str]
) -> None:
    user = _user(home, legacy)
    pwfile = tmp_path / "pw"
    pwfile.write_bytes(PASSWORD + b"\n")
    result = run(
        OPENSSL,
        "pkcs12",
        "-info",
        "-in",
        user.p12_path,
        "-passin",
        f"file:{pwfile}",
        "-nodes",
    )
    assert result.returncode == 0, result.stderr
    for line in expect:
        assert line in result.stderr
    assert "friendlyName: Doe, Jane" in result.stdout
    assert result.stdout.count("BEGIN CERTIFICATE") == 2  # user + CA
    assert "BEGIN PRIVATE KEY" in result.stdout
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    bad = run(OPENSSL, "pkcs12", "-in", user.p12_path, "-passin", f"file:{wrong}", "-nokeys")
    assert bad.returncode != 0
    assert "Mac verify error" in bad.stderr


@needs_keytool
@pytest.mark.parametrize("legacy", [False, True])
def test_keytool_lists_both_encodings(home: PkiHome, ca: CreatedCA, legacy: bool) -> None:
    user = _user(home, legacy)
    # keytool reads the store password from stdin when -storepass is absent.
    result = run(
        KEYTOOL,
        "-list",
        "-v",
        "-storetype",
        "PKCS12",
        "-keystore",
        user.p12_path,
        input=PASSWORD + b"\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your keystore contains 1 entry" in result.stdout
    assert "Alias name: doe, jane" in result.stdout
    assert "Entry type: PrivateKeyEntry" in result.stdout
    assert "Certificate chain length: 2" in result.stdout
    assert 'Owner: CN="Doe, Jane", O=Fleet' in result.stdout


@needs_openssl
def test_openssl_crl_check_shows_revoked(home: PkiHome, ca: CreatedCA) -> None:
    user = _user(home, legacy=False)
    other = issue_user(home, UserRequest("Other", password=PASSWORD), passphrase=PASSPHRASE)
    check = (OPENSSL, "verify", "-crl_check", "-CAfile", ca.cert_path, "-CRLfile", home.crl)
    assert run(*check, user.cert_path).returncode == 0  # the initial CRL from init-ca is empty
    revoke(home, user.info.serial, "keyCompromise")
    write_crl(home, passphrase=PASSPHRASE)
    result = run(*check, user.cert_path)
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr
    assert run(*check, other.cert_path).returncode == 0


def test_python_tls_handshake_with_server_and_client_certs(home: PkiHome, ca: CreatedCA) -> None:
    server = issue_server(home, "localhost", sans=["127.0.0.1"], passphrase=PASSPHRASE)
    user = issue_user(
        home, UserRequest("José Núñez", password=PEM_PASSWORD, pem=True), passphrase=PASSPHRASE
    )
    assert user.key_path is not None
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server.chain_path, server.key_path)
    server_ctx.load_verify_locations(ca.cert_path)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(ca.cert_path))
    client_ctx.load_cert_chain(user.cert_path, user.key_path, password=PEM_PASSWORD)

    peer = tls_handshake(server_ctx, client_ctx)
    assert peer["subject"] == ((("organizationName", "Fleet"),), (("commonName", "José Núñez"),))


def test_eight_concurrent_issue_user_processes(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    printed = issue_users_concurrently(
        home.root, [f"User {i}" for i in range(8)], PASSPHRASE, PASSWORD
    )
    db = sqlite3.connect(home.index_path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT serial, name FROM certificates WHERE kind = 'user'").fetchall()
    db.close()
    assert len(rows) == 8
    assert {serial for serial, _ in rows} == printed
    assert sorted(name for _, name in rows) == [f"User {i}" for i in range(8)]
    assert sorted(p.name for p in home.users_dir.glob("*.p12")) == sorted(
        f"User_{name[5:]}-{serial}.p12" for serial, name in rows
    )
    assert sorted(p.stem for p in home.issued_dir.glob("*.pem")) == sorted(
        [*printed, ca.info.serial]
    )


def _user_serials(index: Path) -> set[str]:
    db = sqlite3.connect(index, timeout=30)
    try:
        return {r[0] for r in db.execute("SELECT serial FROM certificates WHERE kind = 'user'")}
    finally:
        db.close()


def test_batch_killed_midway_leaves_a_consistent_home(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    csv_path = tmp_path / "users.csv"
    csv_path.write_text("full_name\n" + "".join(f"User {i}\n" for i in range(200)))
    out = tmp_path / "out"
    env = {**os.environ, "PKI_HOME": str(home.root), "PKI_CA_PASSPHRASE": PASSPHRASE.decode()}
    env.pop("PKI_P12_PASSWORD", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pki.cli",
            "issue-user",
            "--from",
            str(csv_path),
            "--out-dir",
            str(out),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(_user_serials(home.index_path)) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=10)
    # Its worker processes (forks with the same command line) die with it.
    deadline = time.monotonic() + 10
    while running_with(str(csv_path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running_with(str(csv_path)) == []

    serials = _user_serials(home.index_path)
    assert 3 <= len(serials) < 200
    db = sqlite3.connect(home.index_path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    # Every indexed certificate has its files; a .p12 written by the killed step may lack a row.
    for serial in serials:
        assert load_pem(home.issued_cert(serial).read_bytes()).serial_number == int(serial, 16)
        assert len(list(out.glob(f"User_*-{serial}.p12"))) == 1
    orphans = {p.stem.rsplit("-", 1)[1] for p in out.glob("*.p12")} - serials
    assert len(orphans) <= 1
    [sheet] = out.glob("passwords-*.csv")
    with sheet.open(newline="", encoding="utf-8") as fh:
        recorded = {row["serial"]: row["password"] for row in csv.DictReader(fh)}
    # The password is recorded before the row commits: every indexed .p12 has its password; the
    # step killed between the two may leave one recorded password whose .p12 has no row.
    assert serials <= set(recorded) and len(set(recorded) - serials) <= 1
    for serial in serials:
        assert pkcs12.load_pkcs12(
            next(out.glob(f"*-{serial}.p12")).read_bytes(), recorded[serial].encode()
        ).key
    # The home keeps working.
    after = issue_user(home, UserRequest("After", password=PASSWORD), passphrase=PASSPHRASE)
    assert after.info.serial in _user_serials(home.index_path)


@needs_openssl
def test_ca_key_is_standard_pbes2_and_openssl_reencryption_still_loads(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    parsed = run(OPENSSL, "asn1parse", "-in", home.ca_key)
    assert parsed.returncode == 0, parsed.stderr
    objects = [line.split(":")[-1] for line in parsed.stdout.splitlines() if "OBJECT" in line]
    assert objects[:4] == ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"]
    # openssl reads -passin and -passout from two files (one file would give passout line two).
    pp_in, pp_out = tmp_path / "pp-in", tmp_path / "pp-out"
    pp_in.write_bytes(PASSPHRASE + b"\n")
    pp_out.write_bytes(PASSPHRASE + b"\n")
    # The upgrade docs/pki.md gives: re-encrypt with a higher PBKDF2 count, or with scrypt.
    for scheme in (
        ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-iter", "600000"],
        ["-scrypt"],
    ):
        stronger = tmp_path / "stronger.pem"
        done = run(
            OPENSSL, "pkcs8", "-topk8", *scheme, "-in", home.ca_key,
            "-passin", f"file:{pp_in}", "-passout", f"file:{pp_out}", "-out", stronger,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        os.replace(stronger, home.ca_key)
        issued = issue_user(
            home, UserRequest(f"After {scheme[0]}", password=PASSWORD), passphrase=PASSPHRASE
        )
        assert issued.info.issuer_dn == ca.info.subject_dn


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "pki"
    pp = tmp_path / "pp"
    pp.write_bytes(PASSPHRASE + b"\n")
    pki = [sys.executable, "-m", "pki.cli", "--home", str(home)]
    secret = ["--passphrase-file", str(pp)]
    commands = [
        [*pki, "init-ca", "--name", "Umask CA", *secret],
        [*pki, "issue-server", "web.example", *secret],
        [*pki, "issue-user", "Jane", *secret],
        [*pki, "issue-user", "Joe", "--pem", *secret],
        [*pki, "revoke", "Jane", "--reason", "superseded"],
        [*pki, "crl", *secret],
    ]
    env = {**os.environ, "PKI_P12_PASSWORD": PEM_PASSWORD.decode()}  # long enough for --pem
    env.pop("PKI_HOME", None)
    env.pop("PKI_CA_PASSPHRASE", None)
    for argv in commands:
        done = subprocess.run(
            argv, env=env, preexec_fn=lambda: os.umask(0), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (argv, done.stderr)
    modes = {p: p.stat().st_mode & 0o777 for p in [home, *home.rglob("*")]}
    assert len(modes) > 15
    wrong = {str(p): oct(m) for p, m in modes.items() if m != (0o700 if p.is_dir() else 0o600)}
    assert wrong == {}


def test_a_closed_output_pipe_is_not_an_error_message(home: PkiHome, ca: CreatedCA) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `pki list | head -0` would: every write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pki.cli", "--home", str(home.root), "list"],
            stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")
