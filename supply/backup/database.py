"""Which database a backup reads or a restore writes: the engine and how to reach it, taken
from a Django ``DATABASES`` entry once (by the commands), so the rest of the package takes it
as an argument instead of reading settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from supply.backup.errors import BackupError

Engine = Literal["sqlite", "postgresql"]
_ENGINES: dict[str, Engine] = {
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.postgresql": "postgresql",
}


@dataclass(frozen=True)
class Database:
    """A SQLite file (``name`` is its path) or a PostgreSQL database (``name`` is its name)."""

    engine: Engine
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""  # empty: libpq's own sources (PGPASSWORD, ~/.pgpass)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Database:
        """The database of a Django ``DATABASES`` entry."""
        engine = _ENGINES.get(settings["ENGINE"])
        if engine is None:
            raise BackupError(
                f"database: {settings['ENGINE']} is not SQLite or PostgreSQL, the two engines "
                "supply backs up."
            )
        return cls(
            engine=engine,
            name=str(settings["NAME"]),
            host=str(settings.get("HOST") or ""),
            port=str(settings.get("PORT") or ""),
            user=str(settings.get("USER") or ""),
            password=str(settings.get("PASSWORD") or ""),
        )

    @property
    def path(self) -> Path:
        """The SQLite file."""
        assert self.engine == "sqlite"
        return Path(self.name)

    def libpq_env(self) -> dict[str, str]:
        """The environment of pg_dump, pg_restore and psql: the connection in PG* variables, so
        no password is ever on a command line."""
        env = dict(os.environ)
        for var, value in (
            ("PGDATABASE", self.name),
            ("PGHOST", self.host),
            ("PGPORT", self.port),
            ("PGUSER", self.user),
            ("PGPASSWORD", self.password),
        ):
            if value:
                env[var] = value
        return env

    def conninfo(self) -> dict[str, str]:
        """Keyword arguments of psycopg.connect (unset ones left to libpq's environment)."""
        given = {
            "dbname": self.name,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
        }
        return {k: v for k, v in given.items() if v}
