"""Provisioning: bind certificates to users and roles. Management commands and the admin call these.

A binding is (issuer DN, subject DN), optionally pinned to one certificate's SHA-256. A new binding
gets a new user whose username is derived from the CN *plus* a hash of both DNs: the username is
only a label (lookups never use it), and the hash keeps two different DNs from ever sharing one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import Group, User
from django.db import transaction

from pki.certinfo import describe
from supply.identity.dn import canonical_dn
from supply.identity.errors import IdentityError, LoginFailure
from supply.identity.login import trust_store
from supply.identity.models import CertificateIdentity
from supply.identity.roles import ROLES

_LABEL = re.compile(r"[^\w.@+-]+")


@dataclass(frozen=True, slots=True)
class Binding:
    subject_dn: str
    issuer_dn: str
    fingerprint: str = ""  # empty: not pinned

    @classmethod
    def from_certificate(cls, cert: x509.Certificate, *, pin: bool = False) -> Binding:
        info = describe(cert)
        return cls(info.subject_dn, info.issuer_dn, info.sha256 if pin else "")

    @classmethod
    def from_dns(cls, subject_dn: str, issuer_dn: str) -> Binding:
        return cls(canonical_dn(subject_dn, "subject DN"), canonical_dn(issuer_dn, "issuer DN"))


def load_certificate(path: Path, password: Callable[[], bytes]) -> x509.Certificate:
    """The (first) certificate in a PEM file, or the user certificate of a .p12.

    ``password`` is called only for a .p12, so a PEM never prompts.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cert: Cannot read {path} ({exc.strerror}).") from exc
    if b"-----BEGIN" in data:
        try:
            return x509.load_pem_x509_certificates(data)[0]
        except ValueError as exc:
            raise IdentityError(f"cert: {path} holds no PEM certificate.") from exc
    try:
        bundle = pkcs12.load_pkcs12(data, password())
    except ValueError as exc:
        raise IdentityError(f"cert: Wrong password for {path}, or not a .p12 file.") from exc
    if bundle.cert is None:
        raise IdentityError(f"cert: {path} holds no user certificate.")
    return bundle.cert.certificate


def _username(binding: Binding) -> str:
    name = x509.Name.from_rfc4514_string(binding.subject_dn)
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    label = _LABEL.sub("_", str(cns[0].value) if cns else "user").strip("_")[:100] or "user"
    digest = hashlib.sha256(f"{binding.issuer_dn}\n{binding.subject_dn}".encode()).hexdigest()
    return f"{label}-{digest[:16]}"


def _user_for_binding(binding: Binding, username: str | None) -> User:
    """The user this binding maps to, creating the mapping (and user) when missing."""
    mapping = (
        CertificateIdentity.objects.select_related("user")
        .filter(
            issuer_dn=binding.issuer_dn,
            subject_dn=binding.subject_dn,
            fingerprint=binding.fingerprint,
        )
        .first()
    )
    if mapping is not None:
        if username and mapping.user.get_username() != username:
            raise IdentityError(
                f"username: This certificate belongs to {mapping.user.get_username()} already; "
                "run `supply revoke-access` first to move it."
            )
        return mapping.user
    user, created = User.objects.get_or_create(username=username or _username(binding))
    if created:
        user.set_unusable_password()  # certificate login only
        user.save(update_fields=["password"])
    CertificateIdentity.objects.create(
        user=user,
        issuer_dn=binding.issuer_dn,
        subject_dn=binding.subject_dn,
        fingerprint=binding.fingerprint,
    )
    return user


def login_refusal(certificate: x509.Certificate) -> str | None:
    """Why this site's trust store would refuse ``certificate`` now (a sentence), or None.

    The same check a login makes (chain, clientAuth, validity, every CRL), so a grant can refuse
    a certificate that could never log in rather than leave a mapping nobody can use."""
    pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
    try:
        trust_store().verify(pem)
    except LoginFailure as failure:
        return str(failure).removeprefix("certificate: ")
    return None


def grant(binding: Binding, role: str, *, username: str | None = None) -> User:
    """Give the binding's user ``role`` (creating user and mapping as needed)."""
    return grant_roles(binding, [role], username=username)


@transaction.atomic
def grant_roles(binding: Binding, roles: Sequence[str], *, username: str | None = None) -> User:
    """Give the binding's user every role in ``roles``, all or none."""
    if not roles:
        raise IdentityError(f"role: Give at least one of {', '.join(ROLES)}.")
    for role in roles:
        if role not in ROLES:
            raise IdentityError(f"role: {role!r} is not one of {', '.join(ROLES)}.")
    groups = {g.name: g for g in Group.objects.filter(name__in=roles)}
    for role in roles:
        if role not in groups:
            raise IdentityError(f"role: Group {role!r} is missing; run `supply migrate` first.")
    user = _user_for_binding(binding, username)
    user.groups.add(*groups.values())
    return user


@transaction.atomic
def provision_admin(binding: Binding, *, username: str | None = None) -> User:
    """Make the binding's user a superuser who can open the admin with the certificate alone."""
    user = _user_for_binding(binding, username)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@transaction.atomic
def revoke_access(binding: Binding) -> int:
    """Remove the binding's mapping; the user stays (the ledger names it). Returns rows removed.

    Without a pin this removes the DN's mappings, pinned ones included: the person loses access
    with every certificate of that DN.
    """
    rows = CertificateIdentity.objects.filter(
        issuer_dn=binding.issuer_dn, subject_dn=binding.subject_dn
    )
    if binding.fingerprint:
        rows = rows.filter(fingerprint=binding.fingerprint)
    removed = 0
    for row in rows:  # one by one so each deletion signals the lookup cache
        row.delete()
        removed += 1
    if not removed:
        raise IdentityError(f"cert: No access is granted to {binding.subject_dn}.")
    return removed


def identities() -> list[dict[str, Any]]:
    """Every mapping with its user's roles, for `supply identities` and scripts."""
    rows = CertificateIdentity.objects.select_related("user").prefetch_related("user__groups")
    return [
        {
            "username": row.user.get_username(),
            "subject_dn": row.subject_dn,
            "issuer_dn": row.issuer_dn,
            "fingerprint": row.fingerprint or None,
            "roles": sorted(g.name for g in row.user.groups.all()),
            "superuser": row.user.is_superuser,
            "active": row.user.is_active,
        }
        for row in rows
    ]
