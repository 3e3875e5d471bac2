"""Placeholder until the certificate login issue: authenticates nobody.

Tests of the inventory API authenticate with DRF's ``force_authenticate``.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication


class ClientCertificateAuthentication(BaseAuthentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        return None
