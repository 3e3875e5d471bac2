"""`make run`: the whole stack on this machine, in the foreground, from a fresh clone.

    python -m tests.harness.make_run [--dir DIR] [--port PORT] [--host HOST]

State lives in one directory (``--dir``, ``$SUPPLY_DEMO_DIR``, default ``./.run``)::

    pki/                 the demo PKI home (CA, server certificate for localhost, issued users)
    ca-passphrase        the demo CA's passphrase (0600)   -- a demo convenience, see below
    admin.p12            the admin's certificate and key; admin.p12.password (0600) opens it
    curl-admin.conf      a curl config (0600) that presents admin.p12: `curl -K FILE URL`
    data/                the supply service's data directory (SQLite database, secret key, static)
    nginx/               nginx's prefix: rendered nginx.conf, pid, logs, temp files
    supply.sock          gunicorn's socket (only nginx connects to it)

Each step is skipped when its result exists, so a second run reuses the CA, the certificates, the
password and the database. Keeping the CA passphrase in a file next to the CA defeats its
encryption: that is acceptable for a demo on a laptop and nowhere else (production keeps the CA
offline and types the passphrase).

The steps call the `pki` and `supply` commands, exactly as a person would, so the demo exercises
the documented interfaces. Ctrl-C (SIGINT) or SIGTERM stops nginx and gunicorn and waits for them.

It lives beside the test harness, not in the shipped package: it is a developer's and a
newcomer's tool (it may even apt-get nginx), and it supervises its children with the harness's
own (tests/harness/processes.py), so `make run` and the tests run the stack one way.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pki.files import atomic_write
from tests.harness.processes import (
    Child,
    ChildError,
    nginx_argv,
    port_open,
    unix_answers,
    unix_listens,
    wait_until,
)

DEFAULT_PORT = 8443
SERVER_NAME = "localhost"
ADMIN_NAME = "Demo Admin"
REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_ROOT = REPO_ROOT / "nginx"
ADMIN_MARKER = "demo-admin-provisioned"
START_TIMEOUT = 60.0
MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes on Linux, with its terminating NUL


class DemoError(Exception):
    """A step failed; the message is one line for the terminal."""


@dataclass(frozen=True)
class RunDir:
    """The paths of one demo state directory."""

    root: Path

    @property
    def pki_home(self) -> Path:
        return self.root / "pki"

    @property
    def ca_passphrase(self) -> Path:
        return self.root / "ca-passphrase"

    @property
    def admin_p12(self) -> Path:
        return self.root / "admin.p12"

    @property
    def admin_password(self) -> Path:
        return self.root / "admin.p12.password"

    @property
    def curl_config(self) -> Path:
        return self.root / "curl-admin.conf"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def nginx_dir(self) -> Path:
        return self.root / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_dir / "nginx.conf"

    @property
    def socket(self) -> Path:
        return self.root / "supply.sock"

    @property
    def ca_cert(self) -> Path:
        return self.pki_home / "ca" / "cert.pem"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


# --- small helpers -----------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically: secrets never pass through 0644."""
    atomic_write(path, text.encode("utf-8"))


def ensure_secret(path: Path) -> str:
    """The secret in ``path`` (first line), generated and stored 0600 when the file is missing."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(18) + "\n")
    return path.read_text(encoding="utf-8").split("\n", 1)[0]


def tool(name: str) -> str:
    """A console script of this installation (next to the running interpreter), else on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise DemoError(f"{name}: Command not found; run `make install` first.")
    return found


def run_step(what: str, argv: Sequence[str], env: dict[str, str]) -> str:
    """Run one command to completion; a failure becomes a DemoError with its last error line."""
    done = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()
        raise DemoError(f"{what}: {lines[-1]}")
    return done.stdout


# --- nginx on this machine -------------------------------------------------------------------


NGINX_HINT = (
    "nginx: Not installed; install it with `sudo apt-get install -y nginx` (Debian/Ubuntu), "
    "`sudo dnf install nginx` (Fedora) or `brew install nginx` (macOS)."
)


def nginx_search_path() -> str:
    """Where to look for nginx: $SUPPLY_DEMO_NGINX_PATH when set (a PATH-style list), else $PATH
    and the sbin directories a non-root $PATH often lacks."""
    override = os.environ.get("SUPPLY_DEMO_NGINX_PATH")
    if override is not None:
        return override
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def may_install_nginx() -> bool:
    """apt-get only as root, with apt-get present, and unless SUPPLY_DEMO_NO_INSTALL=1 forbids it
    (a machine whose packages someone else manages; the tests of the missing-nginx path)."""
    if os.environ.get("SUPPLY_DEMO_NO_INSTALL") == "1":
        return False
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def find_nginx() -> str:
    """The nginx binary; installed with apt-get when missing and we may (see may_install_nginx)."""
    found = shutil.which("nginx", path=nginx_search_path())
    if found:
        return found
    if not may_install_nginx():
        raise DemoError(NGINX_HINT)
    say("nginx is not installed; installing it with apt-get (root) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nginx"]):
        if subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, check=False).returncode != 0:
            raise DemoError(f"apt-get {argv[1]} failed. {NGINX_HINT}")
    found = shutil.which("nginx", path=nginx_search_path())
    if not found:
        raise DemoError(NGINX_HINT)
    return found


