"""The certificate -> user mapping."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from supply.identity.dn import canonical_dn
from supply.identity.errors import IdentityError

_FINGERPRINT_HELP = "SHA-256 (hex) of the one allowed certificate; empty: any."


class CertificateIdentity(models.Model):
    """(anchor, identity[, fingerprint]) -> user; a user may have several.

    The identity is what the anchor's rule names a person by (``pki trust add --identity``):
    the (issuer DN, subject DN) pair under ``subject`` (the site's own ``local`` anchor), or the
    ``value``, a UPN or email, under ``upn`` and ``email`` (the DNs are then left empty). DNs are
    stored in the canonical RFC 4514 form of ``pki.certinfo``; everything is compared exactly.
    A reissued card (new key, new serial, another intermediate of the same anchor) carries the
    same value and so reaches the same user; the same value under another anchor does not.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificate_identities"
    )
    anchor = models.CharField(
        max_length=32, default="local", help_text="The trust anchor (`pki trust list`)."
    )
    value = models.CharField(
        "UPN or email",
        max_length=255,
        blank=True,
        default="",
        help_text="Under an anchor that names people by UPN or email; empty: the DNs.",
    )
    issuer_dn = models.TextField("issuer DN", blank=True)
    subject_dn = models.TextField("subject DN", blank=True)
    fingerprint = models.CharField(
        "pinned SHA-256", max_length=64, blank=True, default="", help_text=_FINGERPRINT_HELP
    )
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "certificate identity"
        verbose_name_plural = "certificate identities"
        ordering = ("anchor", "value", "subject_dn", "issuer_dn", "fingerprint")
        constraints = (
            models.UniqueConstraint(
                fields=("anchor", "value", "issuer_dn", "subject_dn", "fingerprint"),
                name="identity_unique_binding",
            ),
            # Exactly one of the two identities: a value, or both DNs.
            models.CheckConstraint(
                condition=(
                    models.Q(value="", issuer_dn__gt="", subject_dn__gt="")
                    | (~models.Q(value="") & models.Q(issuer_dn="", subject_dn=""))
                ),
                name="identity_value_or_dns",
            ),
        )

    def __str__(self) -> str:
        pinned = f" [{self.fingerprint[:16]}…]" if self.fingerprint else ""
        who = self.value or self.subject_dn
        anchor = "" if self.anchor == "local" else f"{self.anchor}: "
        return f"{anchor}{who}{pinned} -> {self.user}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.value:
            if self.issuer_dn or self.subject_dn:
                errors["value"] = "value: Give a UPN or email, or the DNs, not both."
        else:
            for field in ("issuer_dn", "subject_dn"):
                try:
                    setattr(self, field, canonical_dn(getattr(self, field), field))
                except IdentityError as exc:
                    errors[field] = str(exc)
        self.fingerprint = self.fingerprint.replace(":", "").strip().upper()
        if self.fingerprint and len(self.fingerprint) != 64:
            errors["fingerprint"] = "fingerprint: 64 hex digits (SHA-256), colons optional."
        if errors:
            raise ValidationError(errors)


class AccessRequest(models.Model):
    """A valid certificate of an anchor with a default role that mapped to no one: the account
    made for it stays inactive until an administrator approves it (`supply approve`, or the
    admin's action), which then grants ``role``. Never an automatic grant."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_request"
    )
    anchor = models.CharField(max_length=32)
    value = models.CharField("UPN or email", max_length=255, blank=True, default="")
    subject_dn = models.TextField("subject DN")
    issuer_dn = models.TextField("issuer DN")
    role = models.CharField(
        max_length=32, help_text="The anchor's default role, granted on approval."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"{self.anchor}: {self.value or self.subject_dn} asks for {self.role}"
