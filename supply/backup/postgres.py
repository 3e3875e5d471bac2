"""PostgreSQL through its own tools: pg_dump's custom format (``-Fc``) to back up, pg_restore
and psql to restore. The connection goes to them in PG* variables, never on a command line.

Backup: one REPEATABLE READ transaction exports its snapshot, reads the migration state and the
counts, and pg_dump dumps that same snapshot (``--snapshot``), so the manifest describes exactly
the dump.

Restore: pg_restore turns the dump into SQL (without owners and grants: the target's role owns
what it restores), and psql runs it in ONE transaction, between a head that locks the target's
tables, checks they are still empty and drops them (a migrated empty stack has the schema
already, maybe of a newer version), and a tail that checks the restored counts against the
manifest. Any error rolls everything back: the target is as it was.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from supply.backup.contents import (
    REFERENCE_TABLES,
    State,
    counted_queries,
    read_state,
    refuse_data,
)
from supply.backup.database import Database
from supply.backup.errors import BackupError

_TIMEOUT_S = 3600


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name}: Not found on PATH; install PostgreSQL's client tools (of the server's "
            "version or newer)."
        )
    return found


def _first_line(stderr: bytes) -> str:
    """The first line a tool printed, without its ``pg_dump: error:`` prefix."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    line = next((line for line in lines if line), "no message")
    line = re.sub(r"^(pg_dump|pg_restore|psql)(:<stdin>:\d+)?: ", "", line)
    return re.sub(r"^(error|ERROR|FATAL):\s+", "", line).rstrip(".")


def _connect(db: Database) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(make_conninfo(**db.conninfo()), connect_timeout=10)
    except psycopg.Error as exc:
        reason = _first_line(str(exc).encode())
        raise BackupError(f"database: Cannot connect to {db.name} ({reason}).") from None


def _tables(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).fetchall()
    return {str(name) for (name,) in rows}


def dump(db: Database, out: Path) -> State:
    """pg_dump the database into the new file ``out``; the state of the dumped snapshot."""
    pg_dump = _tool("pg_dump")
    with _connect(db) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        state = read_state(conn.cursor(), _tables(conn))
        done = subprocess.run(
            [pg_dump, "--format=custom", f"--snapshot={row[0]}", f"--file={out}", "--no-password"],
            env=db.libpq_env(),
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump: {_first_line(done.stderr)}.")
    return state


def verify(file: Path) -> None:
    """BackupError unless pg_restore can read the dump's table of contents."""
    done = subprocess.run(
        [_tool("pg_restore"), "--list", str(file)],
        capture_output=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(
            f"restore: {file} is not a readable pg_dump archive ({_first_line(done.stderr)}); "
            "try another copy."
        )


def refuse_target(db: Database) -> set[str]:
    """The target's tables; BackupError when any of them holds data."""
    with _connect(db) as conn:
        tables = _tables(conn)
        refuse_data(conn.cursor(), tables, db.name)
    return tables


def _head(tables: set[str]) -> str:
    """Lock the target's tables, refuse if one has filled up since it was checked, drop them."""
    if not tables:
        return ""
    names = sql.SQL(", ").join(sql.Identifier(t) for t in sorted(tables))
    full = sql.SQL(" OR ").join(
        sql.SQL("EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t))
        for t in sorted(tables - REFERENCE_TABLES)
    )
    parts = [sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE;").format(names)]
    if tables - REFERENCE_TABLES:
        parts.append(
            sql.SQL(
                "DO $$ BEGIN IF {} THEN RAISE EXCEPTION 'target database not empty'; END IF; "
                "END $$;"
            ).format(full)
        )
    parts.append(sql.SQL("DROP TABLE {} CASCADE;").format(names))
    return sql.SQL(" ").join(parts).as_string()


def _tail(state: State) -> str:
    """Refuse to commit unless the restored counts are the manifest's."""
    checks = sql.SQL(" OR ").join(
        sql.SQL("({}) <> {}").format(sql.SQL(query), sql.Literal(state.counts[key]))
        for key, query in counted_queries().items()
    )
    return (
        sql.SQL(
            "RESET search_path; DO $$ BEGIN IF {} THEN RAISE EXCEPTION "
            "'restored counts differ from the manifest'; END IF; END $$;"
        )
        .format(checks)
        .as_string()
    )


def restore(file: Path, db: Database, state: State) -> None:
    """Replace the (empty) target database with the dump, in one transaction."""
    tables = refuse_target(db)
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    with tempfile.TemporaryFile() as script:
        made = subprocess.run(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(file)],
            stdout=script,
            stderr=subprocess.PIPE,
            timeout=_TIMEOUT_S,
            check=False,
        )
        if made.returncode != 0:
            raise BackupError(f"pg_restore: {_first_line(made.stderr)}; nothing was changed.")
        script.seek(0)
        head = [f"--command={_head(tables)}"] if tables else []
        ran = subprocess.run(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                *head,
                "--file=-",
                f"--command={_tail(state)}",
            ],
            stdin=script,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=db.libpq_env(),
            timeout=_TIMEOUT_S,
            check=False,
        )
    if ran.returncode == 0:
        return
    if b"target database not empty" in ran.stderr:
        refuse_target(db)  # it filled up meanwhile: the same one line as before
    if b"restored counts differ from the manifest" in ran.stderr:
        raise BackupError(
            f"restore: {file} restores other counts than its manifest's; the backup is damaged: "
            "try another copy. Nothing was changed."
        )
    reason = _first_line(ran.stderr)
    raise BackupError(f"restore: The SQL of the dump failed ({reason}); nothing was changed.")
