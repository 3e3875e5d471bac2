"""The manifest of a backup directory: what it is (product, format), where and when it was made,
the engine, the database's migration state and counts, the PKI part, and the SHA-256 and size of
every other file. Restore trusts nothing in the directory that the manifest does not vouch for.

    manifest.json        {"format": 1, "product": "tactical-edge-supply", "created": …,
                          "host": …, "engine": "sqlite" | "postgresql", "migrations": {app:
                          [names]}, "counts": {…}, "pki": null | {…}, "files": {name:
                          {"sha256": …, "size": …}}}
    database.sqlite3     SQLite's online backup of the database (engine sqlite), or
    database.pgdump      pg_dump's custom format (engine postgresql)
    pki.backup           `pki backup`'s encrypted archive of the PKI home (when there is one)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from supply.backup.errors import BackupError

NAME = "manifest.json"
PRODUCT = "tactical-edge-supply"
FORMAT = 1
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
PKI_FILE = "pki.backup"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int

    @classmethod
    def of(cls, path: Path) -> FileEntry:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return cls(digest.hexdigest(), size)


@dataclass(frozen=True)
class PkiPart:
    """The PKI home in a backup: where it was, how many files, and whether its own audit log
    records this backup (False when the home was read-only to the backup)."""

    home: str
    files: int
    logged: bool


@dataclass(frozen=True)
class Manifest:
    engine: str
    migrations: dict[str, list[str]]
    counts: dict[str, int]
    files: dict[str, FileEntry]
    pki: PkiPart | None = None
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    host: str = field(default_factory=socket.gethostname)
    product: str = PRODUCT
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.engine]


def _foreign(directory: Path) -> BackupError:
    return BackupError(
        f"restore: {directory} holds no readable {NAME}; it is not a supply backup, or its "
        "manifest is damaged: try another copy."
    )


def read(directory: Path) -> Manifest:
    """The manifest of a backup directory; BackupError if there is none, or another product's,
    or another format's, or one this version cannot read."""
    if not directory.is_dir():
        raise BackupError(f"restore: {directory} is not a directory; give a backup directory.")
    try:
        data = json.loads((directory / NAME).read_bytes())
    except (OSError, ValueError):
        raise _foreign(directory) from None
    if not isinstance(data, dict):
        raise _foreign(directory)
    if (data.get("product"), data.get("format")) != (PRODUCT, FORMAT):
        raise BackupError(
            f"restore: {directory} is a backup of {data.get('product')!r} format "
            f"{data.get('format')!r}, not of {PRODUCT} format {FORMAT}; restore it with the tool "
            "that made it."
        )
    try:
        pki = data["pki"]
        manifest = Manifest(
            engine=data["engine"],
            migrations={str(k): [str(n) for n in v] for k, v in data["migrations"].items()},
            counts={str(k): int(v) for k, v in data["counts"].items()},
            files={
                str(k): FileEntry(str(v["sha256"]), int(v["size"]))
                for k, v in data["files"].items()
            },
            pki=None
            if pki is None
            else PkiPart(str(pki["home"]), int(pki["files"]), bool(pki["logged"])),
            created=str(data["created"]),
            host=str(data["host"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _foreign(directory) from None
    if manifest.engine not in DATABASE_FILES or manifest.database_file not in manifest.files:
        raise _foreign(directory)
    return manifest


def check_files(directory: Path, manifest: Manifest) -> None:
    """BackupError unless the directory holds exactly the manifest's files, each of its size
    and SHA-256."""
    present = {p.name for p in directory.iterdir()} - {NAME}
    for name in sorted(manifest.files):
        if name not in present:
            raise BackupError(
                f"restore: {directory / name} is missing; the backup is incomplete: try another "
                "copy."
            )
    extra = sorted(present - manifest.files.keys())
    if extra:
        raise BackupError(
            f"restore: {directory / extra[0]} is not in the manifest; the backup was changed "
            "after it was made: try another copy."
        )
    for name, expected in sorted(manifest.files.items()):
        found = FileEntry.of(directory / name)
        if found != expected:
            what = "size" if found.size != expected.size else "SHA-256"
            raise BackupError(
                f"restore: {directory / name} does not match its manifest ({what} differs); the "
                "backup is damaged: try another copy."
            )
