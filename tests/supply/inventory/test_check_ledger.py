"""`supply check-ledger` against a consistent ledger and against tampered stock."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from supply.inventory.models import Stock

pytestmark = pytest.mark.django_db

SUPPLY = str(Path(sys.executable).with_name("supply"))


CONSISTENT = (
    "ledger consistent: every stock row equals its ledger sum, and every ledger row reads as it "
    "was written.\n"
)


def test_consistent_ledger_passes(site):
    site.receive(4)
    out = StringIO()
    call_command("check-ledger", stdout=out)
    assert out.getvalue() == CONSISTENT


def test_tampered_stock_is_reported_and_fails(site):
    site.receive(4)
    # Someone edits the stock table behind the services' back.
    Stock.objects.filter(item=site.item, location=site.receiving).update(on_hand=9)
    Stock.objects.create(item=site.other_item, location=site.bin_a, on_hand=2)
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check-ledger", stderr=err)
    assert str(caught.value) == "ledger: 2 stock row(s) disagree with the ledger."
    assert sorted(err.getvalue().splitlines()) == [
        "drift: 6135009857845 at W1AAAA/A-01: on hand 2, ledger says 0",
        "drift: 6505013324567 at W1AAAA/RECV: on hand 9, ledger says 4",
    ]


def test_command_exits_1_on_drift_made_with_raw_sql(tmp_path):
    """The real command against a real database file, tampered with behind Django's back: a stock
    row changed, then a ledger row that explains it inserted, each with plain SQL."""
    env = {
        **os.environ,
        "SUPPLY_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    def supply(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SUPPLY, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert supply("migrate", "-v0").returncode == 0
    assert supply("load-demo").returncode == 0
    done = supply("check-ledger")
    assert (done.returncode, done.stdout) == (
        0,
        CONSISTENT,
    )

    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db, db:
        row = db.execute(
            "SELECT s.id, i.nsn, u.uic, l.code, s.on_hand FROM inventory_stock s "
            "JOIN catalog_item i ON i.id = s.item_id "
            "JOIN catalog_location l ON l.id = s.location_id "
            "JOIN catalog_unit u ON u.id = l.unit_id ORDER BY s.id LIMIT 1"
        ).fetchone()
        stock_id, nsn, uic, code, on_hand = row
        db.execute("UPDATE inventory_stock SET on_hand = on_hand + 5 WHERE id = ?", (stock_id,))
        first = f"drift: {nsn} at {uic}/{code}: on hand {on_hand + 5}, ledger says {on_hand}"
    done = supply("check-ledger")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"{first}\nledger: 1 stock row(s) disagree with the ledger.\n"

    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db, db:
        db.execute(
            # A whole row: what it moved and where, as the service records it.
            "INSERT INTO inventory_ledgerentry (kind, item_id, nsn, unit_of_issue, "
            "to_location_id, to_uic, to_code, to_kind, from_uic, from_code, from_kind, "
            "customer_uic, quantity, document_number, user_id, subject_dn, created_at) "
            "SELECT 'RECEIPT', s.item_id, i.nsn, i.unit_of_issue_id, s.location_id, u.uic, "
            "l.code, l.kind, '', '', '', '', 5, 'FORGED', (SELECT min(id) FROM auth_user), '', "
            "'2026-01-01' FROM inventory_stock s JOIN catalog_item i ON i.id = s.item_id "
            "JOIN catalog_location l ON l.id = s.location_id "
            "JOIN catalog_unit u ON u.id = l.unit_id WHERE s.id = ?",
            (stock_id,),
        )
    # A receipt row that explains the extra 5: the books agree again.
    done = supply("check-ledger")
    assert (done.returncode, done.stderr) == (0, "")
