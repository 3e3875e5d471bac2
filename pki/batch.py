"""Issuing many user certificates from a CSV file in one process (``pki issue-user --from``).

The CSV has a header row; ``full_name`` is required, ``email`` and ``org_unit`` are optional
columns (an empty cell means none). Rows are checked and issued one by one: a bad row is reported
with its line number and the others go on. The CA key is decrypted once for the whole batch.

Rows are signed and their .p12 files encrypted (the slow part: PBKDF2) in worker processes, one
per core, forked with the CA already decrypted, so the key never crosses a pipe or touches the
disk; this process alone writes the files, the sheet, the index and the log, in row order.

Passwords: one for every row when given (``--password-file``, else ``$PKI_P12_PASSWORD``);
otherwise each row gets a generated one, recorded in a 0600 sheet ``passwords-<UTC stamp>.csv``
next to the .p12 files before the row's index entry commits. A file the batch cannot write (a
.p12, the sheet) stops the whole batch with a ``WriteError``: the rows after it would fail alike.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import ctypes
import datetime as dt
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pki import keys
from pki.ca import LoadedCA, load_ca
from pki.errors import InputError, PkiError, WriteError
from pki.files import FILE_MODE, make_dir
from pki.home import PkiHome, as_home
from pki.index import Index
from pki.issue import (
    IssuedUser,
    PreparedUser,
    UserRequest,
    issue_user_recording,
    prepare_user,
    record_user,
)
from pki.secrets import P12_PASSWORD_ENV, generate_password, read_secret_file, secret_from_env

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


def shared_password(password_file: Path | None) -> bytes | None:
    """The one .p12 password for every row: the first line of ``password_file``, else
    ``$PKI_P12_PASSWORD``; None when neither gives one (each row then gets its own)."""
    if password_file is not None:
        value: bytes | None = read_secret_file(password_file, "password")
    else:
        value = secret_from_env(P12_PASSWORD_ENV)
    return keys.check_secret(value, "password") if value is not None else None


class PasswordSheet:
    """An append-only 0600 CSV of generated passwords, fsynced row by row so a batch killed
    half-way still leaves the password of every .p12 it wrote."""

    def __init__(self, path: Path) -> None:
        try:
            make_dir(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, FILE_MODE)
        except FileExistsError:
            raise WriteError(
                f"passwords: {path} exists already; run the batch again in a second."
            ) from None
        except OSError as exc:
            raise WriteError(
                f"passwords: Cannot create {path} ({exc.strerror}); make {path.parent} "
                "writable or choose another --out-dir."
            ) from None
        self.path = path
        self._fh = os.fdopen(fd, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._add(["serial", "full_name", "p12", "password"])

    def _add(self, values: list[str]) -> None:
        self._writer.writerow(values)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def add(self, serial: str, full_name: str, p12_path: Path, password: str) -> None:
        """Record one row; WriteError (naming the sheet) when it cannot be written."""
        try:
            self._add([serial, full_name, str(p12_path), password])
        except (OSError, ValueError) as exc:  # ValueError: the file was closed
            reason = exc.strerror if isinstance(exc, OSError) else None
            reason = reason or str(exc).rstrip(".")
            raise WriteError(f"passwords: Cannot write {self.path} ({reason}).") from None

    def close(self) -> None:
        self._fh.close()


class UserBatch:
    """An open batch: the CA decrypted once, and the shared password or the sheet that records
    generated ones. Iterate to issue (one ``RowResult`` per row, as each completes); use as a
    context manager so the sheet is closed."""

    def __init__(
        self,
        home: PkiHome,
        rows: Sequence[UserRow],
        ca: LoadedCA,
        *,
        password: bytes | None,
        out_dir: Path | None,
        legacy: bool,
        days: int | None,
        key_type: str,
        workers: int = 1,
    ) -> None:
        self.home = home
        self.rows = rows
        self.target = out_dir or home.users_dir  # where the .p12 files go
        self.issued = 0  # rows issued so far
        self._ca = ca
        self._password = password
        self._out_dir = out_dir
        self._legacy, self._days, self._key_type = legacy, days, key_type
        self._workers = workers
        self.sheet: PasswordSheet | None = None
        if password is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            self.sheet = PasswordSheet(self.target / f"passwords-{stamp}.csv")

    @property
    def sheet_path(self) -> Path | None:
        """The sheet of generated passwords; None when every row shares the given password."""
        return self.sheet.path if self.sheet is not None else None

    def __enter__(self) -> UserBatch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.sheet is not None:
            self.sheet.close()

    def __iter__(self) -> Iterator[RowResult]:
        if self._workers > 1 and len(self.rows) >= 2 * self._workers:
            yield from self._in_parallel()
            return
        for row in self.rows:
            yield self._issue(row, self._request(row))

    def _request(self, row: UserRow) -> tuple[UserRequest, str | None]:
        """The row as a request, with its generated password when it gets one."""
        generated = generate_password() if self._password is None else None
        secret = self._password if generated is None else generated.encode("ascii")
        assert secret is not None
        request = UserRequest(
            row.full_name,
            email=row.email,
            org_unit=row.org_unit,
            password=secret,
            days=self._days,
            key_type=self._key_type,
            legacy=self._legacy,
            out_dir=self._out_dir,
        )
        return request, generated

    def _in_parallel(self) -> Iterator[RowResult]:
        """Rows prepared by the workers a few ahead of the one being recorded, in order."""
        context = multiprocessing.get_context("fork")
        index = self.home.index()
        pool = ProcessPoolExecutor(
            self._workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self.home, self._ca, os.getpid()),
        )
        window: collections.deque[
            tuple[UserRow, tuple[UserRequest, str | None], Future[PreparedUser | PkiError]]
        ] = collections.deque()
        rows = iter(self.rows)
        try:
            while True:
                while len(window) < 4 * self._workers:
                    row = next(rows, None)
                    if row is None:
                        break
                    request = self._request(row)
                    window.append((row, request, pool.submit(_prepare, request[0])))
                if not window:
                    return
                row, request, future = window.popleft()
                yield self._issue(row, request, future.result(), index)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            index.close()

    def _issue(
        self,
        row: UserRow,
        request_and_password: tuple[UserRequest, str | None],
        prepared: PreparedUser | PkiError | None = None,
        index: Index | None = None,
    ) -> RowResult:
        request, generated = request_and_password

        def record(serial: str, p12_path: Path) -> None:
            # Recorded before the index row commits: a batch killed at any point leaves no
            # indexed certificate without its password.
            if self.sheet is not None and generated is not None:
                self.sheet.add(serial, row.full_name, p12_path, generated)

        try:
            if not row.full_name:
                raise InputError("full_name: Must not be empty.")
            if isinstance(prepared, PkiError):
                raise prepared
            if prepared is not None:
                issued = record_user(
                    self.home, request, prepared, ca=self._ca, record=record, index=index
                )
            else:
                issued = issue_user_recording(self.home, request, ca=self._ca, record=record)
        except WriteError as exc:
            raise self._stopped(row, str(exc).rstrip(".")) from None
        except PkiError as exc:
            return RowResult(row, error=f"line {row.line}: {exc}")
        except OSError as exc:
            what = exc.filename or self.target
            raise self._stopped(
                row, f"batch: Cannot write {what} ({exc.strerror or exc})"
            ) from None
        self.issued += 1
        return RowResult(row, issued=issued, password=generated)

    def _stopped(self, row: UserRow, failure: str) -> WriteError:
        passwords = (
            f" (their passwords are in {self.sheet_path})"
            if self.sheet_path is not None and self.issued
            else ""
        )
        return WriteError(
            f"{failure}; the batch stopped at line {row.line} with {self.issued} of "
            f"{len(self.rows)} users issued{passwords}: fix that, then issue the rows from line "
            f"{row.line} on again."
        )


# What a worker process holds: inherited by fork, never sent through a pipe.
_WORKER: dict[str, object] = {}


def _start_worker(home: PkiHome, ca: LoadedCA, parent: int) -> None:
    _WORKER.update(home=home, ca=ca)
    # Die with the batch: a killed `pki` must not leave workers waiting on their queue.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _prepare(request: UserRequest) -> PreparedUser | PkiError:
    home, ca = _WORKER["home"], _WORKER["ca"]
    assert isinstance(home, PkiHome) and isinstance(ca, LoadedCA)
    try:
        return prepare_user(home, request, ca)
    except PkiError as exc:  # a bad row: reported by the parent with its line
        return exc


def default_workers() -> int:
    """One worker per core this process may run on (1 where fork is not available)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_batch(
    home: PkiHome | Path | str,
    rows: Sequence[UserRow],
    *,
    passphrase: bytes,
    password_file: Path | None = None,
    out_dir: Path | None = None,
    legacy: bool = False,
    days: int | None = None,
    key_type: str = keys.DEFAULT_KEY_TYPE,
    workers: int | None = None,
) -> UserBatch:
    """Check the shared password (``shared_password``), decrypt the CA and, when rows get
    generated passwords, create the sheet; nothing is issued until the batch is iterated.
    ``workers`` processes prepare the rows (default: one per core; 1 prepares in-process)."""
    h = as_home(home)
    password = shared_password(password_file)
    ca = load_ca(h, passphrase)
    return UserBatch(
        h,
        rows,
        ca,
        password=password,
        out_dir=out_dir,
        legacy=legacy,
        days=days,
        key_type=key_type,
        workers=default_workers() if workers is None else workers,
    )
