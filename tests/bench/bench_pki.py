"""pki issuance speed against floors measured in the same run.

1. A batch of 100 EC (P-256) user .p12 files (modern encoding, one shared password):
   - floor: raw ``cryptography`` in this process (keygen, the same extensions, sign, PKCS#12 with
     the same encryption parameters, write the file);
   - the pki library batch (``pki.batch.issue_users``) and ``pki issue-user --from`` as a process;
   - the openssl command line doing the same work (req, x509 -req, pkcs12 -export per user).
   Target: the pki batch within 1.2x of the floor.
2. One ``pki issue-user`` process against ``python -c "import typer, cryptography.x509"`` plus one
   certificate made in-process (the floor's per-user time). Target: within 1.3x.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.batch import UserRow, issue_users
from pki.ca import LoadedCA, init_ca, load_ca
from pki.p12 import MODERN_KDF_ROUNDS

USERS = 100
SINGLE_RUNS = 7
CHUNK = 10
PASSPHRASE = b"bench passphrase"
PASSWORD = b"bench password"
BATCH_TARGET = 1.2
SINGLE_TARGET = 1.3


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _floor_user(ca: LoadedCA, name: str, out: Path) -> None:
    """One user the way a hand-written script with cryptography would do it."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bench"),
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                ]
            )
        )
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(MODERN_KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(PASSWORD)
    )
    data = pkcs12.serialize_key_and_certificates(name.encode(), key, cert, [ca.cert], encryption)
    out.write_bytes(data)


def _openssl_user(openssl: str, work: Path, ca: Path, ca_key: Path, i: int) -> None:
    key, csr, crt = work / f"{i}.key", work / f"{i}.csr", work / f"{i}.crt"
    ext = work / "ext.cnf"
    run = {"check": True, "capture_output": True, "timeout": 60}
    subprocess.run(
        [
            openssl,
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            f"/O=Bench/CN=User {i}",
        ],
        **run,  # type: ignore[call-overload]
    )
    subprocess.run(
        [
            openssl,
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-passin",
            f"file:{work / 'pp'}",
            "-set_serial",
            str(int.from_bytes(os.urandom(19), "big")),
            "-days",
            "365",
            "-sha256",
            "-extfile",
            ext,
            "-extensions",
            "usr",
            "-out",
            crt,
        ],
        **run,  # type: ignore[call-overload]
    )
    subprocess.run(
        [
            openssl,
            "pkcs12",
            "-export",
            "-inkey",
            key,
            "-in",
            crt,
            "-certfile",
            ca,
            "-name",
            f"User {i}",
            "-passout",
            f"file:{work / 'pw'}",
            "-keypbe",
            "AES-256-CBC",
            "-certpbe",
            "AES-256-CBC",
            "-iter",
            str(MODERN_KDF_ROUNDS),
            "-macalg",
            "sha256",
            "-out",
            work / f"{i}.p12",
        ],
        **run,  # type: ignore[call-overload]
    )


_MINIMAL_TYPER = """
import typer
app = typer.Typer()
@app.command()
def main(name: str) -> None:
    import cryptography.x509
app(["x"])
"""

