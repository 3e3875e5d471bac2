"""Issuing many user certificates from a CSV file in one process (``pki issue-user --from``).

The CSV has a header row; ``full_name`` is required, ``email`` and ``org_unit`` are optional
columns (an empty cell means none). Rows are checked and issued one by one: a bad row is reported
with its line number and the others go on. The CA key is decrypted once for the whole batch.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pki.ca import LoadedCA, load_ca
from pki.errors import InputError, PkiError
from pki.files import FILE_MODE, make_dir
from pki.home import PkiHome, as_home
from pki.index import Index
from pki.issue import IssuedUser, issue_user
from pki.secrets import generate_password

COLUMNS = ("full_name", "email", "org_unit")


@dataclass(frozen=True)
class UserRow:
    line: int
    full_name: str
    email: str | None
    org_unit: str | None


@dataclass(frozen=True)
class RowResult:
    row: UserRow
    issued: IssuedUser | None = None
    error: str | None = None
    password: str | None = None  # set when generated for this row


def read_users_csv(path: Path) -> list[UserRow]:
    """The rows of a users CSV; InputError when the file cannot be read as one."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            if "full_name" not in header:
                raise InputError(f"CSV: {path} has no full_name column in its header row.")
            unknown = sorted(set(header) - set(COLUMNS))
            if unknown:
                raise InputError(f"CSV: Unknown column(s) {', '.join(unknown)} in {path}.")
            reader.fieldnames = header
            rows = []
            for record in reader:
                rows.append(
                    UserRow(
                        line=reader.line_num,
                        full_name=(record.get("full_name") or "").strip(),
                        email=(record.get("email") or "").strip() or None,
                        org_unit=(record.get("org_unit") or "").strip() or None,
                    )
                )
    except OSError as exc:
        raise InputError(f"CSV: Cannot read {path} ({exc.strerror}).") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"CSV: {path} is not a UTF-8 CSV file ({exc}).") from None
    if not rows:
        raise InputError(f"CSV: {path} has no rows.")
    return rows


class PasswordSheet:
    """An append-only 0600 CSV of generated passwords, fsynced row by row so a batch killed
    half-way still leaves the password of every .p12 it wrote."""

    def __init__(self, path: Path) -> None:
        make_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, FILE_MODE)
        self.path = path
        self._fh = os.fdopen(fd, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._add(["serial", "full_name", "p12", "password"])

    def _add(self, values: list[str]) -> None:
        self._writer.writerow(values)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def add(self, serial: str, full_name: str, p12_path: Path, password: str) -> None:
        self._add([serial, full_name, str(p12_path), password])

    def close(self) -> None:
        self._fh.close()


def issue_users(
    home: PkiHome | Path | str,
    rows: Sequence[UserRow],
    *,
    passphrase: bytes,
    password: bytes | None,
    out_dir: Path | None = None,
    sheet: PasswordSheet | None = None,
    legacy: bool = False,
    days: int | None = None,
    key_type: str = "ec-p256",
) -> Iterator[RowResult]:
    """Issue one .p12 per row, yielding each row's result as it completes.

    With ``password=None`` each row gets a generated password, recorded in ``sheet``.
    """
    h = as_home(home)
    if password is None and sheet is None:
        raise ValueError("generated passwords need a sheet to record them")
    ca = load_ca(h, passphrase)
    with h.index() as index:
        yield from _issue_rows(h, ca, index, rows, password, out_dir, sheet, legacy, days, key_type)


def _issue_rows(
    h: PkiHome,
    ca: LoadedCA,
    index: Index,
    rows: Sequence[UserRow],
    password: bytes | None,
    out_dir: Path | None,
    sheet: PasswordSheet | None,
    legacy: bool,
    days: int | None,
    key_type: str,
) -> Iterator[RowResult]:
    for row in rows:
        secret = password if password is not None else generate_password().encode("ascii")
        record = None
        if password is None:
            assert sheet is not None
            # Recorded before the index row commits: a batch killed at any point leaves no
            # indexed certificate without its password (at worst a sheet row for a .p12 that
            # never got its index row).
            record = functools.partial(_record, sheet, row.full_name, secret.decode("ascii"))
        try:
            if not row.full_name:
                raise InputError("full_name: Must not be empty.")
            issued = issue_user(
                h,
                row.full_name,
                email=row.email,
                org_unit=row.org_unit,
                password=secret,
                legacy=legacy,
                passphrase=b"",  # unused: the CA is loaded
                out=None,
                days=days,
                key_type=key_type,
                ca=ca,
                p12_dir=out_dir,
                index=index,
                written=record,
            )
        except PkiError as exc:
            yield RowResult(row, error=f"line {row.line}: {exc}")
            continue
        generated = secret.decode("ascii") if password is None else None
        yield RowResult(row, issued=issued, password=generated)


def _record(sheet: PasswordSheet, full_name: str, password: str, serial: str, p12: Path) -> None:
    sheet.add(serial, full_name, p12, password)
