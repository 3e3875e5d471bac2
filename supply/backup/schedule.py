"""Backups on a schedule (the compose ``backup`` service) and the status its health check reads.

``run`` makes a backup at once and then every interval into ``DIR/<UTC time>`` (``20261204T
181107Z``: sorted by name is sorted by time), and after each success records it in
``DIR/status.json`` and removes all but the newest ``keep`` backups (a backup is renamed to a
hidden name before it is deleted, so no half-deleted one is ever left under a backup's name).
A failure is one log line and a retry at the next interval. SIGTERM or SIGINT ends the loop at
once: while waiting, or by abandoning a backup in progress (its temporary directory is removed,
pg_dump is killed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pki.files import atomic_write
from supply.backup.errors import BackupError
from supply.backup.manifest import NAME as MANIFEST
from supply.errors import SupplyError

STATUS = "status.json"
_NAME = re.compile(r"^\d{8}T\d{6}Z$")
log = logging.getLogger("supply.backup")


def backup_name(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def backups(directory: Path) -> list[Path]:
    """The complete backups in ``directory``, oldest first."""
    found = [p for p in directory.iterdir() if _NAME.match(p.name) and (p / MANIFEST).is_file()]
    return sorted(found, key=lambda p: p.name)


def prune(directory: Path, keep: int) -> list[str]:
    """Remove all but the newest ``keep`` backups; the names removed."""
    removed = []
    for old in backups(directory)[:-keep]:
        doomed = old.with_name(f".{old.name}.removing")
        os.rename(old, doomed)
        shutil.rmtree(doomed)
        removed.append(old.name)
    return removed


@dataclass(frozen=True)
class Status:
    time: dt.datetime
    name: str


def write_status(directory: Path, name: str, now: dt.datetime) -> None:
    data = {"last_success": {"time": now.isoformat(timespec="seconds"), "name": name}}
    atomic_write(directory / STATUS, json.dumps(data, sort_keys=True).encode() + b"\n", mode=0o644)


def read_status(directory: Path) -> Status | None:
    """The last success recorded in ``directory``; None when none is."""
    try:
        data = json.loads((directory / STATUS).read_bytes())
        last = data["last_success"]
        when = dt.datetime.fromisoformat(last["time"])
        return Status(when if when.tzinfo else when.replace(tzinfo=dt.UTC), str(last["name"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise BackupError(
            f"backup-status: {directory / STATUS} is damaged; the next successful backup "
            "rewrites it."
        ) from None


def check_status(directory: Path, max_age: float, now: dt.datetime) -> str:
    """One line about the last success; BackupError when there is none, or it is too old."""
    status = read_status(directory)
    if status is None:
        raise BackupError(f"backup-status: No backup has succeeded in {directory} yet.")
    age = (now - status.time).total_seconds()
    if age > max_age:
        raise BackupError(
            f"backup-status: The last backup, {status.name}, is {age:.0f} s old (more than "
            f"{max_age:.0f}); see the backup service's log."
        )
    if not (directory / status.name / MANIFEST).is_file():
        raise BackupError(
            f"backup-status: The last backup, {directory / status.name}, is gone; see the "
            "backup service's log."
        )
    return f"backup-status: The last backup, {status.name}, is {age:.0f} s old."


class _Stopped(BaseException):
    """Raised by the signal handler to abandon a backup in progress."""


class _Stopper:
    """SIGTERM and SIGINT set ``event``; inside ``interruptible()`` they also raise _Stopped."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._interruptible = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()
        if self._interruptible:
            self._interruptible = False
            raise _Stopped

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False


def _one(directory: Path, keep: int, make: Callable[[Path], str], stopper: _Stopper) -> None:
    now = dt.datetime.now(dt.UTC)
    name = backup_name(now)
    try:
        with stopper.interruptible():
            made = make(directory / name)
        write_status(directory, name, now)
        removed = prune(directory, keep)
    except SupplyError as exc:
        log.error("backup-schedule: %s failed: %s Next try in one interval.", name, exc.message)
        return
    except Exception as exc:  # one line and a retry, whatever it is: the loop must not die
        log.error("backup-schedule: %s failed: %s: %s", name, type(exc).__name__, exc)
        return
    log.info(
        "backup-schedule: wrote %s%s.", made, f"; removed {', '.join(removed)}" if removed else ""
    )


def run(directory: Path, every: float, keep: int, make: Callable[[Path], str]) -> None:
    """Back up into ``directory`` now and every ``every`` seconds, keeping ``keep``; returns on
    SIGTERM or SIGINT."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stopper = _Stopper()
    with stopper.installed():
        log.info("backup-schedule: every %g s into %s, keeping %d.", every, directory, keep)
        try:
            while not stopper.event.is_set():
                started = time.monotonic()
                _one(directory, keep, make, stopper)
                stopper.event.wait(max(0.0, every - (time.monotonic() - started)))
        except _Stopped:
            pass
    log.info("backup-schedule: stopped.")
