"""A national PKI like the one behind DoD CAC / PIV cards, made by the tests with ``cryptography``:
a root, two identity CAs under it, and card certificates with a UPN SAN (``EDIPI@mil``), a
``LAST.FIRST.MIDDLE.EDIPI`` common name and a policy OID. Nothing here is pki's own code: this is
the other PKI a site trusts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.certinfo import UPN_OID

CARD_POLICY = "2.16.840.1.101.2.1.11.42"  # a PIV-like hardware policy (any OID serves a test)
SMARTCARD_LOGON = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.2")


def utf8_der(text: str) -> bytes:
    """A DER UTF8String: the encoding of a UPN otherName's value."""
    data = text.encode("utf-8")
    assert len(data) < 128
    return bytes([0x0C, len(data)]) + data


def gov_name(cn: str, org: str = "U.S. Government") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ski(key: CertificatePublicKeyTypes) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """digitalSignature, and for a CA keyCertSign and cRLSign."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class CA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    revoked: list[int] = field(default_factory=list)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(Encoding.PEM)

    def crl(self, *, next_update: dt.timedelta = dt.timedelta(days=7), number: int = 1) -> bytes:
        """A CRL of this CA; a negative ``next_update`` makes one that has expired already."""
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(days=30) if next_update < dt.timedelta(0) else now)
            .next_update(now + next_update)
            .add_extension(x509.CRLNumber(number), critical=False)
        )
        for serial in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - dt.timedelta(minutes=1))
                .build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(Encoding.PEM)


def ca_certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: CA | None,
    path_length: int | None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    signer_key: CertificateIssuerPrivateKeyTypes = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_ski(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    return builder.sign(signer_key, hashes.SHA256())


@dataclass
class NationalPki:
    root: CA
    ca1: CA
    ca2: CA

    @property
    def bundle(self) -> bytes:
        return self.root.pem + self.ca1.pem + self.ca2.pem

    def crls(self) -> list[bytes]:
        return [ca.crl() for ca in (self.root, self.ca1, self.ca2)]

    def write(self, directory: Path) -> tuple[Path, list[Path]]:
        """The bundle and the three CRLs as files, as they arrive on removable media."""
        directory.mkdir(parents=True, exist_ok=True)
        bundle = directory / "bundle.pem"
        bundle.write_bytes(self.bundle)
        crls = []
        for label, data in zip(("root", "ca1", "ca2"), self.crls(), strict=True):
            path = directory / f"{label}.crl"
            path.write_bytes(data)
            crls.append(path)
        return bundle, crls


def sub_ca(parent: CA, common_name: str) -> CA:
    """A CA one level further down (a PKI with three levels of CAs)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return CA(ca_certificate(gov_name(common_name), key, parent, 0), key)


def make_national_pki(label: str = "DoD") -> NationalPki:
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = CA(ca_certificate(gov_name(f"{label} Root CA 6"), root_key, None, 1), root_key)
    cas = []
    for number in (70, 71):
        key = ec.generate_private_key(ec.SECP256R1())
        cas.append(CA(ca_certificate(gov_name(f"{label} ID CA-{number}"), key, root, 0), key))
    return NationalPki(root, cas[0], cas[1])


def card_certificate(
    ca: CA,
    public_key: CertificatePublicKeyTypes,
    *,
    common_name: str,
    upn: str | None,
    email: str | None = None,
    policies: Sequence[str] = (CARD_POLICY,),
    valid: tuple[dt.timedelta, dt.timedelta] = (dt.timedelta(days=-1), dt.timedelta(days=365)),
) -> x509.Certificate:
    """A card's authentication certificate for ``public_key`` (made on the card)."""
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = []
    if upn is not None:
        sans.append(x509.OtherName(UPN_OID, utf8_der(upn)))
    if email is not None:
        sans.append(x509.RFC822Name(email))
    builder = (
        x509.CertificateBuilder()
        .subject_name(gov_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid[0])
        .not_valid_after(now + valid[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, SMARTCARD_LOGON]),
            critical=False,
        )
        .add_extension(_ski(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier(p), None) for p in policies]
            ),
            critical=False,
        )
    return builder.sign(ca.key, hashes.SHA256())


def software_card(
    ca: CA, common_name: str, upn: str | None, **kwargs: object
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A card certificate whose key is in memory (the SoftHSM tests keep theirs on a token)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = card_certificate(ca, key.public_key(), common_name=common_name, upn=upn, **kwargs)  # type: ignore[arg-type]
    return cert, key
