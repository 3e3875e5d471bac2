"""pki issuance speed against floors measured in the same run.

1. A batch of 100 EC (P-256) user .p12 files (modern encoding, one shared password):
   - floor: raw ``cryptography`` in this process (keygen, the same extensions, sign, PKCS#12 with
     the same encryption parameters, write the file);
   - the pki library batch (``pki.batch.open_batch``) and ``pki issue-user --from`` as a process;
   - the openssl command line doing the same work (req, x509 -req, pkcs12 -export per user).
   Target: the pki batch within 1.2x of the floor.
2. ``pki issue-user --from`` with 1,000 users (its worker processes, one per core) against the
   floor doing the same 1,000 in this one process, in interleaved rounds; the index and log are
   checked after each round. Target: at least 1.8x faster on a 2-core machine.
3. One ``pki issue-user`` process against ``python -c "import typer, cryptography.x509"`` plus one
   certificate made in-process (the floor's per-user time). Target: within 1.3x.

Targets are wall-clock ratios. Each line also shows CPU time (this process plus its children) and
its ratio: on a shared machine other processes' load stretches wall time unevenly, CPU time much
less, so when the two ratios disagree the CPU one tells what pki itself costs.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki import audit
from pki.batch import UserRow, default_workers, open_batch
from pki.ca import LoadedCA, init_ca, load_ca
from pki.home import PkiHome
from pki.inventory import list_certs
from pki.p12 import MODERN_KDF_ROUNDS

USERS = 100
SINGLE_RUNS = 7
CHUNK = 10
PASSPHRASE = b"bench passphrase"
PASSWORD = b"bench password"
BATCH_TARGET = 1.2
SINGLE_TARGET = 1.3
PARALLEL_USERS = int(os.environ.get("BENCH_BATCH_USERS", "1000"))
PARALLEL_ROUNDS = 3
PARALLEL_TARGET = 1.8


@dataclass(frozen=True)
class Cost:
    wall: float = 0.0
    cpu: float = 0.0  # user + system, of this process and of the children it waited for

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.wall + other.wall, self.cpu + other.cpu)

    def ratio(self, base: Cost) -> str:
        return f"{self.wall / base.wall:.2f}x (cpu {self.cpu / base.cpu:.2f}x)"


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(fn: Callable[[], object]) -> Cost:
    wall, cpu = time.perf_counter(), _cpu()
    fn()
    return Cost(time.perf_counter() - wall, _cpu() - cpu)


def _median(costs: list[Cost]) -> Cost:
    return Cost(statistics.median(c.wall for c in costs), statistics.median(c.cpu for c in costs))


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


def _floor_chunk(ca: LoadedCA, out: Path, numbers: range) -> None:
    for i in numbers:
        _floor_user(ca, f"User {i}", out / f"{i}.p12")


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


def _line(label: str, cost: Cost, note: str = "") -> None:
    print(f"  {label:<44}{cost.wall:8.2f} s (cpu {cost.cpu:6.2f} s)  {note}".rstrip(), flush=True)


def _batch(tmp: Path, ca: LoadedCA) -> Cost:
    print(f"batch of {USERS} EC user .p12 files (modern encoding)")
    floor_dir = tmp / "floor"
    floor_dir.mkdir()
    rows = [UserRow(i + 2, f"User {i}", None, None) for i in range(USERS)]
    home = tmp / "home"
    password_file = tmp / "password"
    password_file.write_bytes(PASSWORD)
    # One process, so the interleaved floor chunks run alone: this measures pki's own work per
    # row; the parallel batch is measured below.
    batch = open_batch(
        home,
        rows,
        passphrase=PASSPHRASE,
        password_file=password_file,
        out_dir=tmp / "lib",
        workers=1,
    )
    results = iter(batch)
    # Interleaved in chunks so that load from other processes hits both sides alike.
    floor = lib = Cost()
    for start in range(0, USERS, CHUNK):
        chunk = range(start, start + CHUNK)
        floor += _timed(functools.partial(_floor_chunk, ca, floor_dir, chunk))
        lib += _timed(lambda: list(itertools.islice(results, CHUNK)))
    _line("floor: cryptography in-process", floor, f"{floor.wall / USERS * 1000:.0f} ms/user")
    verdict = "ok" if lib.wall / floor.wall <= BATCH_TARGET else "OVER TARGET"
    _line(
        "pki library batch",
        lib,
        f"{lib.ratio(floor)} floor (target <= {BATCH_TARGET}x, {verdict})",
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
    _line("pki issue-user --from (one process)", cli, f"{cli.ratio(floor)} floor")

    openssl = shutil.which("openssl")
    if openssl is None:
        print("  openssl command line: skipped (openssl is not installed)")
    else:
        work = tmp / "openssl"
        work.mkdir()
        (work / "ext.cnf").write_text(_EXT_CNF)
        (work / "pp").write_bytes(PASSPHRASE + b"\n")
        (work / "pw").write_bytes(PASSWORD + b"\n")
        ca_files = home / "ca" / "cert.pem", home / "ca" / "key.pem"

        def every_user() -> None:
            for i in range(USERS):
                _openssl_user(openssl, work, *ca_files, i)

        ossl = _timed(every_user)
        _line("openssl command line (3 processes/user)", ossl, f"{ossl.ratio(floor)} floor")
    return Cost(floor.wall / USERS, floor.cpu / USERS)


def _parallel(tmp: Path, ca: LoadedCA) -> None:
    workers = default_workers()
    print(
        f"`pki issue-user --from` with {PARALLEL_USERS} users ({workers} worker processes) "
        f"against the in-process floor, {PARALLEL_ROUNDS} interleaved rounds"
    )
    home = PkiHome(tmp / "home")
    csv_path = tmp / "fleet-users.csv"
    csv_path.write_text("full_name\n" + "".join(f"Fleet User {i}\n" for i in range(PARALLEL_USERS)))
    (tmp / "pw").write_bytes(PASSWORD + b"\n")
    env = _bytecode_env({"PKI_CA_PASSPHRASE": PASSPHRASE.decode()})
    speedups: list[float] = []
    floors: list[Cost] = []
    clis: list[Cost] = []
    for r in range(PARALLEL_ROUNDS):
        floor_dir = tmp / f"floor-{r}"
        floor_dir.mkdir()
        floors.append(_timed(functools.partial(_floor_chunk, ca, floor_dir, range(PARALLEL_USERS))))
        before = len(list_certs(home, kind="user"))
        out = tmp / f"parallel-{r}"
        argv = [sys.executable, "-m", "pki.cli", "--home", str(home.root), "issue-user"]
        argv += ["--from", str(csv_path), "--out-dir", str(out), "--password-file", str(tmp / "pw")]
        run = functools.partial(
            subprocess.run,
            argv,
            env=env,
            check=True,
            capture_output=True,
            timeout=900,
            stdin=subprocess.DEVNULL,
        )
        clis.append(_timed(run))
        issued = len(list_certs(home, kind="user")) - before
        files = len(list(out.glob("*.p12")))
        if issued != PARALLEL_USERS or files != PARALLEL_USERS:
            raise RuntimeError(f"round {r}: {issued} indexed, {files} .p12 files")
        audit.verify(home)
        speedups.append(floors[-1].wall / clis[-1].wall)
        shutil.rmtree(floor_dir)
        shutil.rmtree(out)
    floor, cli = _median(floors), _median(clis)
    _line("floor: cryptography in-process", floor, f"median of {PARALLEL_ROUNDS}")
    median = statistics.median(speedups)
    verdict = "ok" if median >= PARALLEL_TARGET else "UNDER TARGET"
    _line(
        "pki issue-user --from (workers)",
        cli,
        f"{median:.2f}x faster (rounds {min(speedups):.2f}-{max(speedups):.2f}; "
        f"target >= {PARALLEL_TARGET}x, {verdict}); index and log consistent",
    )


def _bytecode_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with bytecode caching on: an installed `pki` runs from .pyc files (as the
    bare interpreter's stdlib and site-packages imports do), while a development shell often sets
    PYTHONDONTWRITEBYTECODE, which would make every pki run compile its own modules again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def _run(argv: list[str], env: dict[str, str] | None = None) -> Cost:
    return _timed(
        lambda: subprocess.run(
            argv, env=env, check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
        )
    )


def _single(tmp: Path, per_user_floor: Cost) -> None:
    print("one `pki issue-user` process")
    env = _bytecode_env(
        {
            "PKI_HOME": str(tmp / "home"),
            "PKI_CA_PASSPHRASE": PASSPHRASE.decode(),
            "PKI_P12_PASSWORD": PASSWORD.decode(),
        }
    )
    plain = _bytecode_env()
    pki_exe = Path(sys.executable).with_name("pki")
    cmd = [str(pki_exe)] if pki_exe.exists() else [sys.executable, "-m", "pki.cli"]
    _run([*cmd, "issue-user", "Warm-up"], env)  # writes pki's .pyc files, as an install does
    bares: list[Cost] = []
    ones: list[Cost] = []
    minimals: list[Cost] = []
    # Interleaved, so that load from other processes hits all three alike; medians.
    for i in range(SINGLE_RUNS):
        bares.append(_run([sys.executable, "-c", "import typer, cryptography.x509"], plain))
        ones.append(_run([*cmd, "issue-user", f"Single {i}"], env))
        # For reading the ratio: what any Typer command costs before doing anything.
        minimals.append(_run([sys.executable, "-c", _MINIMAL_TYPER], plain))
    bare, one, minimal = (_median(x) for x in (bares, ones, minimals))
    baseline = bare + per_user_floor
    _line('python -c "import typer, cryptography.x509"', bare, f"median of {SINGLE_RUNS}")
    _line("+ one certificate in-process (floor)", per_user_floor)
    _line("(a one-argument Typer command, for reference)", minimal, f"{minimal.ratio(bare)} bare")
    verdict = "ok" if one.wall / baseline.wall <= SINGLE_TARGET else "OVER TARGET"
    _line(
        "pki issue-user",
        one,
        f"{one.ratio(baseline)} baseline (target <= {SINGLE_TARGET}x, {verdict})",
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pki-") as name:
        tmp = Path(name)
        init_ca(tmp / "home", name="Bench CA", org="Bench", passphrase=PASSPHRASE)
        ca = load_ca(tmp / "home", PASSPHRASE)
        per_user = _batch(tmp, ca)
        _parallel(tmp, ca)
        _single(tmp, per_user)


if __name__ == "__main__":
    main()
