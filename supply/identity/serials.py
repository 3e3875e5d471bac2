"""A CRL's revoked serial numbers in little memory, with a constant-time membership test.

A national PKI's CRL lists a million serials; a Python ``frozenset`` of them costs about 100 MiB
in every gunicorn worker. Here each serial is kept as a 64-bit key (BLAKE2b of its bytes) in an
open-addressing table (``array('Q')``, linear probing, at most half full): 16 MiB for a million,
one hash and a probe or two per lookup whatever the size.

Two different serials with the same 64-bit key make the second one look revoked: it is refused,
never admitted (fail closed), and the chance is about n / 2**64 per certificate (5e-14 for a
million entries). Written by hand: the standard library has no compact integer set, and numpy is
not a dependency of the service.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable

_EMPTY = 0


def _key(serial: int) -> int:
    data = serial.to_bytes(max(1, (serial.bit_length() + 8) // 8), "big", signed=True)
    key = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
    return key or 1  # 0 marks an empty slot


class SerialSet:
    """``serial in SerialSet(serials, count)``: built once per CRL, read on every request."""

    __slots__ = ("_mask", "_table", "count")

    def __init__(self, serials: Iterable[int], count: int) -> None:
        size = 8
        while size < 2 * count:
            size *= 2
        table = array("Q", bytes(8 * size))
        mask = size - 1
        stored = 0
        for serial in serials:
            key = _key(serial)
            i = key & mask
            while True:
                slot = table[i]
                if slot == _EMPTY:
                    table[i] = key
                    stored += 1
                    break
                if slot == key:
                    break  # listed twice (or an equal key: refused either way)
                i = (i + 1) & mask
        self._table, self._mask, self.count = table, mask, stored

    def __contains__(self, serial: object) -> bool:
        if not isinstance(serial, int):
            return False
        key = _key(serial)
        table, mask = self._table, self._mask
        i = key & mask
        while True:
            slot = table[i]
            if slot == key:
                return True
            if slot == _EMPTY:
                return False
            i = (i + 1) & mask

    def __len__(self) -> int:
        return self.count
