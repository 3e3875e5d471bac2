"""Revoking certificates and publishing the CRL nginx and the supply service consume."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pki import crl
from pki.ca import load_ca
from pki.crl import REASONS, CrlInfo, CrlStatus, crl_status, reason_name
from pki.errors import InputError
from pki.home import PkiHome, as_home
from pki.index import IndexRow
from pki.inventory import find

__all__ = ["REASONS", "CrlInfo", "CrlStatus", "crl_status", "revoke", "status", "write_crl"]


def revoke(home: PkiHome | Path | str, ident: str, reason: str) -> IndexRow:
    """Mark a certificate revoked in the index; it is published by the next ``write_crl``.

    Revoking needs no passphrase (a clerk can record it at once); signing the CRL does.
    """
    h = as_home(home)
    name = reason_name(reason)
    row = find(h, ident)
    if row.kind == "ca":
        raise InputError("ID: The CA cannot revoke itself; retire the whole PKI home instead.")
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with h.index() as index, index.write():
        current = index.rows("WHERE serial = ?", (row.serial,))[0]
        if current.status == "revoked":
            raise InputError(
                f"ID: {row.serial} is already revoked ({current.reason}, "
                f"{current.revoked_at:%Y-%m-%d})."
            )
        index.mark_revoked(row.serial, at, name)
        return index.rows("WHERE serial = ?", (row.serial,))[0]


def write_crl(home: PkiHome | Path | str, *, days: int | None = None, passphrase: bytes) -> CrlInfo:
    """Sign and write ``ca/crl.pem`` listing every revoked certificate (default 30 days)."""
    h = as_home(home)
    crl.check_crl_days(days)
    ca = load_ca(h, passphrase)
    with h.lock(), h.index() as index, index.write():
        return crl.publish(h, ca, index, days=days)


def status(home: PkiHome | Path | str, now: dt.datetime | None = None) -> CrlStatus | None:
    return crl_status(as_home(home), now)
