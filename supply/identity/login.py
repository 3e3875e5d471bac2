"""From a request's headers to a logged-in user.

Only a request that carries the proxy secret came through our nginx; on any other request the
identity headers are ignored (anyone can send them to the service's port). The secret is compared
in constant time and re-read when its file changes (rotation needs no restart).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.models import User

from pki.certinfo import CertInfo
from supply.identity import lookup
from supply.identity.anchors import TrustAnchors
from supply.identity.errors import LoginFailure
from supply.identity.models import AccessRequest
from supply.identity.trust import Verified
from supply.identity.watch import WatchedFile

SECRET_HEADER = "HTTP_X_PROXY_SECRET"  # noqa: S105 (a header name)
VERIFY_HEADER = "HTTP_X_CLIENT_VERIFY"
CERT_HEADER = "HTTP_X_CLIENT_CERT"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CertificateLogin:
    """A request's verified certificate and the user it maps to."""

    verified: Verified
    user: User

    @property
    def info(self) -> CertInfo:
        return self.verified.info


def _first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].strip()


# Keyed by the setting's value, so one object (and its parsed file) per configured file, also
# under tests' settings overrides; the Path is built only on a miss (it costs per request).
@cache
def _secret_file(path: str | Path) -> WatchedFile[bytes]:
    return WatchedFile(Path(path), _first_line)


@cache
def _trust_anchors(ca_file: str | Path, crl_file: str | Path, registry: str | Path) -> TrustAnchors:
    return TrustAnchors(Path(ca_file), Path(crl_file), Path(registry))


@lru_cache(maxsize=1024)
def _unquote(escaped: str) -> str:
    return unquote(escaped)


def _proxy_secret() -> WatchedFile[bytes]:
    return _secret_file(settings.SUPPLY_PROXY_SECRET_FILE)


def trust_store() -> TrustAnchors:
    return _trust_anchors(
        settings.SUPPLY_TRUSTED_CA, settings.SUPPLY_CRL, settings.SUPPLY_TRUST_ANCHORS
    )


def from_trusted_proxy(meta: Mapping[str, str]) -> bool:
    """True when the request carries the proxy secret (constant-time compare)."""
    given = meta.get(SECRET_HEADER)
    if not given:
        return False
    try:
        secret = _proxy_secret().get()
    except OSError as exc:
        # No secret configured: trust no proxy. Every login then fails, so say why in the log.
        _warn_once(f"proxy secret: Cannot read {exc.filename} ({exc.strerror}); ignoring logins.")
        return False
    return bool(secret) and hmac.compare_digest(given.encode("latin-1"), secret)


@cache
def _warn_once(message: str) -> None:
    log.warning(message)


def certificate_login(meta: Mapping[str, str]) -> CertificateLogin | None:
    """The login a request proves; None if it proves none; LoginFailure if a wrong one.

    None: not from the trusted proxy, or no verified certificate (nginx's ``NONE``).
    """
    if not from_trusted_proxy(meta):
        return None
    if meta.get(VERIFY_HEADER) != "SUCCESS":
        return None
    escaped = meta.get(CERT_HEADER, "")
    if not escaped:
        return None
    verified = trust_store().check(_unquote(escaped))
    info = verified.info
    user = lookup.user_for(verified)
    identity = (verified.anchor, verified.rule, verified.value) if verified.value else None
    if user is None:
        rules = trust_store().rules(verified.anchor)
        if rules is not None and rules.default_role:
            from supply.identity.access_requests import request_access

            request = request_access(verified, rules)
            raise _pending(request.created_at, info, identity)
        raise LoginFailure(
            "unknown",
            "certificate: Not registered here; ask an administrator to grant access.",
            info,
            identity,
        )
    if not user.is_active:
        waiting: AccessRequest | None = getattr(user, "access_request", None)
        if waiting is not None:
            raise _pending(waiting.created_at, info, identity)
        raise LoginFailure(
            "inactive",
            f"user: The account {user.get_username()} is disabled; ask an administrator to "
            "enable it.",
            info,
        )
    return CertificateLogin(verified, user)


def _pending(
    asked: dt.datetime, info: CertInfo, identity: tuple[str, str, str] | None
) -> LoginFailure:
    return LoginFailure(
        "pending",
        f"certificate: Your account request of {asked:%Y-%m-%d %H:%M} UTC waits for an "
        "administrator's approval (`supply approve`).",
        info,
        identity,
    )


_MISSING = object()


def login_for_request(request: object) -> CertificateLogin | None:
    """``certificate_login`` once per request: the middleware and DRF share the result."""
    stored = getattr(request, "_certificate_login", _MISSING)
    if stored is _MISSING:
        try:
            stored = certificate_login(request.META)  # type: ignore[attr-defined]
        except LoginFailure as failure:
            stored = failure
        request._certificate_login = stored  # type: ignore[attr-defined]
    if isinstance(stored, LoginFailure):
        raise stored
    return stored  # type: ignore[return-value]
