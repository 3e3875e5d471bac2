"""The inventory of issued certificates: list with filters, find by serial or name."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cryptography import x509

from pki.certinfo import CertInfo, describe, load_pem
from pki.errors import AmbiguousError, InputError, NotFoundError
from pki.files import read_file
from pki.home import PkiHome, as_home
from pki.index import IndexRow

_HEX_SERIAL = re.compile(r"^(?:[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{2})+|[0-9A-Fa-f]+)$")


def normalize_serial(ident: str) -> str | None:
    """A serial in the index's form (upper-case hex, no colons, no leading zeros), or None.

    Accepts any case and the colon-separated form openssl prints (``0A:1B:...``).
    """
    text = ident.strip()
    if not _HEX_SERIAL.match(text):
        return None
    return format(int(text.replace(":", ""), 16), "X")


def list_certs(
    home: PkiHome | Path | str,
    *,
    expiring_within: int | None = None,
    revoked: bool | None = None,
    kind: str | None = None,
    now: dt.datetime | None = None,
) -> list[IndexRow]:
    """Issued certificates, oldest first.

    ``expiring_within=N`` keeps valid (unrevoked) certificates whose notAfter is within N days
    (already expired ones included); ``revoked=True/False`` keeps only revoked / unrevoked ones.
    """
    h = as_home(home)
    if not h.index_path.exists():
        h.require_ca()
    clauses: list[str] = []
    params: list[object] = []
    if revoked is not None:
        clauses.append("status = ?")
        params.append("revoked" if revoked else "valid")
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind)
    if expiring_within is not None:
        if expiring_within < 0:
            raise InputError(f"expiring-within: Give a number of days >= 0, not {expiring_within}.")
        limit = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=expiring_within)
        clauses.append("status = 'valid' AND not_after <= ?")
        params.append(limit.isoformat())
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    with h.index() as index:
        return index.rows(where, tuple(params))


def find(home: PkiHome | Path | str, ident: str) -> IndexRow:
    """The certificate an ID names: a serial (hex, any case, colons optional), else a name.

    A name that matches several certificates resolves to the single unrevoked one among them;
    otherwise it is ambiguous and the caller must use a serial.
    """
    h = as_home(home)
    h.require_ca()
    with h.index() as index:
        serial = normalize_serial(ident)
        if serial is not None:
            rows = index.rows("WHERE serial = ?", (serial,))
            if rows:
                return rows[0]
        rows = index.rows("WHERE name = ? OR (kind = 'server' AND name = lower(?))", (ident, ident))
    if not rows:
        raise NotFoundError(f"ID: No certificate with serial or name {ident!r}.")
    if len(rows) > 1:
        valid = [r for r in rows if r.status == "valid"]
        if len(valid) == 1:
            return valid[0]
        serials = ", ".join(r.serial for r in (valid or rows))
        raise AmbiguousError(f"ID: {ident!r} names several certificates ({serials}); use a serial.")
    return rows[0]


def load_issued(home: PkiHome | Path | str, serial: str) -> x509.Certificate:
    h = as_home(home)
    return load_pem(read_file(h.issued_cert(serial), "certificate"))


def show(home: PkiHome | Path | str, ident: str) -> tuple[IndexRow, CertInfo]:
    """The index row of ``ident`` and the facts read from the certificate file itself."""
    row = find(home, ident)
    return row, describe(load_issued(home, row.serial))
