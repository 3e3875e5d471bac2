"""Certificate profiles (RFC 5280 section 4.2) as data, applied by one builder.

- root CA: basicConstraints critical CA:TRUE with pathLen 1 (4.2.1.9: it signs issuing CAs, which
  sign only leaves; it may also sign leaves itself, for a single box), keyUsage critical
  keyCertSign + cRLSign (4.2.1.3), SKI (4.2.1.2, MUST for CAs); AKI equal to its SKI.
- issuing CA: the same with pathLen 0 and, unless the root's operator says otherwise, a critical
  nameConstraints extension (4.2.1.10: MUST be critical) limiting the names it may certify.
- server / user: basicConstraints critical CA:FALSE, keyUsage critical digitalSignature (plus
  keyEncipherment for RSA keys, which TLS 1.2 RSA key exchange still uses), EKU serverAuth or
  clientAuth (plus emailProtection when the user has an email), SKI, AKI (4.2.1.1, MUST for
  non-self-signed), SAN.
Signatures are SHA-256 (SHA-384 for a P-384 CA key). notBefore is backdated a little so a client
whose clock runs slow, common at disconnected sites, does not reject a fresh certificate; the
validity period is counted from that notBefore so it stays within the browsers' limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki.errors import InputError
from pki.keys import PrivateKey, PublicKey, signature_hash

BACKDATE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Profile:
    kind: str
    is_ca: bool
    ekus: tuple[x509.ObjectIdentifier, ...] = ()
    path_length: int | None = None  # for CAs: how many CAs may follow below


CA = Profile("ca", is_ca=True, path_length=1)
ISSUING_CA = Profile("ca", is_ca=True, path_length=0)
SERVER = Profile("server", is_ca=False, ekus=(ExtendedKeyUsageOID.SERVER_AUTH,))
USER = Profile("user", is_ca=False, ekus=(ExtendedKeyUsageOID.CLIENT_AUTH,))
# Signs the manifests of offline update bundles (pki/release): codeSigning only (RFC 5280
# 4.2.1.12), so a release key can neither log in nor serve TLS.
RELEASE = Profile("release", is_ca=False, ekus=(ExtendedKeyUsageOID.CODE_SIGNING,))
USER_WITH_EMAIL = Profile(
    "user",
    is_ca=False,
    ekus=(ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION),
)


def _key_usage(profile: Profile, public_key: PublicKey) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not profile.is_ca,
        content_commitment=False,
        key_encipherment=not profile.is_ca and isinstance(public_key, rsa.RSAPublicKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=profile.is_ca,
        crl_sign=profile.is_ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class Issuer:
    """Who signs: the CA's name, key and SKI (for a self-signed CA, the subject's own)."""

    name: x509.Name
    key: PrivateKey
    ski: x509.SubjectKeyIdentifier


def validity(days: int, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    not_before = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0) - BACKDATE
    return not_before, not_before + dt.timedelta(days=days)


def build(
    profile: Profile,
    *,
    subject: x509.Name,
    public_key: PublicKey,
    issuer: Issuer | None,
    serial: int,
    not_before: dt.datetime,
    not_after: dt.datetime,
    sans: Sequence[x509.GeneralName] = (),
    self_key: PrivateKey | None = None,
    name_constraints: x509.NameConstraints | None = None,
) -> x509.Certificate:
    """Build and sign one certificate. ``issuer=None`` means self-signed with ``self_key``."""
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    if issuer is None:
        if self_key is None:
            raise ValueError("a self-signed certificate needs self_key")
        issuer = Issuer(subject, self_key, ski)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.BasicConstraints(ca=profile.is_ca, path_length=profile.path_length),
            critical=True,
        )
        .add_extension(_key_usage(profile, public_key), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer.ski),
            critical=False,
        )
    )
    if name_constraints is not None:
        builder = builder.add_extension(name_constraints, critical=True)
    if profile.ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(profile.ekus)), critical=False)
    if sans:
        # RFC 5280 4.2.1.6: critical only when the subject is empty; ours never is.
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer.key, signature_hash(issuer.key))


# Limits on --days. Apple refuses TLS server certificates valid for more than 825 days even under
# a private root (support.apple.com/HT210176); 397 days is the CA/Browser Forum limit for public
# roots and the default here, so a server certificate is accepted everywhere without a warning.
DEFAULT_DAYS = {"ca": 3650, "issuing-ca": 1825, "server": 397, "user": 365, "release": 730}
MAX_DAYS = {"ca": 36500, "issuing-ca": 36500, "server": 825, "user": 3650, "release": 3650}


def check_days(kind: str, days: int | None) -> int:
    value = DEFAULT_DAYS[kind] if days is None else days
    if not 1 <= value <= MAX_DAYS[kind]:
        raise InputError(
            f"days: {kind.replace('-', ' ')} certificates last 1 to {MAX_DAYS[kind]} days, "
            f"not {value}."
        )
    return value
