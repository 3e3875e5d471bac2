"""Where the trust anchors live in a PKI home, and the registry that lists them (see
:mod:`pki.anchors` for what an anchor is and the operations on it). Kept apart so that
:mod:`pki.bundles` can rebuild nginx's files from the anchors' parts without the operations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from pki.errors import InputError, NotFoundError
from pki.files import atomic_write, make_dir
from pki.home import PkiHome, as_home

_REGISTRY_VERSION = 1


@dataclass(frozen=True)
class Anchor:
    """One trusted PKI and its identity rules, as ``trust/anchors.json`` keeps it."""

    name: str
    identity: str
    require_policies: tuple[str, ...] = ()
    crl_grace_days: int = 0
    default_role: str | None = None
    added: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["require_policies"] = list(self.require_policies)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Anchor:
        return cls(
            name=str(data["name"]),
            identity=str(data["identity"]),
            require_policies=tuple(str(p) for p in data.get("require_policies", ())),
            crl_grace_days=int(data.get("crl_grace_days", 0)),
            default_role=data.get("default_role") or None,
            added=str(data.get("added", "")),
        )


def trust_dir(home: PkiHome) -> Path:
    return home.root / "trust"


def registry_path(home: PkiHome) -> Path:
    return trust_dir(home) / "anchors.json"


def cas_path(home: PkiHome, name: str) -> Path:
    return trust_dir(home) / name / "cas.pem"


def crls_dir(home: PkiHome, name: str) -> Path:
    return trust_dir(home) / name / "crls"


def crl_bundle(home: PkiHome, name: str) -> Path:
    """An anchor's CRLs in one file, as the service reads them (possibly empty)."""
    return trust_dir(home) / name / "crls.pem"


def edge_trust(home: PkiHome) -> Path:
    """Every CA of every anchor, the local chain first: nginx's ``ssl_client_certificate``."""
    return home.ca_dir / "edge-trust.pem"


def edge_crls(home: PkiHome) -> Path:
    """Every CRL of every anchor: nginx's ``ssl_crl``."""
    return home.ca_dir / "edge-crls.pem"


def parse_registry(data: bytes) -> list[Anchor]:
    """The anchors of a ``trust/anchors.json``'s bytes (ValueError, KeyError or TypeError when
    it is not one)."""
    return [Anchor.from_json(a) for a in json.loads(data)["anchors"]]


def load(home: PkiHome | Path | str) -> list[Anchor]:
    """The anchors added to this home (``local`` is not among them), in the order added."""
    path = registry_path(as_home(home))
    if not path.is_file():
        return []
    try:
        return parse_registry(path.read_bytes())
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"trust: {path} cannot be read ({exc}); restore it from a backup (`pki restore`)."
        ) from None


def get(home: PkiHome | Path | str, name: str) -> Anchor:
    for anchor in load(home):
        if anchor.name == name:
            return anchor
    raise NotFoundError(f"trust: No anchor {name!r}; `pki trust list` shows the anchors.")


def save(home: PkiHome, anchors: Sequence[Anchor]) -> None:
    data = {"version": _REGISTRY_VERSION, "anchors": [a.to_json() for a in anchors]}
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    make_dir(trust_dir(home))
    atomic_write(registry_path(home), text.encode("utf-8"))


def load_cas(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes()) if path.is_file() else []


def write_edge_bundles(home: PkiHome, local_trust: bytes, local_crls: bytes) -> None:
    """nginx's two files: the local bundles' bytes, then every anchor's CAs and CRLs (rewritten
    only where they changed). Called by :func:`pki.bundles.write`, so every change to a local
    part (``pki crl``, ``pki import-crl``) reaches them too."""
    trust, crls = local_trust, local_crls
    outputs: list[tuple[Path, bytes]] = []
    for anchor in load(home):
        cas = cas_path(home, anchor.name)
        trust += cas.read_bytes() if cas.is_file() else b""
        directory = crls_dir(home, anchor.name)
        own = b"".join(
            part.read_bytes()
            for part in (sorted(directory.glob("*.pem")) if directory.is_dir() else [])
        )
        crls += own
        outputs.append((crl_bundle(home, anchor.name), own))
    outputs += [(edge_trust(home), trust), (edge_crls(home), crls)]
    for path, data in outputs:
        if not path.is_file() or path.read_bytes() != data:
            atomic_write(path, data)
