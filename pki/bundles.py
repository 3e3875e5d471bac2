"""The two files nginx and the service read: every CA a client may chain through, every CRL.

``ca/trust.pem`` is this home's CA, the CAs above it (``ca/chain.pem``) and the peer issuing CAs
of the fleet (``ca/peers/``); ``ca/crls.pem`` is this CA's CRL and every imported one
(``ca/crls/``). nginx checks a CRL for every CA of a chain (it sets OpenSSL's CRL_CHECK_ALL), so
:func:`missing_crls` names each CA whose CRL is absent before a configuration is rendered.

The bundles are derived files: :func:`write` rebuilds both from their parts after every change to
one of them (``init-ca``, ``import-ca``, ``import-crl``, ``crl``), and with them nginx's
``ca/edge-trust.pem`` and ``ca/edge-crls.pem``, which add the other trust anchors
(:mod:`pki.anchors`).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pki import anchor_store
from pki.files import atomic_write
from pki.home import PkiHome


def key_id(cert: x509.Certificate) -> str:
    """The file name of a CA's parts: its subject key identifier in upper-case hex."""
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return ski.digest.hex().upper()


def _read_certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes()) if path.is_file() else []


def upper_chain(home: PkiHome) -> list[x509.Certificate]:
    """The CAs above this home's CA, its issuer first; empty for a root."""
    return _read_certs(home.chain)


def peers(home: PkiHome) -> list[x509.Certificate]:
    if not home.peers_dir.is_dir():
        return []
    return [c for p in sorted(home.peers_dir.glob("*.pem")) for c in _read_certs(p)]


def trusted(home: PkiHome) -> list[x509.Certificate]:
    """This home's CA, its chain and its peers, in that order."""
    return [*_read_certs(home.ca_cert), *upper_chain(home), *peers(home)]


def imported_crls(home: PkiHome) -> list[Path]:
    return sorted(home.crls_dir.glob("*.pem")) if home.crls_dir.is_dir() else []


def crl_parts(home: PkiHome) -> list[Path]:
    """The files of ``ca/crls.pem``: this CA's CRL, then every imported one."""
    return [home.crl, *imported_crls(home)]


def crl_path(home: PkiHome, ca: x509.Certificate) -> Path:
    return home.crls_dir / f"{key_id(ca)}.pem"


def missing_crls(home: PkiHome) -> list[x509.Certificate]:
    """The CAs of the trust bundle (other than this home's own) that have no imported CRL."""
    return [ca for ca in [*upper_chain(home), *peers(home)] if not crl_path(home, ca).is_file()]


def write(home: PkiHome) -> None:
    """Rebuild ``ca/trust.pem`` and ``ca/crls.pem`` from their parts, where they changed.

    An unchanged bundle is not rewritten: the proxy renders its configuration from a home it may
    not write to, and readers that watch the files reload only on a real change."""
    trust = b"".join(c.public_bytes(Encoding.PEM) for c in trusted(home))
    crls = b"".join(p.read_bytes() for p in crl_parts(home) if p.is_file())
    for path, data in ((home.trust_bundle, trust), (home.crl_bundle, crls)):
        if not path.is_file() or path.read_bytes() != data:
            atomic_write(path, data)
    anchor_store.write_edge_bundles(home, trust, crls)
