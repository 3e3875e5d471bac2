"""The PKI home on disk: its layout, a process lock, and the way into its index.

Layout (docs/CONTRACTS.md): ``ca/cert.pem``, ``ca/key.pem`` (encrypted), ``ca/crl.pem``; for an
issuing CA ``ca/request.pem`` (while pending) and ``ca/chain.pem`` (the CAs above it); CAs and
CRLs of the fleet in ``ca/peers/`` and ``ca/crls/``; the bundles nginx and the service read,
``ca/trust.pem`` and ``ca/crls.pem``; ``index.sqlite3``, ``log.jsonl`` (the audit log),
``issued/<SERIAL>.pem``, ``servers/<NAME>/``, ``users/<Name>-<SERIAL>.p12``, ``proxy-secret``.
Directories are 0700 and every file is written 0600 (certificates too: the home is private; copies
that must be world-readable are made by whoever deploys them).

Consistency rules:
- every file is written with ``pki.files.atomic_write`` (temp file, fsync, rename, fsync of the
  directory), so a reader sees the old or the new file, never half of one;
- the index (``pki.index``) is SQLite; its writers hold SQLite's write lock, so concurrent
  processes never reuse a serial; operations that must not interleave at all (creating the CA,
  numbering and writing a CRL) also hold an exclusive ``flock`` on ``.lock``.

This module imports no cryptography: the supply service and the CLI import it cheaply.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pki.errors import NoCAError
from pki.files import FILE_MODE, flock_within, make_dir
from pki.index import Index


def default_home() -> Path:
    """$PKI_HOME, else $XDG_DATA_HOME/tactical-edge/pki, else ~/.local/share/tactical-edge/pki."""
    env = os.environ.get("PKI_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(xdg).expanduser() / "tactical-edge" / "pki"


@dataclass(frozen=True)
class PkiHome:
    """The paths of one PKI home. Cheap to build; nothing touches the disk until asked."""

    root: Path

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "cert.pem"

    @property
    def ca_key(self) -> Path:
        return self.ca_dir / "key.pem"

    @property
    def crl(self) -> Path:
        return self.ca_dir / "crl.pem"

    @property
    def request(self) -> Path:
        """The pending issuing CA's CSR (present only until ``pki import-ca``)."""
        return self.ca_dir / "request.pem"

    @property
    def chain(self) -> Path:
        """The CA certificates above this home's CA, its issuer first (absent in a root home)."""
        return self.ca_dir / "chain.pem"

    @property
    def peers_dir(self) -> Path:
        """Other issuing CAs of the fleet whose users may log in here."""
        return self.ca_dir / "peers"

    @property
    def crls_dir(self) -> Path:
        """CRLs of the CAs above this one and of its peers, by the CA's key identifier."""
        return self.ca_dir / "crls"

    @property
    def trust_bundle(self) -> Path:
        """Every CA a client certificate may chain through: nginx's and the service's trust."""
        return self.ca_dir / "trust.pem"

    @property
    def crl_bundle(self) -> Path:
        """This CA's CRL and every imported one: nginx's ``ssl_crl`` and the service's."""
        return self.ca_dir / "crls.pem"

    @property
    def index_path(self) -> Path:
        return self.root / "index.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def issued_dir(self) -> Path:
        return self.root / "issued"

    @property
    def users_dir(self) -> Path:
        return self.root / "users"

    @property
    def proxy_secret(self) -> Path:
        return self.root / "proxy-secret"

    def issued_cert(self, serial: str) -> Path:
        return self.issued_dir / f"{serial}.pem"

    def server_dir(self, name: str) -> Path:
        return self.root / "servers" / name

    def release_dir(self, name: str) -> Path:
        """A release signer's certificate, chain and encrypted key (pki release issue)."""
        return self.root / "releases" / name

    def user_p12(self, serial: str, full_name: str) -> Path:
        return self.users_dir / p12_file_name(full_name, serial)

    def has_ca(self) -> bool:
        return self.ca_cert.exists()

    def is_pending(self) -> bool:
        return self.request.exists() and not self.ca_cert.exists()

    def require_ca(self) -> None:
        if self.is_pending():
            raise NoCAError(
                "CA: This home's issuing CA is pending; import its certificate with "
                "`pki import-ca CERT --root ROOT`."
            )
        if not self.ca_cert.exists():
            raise NoCAError(f"CA: No CA in {self.root}; create one with `pki init-ca`.")

    def prepare(self) -> None:
        """Create the directory tree (0700)."""
        for d in (self.root, self.ca_dir, self.issued_dir, self.users_dir):
            make_dir(d)

    def index(self) -> Index:
        self.prepare()
        return Index(self.index_path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock over the whole home (CA creation, CRL numbering and writing)."""
        self.prepare()
        path = self.root / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            flock_within(fd, path)
            yield
        finally:
            os.close(fd)  # closing releases the flock


_UNSAFE = re.compile(r"[^\w.-]+")


def p12_file_name(full_name: str, serial: str) -> str:
    """``Doe_Jane-3F2A....p12``: the person's name, for whoever hands the files out, and the
    serial, which is unique (letters of any script kept; separators and the rest become ``_``)."""
    readable = _UNSAFE.sub("_", full_name).strip("_.")[:48].rstrip("_.") or "user"
    return f"{readable}-{serial}.p12"


def as_home(home: PkiHome | Path | str) -> PkiHome:
    """Accept a PkiHome or a path, so library callers can pass either."""
    if isinstance(home, PkiHome):
        return home
    return PkiHome(Path(home).expanduser())
