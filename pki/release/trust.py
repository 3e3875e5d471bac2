"""Whether a bundle's signer is a release certificate under the site's trusted root, and whether
its signature covers the manifest: cryptography's X.509 path validation, with an end-entity
policy that asks for the codeSigning EKU instead of the web PKI's TLS purposes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from pki.errors import ReleaseError
from pki.files import read_file
from pki.home import PkiHome


@dataclass(frozen=True)
class VerifiedSigner:
    subject: str
    serial: str
    not_after: dt.datetime
    root: str  # the trusted root's subject


def _code_signing(
    policy: object, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None
) -> None:
    if eku is None or ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise ValueError("not a release certificate (no codeSigning EKU)")


_SIGNER_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _code_signing)
    .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, None)
)


def trusted_roots(home: PkiHome) -> list[x509.Certificate]:
    """The roots a site trusts for releases: the self-signed top of its CA chain (the fleet
    root), or its own CA when that is a root (a single box)."""
    found: list[x509.Certificate] = []
    for path in (home.chain, home.ca_cert):
        if path.exists():
            found += [
                c
                for c in x509.load_pem_x509_certificates(read_file(path, "CA chain"))
                if c.subject == c.issuer
            ]
    if not found:
        raise ReleaseError(
            f"trust: No root certificate in {home.root}; pass --trust FILE (the fleet root)."
        )
    return found


def load_roots(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(read_file(path, "trust"))
    except ValueError:
        raise ReleaseError(f"trust: {path} holds no PEM certificate.") from None


def verify(
    data: bytes,
    signature: bytes,
    chain_pem: bytes,
    roots: list[x509.Certificate],
    *,
    now: dt.datetime | None = None,
) -> VerifiedSigner:
    """The signer of ``data`` when its chain leads to one of ``roots`` and ``signature`` is its
    signature over ``data``; otherwise ReleaseError, one line naming what failed."""
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise ReleaseError("signer: The bundle's signer certificate is not PEM.") from None
    leaf, intermediates = chain[0], chain[1:]
    now = now or dt.datetime.now(dt.UTC)
    subject = leaf.subject.rfc4514_string()
    if now > leaf.not_valid_after_utc:
        raise ReleaseError(
            f"signer: {subject} expired on {leaf.not_valid_after_utc:%Y-%m-%d}; ask for a bundle "
            "signed with a current release certificate."
        )
    if now < leaf.not_valid_before_utc:
        raise ReleaseError(
            f"signer: {subject} is not valid before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC;"
            " check this host's clock."
        )
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise ReleaseError(
            f"signer: {subject} is not a release certificate (no codeSigning EKU); bundles are "
            "signed with one from `pki release issue`."
        )
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(now)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_SIGNER_POLICY
        )
        .build_client_verifier()
    )
    try:
        path = verifier.verify(leaf, intermediates).chain
    except VerificationError as exc:
        trusted = "; ".join(r.subject.rfc4514_string() for r in roots)
        raise ReleaseError(
            f"signer: {subject} does not chain to this site's trusted root ({trusted}): the bundle "
            f"is from another fleet or was re-signed ({exc})."
        ) from None
    _check_signature(leaf, data, signature)
    return VerifiedSigner(
        subject,
        f"{leaf.serial_number:X}",
        leaf.not_valid_after_utc,
        path[-1].subject.rfc4514_string(),
    )


def _check_signature(cert: x509.Certificate, data: bytes, signature: bytes) -> None:
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            digest = hashes.SHA384() if key.curve.key_size > 256 else hashes.SHA256()
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise ReleaseError("signer: The release key is neither EC nor RSA.")
    except InvalidSignature:
        raise ReleaseError(
            "signature: The bundle's manifest does not match its signature; it was altered."
        ) from None
