"""End-to-end tests: real nginx, gunicorn (supply serve), SQLite or PostgreSQL, real clients."""

from __future__ import annotations

import pytest

from tests.harness.fixtures import edge_stack, pki_site

__all__ = ["edge_stack", "pki_site"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
