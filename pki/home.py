"""The PKI home on disk: its layout, atomic writes, a process lock and the SQLite index.

Layout (docs/CONTRACTS.md): ``ca/cert.pem``, ``ca/key.pem`` (encrypted), ``ca/crl.pem``,
``index.sqlite3``, ``issued/<SERIAL>.pem``, ``servers/<NAME>/``, ``users/``, ``proxy-secret``.
Directories are 0700 and every file is written 0600 (certificates too: the home is private; copies
that must be world-readable are made by whoever deploys them).

Consistency rules:
- every file is written to a temporary file in the same directory, fsynced, then renamed over the
  target (and the directory fsynced), so a reader sees the old or the new file, never half of one;
- the index is SQLite in WAL mode with ``synchronous=FULL``: a commit is one fsync of the log, and
  a process killed mid-write leaves an uncommitted tail that the next opener ignores;
- writers take SQLite's write lock (``BEGIN IMMEDIATE``) for the short step that checks a serial is
  free, writes the certificate file and inserts its row, so concurrent processes never reuse a
  serial; operations that must not interleave at all (creating the CA, numbering and writing a CRL)
  also hold an exclusive ``flock`` on ``.lock``.

This module imports no cryptography: the supply service and the CLI import it cheaply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pki.errors import NoCAError, PkiError

DIR_MODE = 0o700
FILE_MODE = 0o600
_LOCK_TIMEOUT_S = 60.0


def default_home() -> Path:
    """$PKI_HOME, else $XDG_DATA_HOME/tactical-edge/pki, else ~/.local/share/tactical-edge/pki."""
    env = os.environ.get("PKI_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(xdg).expanduser() / "tactical-edge" / "pki"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700, missing parents too (existing directories are left as
    they are: ``--home`` may point into a directory that is not ours to change)."""
    if not path.parent.exists():
        make_dir(path.parent)
    path.mkdir(exist_ok=True, mode=DIR_MODE)
    return path


