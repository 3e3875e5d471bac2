"""Files of the PKI home: private directories, the one atomic writer, a bounded flock.

Every file pki writes (and the supply service's own small state files) goes through
``atomic_write``: a temporary file in the same directory, fsynced, renamed over the target, then
the directory fsynced, so a reader sees the old or the new file, never half of one, and a crash
after the call returns cannot lose the rename.

This module imports no cryptography: the supply service and the CLI import it cheaply.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from pki.errors import PkiError

DIR_MODE = 0o700
FILE_MODE = 0o600
# How long a pki process waits for another one's lock (SQLite's write lock, the home's flock):
# a stopped process holding it must not hang every other command.
LOCK_TIMEOUT_S = 60.0


def make_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700, missing parents too (existing directories are left as
    they are: ``--home`` may point into a directory that is not ours to change)."""
    if not path.parent.exists():
        make_dir(path.parent)
    path.mkdir(exist_ok=True, mode=DIR_MODE)
    return path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, *, mode: int = FILE_MODE, exclusive: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename, fsync the directory).

    Missing parent directories are created 0700; existing ones keep their mode. With
    ``exclusive`` the final step is a hard link that fails (FileExistsError) if ``path`` exists,
    so two processes can never both believe they created it.
    """
    make_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:  # name the file the caller asked for, not our temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
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
    fsync_dir(path.parent)
    return path


def read_file(path: Path, what: str) -> bytes:
    """Read a file of the home, turning OS errors into one-line PkiErrors."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError(f"{what}: {path} does not exist.") from None
    except OSError as exc:
        raise PkiError(f"{what}: Cannot read {path} ({exc.strerror}).") from None


def flock_within(fd: int, path: Path) -> None:
    """An exclusive flock on ``fd``, waiting at most ``LOCK_TIMEOUT_S``."""
    seconds = LOCK_TIMEOUT_S
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
