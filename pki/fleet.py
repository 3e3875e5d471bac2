"""The fleet hierarchy: an offline root signs one issuing CA per site (docs/ceremony.md).

The round trip, each step on its own host:

1. site: :func:`init_issuing` makes the issuing CA's key (encrypted like a root's) and a CSR;
   the home is *pending* (``ca/request.pem``, no ``ca/cert.pem``) and issues nothing;
2. root: :func:`read_request` shows what the CSR asks for, :func:`sign_ca` signs it
   (pathLen 0, name constraints) and records it in the root's inventory;
3. site: :func:`import_ca` checks the certificate is for the pending key and chains to the root,
   signs the site's first CRL, and from then on the site issues;
4. site: :func:`import_crl` keeps the root's CRL (and, with the peer's CA, another site's CRL),
   each verified against its CA, so nginx has a CRL for every CA of every chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pki import audit, bundles, constraints, crl, keys, profiles
from pki.ca import LoadedCA, ca_name, load_ca, load_ca_cert, refuse_existing
from pki.certinfo import describe, load_pem, serial_hex
from pki.errors import CertificateError, InputError, NoCAError
from pki.files import atomic_write, read_file
from pki.home import PkiHome, as_home
from pki.index import IndexRow
from pki.issue import sign_and_record


def public_key_sha256(key: CertificatePublicKeyTypes) -> str:
    """SHA-256 of the SubjectPublicKeyInfo: what the site reads out and the root compares."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    return digest.finalize().hex().upper()


@dataclass(frozen=True)
class PendingCA:
    subject_dn: str
    key_type: str
    key_sha256: str
    constraints: tuple[str, ...]
    request_path: Path
    csr_path: Path


def init_issuing(
    home: PkiHome | Path | str,
    *,
    name: str,
    org: str | None = None,
    country: str | None = None,
    key_type: str = keys.DEFAULT_KEY_TYPE,
    permit: Sequence[str] = (),
    exclude: Sequence[str] = (),
    csr_out: Path,
    passphrase: bytes,
) -> PendingCA:
    """A site's issuing CA key (encrypted with ``passphrase``) and its CSR, in ``csr_out`` and
    ``ca/request.pem``. The CSR asks for CA:TRUE pathLen 0 and the given name constraints."""
    h = as_home(home)
    kt = keys.key_type(key_type)
    subject = ca_name(name, org, country)
    wanted = constraints.build(permit, exclude)
    keys.check_secret(passphrase, "CA passphrase", keys.MIN_PKCS8_SECRET_LENGTH)
    if csr_out.exists():
        raise InputError(f"csr-out: {csr_out} exists already.")
    with h.lock():
        refuse_existing(h)
        key = kt.generate()
        builder = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(subject)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        )
        if wanted is not None:
            builder = builder.add_extension(wanted, critical=True)
        pem = builder.sign(key, keys.signature_hash(key)).public_bytes(Encoding.PEM)
        atomic_write(h.ca_key, keys.encrypted_pem(key, passphrase))
        atomic_write(h.request, pem)
        try:
            atomic_write(csr_out, pem, exclusive=True, mode=0o644)
        except FileExistsError:
            raise InputError(f"csr-out: {csr_out} exists already.") from None
        pending = PendingCA(
            subject.rfc4514_string(),
            kt.name,
            public_key_sha256(key.public_key()),
            tuple(constraints.lines(wanted)),
            h.request,
            csr_out,
        )
        details = {"issuing": True, "key_sha256": pending.key_sha256}
        with h.index() as index, index.write():
            event = audit.Event("init-ca", (), (pending.subject_dn,), details)
            audit.record(h, index, event)
    return pending


@dataclass(frozen=True)
class CARequest:
    """A CSR for an issuing CA as the root's operator must see it before signing."""

    csr: x509.CertificateSigningRequest
    subject_dn: str
    key_type: str
    key_sha256: str
    requested: x509.NameConstraints | None  # what the CSR asks for
    constraints: x509.NameConstraints | None  # what will be signed

    def lines(self) -> list[str]:
        return constraints.lines(self.constraints)


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except ValueError as exc:
        raise CertificateError(f"CSR: Not a certificate signing request ({exc}).") from None


