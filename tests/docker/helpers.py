"""Shared helpers of the docker/ tests: repository paths, free ports, bounded waits, processes."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.harness.processes import kill_group

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
VENV_BIN = Path(sys.executable).parent
# Linters whose pins clash with the dev extra (checkov) live in their own venv, made by
# `make install` from requirements-tools.txt.
TOOLS_BIN = ROOT / ".venv-tools" / "bin"


def tool(name: str) -> str:
    """A console script of the project's venv (hadolint, shellcheck, pki, ...), else of the tools
    venv (checkov). The path is returned either way: a missing tool fails where it is run."""
    for directory in (VENV_BIN, TOOLS_BIN):
        if (directory / name).exists():
            return str(directory / name)
    return str(VENV_BIN / name)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without the project's settings, plus `extra`.

    The entrypoints read their configuration from the environment only, so nothing from the
    developer's shell (a DATABASE_URL, a PKI_HOME) may leak into them.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPPLY_", "PKI_", "PROXY_", "GUNICORN_", "DJANGO_"))
        and k != "DATABASE_URL"
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin"
    env.update(extra)
    return env


@dataclass
class Stopped:
    returncode: int
    seconds: float


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> Stopped:
    """Send `sig` and wait (bounded) for the process to exit; the caller judges the time."""
    start = time.monotonic()
    proc.send_signal(sig)
    returncode = proc.wait(timeout=10)
    return Stopped(returncode, time.monotonic() - start)


def kill_quietly(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything in its process group (start it with
    `start_new_session=True`): a master killed alone leaves its workers running, orphaned."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    kill_group(proc.pid)


def https_context(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


def get(
    url: str,
    *,
    context: ssl.SSLContext | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """(status, body) of a GET; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_until_answers(
    url: str,
    proc: subprocess.Popen[bytes],
    *,
    context: ssl.SSLContext | None = None,
    expect: int = 200,
    timeout: float = 30.0,
) -> None:
    """Poll `url` until it answers `expect`; fail early if the process died."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before {url} answered")
        try:
            status, _ = get(url, context=context)
            if status == expect:
                return
            last = f"status {status}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer {expect} within {timeout}s: {last}")


def wait_for_path(path: Path, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        if proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before {path} appeared")
        time.sleep(0.1)
    raise AssertionError(f"{path} did not appear within {timeout}s")


def report_stop(what: str, stopped: Stopped) -> None:
    """Print the measured stop time (pytest -s or -rP shows it); speed is not asserted here."""
    print(f"{what}: exited {stopped.returncode} {stopped.seconds:.3f}s after the signal")
