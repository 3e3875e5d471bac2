"""`supply serve`: argument checks, and a real gunicorn answering the health probes and stopping
cleanly on SIGTERM."""

from __future__ import annotations

import gc
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supply.errors import ConfigurationError
from supply.serving.launch import default_workers, gunicorn_argv, parse_bind
from tests.harness.processes import free_port

SUPPLY = str(Path(sys.executable).with_name("supply"))


@pytest.mark.parametrize(
    "bind", ["127.0.0.1:8000", "localhost:1", "[::1]:8443", "unix:/run/supply.sock"]
)
def test_valid_binds(bind):
    assert parse_bind(bind) == bind


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("8000", "--bind: '8000' is not HOST:PORT or unix:PATH."),
        ("host:0", "--bind: 'host:0' is not HOST:PORT or unix:PATH."),
        ("host:70000", "--bind: 'host:70000' is not HOST:PORT or unix:PATH."),
        ("unix:", "--bind: 'unix:' has no socket path after 'unix:'."),
        ("::1:8000", "--bind: '::1:8000' is not HOST:PORT or unix:PATH."),
        ("bad_host:80", "--bind: 'bad_host:80' is not HOST:PORT or unix:PATH."),
        ("host:８０", "--bind: 'host:８０' is not HOST:PORT or unix:PATH."),
    ],
)
def test_invalid_binds(bind, message):
    with pytest.raises(ConfigurationError) as caught:
        parse_bind(bind)
    assert str(caught.value) == message


def test_gunicorn_arguments():
    argv = gunicorn_argv("unix:/tmp/s.sock", 3)
    assert argv[:2] == ["-m", "gunicorn"]
    assert argv[-1] == "supply.wsgi:application"
    assert "--no-control-socket" in argv
    options = [arg for arg in argv[2:-1] if arg != "--no-control-socket"]
    pairs = dict(zip(options[::2], options[1::2], strict=True))
    assert pairs["--bind"] == "unix:/tmp/s.sock"
    assert pairs["--workers"] == "3"
    assert pairs["--access-logfile"] == "-"
    assert int(pairs["--graceful-timeout"]) > 0
    assert pairs["--config"] == "python:supply.serving.gunicorn_conf"


def test_worker_hook_freezes_what_the_worker_loaded():
    """The frozen objects are skipped by the collector, also at exit: an idle worker stops fast."""
    from supply.serving import gunicorn_conf

    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        gunicorn_conf.post_worker_init(object())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SUPPLY_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_bad_bind_is_one_line_on_stderr(tmp_path):
    done = subprocess.run(
        [SUPPLY, "serve", "--bind", "nowhere"],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == "--bind: 'nowhere' is not HOST:PORT or unix:PATH.\n"


def test_bad_workers_setting_is_one_line_on_stderr(tmp_path):
    env = {**env_for(tmp_path), "SUPPLY_WORKERS": "four"}
    done = subprocess.run([SUPPLY, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "SUPPLY_WORKERS: 'four' is not a positive number.\n"


def test_workers_default_and_setting(monkeypatch):
    monkeypatch.delenv("SUPPLY_WORKERS", raising=False)
    # 2 x CPUs + 1, capped at 8; one CPU when the count is unknown.
    for cpus, workers in ((None, 3), (1, 3), (2, 5), (3, 7), (4, 8), (64, 8)):
        monkeypatch.setattr(os, "cpu_count", lambda cpus=cpus: cpus)
        assert default_workers() == workers, f"{cpus} CPUs"
    monkeypatch.setenv("SUPPLY_WORKERS", " 3 ")
    assert default_workers() == 3
    monkeypatch.setenv("SUPPLY_WORKERS", "0")
    with pytest.raises(ConfigurationError) as caught:
        default_workers()
    assert str(caught.value) == "SUPPLY_WORKERS: '0' is not a positive number."


def get(connect, path: str) -> tuple[int, bytes]:
    conn = connect()
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=5)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.socket_path)


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_serve_answers_probes_and_stops_on_sigterm(tmp_path, kind):
    env = env_for(tmp_path)
    subprocess.run([SUPPLY, "migrate", "-v0"], env=env, check=True, timeout=120)
    if kind == "tcp":
        port = free_port()
        bind = f"127.0.0.1:{port}"

        def connect():
            return http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    else:
        path = str(tmp_path / "supply.sock")
        bind = f"unix:{path}"

        def connect():
            return UnixHTTPConnection(path)

    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [SUPPLY, "serve", "--bind", bind, "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, body = get(connect, "/supply/readyz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, (tmp_path / "serve.log").read_text()
        assert body == b'{"status": "ready"}'
        assert get(connect, "/supply/healthz") == (200, b'{"status": "ok"}')
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
        log.close()
    assert code == 0
    output = (tmp_path / "serve.log").read_text()
    assert "Booting worker" in output
    assert '"GET /supply/healthz HTTP/1.1" 200' in output  # access log on stdout
