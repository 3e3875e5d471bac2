"""`supply backup-schedule` as the compose service runs it (a real process, a short interval,
SIGTERM), and `supply backup-status`, its health check."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from supply.backup.errors import BackupError
from supply.backup.schedule import backups, check_status, write_status
from tests.supply.backup.conftest import SUPPLY, Databases, Stack


def _start(stack: Stack, *args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SUPPLY, "backup-schedule", *map(str, args)],
        env=stack.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[float, str]:
    """SIGTERM; how long it took to exit, and what it logged. The bound (well below every
    interval the tests use) proves it does not wait for the next run or the backup's end; speed
    itself is not asserted (a backup in scrypt on a loaded machine takes seconds)."""
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    try:
        _, err = process.communicate(timeout=15)
    finally:
        process.kill()
    return time.monotonic() - sent, err


def _wait_for(condition: object, timeout: float = 20) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_schedule_keeps_the_newest_and_stops_on_sigterm(
    sqlite_databases: Databases, tmp_path: Path
) -> None:
    source = sqlite_databases.source()
    where = tmp_path / "backups"
    process = _start(source, "--dir", where, "--every", "1", "--keep", "2")
    seen: set[str] = set()

    def four_made() -> bool:
        if (where / "status.json").exists():
            seen.add(json.loads((where / "status.json").read_text())["last_success"]["name"])
        assert process.poll() is None
        return len(seen) >= 4

    try:
        _wait_for(four_made)
        healthy = source.supply("backup-status", "--dir", where, "--max-age", "60")
    finally:
        _, err = _stop(process)
    assert process.returncode == 0
    kept = [p.name for p in backups(where)]
    status = json.loads((where / "status.json").read_text())["last_success"]
    assert len(kept) == 2 and kept[-1] == status["name"] and kept[0] < kept[1]
    assert sorted(p.name for p in where.iterdir()) == sorted([*kept, "status.json"])
    assert (healthy.returncode, healthy.stderr) == (0, "")
    assert healthy.stdout.startswith("backup-status: The last backup, 2")
    lines = err.splitlines()
    assert lines[0] == f"backup-schedule: every 1 s into {where}, keeping 2."
    assert lines[-1] == "backup-schedule: stopped."
    wrote = [line for line in lines if line.startswith("backup-schedule: wrote ")]
    assert len(wrote) >= 4 and "; removed " in wrote[-1]
    assert all(line.startswith("backup-schedule: ") for line in lines)


def test_a_failing_backup_is_one_line_and_retried(
    sqlite_databases: Databases, tmp_path: Path
) -> None:
    broken = sqlite_databases.empty()  # no database file: every backup fails
    where = tmp_path / "backups"
    process = _start(broken, "--dir", where, "--every", "1", "--keep", "3")
    try:
        time.sleep(2.5)  # Django's start-up, then two or three attempts
        assert process.poll() is None
    finally:
        _, err = _stop(process)
    assert process.returncode == 0
    failed = [line for line in err.splitlines() if " failed: " in line]
    assert len(failed) >= 2
    for line in failed:
        name = line.split()[1]
        assert line == (
            f"backup-schedule: {name} failed: database: {broken.path} does not exist; run "
            "`supply migrate` first. Next try in one interval."
        )
    assert list(where.iterdir()) == []
    done = broken.supply("backup-status", "--dir", where, "--max-age", "60")
    assert (done.returncode, done.stderr) == (
        1,
        f"backup-status: No backup has succeeded in {where} yet.\n",
    )


def test_backup_status_says_how_old_the_last_success_is(tmp_path: Path) -> None:
    made = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
    (tmp_path / "20261204T180000Z").mkdir()
    (tmp_path / "20261204T180000Z" / "manifest.json").write_text("{}")
    write_status(tmp_path, "20261204T180000Z", made)
    assert check_status(tmp_path, 3600, made + dt.timedelta(seconds=42)) == (
        "backup-status: The last backup, 20261204T180000Z, is 42 s old."
    )
    with pytest.raises(BackupError) as caught:
        check_status(tmp_path, 3600, made + dt.timedelta(seconds=3601))
    assert caught.value.message == (
        "backup-status: The last backup, 20261204T180000Z, is 3601 s old (more than 3600); see "
        "the backup service's log."
    )
    (tmp_path / "20261204T180000Z" / "manifest.json").unlink()
    with pytest.raises(BackupError) as caught:
        check_status(tmp_path, 3600, made)
    assert caught.value.message == (
        f"backup-status: The last backup, {tmp_path}/20261204T180000Z, is gone; see the backup "
        "service's log."
    )
    (tmp_path / "status.json").write_text("{")
    with pytest.raises(BackupError) as caught:
        check_status(tmp_path, 3600, made)
    assert caught.value.message == (
        f"backup-status: {tmp_path}/status.json is damaged; the next successful backup rewrites it."
    )


def test_sigterm_abandons_a_backup_in_progress(sqlite_databases: Databases, tmp_path: Path) -> None:
    """With a PKI home each backup spends a while in scrypt: SIGTERM right after the start
    line lands in it (or just before it); either way the process exits at once (not at the
    next interval) and leaves neither a backup nor a temporary directory."""
    from pki.ca import init_ca

    source = sqlite_databases.source()
    init_ca(source.pki_home, name="Schedule CA", passphrase=b"a CA passphrase, long enough")
    where = tmp_path / "backups"
    process = subprocess.Popen(
        [SUPPLY, "backup-schedule", "--dir", str(where), "--every", "60", "--keep", "1"],
        env=source.env(PKI_BACKUP_PASSPHRASE="a backup passphrase, long enough"),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        first = process.stderr.readline()
        time.sleep(0.1)
    finally:
        _, err = _stop(process)
    assert first == f"backup-schedule: every 60 s into {where}, keeping 1.\n"
    assert process.returncode == 0
    assert err == "backup-schedule: stopped.\n"
    assert list(where.iterdir()) == []
