"""One encrypted archive of a PKI home (``pki backup``) and its restore (``pki restore``).

The archive is a file of three parts::

    tactical-edge-pki-backup\\n                       magic line
    {"cipher":"AES-256-GCM","created":…,"host":…,"kdf":{"n":131072,"name":"scrypt","p":1,
     "r":8,"salt":"<base64>"},"nonce":"<base64>","version":1}\\n   header, canonical JSON
    AES-256-GCM ciphertext of a tar of the home, with its 16-byte tag

The key is scrypt (RFC 7914) of the backup passphrase with the header's salt and parameters; the
magic line and the header are the associated data, so a changed parameter fails like a changed
byte of the ciphertext. The tar holds every regular file and directory of the home with its mode,
except ``.lock``, temporary files and SQLite's side files; ``index.sqlite3`` is a consistent
snapshot taken under SQLite's write lock, together with the files, so no issuer changes the home
while it is read. The whole archive is built, and on restore decrypted and checked, in memory
(a home of a thousand users is a few megabytes).

A caller that may not write the home (the supply service's backup, where containers mount it
read-only) passes ``read_only=True``: no lock file and no audit event, which the caller records
instead (supply's manifest says the home was not logged), and the index read in a read
transaction of its own read-only connection. Such a backup cannot hold off a pki process on the
host that writes meanwhile; the CLI never takes this path, so ``pki backup`` is always logged.

Restore writes nothing until the archive has authenticated and every tar member has been checked
(regular files and directories only, relative paths without ``..``). It then writes the home into
a temporary directory beside the target, logs the restore there, and renames it into place.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import shutil
import socket
import sqlite3
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from pki import audit
from pki.errors import BackupError, InputError, LogError
from pki.files import DIR_MODE, atomic_write, fsync_dir, make_dir, read_file
from pki.home import PkiHome, as_home
from pki.keys import MIN_PKCS8_SECRET_LENGTH, check_secret

MAGIC = b"tactical-edge-pki-backup\n"
VERSION = 1
CIPHER = "AES-256-GCM"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # 128 MiB of memory per guess
_N_RANGE = (2**15, 2**20)  # what a header may ask for: no weaker, and no memory bomb
_MAX_HEADER = 4096
_SKIPPED = frozenset(
    {".lock", "index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm", "index.sqlite3-journal"}
)


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    files: int
    size: int
    logged: bool = True  # the home's audit log holds this backup (False: ``read_only``)


@dataclass(frozen=True)
class RestoreInfo:
    home: PkiHome
    files: int
    created: str  # when and where the archive was made, from its authenticated header
    host: str
    log_entries: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def seal(payload: bytes, passphrase: bytes) -> bytes:
    """An archive of ``payload`` (a tar) encrypted with ``passphrase``."""
    check_secret(passphrase, "backup passphrase", MIN_PKCS8_SECRET_LENGTH)
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {
        "version": VERSION,
        "cipher": CIPHER,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "nonce": _b64(nonce),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
    }
    head = MAGIC + audit.canonical(header) + b"\n"
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return head + AESGCM(key).encrypt(nonce, payload, head)


def _header(data: bytes, path: Path) -> tuple[dict[str, Any], bytes, bytes, bytes, bytes]:
    """(header, its bytes, salt, nonce, ciphertext) of an archive; BackupError if malformed."""
    damaged = BackupError(f"restore: {path} is not a pki backup, or its header is damaged.")
    if not data.startswith(MAGIC):
        raise damaged
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    if end < 0:
        raise damaged
    try:
        header = json.loads(data[len(MAGIC) : end])
        kdf = header["kdf"]
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(header["nonce"], validate=True)
        ok = (
            header["version"] == VERSION
            and header["cipher"] == CIPHER
            and kdf["name"] == "scrypt"
            and all(isinstance(kdf[k], int) for k in ("n", "r", "p"))
            and _N_RANGE[0] <= kdf["n"] <= _N_RANGE[1]
            and kdf["n"] & (kdf["n"] - 1) == 0
            and 1 <= kdf["r"] <= 32
            and 1 <= kdf["p"] <= 16
            and len(salt) >= 16
            and len(nonce) == 12
            and isinstance(header["created"], str)
            and isinstance(header["host"], str)
        )
    except (ValueError, KeyError, TypeError):
        raise damaged from None
    if not ok:
        raise damaged
    return header, data[: end + 1], salt, nonce, data[end + 1 :]


def open_sealed(data: bytes, passphrase: bytes, path: Path) -> tuple[dict[str, Any], bytes]:
    """The header and the payload of an archive; BackupError when it does not authenticate."""
    header, head, salt, nonce, body = _header(data, path)
    kdf = header["kdf"]
    key = _key(passphrase, salt, kdf["n"], kdf["r"], kdf["p"])
    try:
        return header, AESGCM(key).decrypt(nonce, body, head)
    except InvalidTag:
        raise BackupError(
            f"restore: Wrong backup passphrase, or {path} is damaged or truncated; check the "
            "passphrase, then try another copy of the archive."
        ) from None


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _tar_of(h: PkiHome, index_image: bytes) -> tuple[bytes, int]:
    """A tar of the home's directories and files (modes kept), with ``index_image`` as the
    index; the number of files in it."""
    buf = io.BytesIO()
    count = 0
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for top, dirs, names in os.walk(h.root):
            dirs.sort()
            base = Path(top)
            rel_dir = base.relative_to(h.root)
            for d in dirs:
                _refuse_link(base / d)
                info = tarfile.TarInfo(str(rel_dir / d))
                info.type = tarfile.DIRTYPE
                st = (base / d).stat()
                info.mode, info.mtime = st.st_mode & 0o777, int(st.st_mtime)
                tar.addfile(info)
            for name in sorted(names):
                if (top == str(h.root) and name in _SKIPPED) or _is_temporary(name):
                    continue
                path = base / name
                _refuse_link(path)
                data = read_file(path, "backup")
                info = tarfile.TarInfo(str(rel_dir / name))
                st = path.stat()
                info.size, info.mode, info.mtime = len(data), st.st_mode & 0o777, int(st.st_mtime)
                tar.addfile(info, io.BytesIO(data))
                count += 1
        info = tarfile.TarInfo("index.sqlite3")
        info.size, info.mode = len(index_image), 0o600
        info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
        tar.addfile(info, io.BytesIO(index_image))
    return buf.getvalue(), count + 1


def _refuse_link(path: Path) -> None:
    if path.is_symlink() or not (path.is_file() or path.is_dir()):
        raise BackupError(
            f"backup: {path} is not a regular file or directory; move it out of the home, then "
            "back up again."
        )


def backup(
    home: PkiHome | Path | str, out: Path, *, passphrase: bytes, read_only: bool = False
) -> BackupInfo:
    """Write an encrypted archive of the home to ``out`` (never overwritten), logging it first
    so the archive holds its own entry; with ``read_only``, write nothing into the home (no
    lock, no log entry: the caller records the backup) and read the index without a lock."""
    h = as_home(home)
    h.require_ca()
    check_secret(passphrase, "backup passphrase", MIN_PKCS8_SECRET_LENGTH)
    target = out.expanduser().absolute()
    if target.resolve().is_relative_to(h.root.resolve()):
        raise InputError(f"out: {out} is inside the PKI home; write the backup elsewhere.")
    if target.exists():
        raise InputError(f"out: {out} exists already; choose another file.")
    if read_only:
        payload, count = _tar_of(h, _read_only_snapshot(h))
    else:
        with h.lock(), h.index() as index:
            with index.write():
                audit.record(h, index, audit.Event("backup", details={"archive": str(target)}))
            with index.write():  # holds every issuer off while the files are read
                payload, count = _tar_of(h, index.snapshot())
    data = seal(payload, passphrase)
    try:
        atomic_write(target, data, exclusive=True)
    except FileExistsError:
        raise InputError(f"out: {out} exists already; choose another file.") from None
    return BackupInfo(target, count, len(data), logged=not read_only)


def _read_only_snapshot(h: PkiHome) -> bytes:
    """The index as one SQLite image, read without writing anything into the home."""
    path = h.index_path
    if not path.is_file():
        raise BackupError(f"backup: {path} does not exist; this PKI home has no index.")
    # mode=ro reads a consistent snapshot (a read transaction) when SQLite can use the WAL's
    # shared-memory file; on a read-only mount where no pki process left one, only immutable=1
    # opens the file (no WAL then: the file alone is the database).
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{path.as_uri()}?{query}", uri=True, isolation_level=None)
        except sqlite3.Error:
            continue
        try:
            db.execute("BEGIN")
            db.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            image = db.serialize()
            db.execute("COMMIT")
            return image
        except sqlite3.Error:
            continue
        finally:
            db.close()
    raise BackupError(f"backup: Cannot read {path} read-only; check its owner and mode.")


def _members(payload: bytes, path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """Every member of the archive's tar, checked, with its bytes (None for directories)."""
    out: list[tuple[tarfile.TarInfo, bytes | None]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:") as tar:
            for member in tar:
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts or not name.parts:
                    raise BackupError(
                        f"restore: {path} holds {member.name!r}, a path outside the home; "
                        "refusing the whole archive."
                    )
                if not (member.isreg() or member.isdir()):
                    raise BackupError(
                        f"restore: {path} holds {member.name!r}, a link or device; refusing the "
                        "whole archive."
                    )
                fh = tar.extractfile(member) if member.isreg() else None
                out.append((member, fh.read() if fh is not None else None))
    except tarfile.TarError:
        raise BackupError(f"restore: {path} does not hold a tar of a PKI home.") from None
    if not any(m.name == "index.sqlite3" and data is not None for m, data in out):
        raise BackupError(f"restore: {path} holds no index.sqlite3; it is not a PKI home backup.")
    return out


def refuse_target(target: Path) -> None:
    """BackupError unless ``target`` is missing or an empty directory."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"restore: {target} is not empty; restore into a new or empty directory.")


def restore(archive: Path, target: Path | str, *, passphrase: bytes) -> RestoreInfo:
    """Restore ``archive`` into ``target`` (missing or empty); nothing is written unless the
    archive authenticates, every member is acceptable and its log verifies."""
    dest = Path(target).expanduser().absolute()
    refuse_target(dest)
    header, payload = open_sealed(read_file(archive, "archive"), passphrase, archive)
    members = _members(payload, archive)
    make_dir(dest.parent)
    tmp = dest.parent / f".{dest.name}.restore-{os.urandom(6).hex()}"
    tmp.mkdir(mode=DIR_MODE)
    try:
        dir_modes: list[tuple[Path, int]] = []
        for member, data in members:
            path = tmp / member.name
            if data is None:
                make_dir(path)
                dir_modes.append((path, member.mode & 0o777))
            else:
                atomic_write(path, data, mode=member.mode & 0o777)
                os.chmod(path, member.mode & 0o777)  # as archived, whatever the umask
        home = PkiHome(tmp)
        try:
            audit.verify(home)
        except LogError as exc:
            raise BackupError(f"restore: The log in {archive} does not verify ({exc}).") from None
        with home.index() as index, index.write():
            details = {
                "archive": str(archive),
                "created": header["created"],
                "host": header["host"],
            }
            audit.record(home, index, audit.Event("restore", details=details))
        count = audit.verify(home).count
        for path, mode in reversed(dir_modes):  # deepest first, after the files are in
            os.chmod(path, mode)
        refuse_target(dest)  # it may have filled up while we wrote
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(dest.parent)
    files = sum(1 for _, data in members if data is not None)
    return RestoreInfo(PkiHome(dest), files, header["created"], header["host"], count)
