"""Provisioning: bind certificates to users and roles. Management commands and the admin call these.

A binding is an anchor and the identity its rule names (issuer DN + subject DN for the site's own
certificates; a UPN or email under an anchor that names people so), optionally pinned to one
certificate's SHA-256. A new binding gets a new user whose username is derived from the CN (or
the value) *plus* a hash of the identity: the username is only a label (lookups never use it),
and the hash keeps two different identities from ever sharing one.
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

from pki.certinfo import CertInfo, describe
from supply.identity.dn import canonical_dn
from supply.identity.errors import IdentityError, LoginFailure
from supply.identity.login import trust_store
from supply.identity.models import AccessRequest, CertificateIdentity
from supply.identity.roles import ROLES
from supply.identity.trust import LOCAL, identity_value

_LABEL = re.compile(r"[^\w.@+-]+")


@dataclass(frozen=True, slots=True)
class Binding:
    subject_dn: str
    issuer_dn: str
    fingerprint: str = ""  # empty: not pinned
    anchor: str = LOCAL.name
    value: str = ""  # a UPN or email (then the DNs are empty)

    @classmethod
    def from_certificate(cls, cert: x509.Certificate, *, pin: bool = False) -> Binding:
        """The binding a login with ``cert`` looks for: its anchor (by its issuer) and the
        identity the anchor's rule gives."""
        info = describe(cert)
        rules = trust_store().store_for(cert.issuer).rules
        try:
            value = identity_value(cert, rules)
        except LoginFailure as failure:
            raise IdentityError(f"cert: {str(failure).removeprefix('certificate: ')}") from None
        return cls.of(rules.name, value, info, info.sha256 if pin else "")

    @classmethod
    def of(cls, anchor: str, value: str, info: CertInfo, fingerprint: str = "") -> Binding:
        """The identity an anchor's rule gives a certificate: its value, else its DNs."""
        if value:
            return cls("", "", fingerprint, anchor, value)
        return cls(info.subject_dn, info.issuer_dn, fingerprint, anchor)

    @classmethod
    def from_dns(cls, subject_dn: str, issuer_dn: str) -> Binding:
        return cls(canonical_dn(subject_dn, "subject DN"), canonical_dn(issuer_dn, "issuer DN"))

    @classmethod
    def from_value(cls, anchor: str, rule: str, value: str) -> Binding:
        """A UPN (``rule`` upn) or email under ``anchor``, which must name people that way."""
        rules = trust_store().rules(anchor)
        if rules is None:
            raise IdentityError(f"anchor: No trust anchor {anchor!r}; `pki trust list` shows them.")
        if rules.identity != rule:
            raise IdentityError(
                f"anchor: {anchor} names people by {rules.identity}, not by {rule}; "
                f"give {_RULE_OPTION[rules.identity]}."
            )
        cleaned = value.strip()
        if rule == "email":
            cleaned = cleaned.lower()
        if not cleaned or len(cleaned) > 255 or any(c.isspace() for c in cleaned):
            raise IdentityError(
                f"{rule}: {value!r} is not a {rule.upper()} (no spaces, 255 at most)."
            )
        return cls("", "", "", anchor, cleaned)

    @property
    def who(self) -> str:
        """The identity as a person reads it: the subject DN, or the anchor and value."""
        return f"{self.anchor} {self.value}" if self.value else self.subject_dn


_RULE_OPTION = {"subject": "--cert or --subject-dn", "upn": "--upn", "email": "--email"}


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
    if binding.value:
        label = _LABEL.sub("_", binding.value).strip("_")[:100] or "user"
        identity = f"{binding.anchor}\n{binding.value}"
    else:
        name = x509.Name.from_rfc4514_string(binding.subject_dn)
        cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        label = _LABEL.sub("_", str(cns[0].value) if cns else "user").strip("_")[:100] or "user"
        identity = f"{binding.issuer_dn}\n{binding.subject_dn}"
        if binding.anchor != LOCAL.name:
            identity = f"{binding.anchor}\n{identity}"
    return f"{label}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def same_identity(binding: Binding) -> dict[str, str]:
    """The mapping fields that hold ``binding``'s identity (a filter, or a new row's values)."""
    return {
        "anchor": binding.anchor,
        "value": binding.value,
        "issuer_dn": binding.issuer_dn,
        "subject_dn": binding.subject_dn,
    }


def _user_for_binding(binding: Binding, username: str | None) -> User:
    """The user this binding maps to, creating the mapping (and user) when missing."""
    mapping = (
        CertificateIdentity.objects.select_related("user")
        .filter(**same_identity(binding), fingerprint=binding.fingerprint)
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
        user=user, **same_identity(binding), fingerprint=binding.fingerprint
    )
    return user


def login_refusal(certificate: x509.Certificate) -> str | None:
    """Why this site's trust store would refuse ``certificate`` now (a sentence), or None.

    The same check a login makes (chain, clientAuth, validity, every CRL), so a grant can refuse
    a certificate that could never log in rather than leave a mapping nobody can use."""
    pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
    try:
        trust_store().check(pem)
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
    # A grant answers an account request too: the administrator has decided.
    waiting = AccessRequest.objects.filter(user=user).first()
    if waiting is not None:
        user.is_active = True
        user.save(update_fields=["is_active"])
        waiting.delete()
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
    rows = CertificateIdentity.objects.filter(**same_identity(binding))
    if binding.fingerprint:
        rows = rows.filter(fingerprint=binding.fingerprint)
    removed = 0
    for row in rows:  # one by one so each deletion signals the lookup cache
        row.delete()
        removed += 1
    if not removed:
        raise IdentityError(f"cert: No access is granted to {binding.who}.")
    return removed


def identities() -> list[dict[str, Any]]:
    """Every mapping with its user's roles, for `supply identities` and scripts."""
    rows = CertificateIdentity.objects.select_related("user").prefetch_related("user__groups")
    store = trust_store()
    return [
        {
            "username": row.user.get_username(),
            "anchor": row.anchor,
            # None: the anchor was removed (`pki trust remove`), so nobody logs in through it.
            "rule": rules.identity if (rules := store.rules(row.anchor)) else None,
            "value": row.value or None,
            "subject_dn": row.subject_dn,
            "issuer_dn": row.issuer_dn,
            "fingerprint": row.fingerprint or None,
            "roles": sorted(g.name for g in row.user.groups.all()),
            "superuser": row.user.is_superuser,
            "active": row.user.is_active,
        }
        for row in rows
    ]
