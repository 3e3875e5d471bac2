"""The entrypoint scripts outside Docker: real nginx and gunicorn started by them, on free loopback
ports and temporary directories given through the same environment variables the images set.

Stop times are measured and printed (run with -rP to see them), not asserted: the bound here only
catches a process that does not stop at all. Speed is for `make bench`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.docker.helpers import (
    DOCKER,
    ROOT,
    clean_env,
    get,
    https_context,
    kill_quietly,
    report_stop,
    stop,
    tool,
    wait_for_path,
    wait_until_answers,
)
from tests.harness.processes import free_port

SUPPLY_ENTRYPOINT = str(DOCKER / "supply-entrypoint.sh")
PROXY_ENTRYPOINT = str(DOCKER / "proxy-entrypoint.sh")
HEALTHCHECK = str(DOCKER / "healthcheck.py")
CA_PASSPHRASE = "docker-tests-ca-passphrase"

pytestmark = pytest.mark.skipif(
    shutil.which("nginx", path=clean_env()["PATH"]) is None,
    reason="needs nginx (apt install nginx)",
)


@pytest.fixture(scope="module")
def pki_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PKI home made by the real `pki`: CA, CRL, server certificate for localhost."""
    home = tmp_path_factory.mktemp("pki") / "home"
    env = clean_env(PKI_HOME=str(home), PKI_CA_PASSPHRASE=CA_PASSPHRASE)
    for args in (["init-ca", "--name", "Docker Tests Root CA"], ["issue-server", "localhost"]):
        subprocess.run([tool("pki"), *args], env=env, check=True, capture_output=True, timeout=60)
    return home


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path: unix socket paths are limited to 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="te-", dir="/tmp"))
    # Like /run/supply in the images: the proxy's nginx workers are another uid when the tests
    # run as root (nginx drops them to `nobody`), as they may be in compose.
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def share() -> Iterator[Path]:
    """What the proxy image bakes into /opt/tactical-edge, copied from the repository the way the
    image build copies it. A copy, not a link into the checkout: run as root, nginx's workers are
    `nobody`, who cannot reach a checkout in a private (0700) home, nor pytest's 0700 temp dirs."""
    share = Path(tempfile.mkdtemp(prefix="te-share-", dir="/tmp"))
    shutil.copytree(ROOT / "templates", share / "templates")
    shutil.copytree(ROOT / "nginx", share / "web")
    (share / "static").mkdir()
    # Readable by every uid whatever the umask of the clone was, like files in an image layer.
    for path in [share, *share.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield share
    shutil.rmtree(share, ignore_errors=True)


def supply_env(tmp_path: Path, pki_home: Path, bind: str) -> dict[str, str]:
    secret_key = tmp_path / "django-secret-key"
    secret_key.write_text("a-test-secret-key-read-from-a-file-0123456789\n")
    return clean_env(
        SUPPLY_DATA_DIR=str(tmp_path / "data"),
        SUPPLY_STATIC_ROOT=str(tmp_path / "static"),
        SUPPLY_SECRET_KEY_FILE=str(secret_key),
        SUPPLY_BIND=bind,
        SUPPLY_WORKERS="2",
        PKI_HOME=str(pki_home),
    )


def proxy_env(
    run_dir: Path, pki_home: Path, share: Path, port: int, upstream: str
) -> dict[str, str]:
    return clean_env(
        PROXY_SERVER_NAME="localhost",
        PROXY_UPSTREAM=upstream,
        PROXY_LISTEN=f"127.0.0.1:{port}",
        PROXY_RUN_DIR=str(run_dir),
        PROXY_SHARE=str(share),
        PKI_HOME=str(pki_home),
    )


def start(command: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        # Its own process group, so that kill_quietly reaches the workers too.
        return subprocess.Popen(command, env=env, stdout=out, stderr=err, start_new_session=True)


def healthcheck(role: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEALTHCHECK, role], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def program_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


# ------------------------------------------------------------------------------------- supply


def test_supply_serve_execs_gunicorn_which_stops_on_sigterm(tmp_path: Path, pki_home: Path) -> None:
    port = free_port()
    env = supply_env(tmp_path, pki_home, f"127.0.0.1:{port}")
    # Without XDG_RUNTIME_DIR (as in the image, where $HOME is /nonexistent on a read-only root)
    # gunicorn >= 25 would make $HOME/.gunicorn for its control socket, and leave it behind.
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)
    env.pop("XDG_RUNTIME_DIR", None)
    proc = start([SUPPLY_ENTRYPOINT], env, tmp_path / "logs")
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/supply/healthz", proc)
        # exec all the way: the process the container runtime signals is gunicorn's master.
        assert "-m gunicorn --bind 127.0.0.1:" in program_of(proc.pid)
        workers = children_of(proc.pid)
        assert len(workers) == 2
        assert healthcheck("supply", env).returncode == 0
        stopped = stop(proc, signal.SIGTERM)
    finally:
        kill_quietly(proc)
    report_stop("supply (gunicorn) SIGTERM", stopped)
    assert stopped.returncode == 0
    assert all(not Path(f"/proc/{w}").exists() for w in workers)
    assert "Handling signal: term" in (tmp_path / "logs" / "stderr").read_text()
    assert list(home.iterdir()) == []


def test_supply_serve_does_not_migrate(tmp_path: Path, pki_home: Path) -> None:
    """Migrations are the one-off `migrate` command's job, never a side effect of starting."""
    port = free_port()
    env = supply_env(tmp_path, pki_home, f"127.0.0.1:{port}")
    proc = start([SUPPLY_ENTRYPOINT, "serve"], env, tmp_path / "logs")
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/supply/healthz", proc)
        status, body = get(f"http://127.0.0.1:{port}/supply/readyz")
        assert status == 503
        assert json.loads(body)["status"] == "migrations pending"

        migrate = subprocess.run(
            [SUPPLY_ENTRYPOINT, "migrate"], env=env, capture_output=True, text=True, timeout=120
        )
        assert migrate.returncode == 0, migrate.stderr
        status, body = get(f"http://127.0.0.1:{port}/supply/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready"})
        stopped = stop(proc)
    finally:
        kill_quietly(proc)
    report_stop("supply after migrate SIGTERM", stopped)
    assert stopped.returncode == 0


