"""nginx and the supply service (gunicorn via ``supply serve``) as child processes, for the tests
and for `make run` (tests/harness/make_run.py).

Every wait is bounded; a child that dies while starting fails the start with the tail of its log.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class ChildError(RuntimeError):
    """A child did not start, or stopped: ``what: Sentence.``, then the end of its log."""


def free_port() -> int:
    """A loopback port free right now (the child binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def kill_group(pgid: int) -> None:
    """SIGKILL what is left of a process group (a child started with ``start_new_session``):
    a master that exits or is killed alone can leave its workers running, orphaned."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # empty: everyone went
        os.killpg(pgid, signal.SIGKILL)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise ChildError(f"{what}: Not ready after {timeout:.0f} s.")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Child:
    """A child process with its output in ``log``, in a session of its own (a terminal's Ctrl-C
    reaches only the parent, which stops its children in order); stopped with SIGTERM, then
    SIGKILL, and its whole process group with it."""

    def __init__(
        self,
        argv: list[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        error_log: Path | None = None,
    ) -> None:
        self.name = name or Path(argv[0]).name
        self.log = log
        self.error_log = error_log or log  # where the child says why it stopped
        log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fh = log.open("ab")
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            env=dict(env or os.environ),
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self, when: str = "while starting") -> None:
        if not self.alive():
            raise ChildError(
                f"{self.name} exited (code {self.process.returncode}) {when}; its log "
                f"{self.error_log} ends with:\n{_tail(self.error_log)}"
            )

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)  # nginx: fast shutdown; gunicorn: graceful
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        kill_group(self.process.pid)
        self._fh.close()


def nginx_argv(prefix: Path, config: Path, binary: str = "nginx") -> list[str]:
    """nginx in the foreground with everything (pid, temp files, error log) under ``prefix``."""
    return [
        binary,
        "-p",
        f"{prefix}/",
        "-c",
        str(config),
        "-e",
        str(prefix / "error.log"),
        "-g",
        "daemon off;",
    ]


class Nginx:
    """``nginx -p DIR -c FILE -e DIR/error.log -g 'daemon off;'`` with everything inside DIR."""

    def __init__(self, prefix: Path, config: Path, port: int) -> None:
        self.prefix, self.config, self.port = prefix, config, port
        self.error_log = prefix / "error.log"
        self.access_log = prefix / "access.log"
        self.child = Child(
            nginx_argv(prefix, config), prefix / "nginx.out", error_log=self.error_log
        )
        wait_until(lambda: self._ready(), START_TIMEOUT, f"nginx on port {port}")

    def _ready(self) -> bool:
        self.child.check_alive()
        return port_open(self.port)

    @staticmethod
    def test_config(prefix: Path, config: Path) -> subprocess.CompletedProcess[str]:
        """``nginx -t``: returns the result (stderr holds nginx's verdict)."""
        return subprocess.run(
            ["nginx", "-t", "-p", f"{prefix}/", "-c", str(config), "-e", str(prefix / "error.log")],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def workers(self) -> set[int]:
        path = Path(f"/proc/{self.child.pid}/task/{self.child.pid}/children")
        return {int(p) for p in path.read_text().split()}

    def reload(self) -> None:
        """SIGHUP (what ``nginx -s reload`` sends), then wait until only new workers remain."""
        old = self.workers()
        self.child.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: bool(self.workers()) and not (self.workers() & old),
            START_TIMEOUT,
            "nginx workers to reload",
        )

    def stop(self) -> None:
        self.child.stop()


class Supply:
    """``supply migrate`` then ``supply serve --bind 127.0.0.1:PORT`` (or ``unix:SOCKET``)."""

    def __init__(
        self,
        root: Path,
        env: Mapping[str, str],
        port: int,
        workers: int = 2,
        *,
        socket_path: Path | None = None,
    ) -> None:
        self.port, self.env, self.socket_path = port, dict(env), socket_path
        migrate = subprocess.run(
            [str(BIN / "supply"), "migrate", "--no-input", "-v0"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if migrate.returncode:
            raise ChildError(f"supply migrate failed:\n{migrate.stderr[-3000:]}")
        self.child = Child(
            [
                str(BIN / "supply"),
                "serve",
                "--bind",
                self.bind,
                "--workers",
                str(workers),
            ],
            root / "supply.log",
            self.env,
            name="supply",
        )
        wait_until(self._healthy, START_TIMEOUT, f"supply on {self.bind}")

    @property
    def bind(self) -> str:
        """The ``--bind`` value, which is also the ``--upstream`` value nginx proxies to."""
        return f"unix:{self.socket_path}" if self.socket_path else f"127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        self.child.check_alive()
        try:
            if self.socket_path is not None:
                return unix_answers(self.socket_path, "/supply/healthz")
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/supply/healthz", timeout=2
            ) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        self.child.stop()


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (gunicorn bound to ``unix:PATH``)."""

    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self._path))
        self.sock = sock


def unix_get(path: Path, url_path: str) -> int:
    """The status of a plain HTTP GET over a unix socket."""
    connection = UnixHTTPConnection(path)
    try:
        connection.request("GET", url_path)
        return connection.getresponse().status
    finally:
        connection.close()


def unix_answers(path: Path, url_path: str) -> bool:
    """Does a GET over the unix socket answer 200 (False while nothing listens)?"""
    try:
        return unix_get(path, url_path) == 200
    except OSError:
        return False


def unix_listens(path: Path) -> bool:
    """Does a process accept connections on this unix socket (whatever it speaks)?"""
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
    except OSError:
        return False
    return True


def running_with(argument: str) -> list[int]:
    """Live processes (zombies excluded) with ``argument`` as one word of their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if argument.encode() in words and state != "Z":
            found.append(int(entry.name))
    return found
