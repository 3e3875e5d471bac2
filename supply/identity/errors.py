"""The identity app's branch of the supply error tree (supply/errors.py).

IdentityError            a provisioning request that cannot be done (one-line message)
LoginFailure             a request that presented a certificate which does not log anyone in
└── (reason) rejected | unknown | inactive | pending   ->  code certificate_<reason>, 403
"""

from __future__ import annotations

from typing import Literal

from pki.certinfo import CertInfo
from supply.errors import SupplyError

FailureCode = Literal["rejected", "unknown", "inactive", "pending"]


class IdentityError(SupplyError):
    """A provisioning mistake (a certificate, DN, role or user that cannot be mapped)."""

    code = "invalid_identity"


class LoginFailure(SupplyError):
    """The certificate was presented through the trusted proxy but logs nobody in."""

    status_code = 403

    def __init__(
        self,
        reason: FailureCode,
        message: str,
        info: CertInfo | None = None,
        identity: tuple[str, str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: FailureCode = reason
        self.code = f"certificate_{reason}"
        self.info = info
        # (anchor, rule, value) of a certificate whose anchor names people by UPN or email.
        self.identity = identity