# --- the steps -------------------------------------------------------------------------------


def ensure_pki(run: RunDir, env: dict[str, str]) -> str:
    """CA, server certificate for localhost and the admin's .p12; returns the .p12 password."""
    pki = tool("pki")
    home = ["--home", str(run.pki_home)]
    ensure_secret(run.ca_passphrase)
    ca_secret = ["--passphrase-file", str(run.ca_passphrase)]
    if not run.ca_cert.exists():
        say("Creating the demo CA ...")
        run_step(
            "pki init-ca",
            [pki, *home, "init-ca", "--name", "tactical-edge demo CA", *ca_secret],
            env,
        )
    if not (run.pki_home / "servers" / SERVER_NAME / "fullchain.pem").exists():
        say(f"Issuing the server certificate for {SERVER_NAME} ...")
        run_step(
            "pki issue-server",
            [pki, *home, "issue-server", SERVER_NAME, "--san", "127.0.0.1", *ca_secret],
            env,
        )
    password = ensure_secret(run.admin_password)
    if not run.admin_p12.exists():
        say(f"Issuing the admin's certificate ({ADMIN_NAME}) ...")
        run_step(
            "pki issue-user",
            [
                pki,
                *home,
                "issue-user",
                ADMIN_NAME,
                "--p12",
                "--out",
                str(run.admin_p12),
                "--password-file",
                str(run.admin_password),
                *ca_secret,
            ],
            env,
        )
    return password


def prepare_service(run: RunDir, env: dict[str, str]) -> None:
    """Migrate, load demo data (a no-op once loaded), provision the admin once, collect static."""
    supply = tool("supply")
    say("Migrating the database ...")
    run_step("supply migrate", [supply, "migrate", "--noinput"], env)
    say("Loading the demo catalog and stock ...")
    run_step("supply load-demo", [supply, "load-demo"], env)
    # The marker names the .p12 that was provisioned, so a re-issued admin file is mapped again.
    marker = run.data_dir / ADMIN_MARKER
    provisioned = hashlib.sha256(run.admin_p12.read_bytes()).hexdigest()
    if not marker.exists() or marker.read_text(encoding="utf-8").strip() != provisioned:
        say("Provisioning the admin ...")
        run_step(
            "supply provision-admin",
            [
                supply, "provision-admin", "--cert", str(run.admin_p12),
                "--password-file", str(run.admin_password),
            ],
            env,
        )  # fmt: skip
        marker.write_text(provisioned + "\n", encoding="utf-8")
    run_step("supply collectstatic", [supply, "collectstatic", "--noinput"], env)


def render_nginx(run: RunDir, host: str, port: int, env: dict[str, str]) -> None:
    run.nginx_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = [
        tool("pki"), "--home", str(run.pki_home), "nginx-config",
        "--server", SERVER_NAME,
        "--upstream", f"unix:{run.socket}",
        "--listen", f"{host}:{port}",
        "--web-root", str(WEB_ROOT),
        "--static-root", str(run.data_dir / "static"),
        "--runtime-dir", str(run.nginx_dir),
        "--out", str(run.nginx_conf),
    ]  # fmt: skip
    if os.geteuid() == 0:
        # nginx started by root drops its workers to "nobody", who cannot reach the 0700 state
        # directory (socket, temp files): keep them as the user who ran the demo.
        argv += ["--user", "root"]
    run_step("pki nginx-config", argv, env)


def write_curl_config(run: RunDir, password: str) -> None:
    """A curl config that presents the admin's .p12: the password stays off the command line."""
    write_private(
        run.curl_config,
        f'cert-type = "P12"\ncert = "{run.admin_p12}:{password}"\ncacert = "{run.ca_cert}"\n',
    )


# --- the two children ------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], bool], children: Sequence[Child]) -> None:
    """Poll ``check()`` until true; fail at once when a child dies, or after START_TIMEOUT."""

    def ready() -> bool:
        for child in children:
            child.check_alive(f"before {what}")
        return check()

    wait_until(ready, START_TIMEOUT, what)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.harness.make_run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("SUPPLY_DEMO_DIR") or ".run"),
        help="state directory (default $SUPPLY_DEMO_DIR or ./.run)",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("SUPPLY_DEMO_PORT") or DEFAULT_PORT),
        help=f"HTTPS port (default $SUPPLY_DEMO_PORT or {DEFAULT_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--host", default=os.environ.get("SUPPLY_DEMO_HOST") or "127.0.0.1",
        help="address nginx listens on (default 127.0.0.1: this machine only)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port: {args.port} is not a port number (1-65535).")
    return args


