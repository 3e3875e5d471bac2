"""What a certificate says about its holder, in the one canonical form every part uses.

Subject and issuer DNs are rendered with ``cryptography``'s RFC 4514 serialisation of the
certificate's own encoded name (most specific RDN first, RFC 4514 section 2). Identity is always
derived from the certificate bytes, never from a DN string a proxy formatted: nginx's
``$ssl_client_s_dn`` escapes non-ASCII differently (see docs), so string DNs from elsewhere are only
for logs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki.errors import CertificateError


@dataclass(frozen=True, slots=True)
class CertInfo:
    """The facts of one certificate, as shown by ``pki show`` and used by the supply service."""

    subject_dn: str
    issuer_dn: str
    serial: str  # upper-case hex, no separators (as nginx's $ssl_client_serial)
    sha256: str  # upper-case hex, no separators
    not_before: dt.datetime
    not_after: dt.datetime
    sans: tuple[str, ...]  # "DNS:host", "IP:10.0.0.1", "email:a@b"
    is_ca: bool
    client_auth: bool
    server_auth: bool

    def days_left(self, now: dt.datetime | None = None) -> int:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).days


def serial_hex(serial: int) -> str:
    return format(serial, "X")


def fingerprint_sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex().upper()


def dn(name: x509.Name) -> str:
    """The canonical RFC 4514 form of a name."""
    return name.rfc4514_string()


UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
"""Microsoft's User Principal Name otherName: on DoD CAC / PIV cards, ``EDIPI@mil``."""


def der_utf8_string(value: bytes) -> str | None:
    """The text of a DER UTF8String (an otherName's value), or None for anything else.

    Written by hand: cryptography hands an otherName's value over as raw DER, and a UTF8String
    is one tag byte, a definite length (short or long form) and the bytes."""
    if len(value) < 2 or value[0] != 0x0C:
        return None
    length, start = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(value) < 2 + count:
            return None
        length, start = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    if len(value) != start + length:
        return None
    try:
        return value[start:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def upns(cert: x509.Certificate) -> list[str]:
    """Every UPN otherName of the certificate's SAN (undecodable ones as None are left out)."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    found = (der_utf8_string(o.value) for o in ext.get_values_for_type(x509.OtherName)
             if o.type_id == UPN_OID)  # fmt: skip
    return [u for u in found if u is not None]


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    out: list[str] = []
    for gn in ext:
        if isinstance(gn, x509.DNSName):
            out.append(f"DNS:{gn.value}")
        elif isinstance(gn, x509.IPAddress):
            out.append(f"IP:{gn.value}")
        elif isinstance(gn, x509.RFC822Name):
            out.append(f"email:{gn.value}")
        elif isinstance(gn, x509.OtherName) and gn.type_id == UPN_OID:
            out.append(f"UPN:{der_utf8_string(gn.value) or gn.value.hex()}")
        else:
            out.append(f"{type(gn).__name__}:{gn.value}")
    return tuple(out)


def _ekus(cert: x509.Certificate) -> frozenset[x509.ObjectIdentifier]:
    try:
        return frozenset(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return frozenset()


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def describe(cert: x509.Certificate) -> CertInfo:
    ekus = _ekus(cert)
    return CertInfo(
        subject_dn=dn(cert.subject),
        issuer_dn=dn(cert.issuer),
        serial=serial_hex(cert.serial_number),
        sha256=fingerprint_sha256(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sans=_sans(cert),
        is_ca=_is_ca(cert),
        client_auth=ExtendedKeyUsageOID.CLIENT_AUTH in ekus,
        server_auth=ExtendedKeyUsageOID.SERVER_AUTH in ekus,
    )


def load_pem(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise CertificateError(f"certificate: Not a PEM certificate ({exc}).") from exc
