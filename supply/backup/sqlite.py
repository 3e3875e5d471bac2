"""SQLite through its online backup API (``sqlite3.Connection.backup``), both ways.

A backup is a consistent copy, page by page, of the live database as of one read transaction
(WAL readers do not block the service's writers, nor they it); the copy is switched to the
rollback journal, so it is one self-contained file. A restore copies the backup's pages into the
target through the same API, in one write transaction of the target: a reader sees the old
database or the new one, and SQLite's own WAL and locks stay consistent (no file is swapped
under a connection).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from supply.backup.contents import State, read_state, refuse_data
from supply.backup.errors import BackupError


def _tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()
    return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        yield db
    finally:
        db.close()


def dump(source: Path, out: Path) -> State:
    """Copy the database ``source`` to the new file ``out``; the copy's state."""
    if not source.is_file():
        raise BackupError(f"database: {source} does not exist; run `supply migrate` first.")
    dest = sqlite3.connect(out)
    try:
        with _read_only(source) as live:
            live.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")
        return read_state(dest.cursor(), _tables(dest))
    except sqlite3.Error as exc:
        raise BackupError(f"database: Cannot copy {source} ({exc}).") from None
    finally:
        dest.close()


def verify(file: Path) -> State:
    """The state of a backup's database file; BackupError if SQLite finds it damaged."""
    try:
        with _read_only(file) as db:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(
                    f"restore: {file} is a damaged SQLite database ({check}); try another copy."
                )
            return read_state(db.cursor(), _tables(db))
    except sqlite3.Error as exc:
        raise BackupError(
            f"restore: {file} is not a usable SQLite database ({exc}); try another copy."
        ) from None


def refuse_target(target: Path) -> None:
    """BackupError when the SQLite file ``target`` exists and holds data."""
    if not target.exists():
        return
    try:
        with _read_only(target) as db:
            refuse_data(db.cursor(), _tables(db), str(target))
    except sqlite3.Error as exc:
        raise BackupError(
            f"restore: The target {target} is not a usable SQLite database ({exc}); move it "
            "away, then restore again."
        ) from None


def restore(file: Path, target: Path) -> None:
    """Replace the (empty) database ``target`` with the backup ``file``."""
    refuse_target(target)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest = sqlite3.connect(target, timeout=20)
    try:
        with _read_only(file) as backup:
            backup.backup(dest)
    except sqlite3.Error as exc:
        raise BackupError(f"restore: Cannot write {target} ({exc}); nothing was changed.") from None
    finally:
        dest.close()