def read_request(
    data: bytes,
    *,
    permit: Sequence[str] = (),
    exclude: Sequence[str] = (),
    unconstrained: bool = False,
) -> CARequest:
    """Check a CSR (its signature, key, subject) and settle the constraints to sign: the
    options when any are given, else what the CSR asks for. Nothing is signed here."""
    csr = load_csr(data)
    if not csr.is_signature_valid:
        raise CertificateError("CSR: Its signature does not verify; ask the site for a new one.")
    public_key = csr.public_key()
    key_type = keys.supported_key_type(public_key)
    if not csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME):
        raise CertificateError("CSR: Its subject has no common name (CN).")
    requested = constraints.of_request(csr)
    given = constraints.build(permit, exclude)
    chosen = given if given is not None else requested
    if unconstrained and given is not None:
        raise InputError("constraints: Give --permit/--exclude or --unconstrained, not both.")
    if unconstrained:
        chosen = None
    elif chosen is None:
        raise InputError(
            "constraints: The issuing CA would be unconstrained; give --permit (or --exclude), "
            "or pass --unconstrained to sign it anyway."
        )
    constraints.check_supported(chosen)
    subject = csr.subject.rfc4514_string()
    return CARequest(csr, subject, key_type, public_key_sha256(public_key), requested, chosen)


@dataclass(frozen=True)
class SignedCA:
    info: IndexRow
    path: Path
    constraints: tuple[str, ...]


def sign_ca(
    home: PkiHome | Path | str,
    request: CARequest,
    *,
    out: Path,
    days: int | None = None,
    passphrase: bytes,
) -> SignedCA:
    """Sign an issuing CA's certificate with this home's root and record it in the inventory."""
    h = as_home(home)
    lifetime = profiles.check_days("issuing-ca", days)
    if out.exists():
        raise InputError(f"out: {out} exists already.")
    root = load_ca(h, passphrase)
    _require_root(root)
    name = str(request.csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)
    _, row, _ = sign_and_record(
        h,
        root,
        profile=profiles.ISSUING_CA,
        subject=request.csr.subject,
        public_key=request.csr.public_key(),  # type: ignore[arg-type]
        sans=(),
        days=lifetime,
        name=name,
        artifacts=lambda cert: [(out, cert.public_bytes(Encoding.PEM), True)],
        name_constraints=request.constraints,
        event="sign-ca",
    )
    return SignedCA(row, out, tuple(constraints.lines(request.constraints)))


def _require_root(ca: LoadedCA) -> None:
    if not ca.is_root:
        raise InputError("CA: Only the fleet root signs issuing CAs; this home's CA is one.")
    bc = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    if bc.path_length is not None and bc.path_length < 1:
        raise InputError(
            "CA: This root was made with pathLen 0 and can sign only leaves; make a fleet root "
            "with this version's `pki init-ca` on the offline host."
        )


