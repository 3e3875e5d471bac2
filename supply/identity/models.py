"""The certificate -> user mapping."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from supply.identity.dn import canonical_dn
from supply.identity.errors import IdentityError

_FINGERPRINT_HELP = "SHA-256 (hex) of the one allowed certificate; empty: any."


class CertificateIdentity(models.Model):
    """(issuer DN, subject DN[, fingerprint]) -> user; a user may have several.

    DNs are stored in the canonical RFC 4514 form of ``pki.certinfo`` and compared exactly.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificate_identities"
    )
    issuer_dn = models.TextField("issuer DN")
    subject_dn = models.TextField("subject DN")
    fingerprint = models.CharField(
        "pinned SHA-256", max_length=64, blank=True, default="", help_text=_FINGERPRINT_HELP
    )
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "certificate identity"
        verbose_name_plural = "certificate identities"
        ordering = ("subject_dn", "issuer_dn", "fingerprint")
        constraints = (
            models.UniqueConstraint(
                fields=("issuer_dn", "subject_dn", "fingerprint"), name="identity_unique_binding"
            ),
        )

    def __str__(self) -> str:
        pinned = f" [{self.fingerprint[:16]}…]" if self.fingerprint else ""
        return f"{self.subject_dn}{pinned} -> {self.user}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
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