def atomic_write(
    path: Path, data: bytes, *, mode: int = FILE_MODE, exclusive: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename, fsync the directory).

    With ``exclusive`` the final step is a hard link that fails if ``path`` exists, so two
    processes can never both believe they created it.
    """
    make_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            finally:
                tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


@dataclass(frozen=True)
class IndexRow:
    """One issued certificate as the index knows it (``pki list`` reads only these)."""

    serial: str  # upper-case hex, as pki.certinfo.serial_hex
    kind: str  # "ca" | "server" | "user"
    name: str  # server NAME or the user's full name (the CN)
    subject_dn: str
    issuer_dn: str
    sha256: str
    not_before: dt.datetime
    not_after: dt.datetime
    sans: tuple[str, ...]
    key_type: str
    issued_at: dt.datetime
    status: str = "valid"  # "valid" | "revoked"
    revoked_at: dt.datetime | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "kind": self.kind,
            "name": self.name,
            "subject": self.subject_dn,
            "issuer": self.issuer_dn,
            "sha256": self.sha256,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "sans": list(self.sans),
            "key_type": self.key_type,
            "issued_at": self.issued_at.isoformat(),
            "status": self.status,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "reason": self.reason,
        }


_SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
    serial      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('ca', 'server', 'user')),
    name        TEXT NOT NULL,
    subject_dn  TEXT NOT NULL,
    issuer_dn   TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    not_before  TEXT NOT NULL,
    not_after   TEXT NOT NULL,
    sans        TEXT NOT NULL,
    key_type    TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at  TEXT,
    reason      TEXT,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS certificates_name ON certificates (name);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_SCHEMA_VERSION = 1
_COLUMNS = (
    "serial, kind, name, subject_dn, issuer_dn, sha256, not_before, not_after, sans, key_type, "
    "issued_at, status, revoked_at, reason"
)


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _row(r: tuple[str, ...]) -> IndexRow:
    return IndexRow(
        serial=r[0],
        kind=r[1],
        name=r[2],
        subject_dn=r[3],
        issuer_dn=r[4],
        sha256=r[5],
        not_before=dt.datetime.fromisoformat(r[6]),
        not_after=dt.datetime.fromisoformat(r[7]),
        sans=tuple(json.loads(r[8])),
        key_type=r[9],
        issued_at=dt.datetime.fromisoformat(r[10]),
        status=r[11],
        revoked_at=_ts(r[12]),
        reason=r[13],
    )


class Index:
    """The SQLite index of issued certificates. Use as a context manager (closes the connection)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            # Create it 0600 ourselves: SQLite would honour the umask, and it gives its journal
            # files the database's permissions.
            make_dir(path.parent)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        self._path = path
        self._db = sqlite3.connect(path, timeout=_LOCK_TIMEOUT_S, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise PkiError(f"index: {path} is not a usable SQLite database ({exc}).") from None
        self._db.execute("PRAGMA synchronous=FULL")
        if self._version() < _SCHEMA_VERSION:
            with self.write():
                if self._version() < _SCHEMA_VERSION:  # another process may have won the race
                    # One statement at a time: executescript() would commit the transaction.
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Index]:
        """A write transaction holding SQLite's write lock from its first statement."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked" once the timeout has passed
            raise PkiError(
                f"index: Another pki process kept {self._path} locked for "
                f"{_LOCK_TIMEOUT_S:.0f} s; try again when it has finished."
            ) from None
        try:
            yield self
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def has_serial(self, serial: str) -> bool:
        cur = self._db.execute("SELECT 1 FROM certificates WHERE serial = ?", (serial,))
        return cur.fetchone() is not None

    def insert(self, row: IndexRow) -> None:
        self._db.execute(
            f"INSERT INTO certificates ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",  # noqa: S608
            (
                row.serial,
                row.kind,
                row.name,
                row.subject_dn,
                row.issuer_dn,
                row.sha256,
                row.not_before.isoformat(),
                row.not_after.isoformat(),
                json.dumps(list(row.sans)),
                row.key_type,
                row.issued_at.isoformat(),
                row.status,
                row.revoked_at.isoformat() if row.revoked_at else None,
                row.reason,
            ),
        )

    def rows(self, where: str = "", params: tuple[object, ...] = ()) -> list[IndexRow]:
        sql = f"SELECT {_COLUMNS} FROM certificates {where} ORDER BY issued_at, serial"  # noqa: S608
        return [_row(r) for r in self._db.execute(sql, params)]

    def mark_revoked(self, serial: str, at: dt.datetime, reason: str) -> None:
        self._db.execute(
            "UPDATE certificates SET status = 'revoked', revoked_at = ?, reason = ? "
            "WHERE serial = ? AND status = 'valid'",
            (at.isoformat(), reason, serial),
        )

    def next_counter(self, key: str) -> int:
        """Increment and return a counter kept in the meta table (inside a write transaction)."""
        cur = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,))
        found = cur.fetchone()
        value = int(found[0]) + 1 if found else 1
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value))
        )
        return value


@dataclass(frozen=True)
class PkiHome:
    """The paths of one PKI home. Cheap to build; nothing touches the disk until asked."""

    root: Path

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "cert.pem"

    @property
    def ca_key(self) -> Path:
        return self.ca_dir / "key.pem"

    @property
    def crl(self) -> Path:
        return self.ca_dir / "crl.pem"

    @property
    def index_path(self) -> Path:
        return self.root / "index.sqlite3"

    @property
    def issued_dir(self) -> Path:
        return self.root / "issued"

    @property
    def users_dir(self) -> Path:
        return self.root / "users"

    @property
    def proxy_secret(self) -> Path:
        return self.root / "proxy-secret"

    def issued_cert(self, serial: str) -> Path:
        return self.issued_dir / f"{serial}.pem"

    def server_dir(self, name: str) -> Path:
        return self.root / "servers" / name

    def user_p12(self, serial: str) -> Path:
        return self.users_dir / f"{serial}.p12"

    def has_ca(self) -> bool:
        return self.ca_cert.exists()

    def require_ca(self) -> None:
        if not self.ca_cert.exists():
            raise NoCAError(f"CA: No CA in {self.root}; create one with `pki init-ca`.")

    def prepare(self) -> None:
        """Create the directory tree (0700)."""
        for d in (self.root, self.ca_dir, self.issued_dir, self.users_dir):
            make_dir(d)

    def index(self) -> Index:
        self.prepare()
        return Index(self.index_path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock over the whole home (CA creation, CRL numbering and writing)."""
        self.prepare()
        path = self.root / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            _flock_within(fd, path, _LOCK_TIMEOUT_S)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _flock_within(fd: int, path: Path, seconds: float) -> None:
    """An exclusive flock on ``fd``, waiting at most ``seconds`` (a stopped process holding it
    must not hang every other command)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise PkiError(
                    f"lock: Another pki process kept {path} locked for {seconds:.0f} s; "
                    "try again when it has finished."
                ) from None
            time.sleep(0.05)


def as_home(home: PkiHome | Path | str) -> PkiHome:
    """Accept a PkiHome or a path, so library callers can pass either."""
    if isinstance(home, PkiHome):
        return home
    return PkiHome(Path(home).expanduser())


def read_file(path: Path, what: str) -> bytes:
    """Read a file of the home, turning OS errors into one-line PkiErrors."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError(f"{what}: {path} does not exist.") from None
    except OSError as exc:
        raise PkiError(f"{what}: Cannot read {path} ({exc.strerror}).") from None