def test_secrets_are_read_from_files(tmp_path: Path, pki_home: Path) -> None:
    password = tmp_path / "db-password"
    password.write_bytes(b"pw-from-file")  # no trailing newline: still read
    env = supply_env(tmp_path, pki_home, "127.0.0.1:1")
    env["SUPPLY_DB_PASSWORD_FILE"] = str(password)
    result = subprocess.run(
        [
            SUPPLY_ENTRYPOINT,
            "python3",
            "-c",
            "import os; print(os.environ['PGPASSWORD'], os.environ['SUPPLY_SECRET_KEY'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "pw-from-file a-test-secret-key-read-from-a-file-0123456789\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "supply-entrypoint: PGPASSWORD: no such file: {path}\n"),
        ("", "supply-entrypoint: PGPASSWORD: {path} is empty\n"),
        ("\nsecond line\n", "supply-entrypoint: PGPASSWORD: {path} is empty\n"),
    ],
)
def test_bad_secret_file_is_one_clear_line(
    tmp_path: Path, pki_home: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "db-password"
    if content is not None:
        path.write_text(content)
    env = supply_env(tmp_path, pki_home, "127.0.0.1:1")
    env["SUPPLY_DB_PASSWORD_FILE"] = str(path)
    result = subprocess.run(
        [SUPPLY_ENTRYPOINT, "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stderr) == (2, message.format(path=path))


# -------------------------------------------------------------------------------------- proxy


def test_proxy_starts_with_the_service_down_and_answers_503(
    tmp_path: Path, pki_home: Path, share: Path
) -> None:
    port, down = free_port(), free_port()
    run_dir = tmp_path / "run"
    env = proxy_env(run_dir, pki_home, share, port, f"127.0.0.1:{down}")
    proc = start([PROXY_ENTRYPOINT], env, tmp_path / "logs")
    context = https_context(pki_home / "ca" / "cert.pem")
    base = f"https://localhost:{port}"
    try:
        wait_until_answers(f"{base}/healthz", proc, context=context)
        assert program_of(proc.pid).startswith("nginx: master process")
        status, body = get(f"{base}/supply/healthz", context=context)
        assert status == 503
        assert body == (ROOT / "templates/errors/service-unavailable.html").read_text()
        status, body = get(f"{base}/", context=context)
        assert status == 200
        assert body == (ROOT / "nginx" / "index.html").read_text()
        assert healthcheck("proxy", env).returncode == 0
        stopped = stop(proc, signal.SIGTERM)
    finally:
        kill_quietly(proc)
    report_stop("proxy (nginx) SIGTERM", stopped)
    assert stopped.returncode == 0
    # Access log lines (with the client DN field) go to the container's stdout.
    access = (tmp_path / "logs" / "stdout").read_text()
    assert '"GET /supply/healthz HTTP/1.1" 503 ' in access
    assert 'verify=NONE dn="-"' in access


def test_proxy_config_is_what_pki_nginx_config_renders(
    tmp_path: Path, pki_home: Path, share: Path
) -> None:
    port, upstream = free_port(), f"127.0.0.1:{free_port()}"
    run_dir = tmp_path / "run"
    env = proxy_env(run_dir, pki_home, share, port, upstream)
    proc = start([PROXY_ENTRYPOINT], env, tmp_path / "logs")
    try:
        wait_for_path(run_dir / "nginx.pid", proc)
    finally:
        kill_quietly(proc)
    expected = subprocess.run(
        [
            tool("pki"),
            "nginx-config",
            "--server=localhost",
            f"--upstream={upstream}",
            f"--listen=127.0.0.1:{port}",
            f"--templates={share / 'templates'}",
            f"--web-root={share / 'web'}",
            f"--static-root={share / 'static'}",
            f"--runtime-dir={run_dir}",
        ],
        env=clean_env(PKI_HOME=str(pki_home)),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rendered = run_dir / "nginx.conf"
    assert rendered.read_text() == expected
    assert rendered.stat().st_mode & 0o777 == 0o600  # it holds the proxy secret


def test_proxy_stops_gracefully_on_sigquit(tmp_path: Path, pki_home: Path, share: Path) -> None:
    """SIGQUIT is the image's STOPSIGNAL (nginx's graceful stop); idle, it is prompt too."""
    port = free_port()
    env = proxy_env(tmp_path / "run", pki_home, share, port, f"127.0.0.1:{free_port()}")
    proc = start([PROXY_ENTRYPOINT], env, tmp_path / "logs")
    context = https_context(pki_home / "ca" / "cert.pem")
    try:
        wait_until_answers(f"https://localhost:{port}/healthz", proc, context=context)
        stopped = stop(proc, signal.SIGQUIT)
    finally:
        kill_quietly(proc)
    report_stop("proxy (nginx) SIGQUIT", stopped)
    assert stopped.returncode == 0


def test_proxy_without_server_name_is_one_clear_line(tmp_path: Path, pki_home: Path) -> None:
    env = clean_env(PKI_HOME=str(pki_home), PROXY_RUN_DIR=str(tmp_path / "run"))
    result = subprocess.run([PROXY_ENTRYPOINT], env=env, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (
        2,
        "proxy-entrypoint: PROXY_SERVER_NAME is not set: the name of a server certificate "
        "in the PKI home.\n",
    )


def test_proxy_with_unknown_server_stops_with_pkis_message(
    tmp_path: Path, pki_home: Path, share: Path
) -> None:
    env = proxy_env(tmp_path / "run", pki_home, share, free_port(), "127.0.0.1:9")
    env["PROXY_SERVER_NAME"] = "nowhere.example"
    result = subprocess.run([PROXY_ENTRYPOINT], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "server: No certificate for 'nowhere.example'; "
        "run `pki issue-server nowhere.example` first."
    )
    assert not (tmp_path / "run" / "nginx.pid").exists()


def _snapshot(home: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        str(p.relative_to(home)): (
            p.stat().st_mode,
            p.stat().st_mtime_ns,
            p.read_bytes() if p.is_file() else b"",
        )
        for p in sorted([home, *home.rglob("*")])
    }


def test_proxy_never_writes_to_the_pki_home(tmp_path: Path, pki_home: Path, share: Path) -> None:
    """The images mount the PKI home read-only: once the proxy secret exists (made on the host),
    starting and stopping the proxy changes nothing in it."""
    subprocess.run(
        [tool("pki"), "nginx-config", "--server=localhost", "--upstream=127.0.0.1:9"],
        env=clean_env(PKI_HOME=str(pki_home)),
        check=True,
        capture_output=True,
        timeout=60,
    )
    before = _snapshot(pki_home)
    port = free_port()
    env = proxy_env(tmp_path / "run", pki_home, share, port, f"127.0.0.1:{free_port()}")
    proc = start([PROXY_ENTRYPOINT], env, tmp_path / "logs")
    context = https_context(pki_home / "ca" / "cert.pem")
    try:
        wait_until_answers(f"https://localhost:{port}/healthz", proc, context=context)
        stopped = stop(proc)
    finally:
        kill_quietly(proc)
    assert stopped.returncode == 0
    assert _snapshot(pki_home) == before


# ------------------------------------------------------------------------- the compose wiring


def test_proxy_and_supply_meet_on_a_unix_socket(
    tmp_path: Path, short_dir: Path, pki_home: Path, share: Path
) -> None:
    """compose.yaml's layout: gunicorn on a socket in a shared volume, nginx proxying to it.
    The proxy starts first and answers 503; once the service is up, the same URL answers 200."""
    socket_path = short_dir / "gunicorn.sock"
    port = free_port()
    penv = proxy_env(tmp_path / "run", pki_home, share, port, f"unix:{socket_path}")
    senv = supply_env(tmp_path, pki_home, f"unix:{socket_path}")
    context = https_context(pki_home / "ca" / "cert.pem")
    url = f"https://localhost:{port}/supply/healthz"
    proxy = start([PROXY_ENTRYPOINT], penv, tmp_path / "proxy-logs")
    supply: subprocess.Popen[bytes] | None = None
    try:
        wait_until_answers(url, proxy, context=context, expect=503)
        supply = start([SUPPLY_ENTRYPOINT], senv, tmp_path / "supply-logs")
        wait_for_path(socket_path, supply)
        wait_until_answers(url, supply, context=context)
        status, body = get(url, context=context)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert healthcheck("supply", senv).returncode == 0
        assert healthcheck("proxy", penv).returncode == 0
        supply_stopped = stop(supply)
        proxy_stopped = stop(proxy)
    finally:
        for proc in (proxy, supply):
            if proc is not None:
                kill_quietly(proc)
    report_stop("supply on unix socket SIGTERM", supply_stopped)
    report_stop("proxy SIGTERM", proxy_stopped)
    assert (supply_stopped.returncode, proxy_stopped.returncode) == (0, 0)
    # gunicorn removes its socket on a clean stop: nothing stale is left in the shared volume.
    assert not socket_path.exists()


# ------------------------------------------------------------- the proxy image's install set

# Run as `python -c`: makes every installed distribution outside ALLOWED unimportable, then runs
# the `pki` command line. Distributions are matched by their top-level import names.
_ONLY_INSTALL_SET = """
import importlib.abc, json, re, sys
from importlib import metadata

allowed = set(json.loads(sys.argv.pop(1)))
blocked = {
    name
    for name, dists in metadata.packages_distributions().items()
    if not any(re.sub(r"[-_.]+", "-", d).lower() in allowed for d in dists)
}

class OnlyInstallSet(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"{fullname} is not in the install set", name=fullname)
        return None

sys.meta_path.insert(0, OnlyInstallSet())
command = sys.argv.pop(1)
if command == "--import":
    __import__(sys.argv[1])
elif command == "supply":
    from supply.manage import main
    main()
else:
    from pki.cli import main
    main()
"""


def _install_set(extras: frozenset[str] = frozenset()) -> set[str]:
    """Distribution names `pip install .` (plus `extras`) pulls in: pyproject.toml's requirements
    and, transitively, those of the installed packages."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        pending += [Requirement(r) for r in project["optional-dependencies"][extra]]
    found: set[str] = {canonicalize_name(project["name"])}  # pki and supply themselves
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        for spec in metadata.requires(name) or []:
            child = Requirement(spec)
            extras_asked = requirement.extras or {""}
            if child.marker is None or any(
                child.marker.evaluate({"extra": e}) for e in extras_asked
            ):
                pending.append(child)
    return found


def _run_with_only(
    allowed: set[str], *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("python"), "-c", _ONLY_INSTALL_SET, json.dumps(sorted(allowed)), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_proxy_install_set_renders_the_config_without_the_service(
    tmp_path: Path, pki_home: Path, share: Path
) -> None:
    """The proxy image installs `pip install .` (no `service` extra): no Django, DRF, gunicorn or
    psycopg. `pki nginx-config` must render the same file with only that."""
    allowed = _install_set()
    assert "cryptography" in allowed
    assert not {"django", "djangorestframework", "gunicorn", "psycopg"} & allowed
    env = clean_env(PKI_HOME=str(pki_home))
    # The blocker is real: Django is installed here, yet cannot be imported under it.
    blocked = _run_with_only(allowed, "--import", "django", env=env)
    assert blocked.returncode == 1
    assert blocked.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: django is not in the install set"
    )

    args = [
        "nginx-config",
        "--server=localhost",
        "--upstream=unix:/run/supply/gunicorn.sock",
        f"--templates={share / 'templates'}",
        f"--web-root={share / 'web'}",
        f"--static-root={share / 'static'}",
        f"--runtime-dir={tmp_path / 'run'}",
    ]
    only = _run_with_only(allowed, "pki", *args, env=env)
    assert only.returncode == 0, only.stderr
    full = subprocess.run(
        [tool("pki"), *args], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert only.stdout == full.stdout
    assert "ssl_verify_client optional;" in only.stdout


def test_supply_without_the_service_extra_is_one_clear_line(pki_home: Path) -> None:
    result = _run_with_only(
        _install_set(), "supply", "migrate", env=clean_env(PKI_HOME=str(pki_home))
    )
    assert (result.returncode, result.stderr) == (
        1,
        "supply: the service is not installed here (Django is missing); "
        "install it with: pip install 'tactical-edge[service]'\n",
    )


def test_proxy_with_read_only_home_lacking_the_proxy_secret_says_what_to_do(
    short_dir: Path, pki_home: Path, share: Path
) -> None:
    """First installation without the host step that makes the proxy secret: the PKI home is
    read-only to the proxy (as mounted in compose and ECS), so pki could not make it there."""
    home = short_dir / "pki"
    shutil.copytree(pki_home, home, ignore=shutil.ignore_patterns("proxy-secret"))
    env = proxy_env(short_dir / "run", home, share, free_port(), "127.0.0.1:9")
    command = [PROXY_ENTRYPOINT]
    if os.geteuid() == 0:
        # root may write anywhere; run as nobody, to whom the root-owned home is read-only (the
        # run directory goes into short_dir, which is 1777 like /tmp). nobody may not reach the
        # checkout (a private home), so the script runs from a copy, as from the image.
        home.chmod(0o755)
        script = short_dir / "proxy-entrypoint.sh"
        shutil.copy(PROXY_ENTRYPOINT, script)
        script.chmod(0o755)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(script)]
    else:
        home.chmod(0o555)
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    finally:
        home.chmod(0o755)
    assert (result.returncode, result.stderr) == (
        2,
        f"proxy-entrypoint: no proxy secret in {home}, and it is read-only here; make it once "
        "on the host (docs/deploy.md: First installation; LOAD.md step 3).\n",
    )
    assert not (home / "proxy-secret").exists()
