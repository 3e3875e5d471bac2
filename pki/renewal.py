"""Certificates for keys made elsewhere (``pki sign``), and renewal (``pki renew``).

``sign_csr`` brings your own key: a key made on a card or a device stays there, and the CSR it
signed gets the same server or user profile ``issue-server``/``issue-user`` give. ``renew`` makes
a new certificate (and for a user a new key and .p12) with the subject and SANs of an old one;
the old one is marked revoked as superseded in the commit that records the new one, so there is
never a moment with neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pki import audit, keys, names, profiles
from pki.ca import load_ca
from pki.certinfo import CertInfo, describe, load_pem
from pki.errors import CertificateError, InputError
from pki.files import read_file
from pki.fleet import load_csr
from pki.home import PkiHome, as_home
from pki.index import IndexRow
from pki.inventory import find
from pki.issue import (
    IssuedServer,
    IssuedUser,
    UserRequest,
    issue_server,
    issue_user_superseding,
    sign_and_record,
)

PROFILES = ("user", "server")


@dataclass(frozen=True)
class SignedLeaf:
    info: CertInfo
    path: Path  # the certificate followed by its CA chain


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    found = name.get_attributes_for_oid(oid)
    return str(found[0].value) if found else None


def sign_csr(
    home: PkiHome | Path | str,
    data: bytes,
    *,
    profile: str,
    sans: Sequence[str] = (),
    email: str | None = None,
    days: int | None = None,
    out: Path,
    passphrase: bytes,
) -> SignedLeaf:
    """Sign a CSR for a key this home never sees. The subject is the CSR's CN (and OU) under
    the CA's organization, as ``issue-*`` make it; SANs and email come from the options only,
    so what is certified is what the operator typed, not what the requester asked for."""
    h = as_home(home)
    if profile not in PROFILES:
        raise InputError(f"profile: Choose user or server, not {profile!r}.")
    csr = load_csr(data)
    if not csr.is_signature_valid:
        raise CertificateError("CSR: Its signature does not verify; make a new one.")
    public_key = csr.public_key()
    keys.supported_key_type(public_key)
    common_name = _attribute(csr.subject, NameOID.COMMON_NAME)
    if not common_name:
        raise CertificateError("CSR: Its subject has no common name (CN).")
    if out.exists():
        raise InputError(f"out: {out} exists already.")
    lifetime = profiles.check_days(profile, days)
    if profile == "server":
        if email:
            raise InputError("email: Only a user certificate carries an email.")
        name, san_list = names.server_sans(common_name, sans)
        chosen = profiles.SERVER
        subject_cn, org_unit = name, None
    else:
        if sans:
            raise InputError("san: A user certificate carries an email (--email), not --san.")
        name, san_list = common_name, ([names.email_san(email)] if email else [])
        chosen = profiles.USER_WITH_EMAIL if email else profiles.USER
        subject_cn, org_unit = (
            common_name,
            _attribute(csr.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        )
    ca = load_ca(h, passphrase)
    subject = names.subject(subject_cn, org=names.organization(ca.cert.subject), org_unit=org_unit)
    cert, _, _ = sign_and_record(
        h,
        ca,
        profile=chosen,
        subject=subject,
        public_key=public_key,  # type: ignore[arg-type]  # supported_key_type checked it
        sans=san_list,
        days=lifetime,
        name=name,
        artifacts=lambda cert: [(out, cert.public_bytes(Encoding.PEM) + ca.pem, True)],
        event="sign",
    )
    return SignedLeaf(describe(cert), out)


def _signed_from_csr(h: PkiHome, serial: str) -> bool:
    return any(e.op == "sign" and serial in e.serials for e in audit.entries(h))


def renewable(home: PkiHome | Path | str, ident: str) -> IndexRow:
    """The valid server or user certificate ``ident`` names, if this home can renew it."""
    h = as_home(home)
    row = find(h, ident)
    if row.kind == "ca":
        raise InputError("ID: A CA certificate is renewed at the root with a new `pki sign-ca`.")
    if row.status != "valid":
        raise InputError(f"ID: {row.serial} is revoked ({row.reason}); issue a new one instead.")
    if _signed_from_csr(h, row.serial):
        raise InputError(
            f"ID: {row.serial} was signed from a CSR and its key is not here; sign a new CSR "
            "with `pki sign`."
        )
    return row


def renew_server(
    home: PkiHome | Path | str, ident: str, *, days: int | None = None, passphrase: bytes
) -> IssuedServer:
    """A new key and certificate for a server, same name and SANs; the old one is superseded."""
    h = as_home(home)
    row = renewable(h, ident)
    if row.kind != "server":
        raise InputError(f"ID: {row.serial} is a {row.kind} certificate, not a server's.")
    extra = [s.partition(":")[2] for s in row.sans[1:]]
    return issue_server(
        h,
        row.name,
        sans=extra,
        days=days,
        key_type=row.key_type,
        replace=True,
        passphrase=passphrase,
        audit_op="renew",
    )


def renew_user(
    home: PkiHome | Path | str, ident: str, request: UserRequest, *, passphrase: bytes
) -> IssuedUser:
    """A new key, certificate and .p12 for a person, same subject and email; ``request`` gives
    the password, export and place (name, email, org unit and key type come from the old one)."""
    h = as_home(home)
    row = renewable(h, ident)
    if row.kind != "user":
        raise InputError(f"ID: {row.serial} is a {row.kind} certificate, not a user's.")
    old = load_pem(read_file(h.issued_cert(row.serial), "certificate"))
    emails = [s.partition(":")[2] for s in row.sans if s.startswith("email:")]
    renewed = replace(
        request,
        full_name=row.name,
        email=emails[0] if emails else None,
        org_unit=_attribute(old.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        key_type=row.key_type,
    )
    return issue_user_superseding(h, renewed, row.serial, passphrase=passphrase)
