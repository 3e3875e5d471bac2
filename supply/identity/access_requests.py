"""Account requests: a valid certificate of an anchor with a default role (``pki trust add
--default-role``) that maps to no one asks for an account once; an administrator approves it in
one step. Until then the account exists, inactive, with the certificate's identity mapped to it,
so the same card (or its reissue) finds the same request instead of asking again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction

from supply.identity.errors import IdentityError
from supply.identity.models import AccessRequest, CertificateIdentity
from supply.identity.services import Binding, _user_for_binding, same_identity
from supply.identity.trust import AnchorRules, Verified


def request_access(verified: Verified, rules: AnchorRules) -> AccessRequest:
    """The request of this certificate's identity, made now if there is none (inactive user)."""
    assert rules.default_role is not None
    info = verified.info
    binding = Binding.of(verified.anchor, verified.value, info)
    try:
        with transaction.atomic():
            user = _user_for_binding(binding, None)
            if user.is_active and not hasattr(user, "access_request"):
                user.is_active = False
                user.save(update_fields=["is_active"])
            request, _ = AccessRequest.objects.get_or_create(
                user=user,
                defaults={
                    "anchor": verified.anchor,
                    "value": verified.value,
                    "subject_dn": info.subject_dn,
                    "issuer_dn": info.issuer_dn,
                    "role": rules.default_role,
                },
            )
    except IntegrityError:
        # Two first logins at once: the other one made it.
        mapping = CertificateIdentity.objects.select_related("user").get(
            **same_identity(binding), fingerprint=""
        )
        request = AccessRequest.objects.get(user=mapping.user)
    return request


def pending() -> list[dict[str, Any]]:
    """Every request waiting for approval, oldest first."""
    return [
        {
            "username": r.user.get_username(),
            "anchor": r.anchor,
            "value": r.value or None,
            "subject_dn": r.subject_dn,
            "issuer_dn": r.issuer_dn,
            "role": r.role,
            "requested_at": r.created_at.isoformat(),
        }
        for r in AccessRequest.objects.select_related("user")
    ]


@transaction.atomic
def approve(username: str, role: str | None = None) -> User:
    """Activate the requesting account with the requested role (or ``role``)."""
    request = (
        AccessRequest.objects.select_related("user")
        .select_for_update()
        .filter(user__username=username)
        .first()
    )
    if request is None:
        raise IdentityError(
            f"username: No account request of {username!r}; `supply requests` lists them."
        )
    granted = role or request.role
    group = Group.objects.filter(name=granted).first()
    if group is None:
        raise IdentityError(f"role: Group {granted!r} is missing; run `supply migrate` first.")
    user = request.user
    user.groups.add(group)
    user.is_active = True
    user.save(update_fields=["is_active"])
    request.delete()
    return user
