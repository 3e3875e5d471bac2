"""A backup directory made and restored: the database (supply.backup.sqlite or .postgres), the
PKI home (pki.backup, encrypted), and the manifest that vouches for both (supply.backup.manifest).

A backup is written into a temporary directory beside its target and renamed into place once
complete, so a directory of that name is always a whole backup; an existing one is never
replaced. A restore checks everything before it writes anything: the manifest, every file's size
and SHA-256, the engine, that this code knows every migration the backup has applied, that the
database file or dump reads, and that the targets are empty. It then restores the PKI home
(pki.backup.restore writes a temporary directory and renames it) and the database (one
transaction); if the database fails, the restored home is removed again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pki.backup import backup as pki_backup
from pki.backup import restore as pki_restore
from pki.errors import PkiError
from pki.files import atomic_write, fsync_dir
from supply.backup import postgres, sqlite
from supply.backup.contents import State, missing_migrations, unknown_migrations
from supply.backup.database import Database
from supply.backup.errors import BackupError
from supply.backup.manifest import (
    DATABASE_FILES,
    NAME,
    PKI_FILE,
    FileEntry,
    Manifest,
    PkiPart,
    check_files,
    read,
)

_ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class PkiSource:
    """The PKI home to back up; ``read_only`` when this process may not write it (then its
    audit log cannot record the backup, and the manifest says so)."""

    home: Path
    passphrase: bytes
    read_only: bool = False


@dataclass(frozen=True)
class Made:
    path: Path
    manifest: Manifest
    size: int


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    pki_home: Path | None  # where the PKI home was restored, if it was
    pending_migrations: int  # this code's migrations the backup had not applied


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exists(out: Path) -> BackupError:
    return BackupError(f"out: {out} exists already; choose another directory.")


def _dump(database: Database, out: Path) -> State:
    if database.engine == "sqlite":
        return sqlite.dump(database.path, out)
    return postgres.dump(database, out)


def make_backup(out: Path, database: Database, pki: PkiSource | None) -> Made:
    """Write a new backup directory ``out`` of the database and, when given, the PKI home."""
    target = out.expanduser().absolute()
    if target.exists() or target.is_symlink():
        raise _exists(out)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.parent / f".{target.name}.tmp-{os.urandom(6).hex()}"
    tmp.mkdir(mode=0o700)
    try:
        state = _dump(database, tmp / DATABASE_FILES[database.engine])
        part = None
        if pki is not None:
            try:
                info = pki_backup(
                    pki.home, tmp / PKI_FILE, passphrase=pki.passphrase, read_only=pki.read_only
                )
            except PkiError as exc:
                raise BackupError(str(exc)) from None
            part = PkiPart(str(pki.home), info.files, info.logged)
        files = {}
        for path in sorted(tmp.iterdir()):
            os.chmod(path, 0o600)  # SQLite and pg_dump create files by the umask
            _fsync(path)
            files[path.name] = FileEntry.of(path)
        manifest = Manifest(database.engine, state.migrations, state.counts, files, part)
        atomic_write(tmp / NAME, manifest.to_json())
        try:
            os.rename(tmp, target)  # fails on a directory that is not empty: never replaced
        except OSError:
            raise _exists(out) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(target.parent)
    size = sum(entry.size for entry in manifest.files.values()) + (target / NAME).stat().st_size
    return Made(target, manifest, size)


def check_backup(directory: Path, database: Database) -> Manifest:
    """The manifest of a backup that ``database`` can take; BackupError otherwise."""
    manifest = read(directory)
    check_files(directory, manifest)
    if manifest.engine != database.engine:
        theirs, ours = _ENGINE_NAMES[manifest.engine], _ENGINE_NAMES[database.engine]
        raise BackupError(
            f"restore: {directory} is a backup of a {theirs} database, and this stack's is "
            f"{ours}; restore it onto a {theirs} stack (supply does not restore across engines)."
        )
    unknown = unknown_migrations(manifest.migrations)
    if unknown:
        raise BackupError(
            f"restore: {directory} has applied {unknown[0]}, a migration this version of supply "
            "does not have; restore it with the version that made it, or a newer one."
        )
    dump = directory / manifest.database_file
    if manifest.engine == "sqlite":
        state = sqlite.verify(dump)
        if (state.migrations, state.counts) != (manifest.migrations, manifest.counts):
            raise BackupError(
                f"restore: {dump} does not hold what its manifest says; the backup is damaged: "
                "try another copy."
            )
    else:
        postgres.verify(dump)
    return manifest


def _refuse_targets(database: Database, pki_home: Path | None) -> None:
    if database.engine == "sqlite":
        sqlite.refuse_target(database.path)
    else:
        postgres.refuse_target(database)
    if (
        pki_home is not None
        and pki_home.exists()
        and (not pki_home.is_dir() or any(pki_home.iterdir()))
    ):
        raise BackupError(
            f"restore: The PKI home {pki_home} is not empty; give --pki-home NEW_DIR, or "
            "--no-pki to restore the database alone."
        )


def restore_backup(
    directory: Path,
    database: Database,
    *,
    pki_home: Path | None,
    passphrase: Callable[[], bytes],
) -> Restored:
    """Restore a backup onto an empty database and, unless ``pki_home`` is None, its PKI home
    into that new or empty directory; ``passphrase`` is asked only when there is a home."""
    manifest = check_backup(directory.absolute(), database)
    home = pki_home.expanduser().absolute() if pki_home and manifest.pki else None
    _refuse_targets(database, home)
    state = State(manifest.migrations, manifest.counts)
    if home is not None:
        existed = home.exists()
        try:
            pki_restore(directory / PKI_FILE, home, passphrase=passphrase())
        except PkiError as exc:
            raise BackupError(str(exc)) from None
    try:
        if database.engine == "sqlite":
            sqlite.restore(directory / manifest.database_file, database.path)
        else:
            postgres.restore(directory / manifest.database_file, database, state)
    except BaseException:
        if home is not None:  # it was missing or empty: leave it so again
            shutil.rmtree(home, ignore_errors=True)
            if existed:
                home.mkdir(mode=0o700)
        raise
    return Restored(manifest, home, missing_migrations(manifest.migrations))
