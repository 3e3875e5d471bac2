from __future__ import annotations

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "supply.identity"
    label = "identity"
    verbose_name = "Certificate identities"

    def ready(self) -> None:
        # The lookup cache holds users with their roles. Users, groups and memberships change
        # through the admin and other apps, so the ORM's signals are the one place that sees every
        # change; the receiver only drops the cache (no domain side effect hides here).
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from supply.identity import lookup, schema  # noqa: F401  (schema registers itself)
        from supply.identity.models import CertificateIdentity

        user_model = get_user_model()
        for model in (CertificateIdentity, user_model, Group):
            post_save.connect(lookup.invalidate, sender=model, dispatch_uid=f"identity-{model}-s")
            post_delete.connect(lookup.invalidate, sender=model, dispatch_uid=f"identity-{model}-d")
        m2m_changed.connect(
            lookup.invalidate, sender=user_model.groups.through, dispatch_uid="identity-groups"
        )
