"""Fixtures: a fresh PKI home per test, with a CA made by the library itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pki.ca import CreatedCA, init_ca
from pki.home import PkiHome

PASSPHRASE = b"correct horse battery"
PASSWORD = b"p12-password"
PEM_PASSWORD = b"pem key password!"  # a PKCS#8 key file needs 16 characters (pki.keys)


@pytest.fixture
def home(tmp_path: Path) -> PkiHome:
    return PkiHome(tmp_path / "pki")


@pytest.fixture
def ca(home: PkiHome) -> CreatedCA:
    return init_ca(home, name="Fleet Root CA", org="Fleet", country="US", passphrase=PASSPHRASE)


@pytest.fixture(autouse=True)
def private_umask() -> Iterator[None]:
    """Files the tests write (passphrase and password files among them) are 0600, as the docs
    tell an operator to keep them; pki warns about a secret file others can read, which
    test_secrets checks with files made open on purpose."""
    old = os.umask(0o077)
    yield
    os.umask(old)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No secrets or home from the developer's environment leak into a test."""
    for var in ("PKI_HOME", "PKI_CA_PASSPHRASE", "PKI_P12_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    yield


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
