"""One running edge: a PKI home, supply under gunicorn, nginx configured by ``pki nginx-config``."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.harness.clients import Reply, curl, https_client
from tests.harness.database import stack_database
from tests.harness.pki_site import BIN, PkiSite, UserCert
from tests.harness.processes import ChildError, Nginx, Supply, free_port

REPO = Path(__file__).resolve().parents[2]
_ATTEMPTS = 3  # a port picked free can be taken by a parallel worker before the child binds it


class EdgeStack:
    """Use :meth:`running` (a context manager) to get one; it stops everything on exit."""

    def __init__(self, root: Path, pki: PkiSite, env: dict[str, str], web_root: Path) -> None:
        self.root, self.pki, self.env, self.web_root = root, pki, env, web_root
        self.supply: Supply | None = None
        self.nginx: Nginx | None = None
        self.port = 0

    # --- life cycle ---------------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def running(
        cls,
        root: Path,
        *,
        web_root: Path | None = None,
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
        workers: int = 2,
        server_name: str = "localhost",
        unix_socket: bool = False,
        fleet_root: Path | None = None,
    ) -> Iterator[EdgeStack]:
        """Start PKI home, supply and nginx under ``root``; stop them (and drop the database).

        ``server_name`` is the name of the server certificate and of ``--server`` (clients reach
        it through curl's ``--resolve``); ``unix_socket`` binds gunicorn to a unix socket;
        ``fleet_root`` makes the site's CA an issuing CA under the fleet root kept there.
        """
        pki = PkiSite(root, server_name=server_name, fleet_root=fleet_root)
        if web_root is None:
            web_root = root / "web"
            web_root.mkdir()
            (web_root / "index.html").write_text("<!doctype html><title>Web shell</title>\n")
        with stack_database(root, database_url) as db_url:
            env = {
                **os.environ,
                "PKI_HOME": str(pki.home),
                "SUPPLY_DATA_DIR": str(root / "data"),
                "SUPPLY_SECRET_KEY": secrets.token_urlsafe(40),
                "SUPPLY_STATIC_ROOT": str(root / "static"),
                "DATABASE_URL": db_url,
                "SUPPLY_LOG_LEVEL": "WARNING",
                **(extra_env or {}),
            }
            stack = cls(root, pki, env, web_root)
            try:
                stack._start_supply(workers, unix_socket)
                stack._start_nginx()
                yield stack
            finally:
                stack.stop()

    def _start_supply(self, workers: int, unix_socket: bool) -> None:
        socket_path = self.root / "supply.sock" if unix_socket else None
        for attempt in range(_ATTEMPTS):
            try:
                self.supply = Supply(
                    self.root, self.env, free_port(), workers, socket_path=socket_path
                )
                return
            except ChildError:
                if attempt == _ATTEMPTS - 1:
                    raise

    def _start_nginx(self) -> None:
        assert self.supply is not None
        for attempt in range(_ATTEMPTS):
            self.port = free_port()
            prefix = self.root / f"nginx-{self.port}"
            prefix.mkdir()
            config = prefix / "nginx.conf"
            self.render_config(config, self.supply.bind)
            try:
                self.nginx = Nginx(prefix, config, self.port)
                return
            except ChildError:
                if attempt == _ATTEMPTS - 1:
                    raise

    def render_config(self, out: Path, upstream: str) -> subprocess.CompletedProcess[str]:
        """``pki nginx-config`` for this stack (the CLI, as an operator runs it)."""
        argv = ["nginx-config", "--server", self.pki.server_name]
        argv += ["--upstream", upstream, "--listen", f"127.0.0.1:{self.port}"]
        argv += ["--web-root", str(self.web_root), "--static-root", str(self.root / "static")]
        argv += ["--out", str(out)]
        if os.geteuid() == 0:
            # Root-started workers would switch to nobody, who cannot read pytest's 0700 dirs.
            argv += ["--user", "root"]
        return self.pki_command(*argv)

    def stop(self) -> None:
        for child in (self.nginx, self.supply):
            if child is not None:
                child.stop()

    # --- helpers for tests --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{self.pki.server_name}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def pki_command(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pki"), *args],
            env=self.pki.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def supply_command(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "supply"), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
            input=input,
        )

    def new_user(
        self,
        name: str,
        *,
        role: str | None = None,
        superuser: bool = False,
        legacy: bool = False,
        cli: bool = False,
    ) -> UserCert:
        """A user certificate from ``pki``, granted ``role`` (and/or superuser) by ``supply``."""
        user = (
            self.pki.issue_user_cli(name, legacy=legacy)
            if cli
            else self.pki.issue_user(name, legacy=legacy)
        )
        if role:
            self.supply_command("grant", "--cert", str(user.cert_pem), "--role", role)
        if superuser:
            self.supply_command("provision-admin", "--cert", str(user.cert_pem))
        return user

    def curl(self, path: str, user: UserCert | None = None, **kwargs: Any) -> Reply:
        return curl(
            self.url(path),
            ca=self.pki.ca_cert,
            user=user,
            resolve=f"{self.pki.server_name}:{self.port}:127.0.0.1",
            **kwargs,
        )

    def client(self, user: UserCert | None = None) -> Any:
        return https_client(self.base_url, self.pki.ca_cert, user)

    def direct(self, path: str, headers: dict[str, str], method: str = "GET") -> Reply:
        """A request straight to gunicorn, bypassing nginx (what an attacker on the host can do)."""
        import urllib.error
        import urllib.request

        assert self.supply is not None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.supply.port}{path}", headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return Reply(r.status, r.read().decode(), dict(r.headers))
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode(), dict(err.headers))

    @property
    def proxy_secret(self) -> str:
        return (self.pki.home / "proxy-secret").read_text().split("\n", 1)[0]