def _check_ca_cert(cert: x509.Certificate, issuer: x509.Certificate, what: str) -> None:
    """``cert`` is a CA certificate signed by ``issuer`` and valid now."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(
            f"{what}: It was not signed by {issuer.subject.rfc4514_string()}."
        ) from None
    if not describe(cert).is_ca:
        raise CertificateError(f"{what}: It is not a CA certificate (basicConstraints CA:FALSE).")
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CertificateError(
            f"{what}: It is valid {cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d}, not now."
        )


def import_ca(
    home: PkiHome | Path | str, cert_pem: bytes, root_pem: bytes, *, passphrase: bytes
) -> IndexRow:
    """Make a pending home an issuing CA: ``cert_pem`` must be for its key and signed by the
    self-signed ``root_pem``. Writes the chain, the first CRL and the bundles."""
    h = as_home(home)
    if not h.is_pending():
        if h.has_ca():
            raise InputError("CA: This home has its CA already; nothing to import.")
        raise NoCAError(
            "CA: This home has no pending issuing CA; make one with `pki init-ca --issuing`."
        )
    cert = load_pem(cert_pem)
    root = load_pem(root_pem)
    _check_ca_cert(root, root, "root")
    _check_ca_cert(cert, root, "certificate")
    request = load_csr(read_file(h.request, "pending request"))
    if cert.public_key() != request.public_key():
        raise CertificateError(
            f"certificate: It is not for this home's pending key ({h.request}); it may be "
            "another site's."
        )
    key = keys.load_encrypted_pem(read_file(h.ca_key, "CA key"), passphrase, "CA passphrase")
    if key.public_key() != cert.public_key():
        raise InputError(f"CA key: {h.ca_key} does not belong to the imported certificate.")
    ca = LoadedCA(cert, key, (root,))
    info = describe(cert)
    with h.lock():
        atomic_write(h.chain, root.public_bytes(Encoding.PEM))
        atomic_write(h.issued_cert(info.serial), cert.public_bytes(Encoding.PEM))
        with h.index() as index, index.write():
            name = str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)
            row = IndexRow.of(info, kind="ca", name=name, key_type=keys.key_type_of(key))
            index.insert(row)
            first = crl.publish(h, ca.issuer(), index, days=None)
            details = {"root": describe(root).sha256, "crl_number": first.number}
            audit.record(
                h, index, audit.Event("import-ca", (info.serial,), (info.subject_dn,), details)
            )
        atomic_write(h.ca_cert, cert.public_bytes(Encoding.PEM))
        h.request.unlink()
        bundles.write(h)
    return row


@dataclass(frozen=True)
class ImportedCRL:
    issuer_dn: str
    number: int | None
    next_update: dt.datetime | None
    revoked: int
    path: Path
    peer: bool  # with --ca: a peer issuing CA's CRL (its certificate was imported too)


def import_crl(
    home: PkiHome | Path | str, data: bytes, *, ca_pem: bytes | None = None
) -> ImportedCRL:
    """Keep the CRL of a CA above this one (the root's) or, with ``ca_pem``, of a peer issuing
    CA under the same root, after verifying its signature. An expired CRL, or one older than the
    CRL kept already, is refused: either would make nginx refuse everyone or forget revocations."""
    h = as_home(home)
    own = load_ca_cert(h)
    upper = bundles.upper_chain(h)
    crl_ = crl.load_crl(data)
    if crl_.issuer == own.subject:
        raise InputError("CRL: That is this home's own CRL; `pki crl` makes it.")
    peer = None
    if ca_pem is not None:
        peer = load_pem(ca_pem)
        parents = [c for c in (*upper, own) if c.subject == peer.issuer]
        if not parents:
            raise CertificateError(
                "CA: It is not issued by a CA of this home's chain; only CAs of the same fleet "
                "root can be trusted here."
            )
        _check_ca_cert(peer, parents[0], "CA")
        issuer = peer
    else:
        matching = [c for c in upper if c.subject == crl_.issuer]
        if not matching:
            raise CertificateError(
                f"CRL: Its issuer {crl_.issuer.rfc4514_string()} is not a CA above this one; "
                "for another site's CRL give that site's CA with --ca."
            )
        issuer = matching[0]
    if crl_.issuer != issuer.subject or not crl_.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
        raise CertificateError(
            f"CRL: Its signature does not verify with {issuer.subject.rfc4514_string()}."
        )
    now = dt.datetime.now(dt.UTC)
    next_update = crl_.next_update_utc
    if next_update is not None and next_update <= now:
        raise CertificateError(
            f"CRL: It expired at {next_update:%Y-%m-%d %H:%M} UTC; nginx would refuse every "
            "client with it. Sign a fresh one on the CA's host."
        )
    target = bundles.crl_path(h, issuer)
    number = crl.crl_number(crl_)
    with h.lock(), h.index() as index, index.write():
        if target.is_file():
            kept = crl.crl_number(crl.load_crl(target.read_bytes()))
            if number is not None and kept is not None and number < kept:
                raise InputError(f"CRL: #{number} is older than the kept #{kept}; nothing changed.")
        if peer is not None:
            peer_path = h.peers_dir / f"{bundles.key_id(peer)}.pem"
            atomic_write(peer_path, peer.public_bytes(Encoding.PEM))
        atomic_write(target, crl_.public_bytes(Encoding.PEM))
        bundles.write(h)
        details = {
            "issuer": crl_.issuer.rfc4514_string(),
            "number": number,
            "revoked": len(crl_),
            "peer": peer is not None,
        }
        serials = (serial_hex(peer.serial_number),) if peer is not None else ()
        audit.record(h, index, audit.Event("import-crl", serials, (), details))
    return ImportedCRL(
        crl_.issuer.rfc4514_string(), number, next_update, len(crl_), target, peer is not None
    )
