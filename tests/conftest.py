"""Shared pytest hooks: tests marked `postgres` skip, with a reason, when the database is not
PostgreSQL (the SQLite pass of `make test` deselects them anyway)."""

from __future__ import annotations

import pytest


def _database_is_postgres() -> bool:
    try:
        from django.conf import settings

        return "postgresql" in settings.DATABASES["default"]["ENGINE"]
    except Exception:  # Django not configured: no database at all
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _database_is_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL row locks: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/supply"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
