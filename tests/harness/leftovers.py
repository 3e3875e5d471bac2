"""A pytest plugin: a test run that leaves a process running fails, whichever test started it
and however the run ended (a failed assertion before a stop, an interrupt).

The pytest controller becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a process started
under it whose parent dies (an nginx worker whose master was SIGKILLed, a daemonised helper) is
re-parented to the controller instead of to init. When the run ends, every child of the controller
that is not an xdist worker is therefore something a test started and did not stop. Linux only,
which is where the suite runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Leftover:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command}"


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _children() -> set[int]:
    pid = os.getpid()
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:  # the thread ended while we looked
            continue
    return found


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, ...), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "(gone)"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or "(no command line)"


def _reap(pid: int) -> None:
    # ChildProcessError: someone else (subprocess, execnet) waited for it already.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def running_children(grace: float = 5.0) -> list[Leftover]:
    """Children still running after `grace` seconds (time for a stopping process to finish).
    Zombies are reaped on the way: they were orphans that ended, which is fine."""
    deadline = time.monotonic() + grace
    while True:
        alive = []
        for pid in sorted(_children()):
            state = _state(pid)
            if state == "Z":
                _reap(pid)
            elif state is not None:
                alive.append(pid)
        if not alive or time.monotonic() >= deadline:
            return [Leftover(pid, _command(pid)) for pid in alive]
        time.sleep(0.1)


def kill(leftovers: list[Leftover]) -> None:
    """Leave the machine as it was: a failed run must not also hold ports for the next one."""
    for leftover in leftovers:
        try:
            os.kill(leftover.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        with contextlib.suppress(ChildProcessError):
            os.waitpid(leftover.pid, 0)


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # an xdist worker has it


def pytest_configure(config: pytest.Config) -> None:
    if _is_controller(config):
        become_subreaper()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    # Outermost wrapper: this runs after everything else, when xdist has stopped its workers.
    yield
    if not _is_controller(session.config):
        return
    left = running_children()
    if not left:
        return
    kill(left)
    lines = [f"the test run left {len(left)} process(es) running (now killed):"]
    lines += [f"  {leftover}" for leftover in left]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True, bold=True)
        else:
            print(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
