"""The suite's leftover-process check (tests/harness/leftovers.py), run on inner pytest runs: a
run that leaves a process behind fails and names it, and the process is gone afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# A shell that starts a sleep in the background and exits: the sleep is orphaned, as an nginx
# worker is when its master is killed alone. Its argument makes it findable.
LEAVES_ONE = """
import subprocess

def test_leaves_a_process_behind():
    subprocess.run(["sh", "-c", "sleep {marker} >/dev/null 2>&1 &"], check=True)
"""

CLEAN = """
import subprocess

def test_waits_for_what_it_starts():
    subprocess.run(["sh", "-c", "sleep 0.1"], check=True)
"""


def run_inner(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.harness.leftovers",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            *args,
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sleeps_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", marker.encode()]:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_run_that_leaves_a_process_fails_and_names_it(tmp_path: Path, workers: list[str]) -> None:
    marker = f"{600 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"  # unique to this test
    result = run_inner(tmp_path, LEAVES_ONE.format(marker=marker), *workers)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "1 passed" in output
    assert "the test run left 1 process(es) running (now killed):" in output
    assert re.search(rf"pid \d+: sleep {re.escape(marker)}", output), output
    assert sleeps_with(marker) == []


def test_a_run_that_leaves_nothing_passes(tmp_path: Path) -> None:
    result = run_inner(tmp_path, CLEAN, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left" not in result.stdout
