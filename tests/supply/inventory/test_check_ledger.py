"""`supply check-ledger` against a consistent ledger and against tampered stock."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from supply.inventory.models import Stock

pytestmark = pytest.mark.django_db


def test_consistent_ledger_passes(site):
    site.receive(4)
    out = StringIO()
    call_command("check-ledger", stdout=out)
    assert out.getvalue() == "ledger consistent: every stock row equals its ledger sum.\n"


def test_tampered_stock_is_reported_and_fails(site):
    site.receive(4)
    # Someone edits the stock table behind the services' back.
    Stock.objects.filter(item=site.item, location=site.receiving).update(on_hand=9)
    Stock.objects.create(item=site.other_item, location=site.bin_a, on_hand=2)
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check-ledger", stderr=err)
    assert str(caught.value) == "2 stock row(s) disagree with the ledger."
    assert sorted(err.getvalue().splitlines()) == [
        "drift: 6135009857845 at W1AAAA/A-01: on hand 2, ledger says 0",
        "drift: 6505013324567 at W1AAAA/RECV: on hand 9, ledger says 4",
    ]
