"""Offline updates in the real engine: v1 from a full signed bundle into an engine that has no
images (a data root of its own, no route out), the shipped stack up from the bundle's own compose
file; v2 (a version bump, a code change and a migration) from a delta bundle made against the
site's manifest, with every row kept; and each refusal leaving the site's images and containers
as they were.

The tests share one clean engine and run in file order on one worker (xdist_group)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pki import keys, names, profiles
from pki.ca import load_ca
from pki.home import PkiHome
from pki.release.bundle import make_bundle, site_manifest
from pki.release.signer import Signer
from tests.docker.engine import CleanEngine, build, docker
from tests.docker.helpers import ROOT, tool
from tests.docker.stack import ComposeStack
from tests.harness.fleet import make_root
from tests.harness.pki_site import CA_PASSPHRASE, UserCert

pytestmark = pytest.mark.xdist_group("offline-update")

V1, V2 = "offline-v1", "offline-v2"
RELEASE_PASSPHRASE = "release-key-passphrase-for-tests"
NSN = "6505013324567"
PROBE = "offline_update_probe"


@dataclass
class Fleet:
    root: PkiHome
    signer: Path  # releases/NAME of the root's home
    work: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PKI_HOME": str(self.root.root),
            "PKI_CA_PASSPHRASE": CA_PASSPHRASE,
            "PKI_RELEASE_PASSPHRASE": RELEASE_PASSPHRASE,
            **extra,
        }


def pki(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("pki"), *args], capture_output=True, text=True, env=env, timeout=900, check=False
    )


def bundle_with_cli(fleet: Fleet, release: str, out: Path, have: Path | None = None) -> None:
    """`pki release bundle` of the release's images, signed by the fleet's release signer."""
    args = ["--have", str(have)] if have is not None else []
    made = pki(
        "release",
        "bundle",
        "--release",
        release,
        "--signer",
        str(fleet.signer),
        "--out",
        str(out),
        "--compose-dir",
        str(ROOT / "docker"),
        *args,
        env=fleet.env(),
    )
    assert made.returncode == 0, made.stderr


def v2_checkout(dest: Path) -> Path:
    """This checkout's files with release 2's changes: a new version, a code change (a module
    the service imports) and a migration."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    pyproject = dest / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"', 1))
    with (dest / "supply" / "health.py").open("a") as fh:
        fh.write('\nRELEASE_NOTE = "release 2: served from a delta bundle"\n')
    (dest / "supply" / "inventory" / "migrations" / "0006_offline_update_probe.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("inventory", "0005_ledger_subject_dn_is_text")]\n'
        "    operations = [\n"
        f'        migrations.RunSQL("CREATE TABLE {PROBE} (id integer PRIMARY KEY)", '
        f'"DROP TABLE {PROBE}"),\n'
        "    ]\n"
    )
    return dest


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    work = tmp_path_factory.mktemp("offline")
    root = make_root(work / "fleet-root", CA_PASSPHRASE.encode(), "Harness Fleet Root")
    fleet = Fleet(root, root.release_dir("Fleet Release"), work)
    issued = pki("release", "issue", "Fleet Release", env=fleet.env())
    assert issued.returncode == 0, issued.stderr
    for name in ("supply", "proxy", "postgres"):
        build(name, V1)
    v2 = v2_checkout(work / "v2-src")
    for name in ("supply", "proxy"):
        build(name, V2, context=v2)
    return fleet


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CleanEngine]:
    clean = CleanEngine(tmp_path_factory.mktemp("engine"), bridge=f"te-off{os.getpid() % 10000}")
    proc = clean.start()
    try:
        yield clean
    finally:
        clean.stop(proc)


@pytest.fixture(scope="module")
def bundles(fleet: Fleet) -> dict[str, Path]:
    """The v1 full bundle; the v2 delta is made later, against the site's own manifest."""
    full = fleet.work / "tactical-edge-v1-full.tar"
    bundle_with_cli(fleet, V1, full)
    return {"full-v1": full}


