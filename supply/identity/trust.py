"""Is a client certificate acceptable? The service's own check, behind nginx's.

nginx verifies the chain at the handshake, but the service re-checks the certificate bytes it is
given (defence in depth; DESIGN.md "Identity"):

- signed by one of the trusted CA certificates (RFC 5280 section 6.1.3 (a)(1), one level: the
  trusted file holds the issuing CAs themselves);
- a leaf: basicConstraints CA:FALSE or absent (RFC 5280 section 4.2.1.9) — nginx accepts CA:TRUE;
- extendedKeyUsage contains id-kp-clientAuth (RFC 5280 section 4.2.1.12) — nginx accepts no EKU;
- now within notBefore..notAfter (RFC 5280 section 4.1.2.5);
- not on its CA's CRL (RFC 5280 section 5). nginx reads the CRL only at reload and resumed TLS
  sessions skip it, so this check is what makes a revocation reach every request.

Signature checks are cached by the certificate bytes for the current CA file; validity and the
CRL are checked on every request (a clock comparison and a set lookup).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from pki.certinfo import CertInfo, describe
from supply.identity.errors import LoginFailure
from supply.identity.watch import WatchedFile

_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.S)
_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Revocations:
    """One CA's CRL, reduced to what a request needs."""

    serials: frozenset[int]
    next_update: dt.datetime | None


def _parse_cas(data: bytes) -> tuple[x509.Certificate, ...]:
    cas = tuple(x509.load_pem_x509_certificates(data))
    if not cas:
        raise ValueError("no certificate in the trusted CA file")
    return cas


def _parse_crls(data: bytes) -> tuple[x509.CertificateRevocationList, ...]:
    crls = tuple(x509.load_pem_x509_crl(block) for block in _PEM_CRL.findall(data))
    if not crls:
        raise ValueError("no CRL in the CRL file")
    return crls


def _rejected(info: CertInfo | None, why: str) -> LoginFailure:
    return LoginFailure("rejected", f"certificate: {why}", info)


class TrustStore:
    """The trusted CAs and their CRLs, from files that are re-read when they change."""

    def __init__(self, ca_file: Path, crl_file: Path) -> None:
        self._cas = WatchedFile(ca_file, _parse_cas)
        self._crls = WatchedFile(crl_file, _parse_crls)
        self._crl_version: object = None
        self._revocations: dict[x509.Name, _Revocations] = {}
        self._verified: OrderedDict[tuple[str, object], tuple[CertInfo, x509.Name]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, pem: str, cert: x509.Certificate | None = None) -> CertInfo:
        """The facts of the certificate in ``pem`` if acceptable now; else raise LoginFailure."""
        try:
            cas = self._cas.get()
        except (OSError, ValueError) as exc:
            raise _rejected(None, f"The trusted CA file cannot be read ({exc}).") from exc
        key = (pem, self._cas.version)
        hit = self._verified.get(key)
        if hit is None:
            hit = self._verify_signature(pem, cert, cas)
            with self._lock:
                self._verified[key] = hit
                while len(self._verified) > _CACHE_SIZE:
                    self._verified.popitem(last=False)
        info, ca_subject = hit
        self._check_time(info)
        self._check_revocation(info, ca_subject, cas)
        return info

    def _verify_signature(
        self, pem: str, cert: x509.Certificate | None, cas: tuple[x509.Certificate, ...]
    ) -> tuple[CertInfo, x509.Name]:
        if cert is None:
            try:
                cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
            except (ValueError, UnicodeEncodeError) as exc:
                raise _rejected(None, "Not a PEM certificate.") from exc
        info = describe(cert)
        for ca in cas:
            if ca.subject != cert.issuer:
                continue
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            break
        else:
            raise _rejected(info, "Not issued by a trusted CA.")
        if info.is_ca:
            raise _rejected(info, "A CA certificate cannot log in (basicConstraints CA:TRUE).")
        if not info.client_auth:
            raise _rejected(info, "Not made for client authentication (no clientAuth EKU).")
        return info, ca.subject

    @staticmethod
    def _check_time(info: CertInfo) -> None:
        now = dt.datetime.now(dt.UTC)
        if now < info.not_before:
            raise _rejected(info, f"Not valid before {info.not_before:%Y-%m-%d %H:%M} UTC.")
        if now > info.not_after:
            raise _rejected(info, f"Expired on {info.not_after:%Y-%m-%d %H:%M} UTC.")

    def _check_revocation(
        self, info: CertInfo, ca_subject: x509.Name, cas: tuple[x509.Certificate, ...]
    ) -> None:
        try:
            crls = self._crls.get()
        except (OSError, ValueError) as exc:
            # Fail closed, as nginx does: without a CRL no revocation can be honoured.
            raise _rejected(info, f"The CRL cannot be read ({exc}).") from exc
        version = (self._crls.version, self._cas.version)
        if version != self._crl_version:
            with self._lock:
                self._revocations = _index_crls(crls, cas)
                self._crl_version = version
        revocations = self._revocations.get(ca_subject)
        if revocations is None:
            raise _rejected(info, "No valid CRL from its CA.")
        if revocations.next_update and revocations.next_update < dt.datetime.now(dt.UTC):
            raise _rejected(info, "The CRL of its CA has expired; run `pki crl`.")
        if int(info.serial, 16) in revocations.serials:
            raise _rejected(info, "Revoked.")


def _index_crls(
    crls: tuple[x509.CertificateRevocationList, ...], cas: tuple[x509.Certificate, ...]
) -> dict[x509.Name, _Revocations]:
    """Each CA's CRL, keeping only CRLs whose signature the CA verifies (RFC 5280 section 6.3.3)."""
    out: dict[x509.Name, _Revocations] = {}
    for crl in crls:
        for ca in cas:
            if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
                out[ca.subject] = _Revocations(
                    frozenset(r.serial_number for r in crl), crl.next_update_utc
                )
    return out
