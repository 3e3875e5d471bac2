"""Revoking certificates, and signing, writing and checking the CRL (RFC 5280 section 5).

Revoking only marks the index row (no passphrase needed, so a clerk can record it at once); the
next CRL publishes it. Signing takes the issuer (``profiles.Issuer``: the CA's name, key and SKI),
so this module needs nothing of ``pki.ca``, which loads the CA and calls ``publish``.

nginx reads ``ca/crl.pem`` at start and reload, and once the CRL is past its nextUpdate it rejects
*every* client certificate. Sites stay disconnected for weeks, so the default lifetime is 30 days
and ``crl_status`` reports a CRL within 7 days of nextUpdate so the CLI can warn loudly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pki import audit, bundles
from pki.certinfo import load_pem, serial_hex
from pki.errors import CertificateError, InputError
from pki.files import atomic_write
from pki.home import PkiHome, as_home
from pki.index import Index, IndexRow
from pki.inventory import find
from pki.keys import signature_hash
from pki.profiles import Issuer

DEFAULT_CRL_DAYS = 30
MAX_CRL_DAYS = 366
WARN_WITHIN = dt.timedelta(days=7)

# RFC 5280 5.3.1 reason names (certificateHold and removeFromCRL are left out: this CA never
# un-revokes, and removeFromCRL belongs to delta CRLs).
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "cACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
    "aACompromise": x509.ReasonFlags.aa_compromise,
}


def load_crl(data: bytes, what: str = "CRL") -> x509.CertificateRevocationList:
    """A CRL given as PEM or DER; ``what`` names it in the refusal (``what: Not a CRL (...).``)."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise CertificateError(f"{what}: Not a CRL ({exc}).") from None


def crl_number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


def reason_name(text: str) -> str:
    """The RFC 5280 spelling of a reason given in any case."""
    for name in REASONS:
        if name.lower() == text.strip().lower():
            return name
    raise InputError(f"reason: Unknown reason {text!r}; choose one of {', '.join(REASONS)}.")


def check_crl_days(days: int | None) -> int:
    value = DEFAULT_CRL_DAYS if days is None else days
    if not 1 <= value <= MAX_CRL_DAYS:
        raise InputError(f"days: A CRL lasts 1 to {MAX_CRL_DAYS} days, not {value}.")
    return value


@dataclass(frozen=True)
class CrlInfo:
    path: Path
    number: int
    last_update: dt.datetime
    next_update: dt.datetime
    revoked: int


def revoke(home: PkiHome | Path | str, ident: str, reason: str) -> IndexRow:
    """Mark a certificate revoked in the index; it is published by the next CRL.

    Revoking needs no passphrase (a clerk can record it at once); signing the CRL does.
    """
    h = as_home(home)
    name = reason_name(reason)
    row = find(h, ident)
    if row.kind == "ca" and row.serial == _own_serial(h):
        raise InputError("ID: The CA cannot revoke itself; retire the whole PKI home instead.")
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with h.index() as index, index.write():
        current = index.get(row.serial)
        assert current is not None  # rows are never deleted
        if current.status == "revoked":
            raise InputError(
                f"ID: {row.serial} is already revoked ({current.reason}, "
                f"{current.revoked_at:%Y-%m-%d})."
            )
        index.mark_revoked(row.serial, at, name)
        revoked = index.get(row.serial)
        assert revoked is not None
        event = audit.Event("revoke", (row.serial,), (row.subject_dn,), {"reason": name})
        audit.record(h, index, event)
        return revoked


def _own_serial(h: PkiHome) -> str | None:
    try:
        return serial_hex(load_pem(h.ca_cert.read_bytes()).serial_number)
    except (OSError, CertificateError):
        return None


def publish(h: PkiHome, issuer: Issuer, index: Index, *, days: int | None) -> CrlInfo:
    """Sign a CRL of every revoked certificate and write it (inside an index write transaction).

    The caller holds ``h.lock()`` so CRL numbers grow in the order the files are written.
    """
    lifetime = check_crl_days(days)
    number = index.next_counter("crl_number")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.name)
        .last_update(now)
        .next_update(now + dt.timedelta(days=lifetime))
        # 5.2.1 AKI and 5.2.3 CRL number are MUST for conforming CRL issuers.
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer.ski),
            critical=False,
        )
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    rows = index.rows("WHERE status = 'revoked'")
    for row in rows:
        assert row.revoked_at is not None and row.reason is not None
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(row.serial, 16))
            .revocation_date(row.revoked_at)
        )
        # 5.3.1: the reason code extension SHOULD be absent rather than say "unspecified".
        if row.reason != "unspecified":
            entry = entry.add_extension(x509.CRLReason(REASONS[row.reason]), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    signed = builder.sign(issuer.key, signature_hash(issuer.key))
    atomic_write(h.crl, signed.public_bytes(Encoding.PEM))
    return CrlInfo(h.crl, number, now, now + dt.timedelta(days=lifetime), len(rows))


@dataclass(frozen=True)
class CrlStatus:
    next_update: dt.datetime
    expired: bool
    expiring: bool  # within WARN_WITHIN of nextUpdate
    issuer_dn: str | None = None  # set for an imported CRL (the root's, a peer's)

    def warning(self) -> str | None:
        """A loud one-line warning for the terminal, or None when the CRL is fresh."""
        when = self.next_update.strftime("%Y-%m-%d %H:%M UTC")
        if self.issuer_dn is not None:
            verb = "expired" if self.expired else "expires"
            now = "now rejects" if self.expired else "then rejects"
            if self.expired or self.expiring:
                return (
                    f"WARNING: the CRL of {self.issuer_dn} {verb} at {when}; nginx {now} EVERY "
                    "client certificate. Carry a fresh one from its CA's host, run "
                    "`pki import-crl FILE` and reload nginx."
                )
            return None
        if self.expired:
            return (
                f"WARNING: the CRL expired at {when}; nginx now rejects EVERY client "
                "certificate. Run `pki crl` and reload nginx."
            )
        if self.expiring:
            return (
                f"WARNING: the CRL expires at {when}; after that nginx rejects EVERY client "
                "certificate. Run `pki crl` and reload nginx before then."
            )
        return None


def crl_status(home: PkiHome | Path | str, now: dt.datetime | None = None) -> CrlStatus | None:
    """Freshness of ``ca/crl.pem``; None when the home has no CRL (no CA)."""
    h = as_home(home)
    try:
        data = h.crl.read_bytes()
    except FileNotFoundError:
        return None
    try:
        crl = x509.load_pem_x509_crl(data)
    except ValueError:
        raise CertificateError(f"CRL: {h.crl} is not a PEM CRL; run `pki crl`.") from None
    return _status(crl, now, None)


def _status(
    crl: x509.CertificateRevocationList, now: dt.datetime | None, issuer_dn: str | None
) -> CrlStatus | None:
    next_update = crl.next_update_utc
    if next_update is None:  # RFC 5280 5.1.2.5: conforming issuers always set it
        return None
    moment = now or dt.datetime.now(dt.UTC)
    expiring = next_update - moment <= WARN_WITHIN
    return CrlStatus(next_update, next_update <= moment, expiring, issuer_dn)


def imported_statuses(
    home: PkiHome | Path | str, now: dt.datetime | None = None
) -> list[CrlStatus]:
    """Freshness of every imported CRL (``ca/crls/``: the root's, peers')."""
    out = []
    for path in bundles.imported_crls(as_home(home)):
        crl = x509.load_pem_x509_crl(path.read_bytes())
        status = _status(crl, now, crl.issuer.rfc4514_string())
        if status is not None:
            out.append(status)
    return out
