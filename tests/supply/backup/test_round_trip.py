"""`supply backup` then `supply restore` onto an empty stack, on SQLite and on PostgreSQL: the
ledger checks out, stock and certificate mappings are what they were, and the stack works on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.supply.backup.conftest import CONSISTENT, MAPPINGS, STOCK, Databases

DUMP = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


@pytest.mark.parametrize("target", ["empty", "migrated"])
def test_restore_onto_an_empty_stack_keeps_stock_and_mappings(
    databases: Databases, target: str, tmp_path: Path
) -> None:
    source = databases.source()
    out = tmp_path / "backup"
    printed = source.ok("backup", "--out", out)
    engine = databases.engine
    assert re.fullmatch(
        rf"Wrote {out} \({engine}: 14 ledger entries, 2 certificate identities, 14 stock rows; "
        r"no PKI home; \d+ bytes\)\.\n",
        printed,
    )
    assert sorted(p.name for p in out.iterdir()) == [DUMP[engine], "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup"]  # no temporary left
    assert {oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {"0o600"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["product"], manifest["format"], manifest["engine"]) == (
        "tactical-edge-supply",
        1,
        engine,
    )
    assert manifest["counts"]["ledger_entries"] == 14
    assert manifest["counts"]["stock_on_hand"] == sum(r[3] for r in source.rows(STOCK))
    assert "0005_ledger_subject_dn_is_text" in manifest["migrations"]["inventory"]
    assert manifest["pki"] is None

    fresh = databases.empty() if target == "empty" else databases.migrated()
    printed = fresh.ok("restore", out)
    assert printed == (
        f"Restored {out} (made {manifest['created']} on {manifest['host']}): 14 ledger entries, "
        "2 certificate identities, 14 stock rows.\nThe ledger is consistent.\n"
    )
    assert fresh.ok("check-ledger") == CONSISTENT
    assert fresh.rows(STOCK) == source.rows(STOCK) != []
    assert fresh.rows(MAPPINGS) == source.rows(MAPPINGS) != []
    # The stack goes on: new rows get new keys (the sequences came along), migrate has nothing.
    fresh.ok("grant", "--subject-dn", "CN=New", "--issuer-dn", "CN=Fleet CA", "--role", "viewer")
    assert len(fresh.rows(MAPPINGS)) == 3
    assert "No migrations to apply." in fresh.ok("migrate")
