"""The `supply` console script: database problems are one line on stderr, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SUPPLY = str(Path(sys.executable).with_name("supply"))


def run(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPLY_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}
    return subprocess.run(
        [SUPPLY, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_unmigrated_database_is_one_line(tmp_path):
    done = run(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}", "check-ledger")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "supply: database not migrated (no such table: inventory_ledgerentry); "
        "run: supply migrate\n"
    )


def test_unreachable_database_is_one_line(tmp_path):
    done = run(tmp_path, "postgres://postgres@127.0.0.1:1/nowhere", "check-ledger")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("supply: database error: connection failed: "), done.stderr
    assert "Connection refused" in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
