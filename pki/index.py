"""The index of issued certificates: one SQLite table, one row type, read and written here only.

The index is SQLite in WAL mode with ``synchronous=FULL``: a commit is one fsync of the log, and a
process killed mid-write leaves an uncommitted tail that the next opener ignores. Writers take
SQLite's write lock (``BEGIN IMMEDIATE``) for the short step that checks a serial is free, writes
the certificate file and inserts its row, so concurrent processes never reuse a serial.

``IndexRow``'s fields are the table's columns, in order: the schema below, the SQL statements and
the JSON form are all derived from that one list.

This module imports no cryptography (the supply service and the CLI import it cheaply).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from pki import files
from pki.errors import PkiError

if TYPE_CHECKING:
    from pki.certinfo import CertInfo


@dataclass(frozen=True)
class IndexRow:
    """One issued certificate as the index knows it (``pki list`` reads only these)."""

    serial: str  # upper-case hex, as pki.certinfo.serial_hex
    kind: str  # "ca" | "server" | "user" | "release"
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

    @classmethod
    def of(cls, info: CertInfo, *, kind: str, name: str, key_type: str) -> IndexRow:
        """The row of a freshly issued certificate."""
        return cls(
            serial=info.serial,
            kind=kind,
            name=name,
            subject_dn=info.subject_dn,
            issuer_dn=info.issuer_dn,
            sha256=info.sha256,
            not_before=info.not_before,
            not_after=info.not_after,
            sans=info.sans,
            key_type=key_type,
            issued_at=dt.datetime.now(dt.UTC),
        )

    def to_json(self) -> dict[str, object]:
        """The row as ``pki list --json`` prints it (``subject``/``issuer`` for the DNs)."""
        return {_JSON_KEYS.get(name, name): _json_value(getattr(self, name)) for name in _COLUMNS}


_COLUMNS = tuple(f.name for f in fields(IndexRow))
_TIMES = frozenset({"not_before", "not_after", "issued_at", "revoked_at"})
_JSON_KEYS = {"subject_dn": "subject", "issuer_dn": "issuer"}
_COLUMN_LIST = ", ".join(_COLUMNS)


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _to_sql(row: IndexRow) -> tuple[object, ...]:
    out: list[object] = []
    for name in _COLUMNS:
        value = _json_value(getattr(row, name))
        out.append(json.dumps(value) if isinstance(value, list) else value)
    return tuple(out)


def _from_sql(values: tuple[str | None, ...]) -> IndexRow:
    kwargs: dict[str, object] = {}
    for name, value in zip(_COLUMNS, values, strict=True):
        if name in _TIMES:
            kwargs[name] = dt.datetime.fromisoformat(value) if value else None
        elif name == "sans":
            kwargs[name] = tuple(json.loads(value or "[]"))
        else:
            kwargs[name] = value
    return IndexRow(**kwargs)  # type: ignore[arg-type]


_CERTIFICATES_COLUMNS = """(
    serial      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('ca', 'server', 'user', 'release')),
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
)"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS certificates {_CERTIFICATES_COLUMNS};
CREATE INDEX IF NOT EXISTS certificates_name ON certificates (name);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Version 2 admits release (code-signing) certificates: SQLite cannot change a CHECK constraint,
# so a version 1 table is copied into one with the new constraint, in the same transaction.
_MIGRATIONS = {
    2: f"""
CREATE TABLE certificates_v2 {_CERTIFICATES_COLUMNS};
INSERT INTO certificates_v2 SELECT * FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_v2 RENAME TO certificates;
CREATE INDEX IF NOT EXISTS certificates_name ON certificates (name);
""",  # noqa: S608 - built from this module's constants, no input
}

_SCHEMA_VERSION = 2


class Index:
    """The SQLite index of issued certificates. Use as a context manager (closes the connection)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            # Create it 0600 ourselves: SQLite would honour the umask, and it gives its journal
            # files the database's permissions.
            files.make_dir(path.parent)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, files.FILE_MODE))
        self._path = path
        self._timeout = files.LOCK_TIMEOUT_S
        self._db = sqlite3.connect(path, timeout=self._timeout, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise PkiError(f"index: {path} is not a usable SQLite database ({exc}).") from None
        self._db.execute("PRAGMA synchronous=FULL")
        if self._version() < _SCHEMA_VERSION:
            with self.write():
                version = self._version()  # another process may have won the race
                if version < _SCHEMA_VERSION:
                    steps = [_SCHEMA] if version == 0 else []
                    steps += [
                        _MIGRATIONS[v] for v in range(max(version, 1) + 1, _SCHEMA_VERSION + 1)
                    ]
                    # One statement at a time: executescript() would commit the transaction.
                    for statement in ";".join(steps).split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Index]:
        """A write transaction holding SQLite's write lock from its first statement."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked" once the timeout has passed
            raise PkiError(
                f"index: Another pki process kept {self._path} locked for "
                f"{self._timeout:.0f} s; try again when it has finished."
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

    def get(self, serial: str) -> IndexRow | None:
        rows = self.rows("WHERE serial = ?", (serial,))
        return rows[0] if rows else None

    def insert(self, row: IndexRow) -> None:
        placeholders = ", ".join("?" * len(_COLUMNS))
        sql = f"INSERT INTO certificates ({_COLUMN_LIST}) VALUES ({placeholders})"  # noqa: S608
        self._db.execute(sql, _to_sql(row))

    def rows(self, where: str = "", params: tuple[object, ...] = ()) -> list[IndexRow]:
        sql = f"SELECT {_COLUMN_LIST} FROM certificates {where} ORDER BY issued_at, serial"  # noqa: S608
        return [_from_sql(r) for r in self._db.execute(sql, params)]

    def mark_revoked(self, serial: str, at: dt.datetime, reason: str) -> None:
        self._db.execute(
            "UPDATE certificates SET status = 'revoked', revoked_at = ?, reason = ? "
            "WHERE serial = ? AND status = 'valid'",
            (at.isoformat(), reason, serial),
        )

    def meta(self, key: str) -> str | None:
        """A value of the meta table (counters, the audit log's head), or None."""
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(found[0]) if found else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the meta table (inside a write transaction)."""
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def snapshot(self) -> bytes:
        """The whole database as one SQLite file image, as of this connection's transaction
        (``pki.backup`` takes it inside ``write()``, so no writer can change it meanwhile)."""
        return self._db.serialize()

    def next_counter(self, key: str) -> int:
        """Increment and return a counter kept in the meta table (inside a write transaction)."""
        cur = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,))
        found = cur.fetchone()
        value = int(found[0]) + 1 if found else 1
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value))
        )
        return value
