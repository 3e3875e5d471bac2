"""The release signer: a code-signing certificate issued by a CA home (the fleet root) and its
encrypted key, kept in ``releases/<NAME>/``, and signatures made with it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from pki import keys, names, profiles
from pki.ca import load_ca
from pki.certinfo import CertInfo, describe
from pki.errors import InputError, ReleaseError
from pki.files import read_file
from pki.home import PkiHome, as_home
from pki.issue import sign_and_record

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")


@dataclass(frozen=True)
class IssuedRelease:
    info: CertInfo
    directory: Path  # cert.pem, chain.pem (the signer and the CAs above it), key.pem (encrypted)


@dataclass(frozen=True)
class Signer:
    key: keys.PrivateKey
    cert: x509.Certificate
    chain_pem: bytes  # the signer's certificate, then the CAs up to (not including) the root

    def sign(self, data: bytes) -> bytes:
        return sign_bytes(self.key, data)


def sign_bytes(key: keys.PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(keys.signature_hash(key)))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise ReleaseError("signer: The release key is neither EC nor RSA.")


def issue_release(
    home: PkiHome | Path | str,
    name: str,
    *,
    passphrase: bytes,
    key_passphrase: bytes,
    days: int | None = None,
    key_type: str = keys.DEFAULT_KEY_TYPE,
) -> IssuedRelease:
    """Issue a release certificate ``CN=<name>`` (EKU codeSigning) with this home's CA.

    The key is encrypted with ``key_passphrase`` (not the CA's): it travels to the machine that
    builds and signs bundles, while the CA key stays with the root."""
    if not _NAME.fullmatch(name):
        raise InputError(
            f"name: {name!r} is not a release signer name; use letters, digits, space, . _ -."
        )
    keys.check_secret(key_passphrase, "release key passphrase")
    h = as_home(home)
    lifetime = profiles.check_days("release", days)
    ca = load_ca(h, passphrase)
    directory = h.release_dir(name)
    if (directory / "cert.pem").exists():
        raise InputError(f"name: A release signer {name!r} exists in {directory}; choose another.")
    kt = keys.key_type(key_type)
    key = kt.generate()

    def artifacts(cert: x509.Certificate) -> list[tuple[Path, bytes, bool]]:
        pem = cert.public_bytes(Encoding.PEM)
        above = [c for c in (ca.cert, *ca.chain) if not _self_signed(c)]  # the root stays out
        chain = pem + b"".join(c.public_bytes(Encoding.PEM) for c in above)
        return [
            (directory / "key.pem", keys.encrypted_pem(key, key_passphrase), False),
            (directory / "cert.pem", pem, False),
            (directory / "chain.pem", chain, False),
        ]

    cert, _, _ = sign_and_record(
        h,
        ca,
        profile=profiles.RELEASE,
        subject=names.subject(name, org=names.organization(ca.cert.subject)),
        public_key=key.public_key(),
        sans=[],
        days=lifetime,
        name=name,
        artifacts=artifacts,
    )
    return IssuedRelease(describe(cert), directory)


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def load_signer(directory: Path, key_passphrase: bytes) -> Signer:
    """The signer kept in ``directory`` (what ``issue_release`` wrote)."""
    key = keys.load_encrypted_pem(
        read_file(directory / "key.pem", "release key"), key_passphrase, "release key"
    )
    chain_pem = read_file(directory / "chain.pem", "release chain")
    cert = x509.load_pem_x509_certificate(read_file(directory / "cert.pem", "release cert"))
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        raise ReleaseError(f"signer: The key in {directory} does not belong to its certificate.")
    return Signer(key, cert, chain_pem)
