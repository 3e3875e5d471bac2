"""What a database holds, read the same way on both engines through a DB-API cursor: its
Django migration state, the counts a manifest records, and whether it holds any data at all.

Table names come from the models; no value is ever interpolated, only those names, quoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from supply.backup.errors import BackupError

# What `supply migrate` alone puts into a database: an empty stack has rows only here.
REFERENCE_TABLES = frozenset(
    {
        "django_migrations",
        "django_content_type",
        "auth_permission",
        "auth_group",
        "auth_group_permissions",
        "catalog_unitofissue",
    }
)


class Cursor(Protocol):
    def execute(self, query: Any, /) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


@dataclass(frozen=True)
class State:
    """The migration state (app -> applied migration names, sorted) and the counts."""

    migrations: dict[str, list[str]]
    counts: dict[str, int]


def counted_queries() -> dict[str, str]:
    """name in the manifest -> the SQL that counts it."""
    from django.contrib.auth.models import User

    from supply.identity.models import CertificateIdentity
    from supply.inventory.models import LedgerEntry, Stock

    def rows(model: Any) -> str:
        return f'SELECT count(*) FROM "{model._meta.db_table}"'  # noqa: S608 - a model's table

    return {
        "ledger_entries": rows(LedgerEntry),
        "certificate_identities": rows(CertificateIdentity),
        "users": rows(User),
        "stock_rows": rows(Stock),
        "stock_on_hand": f'SELECT coalesce(sum(on_hand), 0) FROM "{Stock._meta.db_table}"',  # noqa: S608
    }


def read_state(cursor: Cursor, tables: set[str]) -> State:
    """The state of a migrated database whose tables are ``tables``."""
    if "django_migrations" not in tables:
        raise BackupError(
            "database: It is not migrated (no django_migrations table); run `supply migrate`."
        )
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(str(app), []).append(str(name))
    counts = {}
    for key, query in counted_queries().items():
        cursor.execute(query)
        counts[key] = int(cursor.fetchone()[0])
    return State(migrations, counts)


def tables_with_rows(cursor: Cursor, tables: set[str]) -> list[str]:
    """The tables, besides what migrate fills, that hold at least one row (sorted)."""
    found = []
    for table in sorted(tables - REFERENCE_TABLES):
        cursor.execute(f'SELECT 1 FROM "{table}" LIMIT 1')  # noqa: S608 - a table name it listed
        if cursor.fetchone() is not None:
            found.append(table)
    return found


def refuse_data(cursor: Cursor, tables: set[str], where: str) -> None:
    """BackupError when the target database already holds data."""
    full = tables_with_rows(cursor, tables)
    if full:
        raise BackupError(
            f"restore: The target database {where} already holds data ({', '.join(full[:3])}"
            f"{', …' if len(full) > 3 else ''}); restore onto an empty stack: a new database, "
            "migrated or not."
        )


def unknown_migrations(migrations: dict[str, list[str]]) -> list[str]:
    """Applied migrations of a backup that this code does not have (``app.name``)."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in sorted(migrations.items())
        for name in names
        if (app, name) not in known
    ]


def missing_migrations(migrations: dict[str, list[str]]) -> int:
    """How many of this code's migrations the backup has not applied (`supply migrate` does)."""
    from django.db.migrations.loader import MigrationLoader

    applied = {(app, name) for app, names in migrations.items() for name in names}
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sum(1 for node in graph.nodes if node not in applied)
