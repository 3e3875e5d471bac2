"""Every refused restore is one line in supply's `what: Sentence.` form, exit status 1, and
changes nothing: a damaged, incomplete, foreign or too-new backup, another engine's backup, a
target that holds data; and `supply backup` never writes over an existing directory."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.supply.backup.conftest import Databases, Stack

DUMP = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _manifest(out: Path, change: Callable[[dict[str, object]], None]) -> None:
    data = json.loads((out / "manifest.json").read_text())
    change(data)
    (out / "manifest.json").write_text(json.dumps(data))


def _future(data: dict[str, object]) -> None:
    migrations = data["migrations"]
    assert isinstance(migrations, dict)
    migrations["inventory"].append("9999_from_the_future")


def _other_product(data: dict[str, object]) -> None:
    data["product"] = "another-product"


# (what is done to the backup, then the one line restore prints; {out} and {dump} filled in)
DAMAGE: dict[str, tuple[Callable[[Path, str], object], str]] = {
    "a flipped byte": (
        lambda out, dump: _flip(out / dump),
        "restore: {out}/{dump} does not match its manifest (SHA-256 differs); the backup is "
        "damaged: try another copy.",
    ),
    "a truncated dump": (
        lambda out, dump: _truncate(out / dump),
        "restore: {out}/{dump} does not match its manifest (size differs); the backup is "
        "damaged: try another copy.",
    ),
    "a missing dump": (
        lambda out, dump: (out / dump).unlink(),
        "restore: {out}/{dump} is missing; the backup is incomplete: try another copy.",
    ),
    "a file added": (
        lambda out, dump: (out / "notes.txt").write_text("hello"),
        "restore: {out}/notes.txt is not in the manifest; the backup was changed after it was "
        "made: try another copy.",
    ),
    "no manifest": (
        lambda out, dump: (out / "manifest.json").unlink(),
        "restore: {out} holds no readable manifest.json; it is not a supply backup, or its "
        "manifest is damaged: try another copy.",
    ),
    "a damaged manifest": (
        lambda out, dump: _truncate(out / "manifest.json"),
        "restore: {out} holds no readable manifest.json; it is not a supply backup, or its "
        "manifest is damaged: try another copy.",
    ),
    "another product": (
        lambda out, dump: _manifest(out, _other_product),
        "restore: {out} is a backup of 'another-product' format 1, not of tactical-edge-supply "
        "format 1; restore it with the tool that made it.",
    ),
    "a newer version's migration": (
        lambda out, dump: _manifest(out, _future),
        "restore: {out} has applied inventory.9999_from_the_future, a migration this version of "
        "supply does not have; restore it with the version that made it, or a newer one.",
    ),
}


@pytest.fixture
def backup(databases: Databases, tmp_path: Path) -> Path:
    return databases.backup(tmp_path / "backup")


def refused(target: Stack, out: Path, line: str) -> None:
    """`supply restore out` onto target prints ``line`` alone, exits 1, and changes nothing."""
    before = target.fingerprint()
    files = target.path.read_bytes() if target.engine == "sqlite" else b""
    done = target.supply("restore", out)
    assert (done.returncode, done.stderr, done.stdout) == (1, line + "\n", "")
    assert target.fingerprint() == before
    if target.engine == "sqlite":
        assert target.path.read_bytes() == files


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_or_foreign_backup_is_refused(
    databases: Databases, backup: Path, damage: str
) -> None:
    change, line = DAMAGE[damage]
    dump = DUMP[databases.engine]
    change(backup, dump)
    refused(databases.migrated(), backup, line.format(out=backup, dump=dump))


def test_a_dump_damaged_with_its_checksum_redone_is_refused(
    databases: Databases, backup: Path
) -> None:
    """A dump that matches its manifest but does not read (the checksum was made after the
    damage): the engine's own reader refuses it."""
    import hashlib

    dump = DUMP[databases.engine]
    _truncate(backup / dump)
    data = (backup / dump).read_bytes()

    def rehash(manifest: dict[str, object]) -> None:
        files = manifest["files"]
        assert isinstance(files, dict)
        files[dump] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    _manifest(backup, rehash)
    target = databases.migrated()
    before = target.fingerprint()
    done = target.supply("restore", backup)
    why = {
        "sqlite": "is not a usable SQLite database (database disk image is malformed)",
        "postgresql": "is not a readable pg_dump archive (could not read from input file: end of "
        "file)",
    }[databases.engine]
    assert (done.returncode, done.stderr, done.stdout) == (
        1,
        f"restore: {backup}/{dump} {why}; try another copy.\n",
        "",
    )
    assert target.fingerprint() == before


def test_a_target_that_holds_data_is_refused(databases: Databases, backup: Path) -> None:
    target = databases.source()
    where = target.path if databases.engine == "sqlite" else target.url.rsplit("/", 1)[1]
    refused(
        target,
        backup,
        f"restore: The target database {where} already holds data (auth_user, auth_user_groups, "
        "catalog_allowance, …); restore onto an empty stack: a new database, migrated or not.",
    )


@pytest.mark.postgres
def test_a_backup_of_another_engine_is_refused(
    sqlite_databases: Databases, postgres_databases: Databases, tmp_path: Path
) -> None:
    out = sqlite_databases.backup(tmp_path / "backup")
    refused(
        postgres_databases.migrated(),
        out,
        f"restore: {out} is a backup of a SQLite database, and this stack's is PostgreSQL; "
        "restore it onto a SQLite stack (supply does not restore across engines).",
    )


def test_backup_never_writes_over_an_existing_directory(
    sqlite_databases: Databases, tmp_path: Path
) -> None:
    source = sqlite_databases.source()
    for existing in (tmp_path / "empty", tmp_path / "full"):
        existing.mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    for existing in (tmp_path / "empty", tmp_path / "full"):
        done = source.supply("backup", "--out", existing)
        assert (done.returncode, done.stderr) == (
            1,
            f"out: {existing} exists already; choose another directory.\n",
        )
    assert [p.name for p in (tmp_path / "empty").iterdir()] == []
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "full"]  # no temporary left


def test_a_failed_backup_leaves_nothing(sqlite_databases: Databases, tmp_path: Path) -> None:
    """The database is missing: one line, and neither the directory nor a temporary exists."""
    source = sqlite_databases.empty()
    out = tmp_path / "backups" / "one"
    done = source.supply("backup", "--out", out)
    assert (done.returncode, done.stderr) == (
        1,
        f"database: {source.path} does not exist; run `supply migrate` first.\n",
    )
    assert list((tmp_path / "backups").iterdir()) == []
    shutil.rmtree(tmp_path / "backups")
