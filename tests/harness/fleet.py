"""A fleet made by the ``pki`` library: an offline root and issuing CAs for sites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pki.ca import init_ca
from pki.fleet import import_ca, import_crl, init_issuing, read_request, sign_ca
from pki.home import PkiHome


@dataclass(frozen=True)
class Site:
    home: PkiHome
    ca_pem: Path  # the issuing CA's certificate as the root signed it
    serial: str  # its serial in the root's inventory


def make_root(path: Path, passphrase: bytes, name: str = "Fleet Root CA") -> PkiHome:
    root = PkiHome(path)
    init_ca(root, name=name, org="Fleet", country="US", passphrase=passphrase)
    return root


def make_site(
    root: PkiHome,
    path: Path,
    name: str,
    permit: Sequence[str],
    passphrase: bytes,
    *,
    import_root_crl: bool = True,
) -> Site:
    """A site home whose issuing CA the root signed with ``permit`` as its name constraints."""
    site = PkiHome(path)
    csr = path.with_name(f"{path.name}.csr")
    init_issuing(site, name=name, org="Fleet", permit=permit, csr_out=csr, passphrase=passphrase)
    signed = sign_ca(
        root, read_request(csr.read_bytes()), out=csr.with_suffix(".pem"), passphrase=passphrase
    )
    import_ca(site, signed.path.read_bytes(), root.ca_cert.read_bytes(), passphrase=passphrase)
    if import_root_crl:
        import_crl(site, root.crl.read_bytes())
    return Site(site, signed.path, signed.info.serial)