_EXT_CNF = """[usr]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _line(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<44}{seconds:8.2f} s  {note}".rstrip(), flush=True)


def _batch(tmp: Path, ca: LoadedCA) -> float:
    print(f"batch of {USERS} EC user .p12 files (modern encoding)")
    floor_dir = tmp / "floor"
    floor_dir.mkdir()
    rows = [UserRow(i + 2, f"User {i}", None, None) for i in range(USERS)]
    home = tmp / "home"
    results = issue_users(home, rows, passphrase=PASSPHRASE, password=PASSWORD, out_dir=tmp / "lib")
    # Interleaved in chunks so that load from other processes hits both sides alike.
    floor = lib = 0.0
    for start in range(0, USERS, CHUNK):
        began = time.perf_counter()
        for i in range(start, start + CHUNK):
            _floor_user(ca, f"User {i}", floor_dir / f"{i}.p12")
        floor += time.perf_counter() - began
        lib += _timed(lambda: list(itertools.islice(results, CHUNK)))
    _line("floor: cryptography in-process", floor, f"{floor / USERS * 1000:.0f} ms/user")
    verdict = "ok" if lib / floor <= BATCH_TARGET else "OVER TARGET"
    _line(
        "pki library batch", lib, f"{lib / floor:.2f}x floor (target <= {BATCH_TARGET}x, {verdict})"
    )

    csv_path = tmp / "users.csv"
    csv_path.write_text("full_name\n" + "".join(f"CLI User {i}\n" for i in range(USERS)))
    (tmp / "pw").write_bytes(PASSWORD + b"\n")
    (tmp / "pp").write_bytes(PASSPHRASE + b"\n")
    cli = _timed(
        lambda: subprocess.run(
            [
                sys.executable,
                "-m",
                "pki.cli",
                "--home",
                str(home),
                "issue-user",
                "--from",
                str(csv_path),
                "--out-dir",
                str(tmp / "cli"),
                "--password-file",
                str(tmp / "pw"),
                "--passphrase-file",
                str(tmp / "pp"),
            ],
            check=True,
            capture_output=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    )
    _line("pki issue-user --from (one process)", cli, f"{cli / floor:.2f}x floor")

    openssl = shutil.which("openssl")
    if openssl is None:
        print("  openssl command line: skipped (openssl is not installed)")
    else:
        work = tmp / "openssl"
        work.mkdir()
        (work / "ext.cnf").write_text(_EXT_CNF)
        (work / "pp").write_bytes(PASSPHRASE + b"\n")
        (work / "pw").write_bytes(PASSWORD + b"\n")
        began = time.perf_counter()
        for i in range(USERS):
            _openssl_user(openssl, work, home / "ca" / "cert.pem", home / "ca" / "key.pem", i)
        ossl = time.perf_counter() - began
        _line("openssl command line (3 processes/user)", ossl, f"{ossl / floor:.2f}x floor")
    return floor / USERS


def _run(argv: list[str], env: dict[str, str] | None = None) -> float:
    return _timed(
        lambda: subprocess.run(
            argv, env=env, check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
        )
    )


def _single(tmp: Path, per_user_floor: float) -> None:
    print("one `pki issue-user` process")
    env = {
        **os.environ,
        "PKI_HOME": str(tmp / "home"),
        "PKI_CA_PASSPHRASE": PASSPHRASE.decode(),
        "PKI_P12_PASSWORD": PASSWORD.decode(),
    }
    pki_exe = Path(sys.executable).with_name("pki")
    cmd = [str(pki_exe)] if pki_exe.exists() else [sys.executable, "-m", "pki.cli"]
    bares: list[float] = []
    ones: list[float] = []
    minimals: list[float] = []
    # Interleaved, so that load from other processes hits all three alike; medians.
    for i in range(SINGLE_RUNS):
        bares.append(_run([sys.executable, "-c", "import typer, cryptography.x509"]))
        ones.append(_run([*cmd, "issue-user", f"Single {i}"], env))
        # For reading the ratio: what any Typer command costs before doing anything.
        minimals.append(_run([sys.executable, "-c", _MINIMAL_TYPER]))
    bare, one, minimal = (statistics.median(x) for x in (bares, ones, minimals))
    baseline = bare + per_user_floor
    _line('python -c "import typer, cryptography.x509"', bare, f"median of {SINGLE_RUNS}")
    _line("+ one certificate in-process (floor)", per_user_floor)
    _line("(a one-argument Typer command, for reference)", minimal, f"{minimal - bare:+.2f} s")
    verdict = "ok" if one / baseline <= SINGLE_TARGET else "OVER TARGET"
    _line(
        "pki issue-user",
        one,
        f"{one / baseline:.2f}x baseline (target <= {SINGLE_TARGET}x, {verdict})",
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pki-") as name:
        tmp = Path(name)
        init_ca(tmp / "home", name="Bench CA", org="Bench", passphrase=PASSPHRASE)
        ca = load_ca(tmp / "home", PASSPHRASE)
        per_user = _batch(tmp, ca)
        _single(tmp, per_user)


if __name__ == "__main__":
    main()
