"""The compact set of revoked serials (supply.identity.serials) against Python's own set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from supply.identity.serials import SerialSet

SERIALS = st.integers(min_value=1, max_value=2**159 - 1)  # RFC 5280: positive, 20 octets at most


@given(st.lists(SERIALS, max_size=300), st.lists(SERIALS, max_size=50))
def test_it_answers_as_a_set_would(members: list[int], others: list[int]) -> None:
    table = SerialSet(iter(members), len(members))
    assert len(table) == len(set(members))
    assert all(serial in table for serial in members)
    assert [s for s in others if s not in set(members) and s in table] == []


def test_a_full_sized_table_keeps_every_serial_and_no_other() -> None:
    revoked = range(10**30, 10**30 + 50_000)
    table = SerialSet(iter(revoked), len(revoked))
    assert all(serial in table for serial in revoked)
    assert not any(serial in table for serial in range(10**30 + 50_000, 10**30 + 60_000))
    assert 10**30 - 1 not in table and "10" not in table


def test_an_empty_crl_revokes_nothing() -> None:
    table = SerialSet(iter(()), 0)
    assert len(table) == 0 and 1 not in table
