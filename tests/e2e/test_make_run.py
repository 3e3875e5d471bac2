"""`make run` (tests/harness/make_run.py) for real: a fresh state directory, nginx and gunicorn as
children, the printed URL, .p12, password and curl command used as a newcomer would, then
SIGINT/SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from pki.certinfo import describe
from tests.browser.stack import MAKE_RUN, process_gone, start_demo_on_a_free_port, stop_demo
from tests.harness.processes import free_port, port_open

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("nginx"), reason="needs nginx (apt-get install nginx)"),
    pytest.mark.skipif(not shutil.which("curl"), reason="needs curl (apt-get install curl)"),
]


def _curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def make_run(root: Path, port: int | str, **env: str) -> subprocess.CompletedProcess[str]:
    """`make run` to its end (a refusal), with ``env`` added to this environment."""
    return subprocess.run(
        [*MAKE_RUN, "--dir", str(root), "--port", str(port)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_make_run_starts_serves_the_admin_stops_and_reuses_its_state(tmp_path):
    root = tmp_path / "run"
    stack = start_demo_on_a_free_port(root)
    port = stack.port
    try:
        assert stack.url == f"https://localhost:{port}/"
        assert stack.p12 == root / "admin.p12"
        secrets_files = ("admin.p12", "admin.p12.password", "ca-passphrase", "curl-admin.conf")
        for name in secrets_files:
            assert stat.S_IMODE((root / name).stat().st_mode) == 0o600, name
        assert stack.password not in stack.facts["curl"], "the password stays off the command line"

        # The printed curl command, exactly as printed.
        printed = _curl(*shlex.split(stack.facts["curl"])[1:])
        assert printed.returncode == 0, printed.stderr
        me = json.loads(printed.stdout)
        cert = pkcs12.load_pkcs12(stack.p12.read_bytes(), stack.password.encode()).cert
        assert cert is not None
        assert me["subject_dn"] == describe(cert.certificate).subject_dn
        assert me["is_superuser"] is True

        # The printed .p12 and password, the way the docs tell a person to use them.
        conf = tmp_path / "me.curlrc"
        conf.write_text(f'cert-type = "P12"\ncert = "{stack.p12}:{stack.password}"\n')
        os.chmod(conf, 0o600)
        by_hand = _curl("-K", str(conf), "--cacert", str(stack.ca), f"{stack.url}supply/api/items/")
        assert by_hand.returncode == 0, by_hand.stderr
        assert json.loads(by_hand.stdout)["count"] > 0, "the demo catalog is loaded"

        shell = _curl("--cacert", str(stack.ca), "--write-out", "%{http_code}", stack.url)
        assert shell.stdout.endswith("200") and "<title>Supply" in shell.stdout
        stock = _curl("-K", str(conf), "--cacert", str(stack.ca), f"{stack.url}supply/api/stock/")
        assert json.loads(stock.stdout)["count"] > 0, "some demo stock is loaded"
        # The server certificate names 127.0.0.1 too (an IP SAN): curl checks it against the CA.
        by_ip = _curl(
            "--cacert", str(stack.ca), "--write-out", "%{http_code}", f"https://127.0.0.1:{port}/"
        )
        assert by_ip.returncode == 0 and by_ip.stdout.endswith("200"), by_ip.stderr
        no_cert = _curl("--cacert", str(stack.ca), f"{stack.url}supply/api/whoami/")
        assert json.loads(no_cert.stdout)["detail"].startswith("A client certificate is required")
    finally:
        code = stop_demo(stack, signal.SIGINT)
    assert code == 0, stack.output()
    assert "Stopped nginx and the supply service." in stack.output()
    for name, pid in stack.pids.items():
        assert process_gone(pid), f"{name} (pid {pid}) still runs"
    assert not port_open(port)

    ca_before = stack.ca.read_bytes()
    again = start_demo_on_a_free_port(root)
    try:
        assert "Creating the demo CA" not in again.output()
        assert "Issuing" not in again.output()
        assert again.password == stack.password
        assert again.p12 == stack.p12
        assert again.ca.read_bytes() == ca_before
        rerun = _curl(*shlex.split(again.facts["curl"])[1:])
        assert json.loads(rerun.stdout)["subject_dn"] == me["subject_dn"]
    finally:
        code = stop_demo(again, signal.SIGTERM)
    assert code == 0, again.output()
    for pid in again.pids.values():
        assert process_gone(pid)


def test_make_run_refuses_a_port_in_use_with_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = make_run(tmp_path, port)
    assert done.returncode == 1
    assert done.stderr == (
        f"make run: port {port}: Already in use; choose another with SUPPLY_DEMO_PORT=PORT.\n"
    )


def test_make_run_refuses_a_state_directory_too_long_for_its_socket(tmp_path):
    root = tmp_path / ("d" * 110)
    done = make_run(root, 1)
    assert done.returncode == 1
    assert done.stderr == (
        f"make run: state directory: {root} is too long a path for a unix socket; "
        "choose a shorter one with SUPPLY_DEMO_DIR=DIR.\n"
    )
    assert not root.exists(), "nothing is created before the checks pass"


def _demo_without_nginx(
    root: Path, port: int, search_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """`make run` on a machine where nginx is nowhere on ``search_path``."""
    return make_run(root, port, SUPPLY_DEMO_NGINX_PATH=str(search_path), **env)


NGINX_HINT = (
    "nginx: Not installed; install it with `sudo apt-get install -y nginx` (Debian/Ubuntu), "
    "`sudo dnf install nginx` (Fedora) or `brew install nginx` (macOS)."
)


def test_make_run_without_nginx_says_how_to_install_it_and_starts_nothing(tmp_path):
    empty = tmp_path / "no-nginx-here"
    empty.mkdir()
    root = tmp_path / "run"
    done = _demo_without_nginx(root, free_port(), empty, SUPPLY_DEMO_NO_INSTALL="1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"make run: {NGINX_HINT}\n"
    assert not root.exists(), "no PKI, database or process before nginx is there"


@pytest.mark.skipif(os.geteuid() != 0, reason="the demo installs nginx only as root")
def test_make_run_as_root_tries_apt_get_then_says_how_to_install_nginx(tmp_path):
    """A stand-in apt-get (first on PATH) records its calls and installs nothing: the real
    system is never touched, and the demo still ends with the hint."""
    fake_bin, calls = tmp_path / "bin", tmp_path / "apt-get.calls"
    fake_bin.mkdir()
    apt_get = fake_bin / "apt-get"
    apt_get.write_text(f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {calls}\n')
    apt_get.chmod(0o755)
    root = tmp_path / "run"
    done = _demo_without_nginx(
        root,
        free_port(),
        tmp_path / "no-nginx-here",
        PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
    )
    assert done.returncode == 1
    assert done.stdout == "nginx is not installed; installing it with apt-get (root) ...\n"
    assert done.stderr == f"make run: {NGINX_HINT}\n"
    assert calls.read_text().splitlines() == [
        "noninteractive update -qq",
        "noninteractive install -y -qq nginx",
    ]
    assert not root.exists()

    apt_get.write_text("#!/bin/sh\nexit 100\n")
    failed = _demo_without_nginx(
        root,
        free_port(),
        tmp_path / "no-nginx-here",
        PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
    )
    assert failed.returncode == 1
    assert failed.stderr == f"make run: apt-get update failed. {NGINX_HINT}\n"


def test_make_run_refuses_a_state_directory_another_run_serves_from(tmp_path):
    root = tmp_path / "run"
    root.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.bind(str(root / "supply.sock"))
        other.listen()
        done = make_run(root, free_port())
    assert done.returncode == 1
    assert done.stderr == (
        f"make run: state directory: {root} is in use by another `make run` (its socket answers); "
        "stop that one, or choose another directory with SUPPLY_DEMO_DIR=DIR.\n"
    )
    assert sorted(p.name for p in root.iterdir()) == ["supply.sock"], "nothing else was touched"


def test_make_run_stops_nginx_and_says_so_when_the_service_dies(tmp_path):
    stack = start_demo_on_a_free_port(tmp_path / "run")
    os.kill(stack.pids["supply"], signal.SIGKILL)
    code = stack.process.wait(timeout=60)
    assert code == 1, stack.output()
    assert process_gone(stack.pids["nginx"]), "nginx is stopped with it"
    assert not port_open(stack.port)
    log = tmp_path / "run" / "logs" / "supply.log"
    said = f"make run: supply exited (code -9) unexpectedly; its log {log} ends with:"
    deadline = time.monotonic() + 30  # the reader thread drains the pipe after the exit
    while said not in stack.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert said in stack.output()
    assert "Stopped nginx and the supply service." in stack.output()


def test_ctrl_c_during_setup_says_so_and_the_next_run_resumes(tmp_path):
    """Ctrl-C reaches the whole foreground process group (the demo and its current step)."""
    root = tmp_path / "run"
    process = subprocess.Popen(
        [*MAKE_RUN, "--dir", str(root), "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        # A shell's background job starts with SIGINT ignored; a terminal's foreground job not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    while (line := lines.get(timeout=120)) != "Migrating the database ...\n":
        assert "running" not in line, "setup finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "make run: Interrupted during setup; run it again to resume.\n"

    again = start_demo_on_a_free_port(root)
    try:
        resumed = _curl(*shlex.split(again.facts["curl"])[1:])
        assert json.loads(resumed.stdout)["is_superuser"] is True
    finally:
        assert stop_demo(again) == 0, again.output()


def test_make_run_makes_an_existing_state_directory_private_and_its_socket_too(tmp_path):
    """mkdir's mode applies only to a directory it creates: a --dir that already existed kept
    0755, and gunicorn bound its socket world-writable (umask 0)."""
    root = tmp_path / "run"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    stack = start_demo_on_a_free_port(root)
    try:
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        sock = root / "supply.sock"
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.stat().st_mode) & 0o077 == 0, oct(sock.stat().st_mode)
    finally:
        code = stop_demo(stack, signal.SIGINT)
    assert code == 0, stack.output()
