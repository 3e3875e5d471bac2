"""The database a stack's gunicorn child uses: SQLite in the stack's directory, or a PostgreSQL
database created for this test session (unique name) and dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def postgres_available(url: str) -> str | None:
    """None when the server answers, else why not (a skip reason)."""
    try:
        with psycopg.connect(_with_db(url, "postgres"), connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {urlsplit(url).hostname} does not answer: {exc}".splitlines()[0]


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def stack_database(root: Path, base_url: str | None = None) -> Iterator[str]:
    """Yield a DATABASE_URL for a child process; PostgreSQL when ``base_url`` (default
    $DATABASE_URL) is PostgreSQL, else a SQLite file under ``root``."""
    base_url = base_url if base_url is not None else os.environ.get("DATABASE_URL", "")
    if not _is_postgres(base_url):
        yield f"sqlite:///{root / 'supply.sqlite3'}"
        return
    name = f"supply_e2e_{os.getpid()}_{secrets.token_hex(4)}"
    admin = _with_db(base_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_db(base_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
