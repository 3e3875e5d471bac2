"""pytest fixtures over the harness. Import them into a conftest.py:

from tests.harness.fixtures import edge_stack, pki_site  # noqa: F401
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.database import postgres_available
from tests.harness.pki_site import PkiSite
from tests.harness.stack import EdgeStack

TOOLS = ("nginx", "curl", "openssl")


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH (CI installs them)")


def require_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        reason = postgres_available(url)
        if reason:
            pytest.skip(reason)


@pytest.fixture(scope="session")
def pki_site(tmp_path_factory: pytest.TempPathFactory) -> PkiSite:
    """A PKI home with a CA and a server certificate for localhost (no processes)."""
    return PkiSite(tmp_path_factory.mktemp("pki-site"))


@pytest.fixture(scope="session")
def edge_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeStack]:
    """nginx + supply (gunicorn) + PKI home, one per xdist worker, on free loopback ports."""
    require_tools(*TOOLS)
    require_database()
    root: Path = tmp_path_factory.mktemp("edge")
    with EdgeStack.running(root) as stack:
        yield stack
