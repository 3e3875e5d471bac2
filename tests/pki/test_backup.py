"""`pki backup` and `pki restore`: a real encrypted round trip, and every refusal writes nothing."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pki import audit
from pki.backup import MAGIC, backup, restore, seal
from pki.ca import CreatedCA, write_crl
from pki.cli import app
from pki.crl import revoke
from pki.home import PkiHome
from pki.issue import UserRequest, issue_server, issue_user
from tests.pki.checks import fails, ok
from tests.pki.conftest import PASSPHRASE, PASSWORD, mode

BACKUP_PASSPHRASE = b"a different backup passphrase"
WRONG = "restore: Wrong backup passphrase, or {archive} is damaged or truncated; check the "
WRONG += "passphrase, then try another copy of the archive."


@pytest.fixture
def secrets(tmp_path: Path, clean_env: None) -> dict[str, Path]:
    files = {}
    for name, value in (("ca", PASSPHRASE), ("backup", BACKUP_PASSPHRASE), ("p12", PASSWORD)):
        files[name] = tmp_path / f"{name}-secret"
        files[name].write_bytes(value + b"\n")
    return files


def pki(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    monkeypatched = {"PKI_BACKUP_PASSPHRASE": "", **(env or {})}
    return CliRunner().invoke(app, [str(a) for a in args], env=monkeypatched)


def tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under ``root`` with its mode and, for files, its bytes."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for path in sorted(root.rglob("*")):
        data = path.read_bytes() if path.is_file() else None
        out[str(path.relative_to(root))] = (mode(path), data)
    return out


@pytest.fixture
def busy(home: PkiHome, ca: CreatedCA) -> PkiHome:
    jane = issue_user(home, UserRequest("Doe, Jane", password=PASSWORD), passphrase=PASSPHRASE)
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    revoke(home, jane.info.serial, "superseded")
    write_crl(home, passphrase=PASSPHRASE)
    os.chmod(home.ca_cert, 0o640)  # a mode the archive must keep
    return home


@pytest.fixture
def archive(busy: PkiHome, tmp_path: Path, secrets: dict[str, Path]) -> Path:
    out = tmp_path / "media" / "pki.backup"
    out.parent.mkdir()
    printed = ok(
        pki("--home", busy.root, "backup", "--out", out, "--passphrase-file", secrets["backup"])
    )
    # 16 with the bundles nginx reads (ca/edge-trust.pem, ca/edge-crls.pem) among them
    assert printed.startswith(f"Wrote {out} (16 files, ")
    return out


def test_round_trip_lists_verifies_and_issues(
    busy: PkiHome, archive: Path, tmp_path: Path, secrets: dict[str, Path]
) -> None:
    assert mode(archive) == 0o600
    assert archive.read_bytes().startswith(MAGIC)
    assert b"BEGIN" not in archive.read_bytes() and b"Doe" not in archive.read_bytes()
    original = audit.entries(busy)
    assert original[-1].op == "backup" and original[-1].details == {"archive": str(archive)}
    target = tmp_path / "restored"
    printed = ok(pki("restore", archive, "--home", target, "--passphrase-file", secrets["backup"]))
    assert printed.startswith(f"Restored 16 files into {target} (backup of ")
    assert printed.endswith("; the log verifies (7 entries).\n")
    # Same inventory, same files and modes (the index is a snapshot, so compared by content).
    listed = ok(pki("--home", busy.root, "list", "--json"))
    assert ok(pki("--home", target, "list", "--json")) == listed
    before, after = tree(busy.root), tree(target)
    for name in ("index.sqlite3", "log.jsonl", ".lock"):
        before.pop(name, None)
        after.pop(name, None)
    assert after == before
    assert mode(target / "ca" / "cert.pem") == 0o640
    assert mode(target / "servers" / "edge.example" / "key.pem") == 0o600
    # The same log, plus the restore's own entry; it verifies.
    restored = audit.entries(PkiHome(target))
    assert restored[:-1] == original
    assert restored[-1].op == "restore"
    assert restored[-1].details["archive"] == str(archive)
    assert ok(pki("--home", target, "log", "--verify")).startswith("Log OK: 7 entries")
    # And it issues.
    issued = ok(
        pki(
            "--home",
            target,
            "issue-user",
            "New, Nia",
            "--passphrase-file",
            secrets["ca"],
            "--password-file",
            secrets["p12"],
        )
    )
    serial = issued.split()[3]
    assert (target / "users" / f"New_Nia-{serial}.p12").exists()
    assert audit.verify(PkiHome(target)).count == 8
    assert audit.entries(PkiHome(target))[-1].serials == (serial,)
    assert [p.name for p in tmp_path.iterdir() if ".restore-" in p.name] == []


def test_a_read_only_backup_writes_nothing_into_the_home(busy: PkiHome, tmp_path: Path) -> None:
    """The supply service's path (containers mount the home read-only): no lock file, no log
    entry, no file of the home changed; the archive restores and its log verifies. (The home is
    writable here, so SQLite may make its shared-memory side files for the read transaction; on
    a read-only mount it cannot, and reads the file alone.)"""
    (busy.root / ".lock").unlink(missing_ok=True)

    def files() -> dict[str, tuple[int, bytes | None]]:
        return {k: v for k, v in tree(busy.root).items() if not k.endswith(("-shm", "-wal"))}

    before, log = files(), audit.entries(busy)
    info = backup(busy, tmp_path / "ro.backup", passphrase=BACKUP_PASSPHRASE, read_only=True)
    assert (info.files, info.logged) == (16, False)
    assert files() == before
    restored = restore(info.path, tmp_path / "restored", passphrase=BACKUP_PASSPHRASE)
    assert audit.entries(restored.home)[:-1] == log  # no backup entry, then the restore's own
    assert restored.log_entries == len(log) + 1


def test_the_header_records_scrypt_and_a_random_salt(
    busy: PkiHome, archive: Path, tmp_path: Path, secrets: dict[str, Path]
) -> None:
    header = json.loads(archive.read_bytes()[len(MAGIC) :].split(b"\n", 1)[0])
    assert header["cipher"] == "AES-256-GCM"
    kdf = header["kdf"]
    assert kdf["name"] == "scrypt" and kdf["n"] >= 2**15 and (kdf["r"], kdf["p"]) == (8, 1)
    second = tmp_path / "media" / "second.backup"
    ok(pki("--home", busy.root, "backup", "--out", second, "--passphrase-file", secrets["backup"]))
    header2 = json.loads(second.read_bytes()[len(MAGIC) :].split(b"\n", 1)[0])
    assert len(base64.b64decode(kdf["salt"])) == 16
    assert header2["kdf"]["salt"] != kdf["salt"] and header2["nonce"] != header["nonce"]


def test_passphrase_from_the_environment(busy: PkiHome, tmp_path: Path, clean_env: None) -> None:
    out = tmp_path / "env.backup"
    env = {"PKI_BACKUP_PASSPHRASE": BACKUP_PASSPHRASE.decode()}
    ok(pki("--home", busy.root, "backup", "--out", out, env=env))
    ok(pki("restore", out, "--home", tmp_path / "r", env=env))
    fails(
        pki("restore", out, "--home", tmp_path / "r2"),
        "backup passphrase: Give --passphrase-file or set PKI_BACKUP_PASSPHRASE (no terminal to "
        "prompt on).",
    )


def test_backup_refuses_an_existing_file_and_the_home_itself(
    busy: PkiHome, archive: Path, secrets: dict[str, Path]
) -> None:
    before = archive.read_bytes()
    args = ("--passphrase-file", secrets["backup"])
    fails(
        pki("--home", busy.root, "backup", "--out", archive, *args),
        f"out: {archive} exists already; choose another file.",
    )
    assert archive.read_bytes() == before
    inside = busy.root / "users" / "x.backup"
    fails(
        pki("--home", busy.root, "backup", "--out", inside, *args),
        f"out: {inside} is inside the PKI home; write the backup elsewhere.",
    )
    assert not inside.exists()


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _weaker_header(data: bytes) -> bytes:
    # An attacker lowering the work factor: the header is associated data, so it fails to open.
    return data.replace(b'"n":131072', b'"n":32768', 1)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_flip, WRONG),
        (lambda data: data[:-20], WRONG),
        (lambda data: data[: len(data) // 2], WRONG),
        (_weaker_header, WRONG),
        (
            lambda data: data[:30],
            "restore: {archive} is not a pki backup, or its header is damaged.",
        ),
        (
            lambda data: b"PK\x03\x04" + data,
            "restore: {archive} is not a pki backup, or its header is damaged.",
        ),
    ],
    ids=[
        "flipped-byte",
        "truncated-tag",
        "truncated-half",
        "weaker-header",
        "cut-in-header",
        "not-ours",
    ],
)
def test_a_damaged_archive_is_one_line_and_writes_nothing(
    archive: Path,
    tmp_path: Path,
    secrets: dict[str, Path],
    damage: Callable[[bytes], bytes],
    message: str,
) -> None:
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(damage(archive.read_bytes()))
    before = tree(tmp_path)
    target = tmp_path / "restored"
    fails(
        pki("restore", damaged, "--home", target, "--passphrase-file", secrets["backup"]),
        message.format(archive=damaged),
    )
    assert tree(tmp_path) == before


def test_a_wrong_passphrase_is_one_line_and_writes_nothing(archive: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not the backup passphrase\n")
    before = tree(tmp_path)
    fails(
        pki("restore", archive, "--home", tmp_path / "restored", "--passphrase-file", wrong),
        WRONG.format(archive=archive),
    )
    assert tree(tmp_path) == before


def test_a_non_empty_target_is_refused(
    archive: Path, tmp_path: Path, secrets: dict[str, Path]
) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    fails(
        pki("restore", archive, "--home", target, "--passphrase-file", secrets["backup"]),
        f"restore: {target} is not empty; restore into a new or empty directory.",
    )
    assert tree(tmp_path) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    ok(pki("restore", archive, "--home", empty, "--passphrase-file", secrets["backup"]))
    assert (empty / "ca" / "cert.pem").exists()


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        index = tarfile.TarInfo("index.sqlite3")
        index.size = 0
        tar.addfile(index, io.BytesIO(b""))
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, linkname: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, 0o600
    return info, b"evil\n"


@pytest.mark.parametrize(
    ("member", "what"),
    [
        (_member("../outside.pem"), "a path outside the home"),
        (_member("ca/../../outside.pem"), "a path outside the home"),
        (_member("/etc/cron.d/evil"), "a path outside the home"),
        (_member("ca/key.pem", tarfile.SYMTYPE, "/etc/shadow"), "a link or device"),
        (_member("ca/key.pem", tarfile.LNKTYPE, "index.sqlite3"), "a link or device"),
        (_member("dev/zero", tarfile.CHRTYPE), "a link or device"),
        (_member("dev/sda", tarfile.BLKTYPE), "a link or device"),
        (_member("fifo", tarfile.FIFOTYPE), "a link or device"),
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "absolute",
        "symlink",
        "hardlink",
        "chardev",
        "blockdev",
        "fifo",
    ],
)
def test_a_hostile_member_refuses_the_whole_archive(
    tmp_path: Path, secrets: dict[str, Path], member: tuple[tarfile.TarInfo, bytes], what: str
) -> None:
    hostile = tmp_path / "hostile.backup"
    hostile.write_bytes(seal(_tar(_member("ca/cert.pem"), member), BACKUP_PASSPHRASE))
    before = tree(tmp_path)
    fails(
        pki("restore", hostile, "--home", tmp_path / "r", "--passphrase-file", secrets["backup"]),
        f"restore: {hostile} holds {member[0].name!r}, {what}; refusing the whole archive.",
    )
    assert tree(tmp_path) == before
    assert not (tmp_path.parent / "outside.pem").exists()


def test_an_archive_without_an_index_is_refused(tmp_path: Path, secrets: dict[str, Path]) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info, data = _member("ca/cert.pem")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    odd = tmp_path / "odd.backup"
    odd.write_bytes(seal(buf.getvalue(), BACKUP_PASSPHRASE))
    fails(
        pki("restore", odd, "--home", tmp_path / "r", "--passphrase-file", secrets["backup"]),
        f"restore: {odd} holds no index.sqlite3; it is not a PKI home backup.",
    )
    assert not (tmp_path / "r").exists()


def test_a_backup_taken_while_processes_issue_is_consistent(busy: PkiHome, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PKI_HOME": str(busy.root),
        "PKI_CA_PASSPHRASE": PASSPHRASE.decode(),
        "PKI_P12_PASSWORD": PASSWORD.decode(),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pki.cli", "issue-user", f"Racer {i}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    archives = []
    for n in range(2):
        archives.append(tmp_path / f"during-{n}.backup")
        backup(busy, archives[-1], passphrase=BACKUP_PASSPHRASE)
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    for n, archive in enumerate(archives):
        restored = restore(archive, tmp_path / f"r{n}", passphrase=BACKUP_PASSPHRASE).home
        with restored.index() as index:
            serials = {row.serial for row in index.rows()}
        assert {p.stem for p in restored.issued_dir.glob("*.pem")} == serials
        logged = {s for e in audit.entries(restored) for s in e.serials if e.op.startswith("issue")}
        assert (
            logged | {e.serials[0] for e in audit.entries(restored) if e.op == "init-ca"} == serials
        )
    assert audit.verify(busy).count == 5 + 2 + 4
