"""Real databases for the backup tests: per engine, a source stack (migrated, the demo stock, a
certificate mapping) and empty targets (a database never migrated, or migrated and unused), each
a fresh SQLite file or a fresh PostgreSQL database per test, copied from templates made once per
worker by the real `supply` commands."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.harness.database import postgres_available

SUPPLY = str(Path(sys.executable).with_name("supply"))
PG_URL = os.environ.get("DATABASE_URL", "")
CONSISTENT = (
    "ledger consistent: every stock row equals its ledger sum, and every ledger row reads as it "
    "was written.\n"
)
STOCK = (
    "SELECT i.nsn, u.uic, l.code, s.on_hand FROM inventory_stock s "
    "JOIN catalog_item i ON i.id = s.item_id JOIN catalog_location l ON l.id = s.location_id "
    "JOIN catalog_unit u ON u.id = l.unit_id ORDER BY 1, 2, 3"
)
MAPPINGS = (
    "SELECT c.anchor, c.value, c.issuer_dn, c.subject_dn, c.fingerprint, u.username, "
    "u.is_active, g.name FROM identity_certificateidentity c "
    "JOIN auth_user u ON u.id = c.user_id "
    "LEFT JOIN auth_user_groups ug ON ug.user_id = u.id "
    "LEFT JOIN auth_group g ON g.id = ug.group_id "
    "ORDER BY 1, 2, 3, 4, 5, 8"
)


@dataclass
class Stack:
    """One database (SQLite file or PostgreSQL database) with the environment of its `supply`."""

    engine: str
    url: str
    root: Path
    pki_home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.pki_home = self.root / "pki"

    @property
    def path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PKI_", "SUPPLY_"))}
        return env | {
            "DATABASE_URL": self.url,
            "SUPPLY_DATA_DIR": str(self.root / "data"),
            "PKI_HOME": str(self.pki_home),
            **extra,
        }

    def supply(self, *args: str | Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SUPPLY, *map(str, args)],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str | Path, **extra: str) -> str:
        done = self.supply(*args, **extra)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of a query (an empty list when the database has no such table yet)."""
        if self.engine == "sqlite":
            if not self.path.exists():
                return []
            with closing(sqlite3.connect(self.path)) as db:
                try:
                    return [tuple(r) for r in db.execute(query)]
                except sqlite3.OperationalError:
                    return []
        with psycopg.connect(self.url, autocommit=True) as conn:
            try:
                return [tuple(r) for r in conn.execute(query.encode())]
            except psycopg.errors.UndefinedTable:
                return []

    def tables(self) -> list[str]:
        if self.engine == "sqlite":
            query = "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1"
        else:
            query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        return [name for (name,) in self.rows(query)]

    def fingerprint(self) -> tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """What a refused restore must leave as it was: tables, stock, mappings."""
        return self.tables(), self.rows(STOCK), self.rows(MAPPINGS)


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{name}"


def _pg(statement: sql.Composed) -> None:
    with psycopg.connect(_with_db(PG_URL, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


class Databases:
    """Fresh databases of one engine, made from this worker's templates."""

    def __init__(self, engine: str, root: Path) -> None:
        self.engine = engine
        self.root = root
        self._made: list[str] = []
        self._count = 0
        self._backup: Path | None = None
        self.templates = {"source": self._new("source"), "migrated": self._new("migrated")}
        for stack in self.templates.values():
            stack.ok("migrate", "-v0")
        source = self.templates["source"]
        source.ok("load-demo")
        for name, role in (("CN=Doe\\, Jane", "clerk"), ("CN=Roe\\, Rick", "issuer")):
            source.ok("grant", "--subject-dn", name, "--issuer-dn", "CN=Fleet CA", "--role", role)

    def _new(self, kind: str, template: Stack | None = None) -> Stack:
        self._count += 1
        root = self.root / f"{kind}{self._count}"
        root.mkdir()
        if self.engine == "sqlite":
            url = f"sqlite:///{root / 'supply.sqlite3'}"
            if template is not None:
                shutil.copyfile(template.path, root / "supply.sqlite3")
            return Stack("sqlite", url, root)
        name = f"supply_backup_{os.getpid()}_{secrets.token_hex(4)}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template.url.rsplit("/", 1)[1])
            )
        _pg(create)
        self._made.append(name)
        return Stack("postgresql", _with_db(PG_URL, name), root)

    def source(self) -> Stack:
        return self._new("source", self.templates["source"])

    def backup(self, out: Path) -> Path:
        """A copy at ``out`` of a backup of the source template, made once."""
        if self._backup is None:
            self._backup = self.root / "backup"
            self.source().ok("backup", "--out", self._backup)
        shutil.copytree(self._backup, out)
        return out

    def migrated(self) -> Stack:
        return self._new("migrated", self.templates["migrated"])

    def empty(self) -> Stack:
        return self._new("empty")

    def drop_all(self) -> None:
        for name in self._made:
            _pg(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    return Databases("sqlite", tmp_path_factory.mktemp("backup-sqlite"))


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    if not PG_URL.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL=postgres://postgres@127.0.0.1:5432/supply")
    reason = postgres_available(PG_URL)
    if reason:
        pytest.skip(reason)
    made = Databases("postgresql", tmp_path_factory.mktemp("backup-postgres"))
    yield made
    made.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest) -> Databases:
    name = "sqlite_databases" if request.param == "sqlite" else "postgres_databases"
    made: Databases = request.getfixturevalue(name)
    return made
