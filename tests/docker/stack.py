"""The shipped compose stack in the real engine: a PKI home made by `pki`, the secrets as files,
an env file as docs/deploy.md describes, and `docker compose up` of docker/compose.yaml with the
proxy's port published on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.docker.engine import APP_UID, Compose, wait_for
from tests.harness.clients import Reply, curl
from tests.harness.pki_site import PkiSite, UserCert

SERVER_NAME = "localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def chown_tree(path: Path, uid: int = APP_UID) -> None:
    """The PKI home belongs to the containers' user (TE_UID), as on a site."""
    os.chown(path, uid, uid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


@dataclass
class ComposeStack:
    root: Path
    tag: str
    docker_host: str | None = None
    fleet_root: Path | None = None  # a site under this fleet root, else a CA of its own
    compose_file: Path | None = None  # default: the repository's docker/compose.yaml
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.pki = PkiSite(self.root, server_name=SERVER_NAME, fleet_root=self.fleet_root)
        (self.pki.home / "proxy-secret").write_text(secrets.token_hex(32) + "\n")
        os.chmod(self.pki.home / "proxy-secret", 0o600)
        chown_tree(self.pki.home)
        self.secrets = self.root / "secrets"
        self.secrets.mkdir(mode=0o700)
        for name, size in (("db-password", 32), ("django-secret-key", 50)):
            (self.secrets / name).write_text(secrets.token_hex(size) + "\n")
            os.chmod(self.secrets / name, 0o444)
        self.env_file = self.root / "site.env"
        self.write_env(self.tag)
        project = f"te-{self.root.name[-12:].lower().replace('_', '-')}-{secrets.token_hex(3)}"
        self.compose = Compose(project, self.env_file, docker_host=self.docker_host)
        if self.compose_file is not None:
            self.compose.compose_file = self.compose_file

    def write_env(self, tag: str, **extra: str) -> None:
        self.tag = tag
        values = {
            "TE_SERVER_NAME": SERVER_NAME,
            "TE_PKI_HOME": str(self.pki.home),
            "TE_SECRETS_DIR": str(self.secrets),
            "TE_UID": str(APP_UID),
            "TE_GID": str(APP_UID),
            "TE_HTTPS_PORT": str(self.port),
            "TE_LISTEN_ADDRESS": "127.0.0.1",
            "TE_VERSION": tag,
            **extra,
        }
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))

    @property
    def base_url(self) -> str:
        return f"https://{SERVER_NAME}:{self.port}"

    def up(self) -> None:
        self.compose("up", "--detach", "--no-build", timeout=300)
        self.wait_ready()

    def wait_ready(self, timeout: float = 120.0) -> None:
        try:
            wait_for(lambda: self.status("/supply/readyz") == 200, "readyz 200", timeout)
        except AssertionError as exc:
            ps = self.compose("ps", "--all", check=False).stdout
            logs = self.compose("logs", "--tail", "15", check=False)
            raise AssertionError(f"{exc}\n{ps}\n{logs.stdout}{logs.stderr}") from None

    def status(self, path: str) -> int | None:
        try:
            return self.curl(path).status
        except RuntimeError:  # no answer yet (the proxy is starting)
            return None

    def curl(
        self, path: str, user: UserCert | None = None, *, method: str = "GET", body: Any = None
    ) -> Reply:
        headers = {"Origin": self.base_url} if method != "GET" else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return curl(
            self.base_url + path,
            ca=self.pki.ca_cert,
            user=user,
            method=method,
            headers=headers,
            data=None if body is None else json.dumps(body),
            resolve=f"{SERVER_NAME}:{self.port}:127.0.0.1",
        )

    def new_user(self, name: str, *roles: str) -> UserCert:
        """A .p12 user from `pki`, granted `roles` by `supply grant` in a one-off container."""
        user = self.pki.issue_user(name)
        chown_tree(self.pki.home)
        public = self.root / f"{user.serial}.pem"
        shutil.copyfile(user.cert_pem, public)
        os.chmod(public, 0o644)
        role_args = [a for r in roles for a in ("--role", r)]
        self.compose.run(
            "migrate",
            "supply",
            "grant",
            "--cert",
            "/tmp/user.pem",
            *role_args,
            volumes=[f"{public}:/tmp/user.pem:ro"],
        )
        return user

    def stock(self, user: UserCert, nsn: str, location: str) -> int:
        reply = self.curl(f"/supply/api/stock/?nsn={nsn}&page_size=100", user)
        assert reply.status == 200, reply.body
        rows = reply.json()["results"]
        return sum(r["on_hand"] for r in rows if r["location"] == location)

    def ledger(self, user: UserCert) -> list[dict[str, Any]]:
        reply = self.curl("/supply/api/transactions/?page_size=100", user)
        assert reply.status == 200, reply.body
        rows: list[dict[str, Any]] = reply.json()["results"]
        return rows

    def stop_times(self) -> dict[str, tuple[float, int]]:
        """`docker compose stop` one service at a time: seconds to exit, and the exit code
        (137 would mean the engine had to SIGKILL it after the grace period)."""
        from tests.docker.engine import docker

        times: dict[str, tuple[float, int]] = {}
        for service in ("proxy", "supply", "db"):
            start = time.monotonic()
            self.compose("stop", service)
            seconds = time.monotonic() - start
            code = docker(
                "inspect", "--format", "{{.State.ExitCode}}", self.compose.container(service)
            )
            times[service] = (seconds, int(code.stdout))
        return times
