"""Run `make run`'s module (``python -m tests.harness.make_run``) as a child process in a
temporary state directory on a free port, and read what it prints. Used by the demo's own test
and, as the stack under test, by the browser tests: the newcomer's stack is the one the browser
drives."""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.processes import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAKE_RUN = [sys.executable, "-m", "tests.harness.make_run"]  # what `make run` runs
START_TIMEOUT = 180.0  # migrate + collectstatic + two children on a busy 2-core CI machine
STOP_TIMEOUT = 30.0

_BANNER = re.compile(r"^\s+(URL|Certificate|Password|CA \(trust\)|curl|Processes):\s+(.*)$")


@dataclass
class DemoStack:
    root: Path
    port: int
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.facts["URL"]

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    @property
    def p12(self) -> Path:
        return Path(self.facts["Certificate"])

    @property
    def password(self) -> str:
        return self.facts["Password"]

    @property
    def ca(self) -> Path:
        return Path(self.facts["CA (trust)"])

    @property
    def pids(self) -> dict[str, int]:
        """{"supply": pid, "nginx": pid} from "supply pid 1, nginx pid 2"."""
        return {
            name: int(pid) for name, pid in re.findall(r"(\w+) pid (\d+)", self.facts["Processes"])
        }

    @property
    def env(self) -> dict[str, str]:
        """The environment the demo gives `pki` and `supply`, to add users to its stack."""
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(PKI_HOME=str(self.root / "pki"), SUPPLY_DATA_DIR=str(self.root / "data"))
        return env

    def output(self) -> str:
        return "\n".join(self.lines)


def _pump(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line.rstrip("\n"))
    lines.put(None)


def start_demo(root: Path, port: int) -> DemoStack:
    """Start the demo and return once it printed its banner (or fail with its output)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    process = subprocess.Popen(
        [*MAKE_RUN, "--dir", str(root), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = DemoStack(root=root, port=port, process=process)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        stack.lines.append(line)
        match = _BANNER.match(line)
        if match:
            stack.facts[match[1]] = match[2].strip()
        if "Processes" in stack.facts:
            # Keep draining so the child never blocks on a full pipe.
            threading.Thread(target=_drain, args=(lines, stack), daemon=True).start()
            return stack
    stop_demo(stack, signal.SIGTERM)
    raise AssertionError(f"the demo did not start on port {port}:\n{stack.output()}")


def start_demo_on_a_free_port(root: Path, attempts: int = 3) -> DemoStack:
    """start_demo on a port free at the time; another process may take that port before nginx
    binds it (other test workers run too), and then the next attempt reuses the state."""
    for attempt in range(1, attempts + 1):
        try:
            return start_demo(root, free_port())
        except AssertionError as failure:
            if "lready in use" not in str(failure) or attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _drain(lines: queue.Queue[str | None], stack: DemoStack) -> None:
    while (line := lines.get()) is not None:
        stack.lines.append(line)


def stop_demo(stack: DemoStack, signum: int = signal.SIGINT) -> int:
    """Send a signal and wait for the demo to exit; returns its exit status."""
    if stack.process.poll() is None:
        stack.process.send_signal(signum)
    try:
        return stack.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait(timeout=STOP_TIMEOUT)
        raise AssertionError(f"the demo ignored {signal.Signals(signum).name}") from None


def process_gone(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    """True once no process has this pid (a zombie counts as gone: it runs nothing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, f"{argv[:3]} failed: {done.stderr.strip() or done.stdout.strip()}"
    return done.stdout


def add_user(
    stack: DemoStack, full_name: str, roles: tuple[str, ...], days: int | None = None
) -> tuple[Path, str]:
    """Issue a user's .p12 from the demo CA (valid ``days``, else pki's default) and grant it
    roles (none: a valid but unknown certificate). Returns the .p12 path and its password."""
    slug = re.sub(r"[^a-z0-9]+", "-", full_name.lower()).strip("-")
    p12, password_file = stack.root / f"{slug}.p12", stack.root / f"{slug}.p12.password"
    password = secrets.token_urlsafe(12)
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    run(
        [
            str(BIN / "pki"), "--home", str(stack.root / "pki"), "issue-user", full_name,
            "--p12", "--out", str(p12), "--password-file", str(password_file),
            "--passphrase-file", str(stack.root / "ca-passphrase"),
            *(["--days", str(days)] if days else []),
        ],
        stack.env,
    )  # fmt: skip
    for role in roles:
        run(
            [
                str(BIN / "supply"), "grant", "--cert", str(p12),
                "--password-file", str(password_file), "--role", role,
            ],
            stack.env,
        )  # fmt: skip
    return p12, password
