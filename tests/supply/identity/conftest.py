"""Identity tests: a real PKI home (``pki``), the service's settings pointed at it, and request
headers as nginx sends them."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.harness.fixtures import pki_site
from tests.harness.pki_site import PkiSite, UserCert

__all__ = ["pki_site"]


@dataclass
class Edge:
    """Stands in for nginx: builds the headers it would send."""

    secret: str
    secret_file: Path

    def headers(self, user: UserCert | None, *, secret: str | None = None) -> dict[str, str]:
        meta = {"HTTP_X_PROXY_SECRET": self.secret if secret is None else secret}
        if user is None:
            return meta | {"HTTP_X_CLIENT_VERIFY": "NONE"}
        return meta | {
            "HTTP_X_CLIENT_VERIFY": "SUCCESS",
            "HTTP_X_CLIENT_CERT": urllib.parse.quote(user.cert_pem.read_text()),
            "HTTP_X_CLIENT_S_DN": user.info.subject_dn,
        }


@pytest.fixture
def edge(settings: Any, pki_site: PkiSite, tmp_path: Path) -> Edge:
    secret = secrets.token_urlsafe(32)
    secret_file = tmp_path / "proxy-secret"
    secret_file.write_text(secret + "\n")
    settings.SUPPLY_TRUSTED_CA = pki_site.ca_cert
    settings.SUPPLY_CRL = pki_site.crl
    settings.SUPPLY_PROXY_SECRET_FILE = secret_file
    settings.SUPPLY_IDENTITY_CACHE_DIR = tmp_path / "identity-cache"
    return Edge(secret, secret_file)


@pytest.fixture
def api(db: None, edge: Edge) -> Callable[..., object]:
    """api("get", path, user, **extra) -> response, as if through nginx over HTTPS."""
    client = Client()

    def call(method: str, path: str, user: UserCert | None, **extra: object) -> object:
        headers = edge.headers(user) | {"HTTP_X_FORWARDED_PROTO": "https"}
        headers.update({k: v for k, v in extra.items() if k.startswith("HTTP_")})  # type: ignore[misc]
        body = {k: v for k, v in extra.items() if not k.startswith("HTTP_")}
        return getattr(client, method)(path, **body, **headers)

    return call