def site_state(engine: CleanEngine) -> tuple[str, str]:
    images = docker(
        "image",
        "ls",
        "--all",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Repository}}:{{.Tag}}",
        host=engine.host,
    ).stdout
    running = docker(
        "ps", "--no-trunc", "--format", "{{.ID}} {{.Image}} {{.Status}}", host=engine.host
    ).stdout
    return "\n".join(sorted(images.splitlines())), "\n".join(
        sorted(re.sub(r"Up .*", "Up", line) for line in running.splitlines())
    )


def load(
    fleet: Fleet, engine: CleanEngine, bundle: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return pki(
        "release",
        "load",
        str(bundle),
        "--trust",
        str(fleet.root.ca_cert),
        *extra,
        env=fleet.env(DOCKER_HOST=engine.host),
    )


def test_a_delta_on_an_empty_engine_is_refused_missing_layers(
    fleet: Fleet, engine: CleanEngine
) -> None:
    delta = fleet.work / "delta-against-the-build-host.tar"
    have = fleet.work / "build-host.json"
    have.write_text(json.dumps(site_manifest()))  # the build machine has every v1 layer
    bundle_with_cli(fleet, V2, delta, have=have)
    result = load(fleet, engine, delta)
    assert result.returncode == 1
    assert result.stderr.startswith("bundle: Layer sha256:")
    assert "neither in this delta nor on this host" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert site_state(engine) == ("", "")


@pytest.fixture(scope="module")
def site(
    fleet: Fleet, engine: CleanEngine, bundles: dict[str, Path]
) -> Iterator[tuple[ComposeStack, UserCert]]:
    compose_dir = fleet.work / "site-compose"
    loaded = load(fleet, engine, bundles["full-v1"], "--compose-out", str(compose_dir))
    assert loaded.returncode == 0, loaded.stderr
    stack = ComposeStack(
        fleet.work / "site",
        V1,
        docker_host=engine.host,
        fleet_root=fleet.root.root,
        compose_file=compose_dir / "compose.yaml",
    )
    try:
        stack.up()
        stack.compose.run("migrate", "supply", "load-demo")
        clerk = stack.new_user("Clerk, Carla", "clerk", "viewer")
        yield stack, clerk
    finally:
        stack.compose.down()


def test_v1_from_a_full_bundle_comes_up_on_an_engine_without_a_route_out(
    site: tuple[ComposeStack, UserCert], engine: CleanEngine
) -> None:
    stack, clerk = site
    receipt = stack.curl(
        "/supply/api/receipts/",
        clerk,
        method="POST",
        body={
            "unit": "W1A2B3",
            "nsn": NSN,
            "location": "RECV",
            "quantity": 4,
            "document_number": "W1A2B3-6338-0101",
        },
    )
    assert receipt.status == 201, receipt.body
    # No route out: the engine adds no NAT, and the backend network is internal anyway.
    probe = docker(
        "exec",
        stack.compose.container("proxy"),
        "python3",
        "-c",
        "import socket; socket.create_connection(('192.0.2.1', 80), timeout=3)",
        check=False,
        host=engine.host,
    )
    assert probe.returncode != 0
    assert "Network is unreachable" in probe.stderr or "timed out" in probe.stderr


def _tampered(source: Path, dest: Path, member_suffix: str) -> Path:
    """A copy of the bundle with one byte of one member flipped (same size, same names)."""
    with (
        tarfile.open(source) as tar_in,
        tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar_out,
    ):
        flipped = False
        for info in tar_in:
            data = tar_in.extractfile(info)
            if not flipped and info.name.endswith(member_suffix) and info.size > 1000:
                body = bytearray(data.read())  # type: ignore[union-attr]
                body[len(body) // 2] ^= 0x01
                flipped = True
                tar_out.addfile(info, io.BytesIO(bytes(body)))
            else:
                tar_out.addfile(info, data)
    assert flipped
    return dest


def _other_signer(fleet: Fleet, *, expired: bool) -> Signer:
    """A release signer of another fleet's root, or one of this root whose validity ended."""
    if expired:
        ca = load_ca(fleet.root, CA_PASSPHRASE.encode())
    else:
        other = make_root(
            fleet.work / f"other-root-{os.getpid()}", CA_PASSPHRASE.encode(), "Other Fleet Root"
        )
        ca = load_ca(other, CA_PASSPHRASE.encode())
    key = keys.key_type("ec-p256").generate()
    now = dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(days=30 if expired else 0, hours=1)
    cert = profiles.build(
        profiles.RELEASE,
        subject=names.subject("Expired Release" if expired else "Foreign Release"),
        public_key=key.public_key(),
        issuer=ca.issuer(),
        serial=x509.random_serial_number(),
        not_before=not_before,
        not_after=now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=30),
    )
    return Signer(key, cert, cert.public_bytes(Encoding.PEM))


@pytest.fixture(scope="module")
def delta_v2(fleet: Fleet, site: tuple[ComposeStack, UserCert], engine: CleanEngine) -> Path:
    have = fleet.work / "site-have.json"
    written = pki(
        "release", "site-manifest", "--out", str(have), env=fleet.env(DOCKER_HOST=engine.host)
    )
    assert written.returncode == 0, written.stderr
    delta = fleet.work / "tactical-edge-v2-delta.tar"
    bundle_with_cli(fleet, V2, delta, have=have)
    return delta


def test_a_code_only_change_makes_a_delta_of_at_most_5_mb(
    delta_v2: Path, record_property: Callable[[str, object], None]
) -> None:
    size = delta_v2.stat().st_size
    record_property(
        "figure", f"v1 -> v2 delta bundle (version, code, a migration): {size / 1e6:.2f} MB"
    )
    assert size <= 5_000_000


@pytest.mark.parametrize(
    "case", ["tampered layer", "wrong signer", "expired signer", "missing file"]
)
def test_a_bad_bundle_is_refused_with_one_line_and_the_site_untouched(
    case: str,
    fleet: Fleet,
    engine: CleanEngine,
    site: tuple[ComposeStack, UserCert],
    delta_v2: Path,
    tmp_path: Path,
) -> None:
    before = site_state(engine)
    expected: str
    if case == "tampered layer":
        bad = _tampered(delta_v2, tmp_path / "bad.tar", "layer.tar")
        expected = r"bundle: images/.*layer\.tar does not match the signed manifest"
    elif case == "missing file":
        bad = tmp_path / "bad.tar"
        with tarfile.open(delta_v2) as tar_in, tarfile.open(bad, "w") as tar_out:
            for info in tar_in:
                if not info.name.endswith("compose.yaml"):
                    tar_out.addfile(info, tar_in.extractfile(info))
        expected = r"bundle: compose/compose\.yaml is missing"
    else:
        signer = _other_signer(fleet, expired=case == "expired signer")
        bad = tmp_path / "bad.tar"
        make_bundle(
            [f"tactical-edge/supply:{V2}"], bad, signer, release=V2, compose_dir=ROOT / "docker"
        )
        expected = (
            r"signer: CN=Expired Release.* expired on"
            if case == "expired signer"
            else (r"signer: CN=Foreign Release.* does not chain to this site's trusted root")
        )
    result = load(fleet, engine, bad)
    assert result.returncode == 1
    assert re.match(expected, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert site_state(engine) == before


def test_v2_from_the_delta_migrates_and_keeps_every_row(
    fleet: Fleet, engine: CleanEngine, site: tuple[ComposeStack, UserCert], delta_v2: Path
) -> None:
    stack, clerk = site
    ledger = stack.ledger(clerk)
    stock = stack.stock(clerk, NSN, "RECV")
    loaded = load(fleet, engine, delta_v2)
    assert loaded.returncode == 0, loaded.stderr
    stack.write_env(V2)
    stack.up()
    assert stack.ledger(clerk) == ledger
    assert stack.stock(clerk, NSN, "RECV") == stock
    version = stack.compose.run("migrate", "supply", "--version")
    assert "0.2.0" in version
    query = f"SELECT to_regclass('{PROBE}') IS NOT NULL"
    tables = stack.compose(
        "exec",
        "-T",
        "db",
        "sh",
        "-c",
        'PGPASSWORD="$(cat /run/secrets/db-password)" '
        'psql -h 127.0.0.1 -U supply -d supply -tAc "$0"',
        query,
    ).stdout
    assert tables.strip() == "t"