def make_private(root: Path) -> None:
    """The state directory holds the CA passphrase and the admin's key: 0700 whatever existed
    before (mkdir's mode applies only to a directory it creates)."""
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        root.chmod(0o700)
    except OSError as exc:
        raise DemoError(
            f"state directory: {root} cannot be made private ({exc.strerror or exc}); "
            "choose one you own with SUPPLY_DEMO_DIR=DIR."
        ) from None


def service_env(run: RunDir, port: int) -> dict[str, str]:
    """The environment of every `supply` and `pki` step: this run's PKI home and SQLite data."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SUPPLY_STATIC_ROOT")}
    origins = f"https://{SERVER_NAME}:{port},https://127.0.0.1:{port}"
    # One person clicking around: two workers start fast and leave the laptop alone.
    env.setdefault("SUPPLY_WORKERS", "2")
    env.update(
        PKI_HOME=str(run.pki_home),
        SUPPLY_DATA_DIR=str(run.data_dir),
        SUPPLY_TRUSTED_ORIGINS=origins,
        DJANGO_SETTINGS_MODULE="supply.settings",
        PYTHONUNBUFFERED="1",
    )
    # gunicorn binds its unix socket under umask 0 by default (a world-writable socket); nginx
    # here runs as this user, so the owner alone needs it.
    env["GUNICORN_CMD_ARGS"] = f"{env.get('GUNICORN_CMD_ARGS', '')} --umask 0o077".strip()
    return env


def banner(run: RunDir, port: int, password: str, children: Sequence[Child]) -> str:
    url = f"https://{SERVER_NAME}:{port}/"
    pids = ", ".join(f"{c.name} pid {c.pid}" for c in children)
    return "\n".join(
        [
            "",
            "tactical-edge is running.",
            f"  URL:          {url}",
            f"  Certificate:  {run.admin_p12.resolve()}",
            f"  Password:     {password}",
            f"  CA (trust):   {run.ca_cert.resolve()}",
            f"  curl:         curl -K {run.curl_config.resolve()} {url}supply/api/whoami/",
            f"  Logs:         {run.logs.resolve()} and {run.nginx_dir.resolve()}",
            f"  Processes:    {pids}",
            "Import the certificate into your browser: docs/webapp.md. Stop with Ctrl-C.",
            "",
        ]
    )


def serve(run: RunDir, port: int, host: str, password: str, env: dict[str, str], nginx: str) -> int:
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    run.socket.unlink(missing_ok=True)
    children: list[Child] = []
    try:
        supply = [tool("supply"), "serve", "--bind", f"unix:{run.socket}"]
        children.append(Child(supply, run.logs / "supply.log", env, name="supply"))
        children.append(
            Child(
                nginx_argv(run.nginx_dir, run.nginx_conf, nginx),
                run.logs / "nginx.log",
                env,
                name="nginx",
            )
        )
        wait_for(
            "the supply service",
            lambda: unix_answers(run.socket, "/supply/readyz") or stop.is_set(),
            children,
        )
        wait_for(
            f"nginx on port {port}",
            lambda: port_open(port, host) or stop.is_set(),
            children,
        )
        if not stop.is_set():
            say(banner(run, port, password, children))
        while not stop.wait(0.5):
            for child in children:
                child.check_alive("unexpectedly")
        say(f"\nStopping ({signal.Signals(received[0]).name}) ...")
        return 0
    finally:
        for child in reversed(children):
            child.stop()
        if children:
            say("Stopped nginx and the supply service.")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run = RunDir(args.dir.resolve())
    try:
        if port_open(args.port, args.host):
            raise DemoError(
                f"port {args.port}: Already in use; choose another with SUPPLY_DEMO_PORT=PORT."
            )
        if len(str(run.socket)) > MAX_SOCKET_PATH:
            raise DemoError(
                f"state directory: {run.root} is too long a path for a unix socket; "
                "choose a shorter one with SUPPLY_DEMO_DIR=DIR."
            )
        if unix_listens(run.socket):
            raise DemoError(
                f"state directory: {run.root} is in use by another `make run` (its socket "
                "answers); stop that one, or choose another directory with SUPPLY_DEMO_DIR=DIR."
            )
        nginx = find_nginx()  # before anything is created: a missing nginx leaves no trace
        make_private(run.root)
        env = service_env(run, args.port)
        password = ensure_pki(run, env)
        prepare_service(run, env)
        render_nginx(run, args.host, args.port, env)
        write_curl_config(run, password)
        return serve(run, args.port, args.host, password, env, nginx)
    except (DemoError, ChildError) as err:
        print(f"make run: {err}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C during setup: every step writes atomically, so the next run resumes cleanly.
        print("make run: Interrupted during setup; run it again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
