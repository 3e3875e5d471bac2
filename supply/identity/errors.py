"""The identity app's errors.

IdentityError            a provisioning request that cannot be done (one-line message)
LoginFailure             a request that presented a certificate which does not log anyone in
└── (code) rejected | unknown | inactive
"""

from __future__ import annotations

from typing import Literal

from pki.certinfo import CertInfo

FailureCode = Literal["rejected", "unknown", "inactive"]


class IdentityError(Exception):
    """A provisioning mistake; management commands print it as one line."""


class LoginFailure(Exception):
    """The certificate was presented through the trusted proxy but logs nobody in."""

    def __init__(self, code: FailureCode, message: str, info: CertInfo | None = None) -> None:
        super().__init__(message)
        self.code: FailureCode = code
        self.message = message
        self.info = info
