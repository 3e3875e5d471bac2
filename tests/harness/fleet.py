"""A fleet made by the ``pki`` library: an offline root and issuing CAs for sites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pki import profiles
from pki.ca import LoadedCA, init_ca
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


def forge_leaf(
    ca: LoadedCA,
    common_name: str,
    sans: Sequence[x509.GeneralName],
    profile: profiles.Profile = profiles.USER,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """What someone holding a site's key could sign by hand, past pki's own checks."""
    key = ec.generate_private_key(ec.SECP256R1())
    not_before, not_after = profiles.validity(30)
    cert = profiles.build(
        profile,
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
        public_key=key.public_key(),
        issuer=ca.issuer(),
        serial=x509.random_serial_number(),
        not_before=not_before,
        not_after=not_after,
        sans=sans,
    )
    return cert, key
